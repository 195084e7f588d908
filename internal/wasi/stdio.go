package wasi

import (
	"context"
	"os"

	"golang.org/x/sys/unix"
)

// stdioFiletype reports what a standard stream really is. wasi-libc's
// isatty() is "character device without seek rights", and its stdio
// line-buffers a stream it takes for a terminal, so calling every stream a
// character device made output to files and pipes line-buffered and misled
// programs that test for a terminal. A character device is reported only
// for a terminal (not, say, /dev/null); WASI has no FIFO type, so a pipe is
// "unknown", as wasmtime reports it; a stream that is no host file (a Go
// reader or writer handed in by an embedder) is no terminal either.
func stdioFiletype(stream any) uint8 {
	f, ok := stream.(*os.File)
	if !ok {
		return FiletypeUnknown
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return FiletypeUnknown
	}
	ft := uint8(FiletypeUnknown)
	_ = rc.Control(func(fd uintptr) {
		var st unix.Stat_t
		if unix.Fstat(int(fd), &st) != nil {
			return
		}
		ft = modeFiletype(st.Mode)
		if ft == FiletypeCharacterDevice && !isTerminal(int(fd)) {
			ft = FiletypeUnknown
		}
	})
	return ft
}

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// writeFile writes bufs to a host file with one writev(2) for each
// writeChunk bytes (bufs are at most MaxIovecs, writev's own limit), where a Go io.Writer would take one
// write(2) per iovec: wasi-libc hands its buffer and the new text as two
// iovecs, so every printf to stdout cost two system calls. Between
// batches it looks at ctx, as writeAll does between chunks, and a short
// write is continued from where it stopped.
func writeFile(ctx context.Context, f *os.File, bufs [][]byte) (int, Errno) {
	rc, err := f.SyscallConn()
	if err != nil {
		return writeAll(ctx, "fd_write", f, bufs)
	}
	bufs = dropWritten(bufs, 0)
	total := 0
	for len(bufs) > 0 {
		if ctx.Err() != nil {
			if total == 0 {
				interrupt(ctx, "fd_write")
			}
			return total, 0
		}
		batch := nextBatch(bufs)
		var n int
		var werr error
		err := rc.Write(func(fd uintptr) bool {
			n, werr = unix.Writev(int(fd), batch)
			// EAGAIN on a non-blocking stream: Go's poller waits for room.
			return werr != unix.EAGAIN
		})
		if err == nil {
			err = werr
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if total > 0 {
				return total, 0
			}
			return 0, ToErrno(err)
		}
		if n == 0 {
			return total, ErrnoIo // a writev that makes no progress would loop forever
		}
		total += n
		bufs = dropWritten(bufs, n)
	}
	return total, 0
}

// nextBatch is the head of bufs that one writev carries: at most
// writeChunk bytes, the last buffer cut if need be. (A guest's vector is
// never longer than MaxIovecs, IOV_MAX, which fdWrite checked.)
func nextBatch(bufs [][]byte) [][]byte {
	size := 0
	for i, b := range bufs {
		if size+len(b) >= writeChunk {
			batch := append([][]byte(nil), bufs[:i]...)
			return append(batch, b[:writeChunk-size])
		}
		size += len(b)
	}
	return bufs
}

// dropWritten removes the first n bytes of bufs, and the empty buffers.
func dropWritten(bufs [][]byte, n int) [][]byte {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if len(bufs) > 0 && n > 0 {
		bufs = append([][]byte{bufs[0][n:]}, bufs[1:]...)
	}
	return bufs
}

// isStdin says that d is the guest's standard input (stream 0, whatever
// descriptor number the guest renumbered it to).
func (s *System) isStdin(d *fileDesc) bool {
	return s.stdinWait != nil && d.Kind == KindStdio && d.Stdio == 0
}

// stdinWaits calls the StdinWait hook when standard input, host
// descriptor fd, has no input ready: the read or poll about to wait on
// it would block. This is "the program waits for input" (a booted server
// before its first request, ferry run --checkpoint-on stdin); the hook
// runs before the wait starts, so that a pause it requests is seen by
// the wait's first look at its context, and the call is issued again on
// resume having consumed nothing.
func (s *System) stdinWaits(fd int) {
	if !readable(fd) {
		s.stdinWait()
	}
}

// readable says whether a read of host descriptor fd would not block:
// input, end of input or an error is there (a zero-timeout poll(2); one
// that fails says yes, leaving the read to report the error).
func readable(fd int) bool {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(pfd, 0)
		if err == unix.EINTR {
			continue
		}
		return err != nil || n > 0
	}
}

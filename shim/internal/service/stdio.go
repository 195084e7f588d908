package service

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"github.com/containerd/containerd/mount"
	"github.com/containerd/fifo"
)

// openStdio opens containerd's FIFOs for the program's standard streams,
// or the file of a file:// URI (ctr run --log-uri) for both outputs.
// The output FIFOs are opened for reading too: a client that detaches
// (ctr containers restore returns once the task started; ctr task attach
// comes later) must not turn the program's writes into EPIPE and lose
// its output; what it writes meanwhile waits in the pipe, and the
// program blocks once the pipe is full, as it would on a pipe with a slow
// reader. An empty path is a closed stream: stdin at end of file, output
// discarded.
func (t *task) openStdio() (stdin io.Reader, stdout, stderr io.Writer, err error) {
	ctx, cancel := context.WithCancel(context.Background())
	t.ioCancel = cancel
	open := func(path string, flag int) (io.ReadWriteCloser, error) {
		if path == "" {
			return nil, nil
		}
		if name, ok := strings.CutPrefix(path, "file://"); ok {
			if t.logFile == nil {
				f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
				if err != nil {
					return nil, fmt.Errorf("log file: %w", err)
				}
				t.logFile = f
			}
			return nopCloser{t.logFile}, nil
		}
		if strings.Contains(path, "://") {
			return nil, fmt.Errorf("stdio %q: only FIFOs and file:// URIs are supported", path)
		}
		f, err := fifo.OpenFifo(ctx, path, flag, 0)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		return f, nil
	}
	in, err := open(t.stdin, syscall.O_RDONLY|syscall.O_NONBLOCK)
	if err != nil {
		return nil, nil, nil, err
	}
	out, err := open(t.stdout, syscall.O_RDWR)
	if err != nil {
		closeAll(in)
		return nil, nil, nil, err
	}
	errw, err := open(t.stderr, syscall.O_RDWR)
	if err != nil {
		closeAll(in, out)
		return nil, nil, nil, err
	}
	t.stdio = []io.Closer{in, out, errw}
	stdin, stdout, stderr = eofReader{}, io.Discard, io.Discard
	if in != nil {
		stdin = in
	}
	if out != nil {
		stdout = out
	}
	if errw != nil {
		stderr = errw
	}
	return stdin, stdout, stderr, nil
}

// nopCloser shares the log file between stdout and stderr; it is closed
// once, by closeStdio.
type nopCloser struct{ io.Writer }

func (nopCloser) Read([]byte) (int, error) { return 0, io.EOF }
func (nopCloser) Close() error             { return nil }

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

func closeAll(cs ...io.ReadWriteCloser) {
	for _, c := range cs {
		if c != nil {
			c.Close()
		}
	}
}

// closeStdio closes the FIFOs: the client sees end of file on the
// program's output once it has stopped.
func (t *task) closeStdio() {
	t.stdioOnce.Do(t.closeStdioOnce)
}

func (t *task) closeStdioOnce() {
	for _, c := range t.stdio {
		if c != nil {
			c.Close()
		}
	}
	if t.logFile != nil {
		t.logFile.Close()
		t.logFile = nil
	}
	if t.ioCancel != nil {
		t.ioCancel()
	}
}

// release frees all the task holds; the program has stopped or never ran.
func (t *task) release() {
	t.closeStdio()
	if t.guest != nil {
		ctx := context.Background()
		if t.guest.wasi != nil {
			t.guest.wasi.Close(ctx)
		}
		t.guest.rt.Close(ctx)
	}
	for _, m := range t.roMounts {
		_ = mount.UnmountAll(m, 0)
	}
	t.roMounts = nil
	if t.rootfs != "" {
		_ = mount.UnmountAll(t.rootfs, 0)
		t.rootfs = ""
	}
}

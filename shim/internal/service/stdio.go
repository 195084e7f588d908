package service

import (
	"context"
	"fmt"
	"io"
	"strings"
	"syscall"

	"github.com/containerd/containerd/mount"
	"github.com/containerd/fifo"
)

// openStdio opens containerd's FIFOs for the program's standard streams.
// They are opened without blocking: the client (ctr) may attach later,
// and until then a write waits, as a process's would on a pipe. An empty
// path is a closed stream: stdin at end of file, output discarded.
func (t *task) openStdio() (stdin io.Reader, stdout, stderr io.Writer, err error) {
	ctx, cancel := context.WithCancel(context.Background())
	t.ioCancel = cancel
	open := func(path string, flag int) (io.ReadWriteCloser, error) {
		if path == "" {
			return nil, nil
		}
		if strings.Contains(path, "://") {
			return nil, fmt.Errorf("stdio %q: only FIFOs are supported, not logging URIs", path)
		}
		f, err := fifo.OpenFifo(ctx, path, flag|syscall.O_NONBLOCK, 0)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		return f, nil
	}
	in, err := open(t.stdin, syscall.O_RDONLY)
	if err != nil {
		return nil, nil, nil, err
	}
	out, err := open(t.stdout, syscall.O_WRONLY)
	if err != nil {
		closeAll(in)
		return nil, nil, nil, err
	}
	errw, err := open(t.stderr, syscall.O_WRONLY)
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
	for _, c := range t.stdio {
		if c != nil {
			c.Close()
		}
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
	if t.rootfs != "" {
		_ = mount.UnmountAll(t.rootfs, 0)
		t.rootfs = ""
	}
}

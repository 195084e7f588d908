package wasi_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/wasi"
)

// longWrite writes 8 MiB to stdout with fd_write in a loop, as libc does.
const longWriteSize = 8 << 20

func longWrite(t *testing.T) []byte {
	b, err := os.ReadFile("testdata/longwrite.wasm")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// firstWriteHook is a stdout that runs hook when the guest first writes:
// a signal arriving while a host call is under way.
type firstWriteHook struct {
	hook   func()
	writes int
	n      int
}

func (w *firstWriteHook) Write(b []byte) (int, error) {
	if w.writes == 0 {
		w.hook()
	}
	w.writes++
	w.n += len(b)
	return len(b), nil
}

// Issue 14: a SIGINT during a host call that ran for a minute was lost:
// the call went on to the end and the program exited 0. A long write now
// looks at its context between chunks, and the cancellation stops the
// program at its next pause point.
func TestSigintDuringLongHostCallNotLost(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &firstWriteHook{hook: cancel}
	code, err := wasi.Run(ctx, newRuntime(t), longWrite(t), wasi.NewConfig().WithStdout(out))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %d, %v; want the cancellation", code, err)
	}
	if out.n >= longWriteSize {
		t.Errorf("the whole %d bytes were written after the cancellation", out.n)
	}
}

// The same for a pause (a checkpoint trigger such as SIGUSR1): it stops
// the program within the long write instead of being dropped when the
// program ends, and resuming writes exactly the rest.
func TestPauseDuringLongHostCallNotLost(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	var inst *ferry.Instance
	out := &firstWriteHook{hook: func() { inst.RequestPause() }}
	if _, err := wasi.Instantiate(ctx, rt, wasi.NewConfig().WithStdout(out)); err != nil {
		t.Fatal(err)
	}
	cm, err := rt.Compile(ctx, longWrite(t))
	if err != nil {
		t.Fatal(err)
	}
	if inst, err = rt.Instantiate(ctx, cm, ""); err != nil {
		t.Fatal(err)
	}
	_, err = inst.Function("_start").Call(ctx)
	var p *ferry.Paused
	if !errors.As(err, &p) {
		t.Fatalf("got %v, want a pause", err)
	}
	if out.n >= longWriteSize {
		t.Errorf("paused only after all %d bytes", out.n)
	}
	if _, err := p.Resume(ctx, ferry.CallOptions{}); err != nil {
		t.Fatal(err)
	}
	if out.n != longWriteSize {
		t.Errorf("wrote %d bytes in all, want %d", out.n, longWriteSize)
	}
}

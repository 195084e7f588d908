package wasi_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/wasi"
)

// stdinEcho instantiates testdata/stdinecho.wasm with cfg in a fresh
// runtime; pauseOnWait makes the stdin-wait hook request a pause of it.
func stdinEcho(t *testing.T, cfg wasi.Config, waits *atomic.Int32, pauseOnWait bool) (*ferry.Runtime, *wasi.Module, *ferry.Instance) {
	t.Helper()
	ctx := context.Background()
	b, err := os.ReadFile("testdata/stdinecho.wasm")
	if err != nil {
		t.Fatal(err)
	}
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	t.Cleanup(func() { rt.Close(ctx) })
	var inst atomic.Pointer[ferry.Instance]
	w, err := wasi.Instantiate(ctx, rt, cfg.WithStdinWait(func() {
		waits.Add(1)
		if pauseOnWait {
			inst.Load().RequestPause()
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	cm, err := rt.Compile(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	i, err := rt.Instantiate(ctx, cm, "")
	if err != nil {
		t.Fatal(err)
	}
	inst.Store(i)
	return rt, w, i
}

// A read of standard input that would block calls the hook first; a
// pause requested there stops the call at that host call having read
// nothing, and the read is issued again by a resume and by a restore, in
// another runtime with another standard input.
func TestStdinWaitPausesAtTheRead(t *testing.T) {
	for _, export := range []string{"read", "poll_read"} {
		t.Run(export, func(t *testing.T) {
			ctx := context.Background()
			r, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			defer pw.Close()
			var out bytes.Buffer
			var waits atomic.Int32
			_, w, inst := stdinEcho(t, wasi.NewConfig().WithStdin(r).WithStdout(&out), &waits, true)
			_, err = inst.Function(export).Call(ctx)
			var p *ferry.Paused
			if !errors.As(err, &p) {
				t.Fatalf("call: %v, want a pause at the read", err)
			}
			fs := p.Frames()
			if k := fs[len(fs)-1].Kind; k != api.PauseHostCall || waits.Load() != 1 || out.Len() != 0 {
				t.Fatalf("paused at %v after %d waits, output %q; want a host call, 1 wait, no output", k, waits.Load(), out.String())
			}
			path := filepath.Join(t.TempDir(), "echo.ckpt")
			if err := p.WriteCheckpointFile(path, ferry.NewCheckpointConfig().WithHostState(w)); err != nil {
				t.Fatal(err)
			}

			// Restored elsewhere, the read gets the restorer's input.
			ck, err := ferry.OpenCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			defer ck.Close()
			rt2 := ferry.NewRuntime(ferry.NewRuntimeConfig())
			defer rt2.Close(ctx)
			var out2 bytes.Buffer
			if _, err := wasi.Restore(ctx, rt2, ck, wasi.NewConfig().WithStdin(strings.NewReader("hello")).WithStdout(&out2), wasi.RestoreOptions{}); err != nil {
				t.Fatal(err)
			}
			p2, err := rt2.Restore(ctx, ck, ferry.NewRestoreConfig())
			if err != nil {
				t.Fatal(err)
			}
			if res, err := p2.Resume(ctx, ferry.CallOptions{}); err != nil || res[0] != 0 || out2.String() != "got:hello" {
				t.Fatalf("restored: %v %v, output %q; want errno 0 and got:hello", res, err, out2.String())
			}

			// Resumed here once input came: nothing was lost.
			if _, err := pw.WriteString("abc"); err != nil {
				t.Fatal(err)
			}
			if res, err := p.Resume(ctx, ferry.CallOptions{}); err != nil || res[0] != 0 || out.String() != "got:abc" {
				t.Fatalf("resumed: %v %v, output %q; want errno 0 and got:abc", res, err, out.String())
			}
			if waits.Load() != 1 {
				t.Fatalf("%d waits; the resumed read had input ready", waits.Load())
			}
		})
	}
}

// Input already there, or a standard input that never blocks (a file at
// its end, a Go reader), is no wait.
func TestStdinWaitNotCalledWithoutWaiting(t *testing.T) {
	ctx := context.Background()
	r, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := pw.WriteString("ready"); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	for _, c := range []struct {
		name  string
		stdin any
		want  string
	}{{"pipe with input", r, "got:ready"}, {"/dev/null", devnull, "got:"}, {"Go reader", strings.NewReader("go"), "got:go"}} {
		for _, export := range []string{"read", "poll_read"} {
			var out bytes.Buffer
			var waits atomic.Int32
			cfg := wasi.NewConfig().WithStdout(&out)
			switch s := c.stdin.(type) {
			case *os.File:
				cfg = cfg.WithStdin(s)
			case *strings.Reader:
				cfg = cfg.WithStdin(strings.NewReader("go"))
			}
			_, _, inst := stdinEcho(t, cfg, &waits, true)
			if _, err := inst.Function(export).Call(ctx); err != nil {
				t.Fatalf("%s %s: %v", c.name, export, err)
			}
			if waits.Load() != 0 {
				t.Errorf("%s %s: the hook was called %d times", c.name, export, waits.Load())
			}
			if export == "read" && out.String() != c.want {
				t.Errorf("%s: output %q, want %q", c.name, out.String(), c.want)
			}
			if c.name == "pipe with input" {
				break // the first read took the input
			}
		}
	}
}

// A guest that made its standard input non-blocking (Go's wasip1 runtime
// does, then waits in poll_oneoff) had its fd_read block the host
// anyway, in a read no pause or cancellation could interrupt: neither
// SIGUSR1 nor --checkpoint-on stdin could checkpoint a Go server waiting
// for a request. Such a read now returns EAGAIN when no input is there,
// and the guest's poll_oneoff is what waits (and pauses).
func TestNonblockingStdinReadBlockedHost(t *testing.T) {
	ctx := context.Background()
	r, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer pw.Close()
	var out bytes.Buffer
	var waits atomic.Int32
	_, _, inst := stdinEcho(t, wasi.NewConfig().WithStdin(r).WithStdout(&out), &waits, true)
	if res, err := inst.Function("nonblock").Call(ctx); err != nil || res[0] != 0 {
		t.Fatalf("fd_fdstat_set_flags(0, nonblock): %v %v", res, err)
	}
	const errnoAgain = 6
	done := make(chan struct{})
	go func() {
		defer close(done)
		if res, err := inst.Function("read").Call(ctx); err != nil || res[0] != errnoAgain || out.Len() != 0 {
			t.Errorf("non-blocking read of an empty pipe: %v %v, output %q; want errno %d at once", res, err, out.String(), errnoAgain)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		pw.WriteString("unblock")
		<-done
		t.Fatal("the non-blocking read blocked")
	}
	if waits.Load() != 0 {
		t.Fatalf("a non-blocking read called the stdin-wait hook %d times", waits.Load())
	}
	// The guest then waits in poll_oneoff, which the hook sees.
	_, err = inst.Function("poll_read").Call(ctx)
	var p *ferry.Paused
	if !errors.As(err, &p) || waits.Load() != 1 {
		t.Fatalf("poll_read: %v after %d waits; want a pause at the poll", err, waits.Load())
	}
	pw.WriteString("data")
	if res, err := p.Resume(ctx, ferry.CallOptions{}); err != nil || res[0] != 0 || out.String() != "got:data" {
		t.Fatalf("resumed: %v %v, output %q", res, err, out.String())
	}
}

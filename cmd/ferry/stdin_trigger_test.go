package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryvm/ferry"
)

// runWithPipe runs ferry in-process with standard input the read end of a
// pipe, into which feed (when not nil) writes once the program may be
// waiting; the write end is closed after feed returns, or when run ends.
func runWithPipe(t *testing.T, feed func(w *os.File), args ...string) (code int, stdout, stderr string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		if feed != nil {
			feed(w)
			w.Close()
		}
	}()
	var out, errb bytes.Buffer
	code = runStdio(args, r, &out, &lockedBuffer{b: &errb})
	<-fed
	w.Close()
	return code, out.String(), errb.String()
}

// lockedBuffer is a bytes.Buffer that tests may read while ferry writes.
type lockedBuffer struct {
	lockedWriter
	b *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

const serveRequests = "17\n4000\n9\n"

// serveAnswers is serve.wasm's uninterrupted answer to serveRequests.
func serveAnswers(t *testing.T) string {
	code, out, stderr := runCLIStdin(t, serveRequests, "run", "testdata/serve.wasm")
	if code != exitOK || !strings.Contains(out, "served 3 requests") {
		t.Fatalf("uninterrupted run: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	return out
}

// --checkpoint-on stdin checkpoints the booted server when it first waits
// for a request, and stops it; every restore reads its requests from its
// own standard input and answers as the uninterrupted server.
func TestCheckpointOnStdin(t *testing.T) {
	want := serveAnswers(t)
	ck := filepath.Join(t.TempDir(), "serve.ckpt")
	code, out, stderr := runWithPipe(t, nil, "run", "--checkpoint-to", ck, "--checkpoint-on", "stdin", "testdata/serve.wasm")
	if code != exitOK || out != "" || !strings.Contains(stderr, "ready\n") || !strings.Contains(stderr, "checkpoint written to "+ck) {
		t.Fatalf("checkpoint run: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if code, info, _ := runCLI(t, "inspect", ck); code != exitOK || !strings.Contains(info, "host-call") {
		t.Fatalf("inspect: the innermost frame should be at the read, a host call:\n%s", info)
	}
	for i := range 3 {
		code, got, stderr := runCLIStdin(t, serveRequests, "restore", ck)
		if code != exitOK || got != want {
			t.Fatalf("restore %d: exit %d, stderr %q, stdout:\n%s\n--- uninterrupted:\n%s", i, code, stderr, got, want)
		}
		if strings.Contains(stderr, "ready") {
			t.Fatalf("restore %d booted again: stderr %q", i, stderr)
		}
	}
}

// With --leave-running the server goes on waiting and serves its input;
// the checkpoint it left restores to the same answers.
func TestCheckpointOnStdinLeaveRunning(t *testing.T) {
	want := serveAnswers(t)
	ck := filepath.Join(t.TempDir(), "serve.ckpt")
	code, out, stderr := runWithPipe(t, func(w *os.File) {
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if _, err := os.Stat(ck); err == nil {
				break
			}
		}
		w.WriteString(serveRequests)
	}, "run", "--checkpoint-to", ck, "--checkpoint-on", "stdin", "--leave-running", "testdata/serve.wasm")
	if code != exitOK || out != want || strings.Count(stderr, "checkpoint written") != 1 {
		t.Fatalf("leave running: exit %d, stderr %q, stdout:\n%s\n--- want:\n%s", code, stderr, out, want)
	}
	if code, got, stderr := runCLIStdin(t, serveRequests, "restore", ck); code != exitOK || got != want {
		t.Fatalf("restore: exit %d, stderr %q, stdout:\n%s", code, stderr, got)
	}
}

// A program that never waits for standard input (its input is all there,
// or is no pipe or terminal) gets no checkpoint, and ferry says so.
func TestCheckpointOnStdinNeverWaits(t *testing.T) {
	const warn = "ferry: --checkpoint-on stdin did not fire"
	ck := filepath.Join(t.TempDir(), "serve.ckpt")
	code, _, stderr := runCLIStdin(t, serveRequests, "run", "--checkpoint-to", ck, "--checkpoint-on", "stdin", "testdata/serve.wasm")
	if _, err := os.Stat(ck); code != exitOK || err == nil || !strings.Contains(stderr, warn) {
		t.Fatalf("input from a Go reader: exit %d, stderr %q; want no checkpoint and the warning", code, stderr)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("") // end of input at once
	w.Close()
	var out, errb bytes.Buffer
	code = runStdio([]string{"run", "--checkpoint-to", ck, "--checkpoint-on", "stdin", "testdata/serve.wasm"}, r, &out, &errb)
	r.Close()
	if _, err := os.Stat(ck); code != 3 || err == nil || !strings.Contains(errb.String(), warn) {
		t.Fatalf("closed pipe: exit %d, stderr %q; want exit 3 (no request), no checkpoint and the warning", code, errb.String())
	}
	if code, _, stderr := runCLI(t, "run", "--checkpoint-to", ck, "--checkpoint-on", "stdin:0", "testdata/serve.wasm"); code != exitUsage || !strings.Contains(stderr, "stdin takes no argument") {
		t.Fatalf("stdin:0: exit %d, stderr %q", code, stderr)
	}
}

// ferry restore of an idle checkpoint (an instance between calls) says
// what it is and how to restore it, instead of the library's wording.
func TestRestoreIdleCheckpointCLI(t *testing.T) {
	ctx := context.Background()
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt.Close(ctx)
	b, err := os.ReadFile("../../testdata/add.wasm")
	if err != nil {
		t.Fatal(err)
	}
	cm, err := rt.Compile(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := rt.Instantiate(ctx, cm, "")
	if err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(t.TempDir(), "idle.ckpt")
	if err := inst.WriteCheckpointFile(ck, ferry.NewCheckpointConfig()); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runCLI(t, "inspect", ck); code != exitOK || !strings.Contains(out, "an idle checkpoint") || strings.Contains(out, "locals") {
		t.Errorf("inspect of an idle checkpoint: exit %d:\n%s", code, out)
	}
	code, _, stderr := runCLI(t, "restore", ck)
	if code != exitFail || !strings.Contains(stderr, "an idle checkpoint") || !strings.Contains(stderr, "RestoreInstance") {
		t.Fatalf("restore of an idle checkpoint: exit %d, stderr %q", code, stderr)
	}
}

// A Go server (which waits for standard input in poll_oneoff, having made
// it non-blocking) is checkpointed by --checkpoint-on stdin too, and its
// restores answer as the uninterrupted server.
func TestCheckpointOnStdinGoServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program for wasip1")
	}
	wasm := filepath.Join(t.TempDir(), "goserve.wasm")
	cmd := exec.Command(goTool(), "build", "-o", wasm, "./testdata/goserve")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=-buildvcs=false")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building testdata/goserve for wasip1: %v\n%s", err, msg)
	}
	const requests = "k17\nk99\nnope\n"
	code, want, stderr := runCLIStdin(t, requests, "run", wasm)
	if code != exitOK || strings.Count(want, "\n") != 3 {
		t.Fatalf("uninterrupted run: exit %d, stdout %q, stderr %q", code, want, stderr)
	}
	ck := filepath.Join(t.TempDir(), "goserve.ckpt")
	code, out, stderr := runWithPipe(t, nil, "run", "--checkpoint-to", ck, "--checkpoint-on", "stdin", wasm)
	if code != exitOK || out != "" || !strings.Contains(stderr, "checkpoint written") {
		t.Fatalf("checkpoint run: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	for i := range 2 {
		if code, got, stderr := runCLIStdin(t, requests, "restore", ck); code != exitOK || got != want {
			t.Fatalf("restore %d: exit %d, stderr %q, stdout %q, want %q", i, code, stderr, got, want)
		}
	}
}

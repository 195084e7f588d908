package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The worked example of README "Boot once, restore per request":
// examples/bootserve.c, a server slow to boot, checkpointed by ferry run
// --checkpoint-on stdin when it first waits for a request and restored in
// fresh processes, one per request.

// bootserveRequests are the example's requests, one of each kind and a
// bad one.
var bootserveRequests = []string{"prime 7919", "prime 1000000", "word eta", "nth 5", "key 12", "frobnicate"}

// runFerry runs the ferry command bin with args and stdin, returning its standard output and
// how long it took.
func runFerry(t *testing.T, bin string, stdin string, args ...string) (string, time.Duration) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ferry %v: %v\n%s", args, err, stderr.String())
	}
	return string(out), time.Since(start)
}

// The example end to end: the uninterrupted server's answers; a
// checkpoint taken by --checkpoint-on stdin once it booted; every restore,
// in a process of its own, answers as the uninterrupted server without
// booting again. The boot is scaled down (argument 1) to keep the test
// short; the example's default boots for longer.
func TestExampleBootserve(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ferry and boots the server in processes of their own")
	}
	bin := buildFerry(t, "")
	const wasm, scale = "../../examples/bootserve.wasm", "1"
	all := strings.Join(bootserveRequests, "\n") + "\n"
	want, booted := runFerry(t, bin, all, "run", wasm, scale)
	wantLines := strings.Split(strings.TrimSuffix(want, "\n"), "\n")
	if len(wantLines) != len(bootserveRequests) {
		t.Fatalf("uninterrupted run answered %d requests of %d:\n%s", len(wantLines), len(bootserveRequests), want)
	}

	ck := filepath.Join(t.TempDir(), "bootserve.ckpt")
	r, w, err := os.Pipe() // open and empty: the server waits on it
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--no-sign", "--checkpoint-to", ck, "--checkpoint-on", "stdin", wasm, scale)
	cmd.Stdin = r
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	r.Close()
	w.Close()
	if err != nil || len(out) != 0 || !strings.Contains(stderr.String(), "ready\n") || !strings.Contains(stderr.String(), "checkpoint written") {
		t.Fatalf("checkpoint run: %v, stdout %q, stderr:\n%s", err, out, stderr.String())
	}

	// One restore serves everything; then one fresh process per request,
	// each the first request its server sees.
	if got, _ := runFerry(t, bin, all, "restore", ck); got != want {
		t.Fatalf("restored server:\n%s\n--- uninterrupted:\n%s", got, want)
	}
	var slowest time.Duration
	for k, req := range bootserveRequests {
		got, took := runFerry(t, bin, req+"\n", "restore", ck)
		slowest = max(slowest, took)
		_, answer, _ := strings.Cut(wantLines[k], ": ")
		if want := "1: " + answer + "\n"; got != want {
			t.Errorf("restore for %q answered %q, the uninterrupted server %q", req, got, want)
		}
	}
	t.Logf("boot and serve %d requests: %v; a restore serving one, at most: %v", len(bootserveRequests), booted, slowest)
}

package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A server blocked reading its next request (fd_read on a pipe) is
// checkpointed by signal:USR1 without waiting for input: the pause lands in
// the host call, which the restore issues again. The restored server's
// answers continue the uninterrupted run's byte for byte, natively and
// with the arm64 build under qemu-aarch64 when it is installed.
func TestCheckpointWhileBlockedOnStdin(t *testing.T) {
	bin := buildFerry(t, "")
	wasm, err := filepath.Abs("testdata/serve.wasm")
	if err != nil {
		t.Fatal(err)
	}
	const before, after = "17\n4000\n", "9\n123456\n"

	whole := exec.Command(bin, "run", wasm)
	whole.Stdin = strings.NewReader(before + after)
	want, err := whole.Output()
	if err != nil {
		t.Fatalf("uninterrupted run: %v", err)
	}

	ck := filepath.Join(t.TempDir(), "serve.ckpt")
	run := exec.Command(bin, "run", "--checkpoint-to", ck, wasm)
	stdin, err := run.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdoutPipe, err := run.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	run.Stderr = &stderr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	defer run.Process.Kill()
	// Serve two requests, then leave the server waiting for a third.
	if _, err := io.WriteString(stdin, before); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(stdoutPipe)
	var got strings.Builder
	for range strings.Count(before, "\n") {
		line, err := out.ReadString('\n')
		if err != nil {
			t.Fatalf("reading a response: %v (stderr %q)", err, stderr.String())
		}
		got.WriteString(line)
	}
	time.Sleep(100 * time.Millisecond) // well into the blocking read
	start := time.Now()
	if err := run.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(out)
	got.Write(rest)
	err = run.Wait()
	waited := time.Since(start)
	stdin.Close()
	if err != nil || !strings.Contains(stderr.String(), "checkpoint written") {
		t.Fatalf("checkpoint run: %v; stderr:\n%s", err, stderr.String())
	}
	t.Logf("SIGUSR1 to exit with the checkpoint written: %v", waited)

	code, info, _ := runCLI(t, "inspect", ck)
	if code != exitOK || !strings.Contains(info, "host-call") {
		t.Fatalf("inspect: the innermost frame should be at a host call:\n%s", info)
	}

	legs := [][]string{{bin}}
	if _, err := exec.LookPath("qemu-aarch64"); err == nil && !testing.Short() {
		legs = append(legs, qemuFerry(t)) // the same checkpoint, restored on arm64
	}
	for _, leg := range legs {
		restore := exec.Command(leg[0], append(leg[1:], "restore", ck)...)
		restore.Stdin = strings.NewReader(after)
		restore.Stderr = os.Stderr
		tail, err := restore.Output()
		if err != nil {
			t.Fatalf("%s restore: %v", leg, err)
		}
		if whole := got.String() + string(tail); whole != string(want) {
			t.Fatalf("%s: checkpointed and restored:\n%s\n--- uninterrupted:\n%s", leg, whole, want)
		}
	}
}

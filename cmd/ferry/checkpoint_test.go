package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const ckptProg = "../../wasi/testdata/ckptprog.wasm" // see wasi/checkpoint_test.go

const ckptInput = "alpha\nbravo\ncharlie\ndelta\n"

func ckptData(t *testing.T) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte(ckptInput), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The checkpoint-anywhere test through the command: ferry run stopped at
// pause:N, then ferry restore (itself checkpointing again at a later pause
// point, then restored once more) gives the same output and files as an
// uninterrupted run.
func TestCLICheckpointRestore(t *testing.T) {
	wantDir := ckptData(t)
	code, want, stderr := runCLI(t, "run", "--dir", wantDir+"::.", ckptProg, "in.txt", "out.txt")
	if code != exitOK {
		t.Fatalf("uninterrupted run: exit %d: %s", code, stderr)
	}
	wantFile, _ := os.ReadFile(filepath.Join(wantDir, "out.txt"))
	for _, n := range []int{1, 37, 800, 4000, 9000} {
		dir := ckptData(t)
		ck := filepath.Join(t.TempDir(), "ck")
		code, out, stderr := runCLI(t, "run", "--dir", dir+"::.", "--checkpoint-to", ck,
			"--checkpoint-on", "pause:"+strconv.Itoa(n), ckptProg, "in.txt", "out.txt")
		if code != exitOK || !strings.Contains(stderr, "checkpoint written to "+ck) {
			t.Fatalf("N=%d: run: exit %d: %s", n, code, stderr)
		}
		// A restored run counts on from the checkpoint: pause:N again is
		// already behind it, pause:2N is ahead.
		ck2 := ck + "2"
		code, more, stderr := runCLI(t, "restore", "--checkpoint-to", ck2,
			"--checkpoint-on", "pause:"+strconv.Itoa(n), "--checkpoint-on", "pause:"+strconv.Itoa(2*n), ck)
		if code != exitOK || !strings.Contains(stderr, "at pause point "+strconv.Itoa(2*n)) {
			t.Fatalf("N=%d: restore: exit %d: %s", n, code, stderr)
		}
		out += more
		code, more, stderr = runCLI(t, "restore", ck2)
		if code != exitOK {
			t.Fatalf("N=%d: second restore: exit %d: %s", n, code, stderr)
		}
		out += more
		if out != want {
			t.Fatalf("N=%d: output differs:\n%s\n--- want\n%s", n, out, want)
		}
		if got, _ := os.ReadFile(filepath.Join(dir, "out.txt")); !bytes.Equal(got, wantFile) {
			t.Fatalf("N=%d: out.txt differs", n)
		}
	}
	// A pause point beyond the end: no checkpoint, a normal end.
	dir := ckptData(t)
	ck := filepath.Join(t.TempDir(), "ck")
	code, out, stderr := runCLI(t, "run", "--dir", dir+"::.", "--checkpoint-to", ck, "--checkpoint-on", "pause:100000000", ckptProg, "in.txt", "out.txt")
	if _, err := os.Stat(ck); code != exitOK || out != want || err == nil {
		t.Fatalf("pause point beyond the end: exit %d, checkpoint exists: %v, %s", code, err == nil, stderr)
	}
}

// --leave-running writes the checkpoint and goes on; the run's output is
// complete and the checkpoint continues to the same end.
func TestCLILeaveRunning(t *testing.T) {
	dir := ckptData(t)
	ck := filepath.Join(t.TempDir(), "ck")
	code, out, stderr := runCLI(t, "run", "--dir", dir+"::.", "--checkpoint-to", ck, "--checkpoint-on", "pause:300",
		"--checkpoint-on", "pause:600", "--leave-running", ckptProg, "in.txt", "out.txt")
	if code != exitOK || strings.Count(stderr, "checkpoint written") != 2 || !strings.Contains(out, "monotonic ok") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// The guest has finished writing out.txt since: the checkpoint's files
	// changed.
	code, _, stderr = runCLI(t, "restore", ck)
	if code != exitFail || !strings.Contains(stderr, "changed since the checkpoint") {
		t.Fatalf("restore over changed files: exit %d: %s", code, stderr)
	}
}

func TestCLIInspect(t *testing.T) {
	dir := ckptData(t)
	ck := filepath.Join(t.TempDir(), "ck")
	if code, _, stderr := runCLI(t, "run", "--dir", dir+"::.", "--checkpoint-to", ck, "--checkpoint-on", "pause:2000",
		"--checkpoint-compress", "--checkpoint-no-module", ckptProg, "in.txt", "out.txt"); code != exitOK {
		t.Fatalf("run: %s", stderr)
	}
	code, out, stderr := runCLI(t, "inspect", ck)
	for _, want := range []string{"format       1.", "pause point  2000", "not included", "frames (outermost first)", "in.txt", "memory-data", "zstd"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Fatalf("inspect: exit %d, no %q in:\n%s%s", code, want, out, stderr)
		}
	}
	code, out, _ = runCLI(t, "inspect", "--json", ck)
	var info struct {
		PauseCount uint64 `json:"pause_count"`
		Frames     []struct{ Kind string }
	}
	if err := json.Unmarshal([]byte(out), &info); code != exitOK || err != nil || info.PauseCount != 2000 || len(info.Frames) == 0 {
		t.Fatalf("inspect --json: exit %d, %v: %s", code, err, out)
	}
	// Without the module, restore needs --module.
	if code, _, stderr := runCLI(t, "restore", ck); code != exitFail || !strings.Contains(stderr, "leaves the module out") {
		t.Fatalf("restore without module: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "restore", "--module", ckptProg, ck); code != exitOK {
		t.Fatalf("restore --module: exit %d: %s", code, stderr)
	}
	// Damaged and foreign files are refused clearly.
	b, _ := os.ReadFile(ck)
	b[len(b)/2] ^= 0xff
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, b, 0o644)
	if code, _, stderr := runCLI(t, "inspect", bad); code != exitFail || !strings.Contains(stderr, "corrupt checkpoint") {
		t.Fatalf("damaged: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "restore", ckptProg); code != exitFail || !strings.Contains(stderr, "not a Ferry checkpoint") {
		t.Fatalf("foreign: exit %d: %s", code, stderr)
	}
}

// signal:USR1 (the default trigger) stops a spinning guest; its
// checkpoint restores and is stopped again by an interval trigger.
func TestCLISignalAndInterval(t *testing.T) {
	ck := filepath.Join(t.TempDir(), "ck")
	wasm := filepath.Join(t.TempDir(), "spin.wasm")
	// (module (func (export "spin") (loop $l (br $l))))
	os.WriteFile(wasm, []byte("\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x07\x08\x01\x04spin\x00\x00\x0a\x09\x01\x07\x00\x03\x40\x0c\x00\x0b\x0b"), 0o644)
	done := make(chan [3]string)
	go func() {
		code, out, stderr := runCLI(t, "run", "--checkpoint-to", ck, "--invoke", "spin", wasm)
		done <- [3]string{strconv.Itoa(code), out, stderr}
	}()
	var res [3]string
	for waiting := true; waiting; {
		syscall.Kill(os.Getpid(), syscall.SIGUSR1)
		select {
		case res = <-done:
			waiting = false
		case <-time.After(50 * time.Millisecond):
		}
	}
	if res[0] != "0" || !strings.Contains(res[2], "checkpoint written") {
		t.Fatalf("signal: %v", res)
	}
	code, _, stderr := runCLI(t, "restore", "--checkpoint-to", ck, "--checkpoint-on", "interval:20ms", ck)
	if code != exitOK || !strings.Contains(stderr, "checkpoint written") {
		t.Fatalf("interval: exit %d: %s", code, stderr)
	}
	code, out, _ := runCLI(t, "inspect", ck)
	if code != exitOK || !strings.Contains(out, "loop") {
		t.Fatalf("inspect: %s", out)
	}
}

func TestCLICheckpointUsage(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--checkpoint-on", "pause:3", ckptProg},
		{"run", "--checkpoint-close-connections", ckptProg},
		{"run", "--checkpoint-to", "x", "--checkpoint-on", "pause:0", ckptProg},
		{"run", "--checkpoint-to", "x", "--checkpoint-on", "signal:NOPE", ckptProg},
		{"run", "--checkpoint-to", "x", "--checkpoint-on", "interval:soon", ckptProg},
		{"run", "--checkpoint-to", "x", "--checkpoint-on", "later", ckptProg},
		{"restore"},
		{"inspect"},
	} {
		if code, _, _ := runCLI(t, args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
	}
}

// A checkpoint that cannot be written (here: into /proc, where not even
// root can make a file; a directory that does not exist is refused at
// start) leaves the program running: it finishes exactly as an uninterrupted run,
// and stderr says what failed.
func TestCLIFailedCheckpointKeepsRunning(t *testing.T) {
	wantDir := ckptData(t)
	_, want, _ := runCLI(t, "run", "--dir", wantDir+"::.", ckptProg, "in.txt", "out.txt")
	wantFile, _ := os.ReadFile(filepath.Join(wantDir, "out.txt"))

	dir := ckptData(t)
	ck := "/proc/ferry-test-ck"
	code, out, stderr := runCLI(t, "run", "--dir", dir+"::.", "--checkpoint-to", ck,
		"--checkpoint-on", "pause:800", ckptProg, "in.txt", "out.txt")
	if code != exitOK || out != want || !strings.Contains(stderr, "checkpoint at pause point 800 failed, the program continues") {
		t.Fatalf("exit %d, stdout as uninterrupted %v, stderr:\n%s", code, out == want, stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "out.txt")); !bytes.Equal(got, wantFile) {
		t.Fatalf("out.txt %q, want %q", got, wantFile)
	}
	if _, err := os.Stat(ck); err == nil {
		t.Fatal("a checkpoint file appeared")
	}
}

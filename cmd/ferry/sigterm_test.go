package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// spinWat touches %d pages of 64 KiB, then spins until stopped.
const spinWat = `(module (memory (export "memory") 1)
  (func (export "_start") (local $i i32) (local $end i32)
    (drop (memory.grow (i32.const %d)))
    (local.set $end (i32.mul (memory.size) (i32.const 65536)))
    (loop $touch
      (i32.store (local.get $i) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 4096)))
      (br_if $touch (i32.lt_u (local.get $i) (local.get $end))))
    (loop $spin (br $spin))))`

// startFerry starts the built ferry in dir and returns it with its stderr.
func startFerry(t *testing.T, bin, dir string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var errb bytes.Buffer
	cmd.Dir, cmd.Stderr = dir, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &errb
}

// waitRSS waits until process pid holds kb KiB of memory.
func waitRSS(t *testing.T, pid, kb int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				if n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))); n >= kb {
					return
				}
			}
		}
	}
	t.Fatalf("process %d never held %d KiB", pid, kb)
}

func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	if err := cmd.Wait(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); ws.Signaled() {
		return -int(ws.Signal()) // killed by the signal: Go's default for SIGTERM
	}
	return cmd.ProcessState.ExitCode()
}

// SIGTERM, which orchestrators send, killed ferry at once: a checkpoint
// being written was lost. It now stops the program as SIGINT does, after
// finishing the write, and exits 143; with --checkpoint-on signal:TERM it
// checkpoints.
func TestSigtermDuringCheckpointWriteLost(t *testing.T) {
	bin := buildFerry(t, runtime.GOARCH)
	dir := t.TempDir()
	small := wat2wasm(t, strings.Replace(spinWat, "%d", "1024", 1)) // 64 MiB

	cmd, stderr := startFerry(t, bin, dir, "run", small)
	waitRSS(t, cmd.Process.Pid, 60<<10)
	cmd.Process.Signal(syscall.SIGTERM)
	if code := exitCode(t, cmd); code != exitTerminated || !strings.Contains(stderr.String(), "terminated (SIGTERM)") {
		t.Errorf("SIGTERM: exit %d, stderr %q; want %d", code, stderr, exitTerminated)
	}

	cmd, stderr = startFerry(t, bin, dir, "run", "--checkpoint-to", "term.ckpt", "--checkpoint-on", "signal:TERM", small)
	waitRSS(t, cmd.Process.Pid, 60<<10)
	cmd.Process.Signal(syscall.SIGTERM)
	if code := exitCode(t, cmd); code != exitOK || !strings.Contains(stderr.String(), "checkpoint written to term.ckpt") {
		t.Errorf("SIGTERM as a trigger: exit %d, stderr %q; want a checkpoint", code, stderr)
	}

	// 256 MiB take a while to write: SIGTERM comes in the middle.
	big := wat2wasm(t, strings.Replace(spinWat, "%d", "4096", 1))
	cmd, stderr = startFerry(t, bin, dir, "run", "--checkpoint-to", "big.ckpt", big)
	waitRSS(t, cmd.Process.Pid, 250<<10) // the memory touched, the triggers armed
	cmd.Process.Signal(syscall.SIGUSR1)
	const gap = 20 * time.Millisecond
	time.Sleep(gap)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Skipf("ferry ended before SIGTERM: %v", err)
	}
	code := exitCode(t, cmd)
	m := regexp.MustCompile(`checkpoint written to big.ckpt \(#1, ([0-9.]+) MiB in ([0-9.]+[µm]?s)\)`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("SIGTERM during the write: exit %d, stderr %q; want the checkpoint finished", code, stderr)
	}
	if took, _ := time.ParseDuration(m[2]); took < gap {
		t.Skipf("the write took %v, less than the %v before SIGTERM", took, gap)
	}
	if code != exitTerminated || !strings.Contains(stderr.String(), "ferry: SIGTERM: finishing the checkpoint being written to big.ckpt first\n") {
		t.Errorf("exit %d, stderr %q; want %d, and why ferry goes on writing", code, stderr, exitTerminated)
	}
	if out, err := exec.Command(bin, "inspect", filepath.Join(dir, "big.ckpt")).CombinedOutput(); err != nil {
		t.Errorf("the checkpoint written through SIGTERM: %v\n%s", err, out)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if n := e.Name(); n != "big.ckpt" && n != "term.ckpt" {
			t.Errorf("stray file %s", n)
		}
	}
}

// A 1 GiB checkpoint took seconds after SIGUSR1 with nothing printed; on
// a terminal, its progress now shows (bytes, rate, time left), then the
// final line with size and time.
func TestBigCheckpointSilent(t *testing.T) {
	mib := 1024
	if v := os.Getenv("FERRY_PROGRESS_MIB"); v != "" {
		mib, _ = strconv.Atoi(v)
	}
	bin := buildFerry(t, runtime.GOARCH)
	master, term := openPTY(t)
	wasm := wat2wasm(t, strings.Replace(spinWat, "%d", strconv.Itoa(mib*16), 1))
	dir := t.TempDir()
	cmd := exec.Command(bin, "run", "--checkpoint-to", "big.ckpt", wasm)
	cmd.Dir, cmd.Stderr = dir, term
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	read := make(chan struct{})
	go func() {
		defer close(read)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			out.Write(buf[:n])
			if err != nil || strings.Contains(out.String(), "the program stopped") {
				return
			}
		}
	}()
	waitRSS(t, cmd.Process.Pid, (mib-6)<<10)
	cmd.Process.Signal(syscall.SIGUSR1)
	if code := exitCode(t, cmd); code != exitOK {
		t.Fatalf("exit %d: %q", code, out.String())
	}
	select {
	case <-read:
	case <-time.After(10 * time.Second):
		t.Fatalf("no final line on the terminal: %q", out.String())
	}
	got := out.String()
	m := regexp.MustCompile(`checkpoint written to big.ckpt \(#1, ([0-9.]+) ([MG])iB in ([0-9.]+)(m?s)\)`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no final line with size and time on the terminal: %q", got)
	}
	took, _ := time.ParseDuration(m[3] + m[4])
	progress := regexp.MustCompile(`\rferry: writing checkpoint to big.ckpt: [0-9.]+ [KMG]iB of at most [0-9.]+ [MG]iB, [0-9.]+ [KMG]iB/s, at most [0-9.]+[µm]?s left\x1b\[K`)
	if took > progressAfter+progressAfter/2 && !progress.MatchString(got) {
		t.Errorf("a checkpoint of %s %siB taking %v showed no progress: %q", m[1], m[2], took, got)
	}
	if took <= progressAfter+progressAfter/2 {
		t.Logf("the checkpoint took only %v: too short to show progress", took)
	}
	t.Logf("%d MiB, the terminal's last bytes: %q", mib, got[max(0, len(got)-400):])
}

// showProgress, which long checkpoints and restores use on a terminal:
// nothing before progressAfter, then bytes, rate and time left, and the
// line cleared at the end.
func TestShowProgressLine(t *testing.T) {
	defer func(d time.Duration) { progressAfter = d }(progressAfter)
	progressAfter = 20 * time.Millisecond
	var mu syncBuffer
	var n uint64
	stop := showProgress(&mu, "restoring x.ckpt", 100<<20, "", func() uint64 { n += 1 << 20; return n })
	time.Sleep(100 * time.Millisecond)
	stop()
	got := mu.String()
	line := regexp.MustCompile(`^\rferry: restoring x\.ckpt: [0-9.]+ MiB of 100\.0 MiB, [0-9.]+ [KMG]iB/s, [0-9.]+[µm]?s left\x1b\[K`)
	if !line.MatchString(got) || !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("progress %q", got)
	}
	mu.Reset()
	stop = showProgress(&mu, "restoring x.ckpt", 0, "", func() uint64 { return 0 })
	stop()
	if mu.String() != "" {
		t.Errorf("a quick operation showed %q", mu.String())
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }
func (b *syncBuffer) Reset()         { b.mu.Lock(); defer b.mu.Unlock(); b.buf.Reset() }

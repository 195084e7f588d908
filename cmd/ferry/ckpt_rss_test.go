package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/ferryvm/ferry"
)

// busyMemoryWat grows its memory by the first %d 64 KiB pages, makes
// every 4 KiB page present (stored in a checkpoint), then keeps rewriting
// its pages until the second %d nanoseconds have passed on the monotonic
// clock.
const busyMemoryWat = `(module
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock (param i32 i64 i32) (result i32)))
  (memory 1)
  (func $now (result i64)
    (drop (call $clock (i32.const 1) (i64.const 0) (i32.const 0)))
    (i64.load (i32.const 0)))
  (func (export "_start")
    (local $i i32) (local $end i64) (local $size i32)
    (drop (memory.grow (i32.const %d)))
    (local.set $size (i32.mul (memory.size) (i32.const 65536)))
    (local.set $i (i32.const 4096))
    (loop $touch
      (i32.store8 (local.get $i) (i32.const 1))
      (local.set $i (i32.add (local.get $i) (i32.const 4096)))
      (br_if $touch (i32.lt_u (local.get $i) (local.get $size))))
    (local.set $end (i64.add (call $now) (i64.const %d)))
    (loop $busy
      (local.set $i (i32.const 4096))
      (loop $pass
        (i32.store8 offset=8 (local.get $i) (i32.add (i32.load8_u offset=8 (local.get $i)) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 65536)))
        (br_if $pass (i32.lt_u (local.get $i) (local.get $size))))
      (br_if $busy (i64.lt_u (call $now) (local.get $end)))))
)`

// rssChildEnv makes the re-executed test binary run ferry with the
// newline-separated arguments it holds, then print its peak resident size.
const rssChildEnv = "FERRY_TEST_RSS_ARGS"

// A program checkpointed periodically with --leave-running must not need
// twice its memory: every checkpoint used to copy all of it (Capture),
// which took a 512 MiB guest to 1.95 GB resident. Ferry runs in a child
// process (the test binary re-executed) with a 256 MiB guest
// checkpointed every 200 ms for 2 s; its peak resident size
// (VmHWM) must stay under the guest's memory and a half. FERRY_RSS_MIB
// sets the guest's size. With --checkpoint-copy-memory the copy is
// back, by request: that run only reports its peak.
func TestLeaveRunningCheckpointRSS(t *testing.T) {
	if args := os.Getenv(rssChildEnv); args != "" {
		code := run(strings.Split(args, "\n"), os.Stdout, os.Stderr)
		fmt.Printf("exit %d peak %d\n", code, procStatusKB(t, "VmHWM"))
		return
	}
	mib := 256
	if v := os.Getenv("FERRY_RSS_MIB"); v != "" {
		mib, _ = strconv.Atoi(v)
	}
	wasm := wat2wasm(t, fmt.Sprintf(busyMemoryWat, mib*16, 2_000_000_000))
	for _, copyMemory := range []bool{false, true} {
		ck := t.TempDir() + "/ck"
		args := []string{"run", "--checkpoint-to", ck, "--checkpoint-on", "interval:200ms", "--leave-running"}
		if copyMemory {
			args = append(args, "--checkpoint-copy-memory")
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestLeaveRunningCheckpointRSS$", "-test.count=1")
		cmd.Env = append(os.Environ(), rssChildEnv+"="+strings.Join(append(args, wasm), "\n"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		var code, peakKB int
		written := strings.Count(string(out), "ferry: checkpoint written to")
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "exit ") {
				fmt.Sscanf(line, "exit %d peak %d", &code, &peakKB)
			}
		}
		t.Logf("guest %d MiB, --checkpoint-copy-memory %v: %d checkpoints, peak resident %d MiB", mib, copyMemory, written, peakKB/1024)
		if code != 0 || written < 2 {
			t.Fatalf("exit %d, %d checkpoints written (want 0 and at least 2):\n%s", code, written, out)
		}
		ckpt, err := ferry.OpenCheckpoint(ck)
		if err == nil {
			err = ckpt.Verify()
			ckpt.Close()
		}
		if err != nil {
			t.Fatalf("the last checkpoint: %v", err)
		}
		// The copy is what --checkpoint-copy-memory asks for.
		if limit := mib * 1024 * 3 / 2; !copyMemory && peakKB > limit {
			t.Fatalf("peak resident %d KiB, over %d KiB (the guest's %d MiB and a half)", peakKB, limit, mib)
		}
	}
}

// procStatusKB reads a kB field of /proc/self/status.
func procStatusKB(t *testing.T, field string) int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

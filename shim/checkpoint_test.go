//go:build linux

package shim_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// counterOutput collects the numbers a counter prints, as they come.
type counterOutput struct {
	lines chan int
	got   []int
	errs  chan error
}

func readCounter(r io.Reader) *counterOutput {
	c := &counterOutput{lines: make(chan int, 1<<16), errs: make(chan error, 1)}
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			n, err := strconv.Atoi(strings.TrimSpace(s.Text()))
			if err != nil {
				c.errs <- fmt.Errorf("counter printed %q", s.Text())
				continue
			}
			c.lines <- n
		}
		close(c.lines)
	}()
	return c
}

// waitFor collects numbers until it has at least n of them.
func (c *counterOutput) waitFor(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for len(c.got) < n {
		select {
		case v, ok := <-c.lines:
			if !ok {
				t.Fatalf("counter output ended after %v, want %d numbers", c.got, n)
			}
			c.got = append(c.got, v)
		case err := <-c.errs:
			t.Fatal(err)
		case <-timeout:
			t.Fatalf("counter printed %d numbers in 30s, want %d", len(c.got), n)
		}
	}
}

// drain collects what is left once the output ended.
func (c *counterOutput) drain() {
	for v := range c.lines {
		c.got = append(c.got, v)
	}
}

// checkConsecutive fails unless got counts up by one from got[0].
func checkConsecutive(t *testing.T, what string, got []int) {
	t.Helper()
	for i := 1; i < len(got); i++ {
		if got[i] != got[i-1]+1 {
			t.Fatalf("%s: %d follows %d: %v", what, got[i], got[i-1], got)
		}
	}
}

// startCounter runs the counter in a new task id on d and returns its
// output and the running ctr run.
func startCounter(t *testing.T, d *daemon, id string) (*counterOutput, *exec.Cmd) {
	t.Helper()
	cmd := d.ctrCmd("run", "--runtime", runtimeName, helloRef, id, "/counter.wasm")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	t.Cleanup(func() {
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("ctr run %s stderr:\n%s", id, stderr.String())
		}
	})
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return readCounter(out), cmd
}

// killTask kills a task with SIGKILL and waits for its ctr run (if any)
// to report status 137.
func killTask(t *testing.T, d *daemon, id string, run *exec.Cmd) {
	t.Helper()
	d.ctr("tasks", "kill", "-s", "SIGKILL", id)
	if run == nil {
		return
	}
	err := run.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 137 {
		t.Fatalf("ctr run of the killed task: %v, want exit status 137", err)
	}
}

// attachCounter restores id from the checkpoint image ref and reads its
// output through ctr task attach (ctr containers restore returns once the
// task started). ctr task attach deletes the task when it ends.
func attachCounter(t *testing.T, d *daemon, id, ref string) (*counterOutput, *exec.Cmd) {
	t.Helper()
	start := time.Now()
	d.ctr("containers", "restore", "--live", id, ref)
	t.Logf("ctr containers restore --live took %v", time.Since(start).Round(time.Millisecond))
	cmd := d.ctrCmd("tasks", "attach", id)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return readCounter(out), cmd
}

// checkContinues checks that the restored counter went on from the
// checkpoint: its first number follows one the original printed before
// the checkpoint, and it counts on by one (no gap, no repeat).
func checkContinues(t *testing.T, before, original, restored []int) {
	t.Helper()
	checkConsecutive(t, "the original run", original)
	checkConsecutive(t, "the restored run", restored)
	if original[0] != 1 {
		t.Fatalf("the original run starts at %d", original[0])
	}
	first := restored[0]
	if first < 2 || first-1 > original[len(original)-1] {
		t.Fatalf("the restored run starts at %d; the original printed %v", first, original)
	}
	// The checkpoint was taken after before was printed: the restored
	// run must not go back before it.
	if first <= before[len(before)-1] {
		t.Fatalf("the restored run starts at %d, but %d was printed before the checkpoint was asked for", first, before[len(before)-1])
	}
	t.Logf("original: 1..%d (%d printed before the checkpoint was asked for); restored: %d..%d",
		original[len(original)-1], before[len(before)-1], first, restored[len(restored)-1])
}

// TestCheckpointRestoreCounter checkpoints a running counter with ctr
// (leaving it running), kills it, restores it from the checkpoint image
// into a new container and sees it count on from the checkpoint.
func TestCheckpointRestoreCounter(t *testing.T) {
	requireTools(t, "containerd", "ctr", "unshare", "nsenter")
	d := startDaemon(t, buildShim(t))
	d.importTestImage(helloRef)
	out, run := startCounter(t, d, "counter1")
	out.waitFor(t, 5)
	before := append([]int(nil), out.got...)
	start := time.Now()
	d.ctr("containers", "checkpoint", "--task", "--image", "counter1", "ferry.test/counter-ckpt:1")
	t.Logf("ctr containers checkpoint took %v", time.Since(start).Round(time.Millisecond))
	// The task goes on after a checkpoint (containerd asks for exit=false).
	out.waitFor(t, len(out.got)+5)
	if st := d.ctr("tasks", "ls"); !strings.Contains(st, "RUNNING") {
		t.Fatalf("after the checkpoint the task is not running:\n%s", st)
	}
	killTask(t, d, "counter1", run)
	out.drain()
	d.ctr("containers", "rm", "counter1")

	restored, attach := attachCounter(t, d, "counter2", "ferry.test/counter-ckpt:1")
	restored.waitFor(t, 10)
	checkContinues(t, before, out.got, restored.got)
	killTask(t, d, "counter2", attach)
	d.ctr("containers", "rm", "counter2")
	d.waitNoShims("after the tasks were deleted")
}

// TestCheckpointMovesBetweenDaemons stands two containerd daemons in for
// two hosts: a counter checkpointed on A is exported as an image
// tarball, imported on B (which has the base image under the same name)
// and restored there, counting on from the checkpoint.
func TestCheckpointMovesBetweenDaemons(t *testing.T) {
	requireTools(t, "containerd", "ctr", "unshare", "nsenter")
	shims := buildShim(t)
	moveCheckpoint(t, startDaemon(t, shims), startDaemon(t, shims), func(pid int) {})
}

// moveCheckpoint checkpoints a counter on a, restores it on b and checks
// that it counts on; checkShim checks b's shim while it runs.
func moveCheckpoint(t *testing.T, a, b *daemon, checkShim func(pid int)) {
	t.Helper()
	const ref = "ferry.test/counter-ckpt:moved"
	a.importTestImage(helloRef)
	b.importTestImage(helloRef)
	out, run := startCounter(t, a, "counter1")
	out.waitFor(t, 5)
	before := append([]int(nil), out.got...)
	a.ctr("containers", "checkpoint", "--task", "--image", "counter1", ref)
	archive := filepath.Join(a.dir, "checkpoint.tar")
	a.ctr("images", "export", "--skip-manifest-json", archive, ref)
	killTask(t, a, "counter1", run)
	out.drain()

	b.ctr("images", "import", "--no-unpack", archive)
	restored, attach := attachCounter(t, b, "counter2", ref)
	restored.waitFor(t, 10)
	checkContinues(t, before, out.got, restored.got)
	pids := b.shimPids()
	if len(pids) != 1 {
		t.Fatalf("shims of B: %v, want one", pids)
	}
	checkShim(pids[0])
	killTask(t, b, "counter2", attach)
	b.ctr("containers", "rm", "counter2")
	b.waitNoShims("on B after the task was deleted")
}

// TestCheckpointMovesToArm64 is TestCheckpointMovesBetweenDaemons with B's
// shim the arm64 build, run under qemu-aarch64 through a wrapper script
// on B's PATH: a checkpoint taken on amd64 continues on arm64.
func TestCheckpointMovesToArm64(t *testing.T) {
	requireTools(t, "containerd", "ctr", "unshare", "nsenter", "qemu-aarch64")
	if runtime.GOARCH != "amd64" {
		t.Skip("the arm64 shim is run under qemu-aarch64 from an amd64 host")
	}
	dir := t.TempDir()
	arm := filepath.Join(dir, "containerd-shim-ferry-v1.arm64")
	build := exec.Command("go", "build", "-o", arm, "./cmd/containerd-shim-ferry-v1")
	build.Env = append(os.Environ(), "GOARCH=arm64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the arm64 shim: %v\n%s", err, out)
	}
	qemu, _ := exec.LookPath("qemu-aarch64")
	wrapperDir := filepath.Join(dir, "bin")
	os.Mkdir(wrapperDir, 0o755)
	// -0 keeps the wrapper as the shim's argv[0], so that the shim starts
	// its server through the wrapper too.
	script := fmt.Sprintf("#!/bin/sh\nexec %s -0 \"$0\" %s \"$@\"\n", qemu, arm)
	if err := os.WriteFile(filepath.Join(wrapperDir, "containerd-shim-ferry-v1"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	a := startDaemon(t, buildShim(t))
	b := startDaemon(t, wrapperDir)
	moveCheckpoint(t, a, b, func(pid int) {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil || filepath.Base(exe) != "qemu-aarch64" {
			t.Fatalf("B's shim %d runs %q (%v), not qemu-aarch64", pid, exe, err)
		}
	})
}

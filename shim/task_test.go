//go:build linux

package shim_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunArgsEnvMounts: the process arguments and environment of the OCI
// spec reach the guest, a bind mount becomes a WASI pre-open it can read
// and write through, and a read-only one refuses writes (it did not: a
// WASI pre-open grants writing, so the mount's ro option was lost).
func TestRunArgsEnvMounts(t *testing.T) {
	requireTools(t, "containerd", "ctr", "unshare", "nsenter")
	d := startDaemon(t, buildShim(t))
	wasm := filepath.Join(d.dir, "prog.wasm")
	build := exec.Command("go", "build", "-o", wasm, "./testdata/prog")
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build testdata/prog for wasip1: %v\n%s", err, out)
	}
	prog, err := os.ReadFile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	const ref = "ferry.test/prog:latest"
	tarball := filepath.Join(d.dir, "prog.tar")
	writeImage(t, tarball, ref, []string{"/prog.wasm"}, imageFile{"prog.wasm", prog})
	d.ctr("images", "import", tarball)
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "in.txt"), []byte("through a bind mount\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ro := t.TempDir()
	if err := os.WriteFile(filepath.Join(ro, "in.txt"), []byte("readable"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := d.ctrCmd("run", "--rm", "--runtime", runtimeName, "--env", "GREETING=hello",
		"--mount", "type=bind,src="+data+",dst=/data,options=rbind:rw",
		"--mount", "type=bind,src="+ro+",dst=/ro,options=rbind:ro", ref, "prog1", "/prog.wasm", "one", "two")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("ctr run: %v, want exit status 3\n%s", err, out)
	}
	want := "args: /prog.wasm one two\nGREETING=hello\n" +
		"ro list: in.txt\nro write: open /ro/x: Read-only file system\n"
	if string(out) != want {
		t.Errorf("output = %q, want %q", out, want)
	}
	got, err := os.ReadFile(filepath.Join(data, "out.txt"))
	if err != nil || string(got) != "THROUGH A BIND MOUNT\n" {
		t.Errorf("/data/out.txt = %q, %v; want the upper-cased input", got, err)
	}
	if _, err := os.Stat(filepath.Join(ro, "x")); err == nil {
		t.Errorf("the guest wrote into a read-only mount")
	}
	d.waitNoShims("after ctr run --rm")
}

// TestPauseResumeExecTerm: ctr tasks pause stops the counter (no output
// while paused), resume continues it with no gap, exec is refused with a
// clear error, and SIGTERM stops it with status 143.
func TestPauseResumeExecTerm(t *testing.T) {
	requireTools(t, "containerd", "ctr", "unshare", "nsenter")
	d := startDaemon(t, buildShim(t))
	d.importTestImage(helloRef)
	out, run := startCounter(t, d, "counter1")
	out.waitFor(t, 3)
	d.ctr("tasks", "pause", "counter1")
	if ls := d.ctr("tasks", "ls"); !strings.Contains(ls, "PAUSED") {
		t.Errorf("after ctr tasks pause:\n%s", ls)
	}
	// Lines written just before the pause may still be in the pipe.
	time.Sleep(200 * time.Millisecond)
	drainAvailable(out)
	n := len(out.got)
	time.Sleep(500 * time.Millisecond)
	drainAvailable(out)
	if len(out.got) != n {
		t.Errorf("the paused counter printed %v", out.got[n:])
	}
	d.ctr("tasks", "resume", "counter1")
	out.waitFor(t, n+5)
	checkConsecutive(t, "paused and resumed", out.got)

	if o, err := d.ctrErr("tasks", "exec", "--exec-id", "x", "counter1", "/counter.wasm"); err == nil ||
		!strings.Contains(o, "exec processes are not supported") {
		t.Errorf("ctr tasks exec: %v\n%s", err, o)
	}
	d.ctr("tasks", "kill", "-s", "SIGTERM", "counter1")
	err := run.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 143 {
		t.Errorf("ctr run after SIGTERM: %v, want exit status 143", err)
	}
	d.ctr("containers", "rm", "counter1") // ctr run deleted the task

	d.waitNoShims("after the task was deleted")
}

// drainAvailable takes the numbers already read, without waiting.
func drainAvailable(c *counterOutput) {
	for {
		select {
		case v, ok := <-c.lines:
			if !ok {
				return
			}
			c.got = append(c.got, v)
		default:
			return
		}
	}
}

// TestForceDeleteStoppedTask pins that ctr tasks rm -f deletes a task
// whose program already ended: its kill is answered NotFound, which ctr
// ignores, but the shim's errors used to reach containerd as Unknown, so
// the delete failed and the shim was never shut down.
func TestForceDeleteStoppedTask(t *testing.T) {
	requireTools(t, "containerd", "ctr", "unshare", "nsenter")
	d := startDaemon(t, buildShim(t))
	d.importTestImage(helloRef)
	d.ctr("run", "-d", "--runtime", runtimeName, "--log-uri", "file://"+filepath.Join(d.dir, "hello.log"), helloRef, "hello1")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(d.ctr("tasks", "ls"), "STOPPED") {
		if time.Now().After(deadline) {
			t.Fatalf("the task did not stop:\n%s", d.ctr("tasks", "ls"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.ctr("tasks", "rm", "-f", "hello1")
	d.ctr("containers", "rm", "hello1")
	d.waitNoShims("after ctr tasks rm -f")
	if log, err := os.ReadFile(filepath.Join(d.dir, "hello.log")); err != nil || !strings.Contains(string(log), "hello from ferry\n") {
		t.Errorf("--log-uri file: %q, %v", log, err)
	}
}

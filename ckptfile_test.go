package ferry

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// killedWriterEnv makes the test binary, re-executed, write checkpoints
// to the path it names until it is killed.
const killedWriterEnv = "FERRY_TEST_KILLED_WRITER"

// pausedWithData returns a paused ckpt.wasm run whose memory has pages
// pages, all of them non-zero (so all are written).
func pausedWithData(t testing.TB, pages uint64) *Paused {
	t.Helper()
	rt, _, _, err := runCkpt(t, 20, pages, CallOptions{PauseAfter: 9})
	t.Cleanup(func() { rt.Close(context.Background()) })
	var p *Paused
	if !errors.As(err, &p) {
		t.Fatalf("no pause: %v", err)
	}
	mem := p.Instance().Memory("mem").Bytes()
	for i := 0; i < len(mem); i += 4096 {
		mem[i+1000] = byte(i>>12) | 1
	}
	return p
}

// A writer killed with SIGKILL in the middle of a checkpoint write (the
// test binary re-executed, writing 64 MiB checkpoints in a loop) must
// leave the previous checkpoint whole, and no temporary file may remain
// once the next write is done: they used to pile up, as large as the
// guest's memory. Both the O_TMPFILE path and the named fallback.
func TestKilledWriterLeavesNoTempFile(t *testing.T) {
	if path := os.Getenv(killedWriterEnv); path != "" {
		unnamedTemps = os.Getenv(killedWriterEnv+"_NAMED") == ""
		p := pausedWithData(t, 1024)
		deadline := time.Now().Add(time.Minute)
		for n := 1; time.Now().Before(deadline); n++ {
			fmt.Printf("writing %d\n", n)
			if err := p.WriteCheckpointFile(path, NewCheckpointConfig()); err != nil {
				t.Fatal(err)
			}
			fmt.Printf("written %d\n", n)
		}
		t.Fatal("not killed within a minute")
	}
	for _, named := range []bool{false, true} {
		t.Run(fmt.Sprintf("named=%v", named), func(t *testing.T) {
			dir := t.TempDir()
			if !named {
				f, err := openUnnamed(dir)
				if err != nil {
					t.Skipf("no unnamed temporary files here: %v", err)
				}
				f.Close()
			}
			path := filepath.Join(dir, "ck")
			killWriterMidWrite(t, path, named)
			ck, err := OpenCheckpoint(path)
			if err != nil {
				t.Fatalf("the previous checkpoint did not survive: %v", err)
			}
			ck.Close()
			if named && len(dirNames(t, dir)) < 2 {
				// The kill must have landed mid-write for the test to mean
				// anything; the named fallback shows it.
				t.Fatalf("no temporary file after the kill: %v", dirNames(t, dir))
			}
			saved := unnamedTemps
			unnamedTemps = !named
			defer func() { unnamedTemps = saved }()
			if err := pausedWithData(t, 2).WriteCheckpointFile(path, NewCheckpointConfig()); err != nil {
				t.Fatal(err)
			}
			if names := dirNames(t, dir); len(names) != 1 || names[0] != "ck" {
				t.Fatalf("after the next write the directory holds %v, want only ck", names)
			}
		})
	}
}

// killWriterMidWrite runs the writer child on path and kills it with
// SIGKILL shortly after its second write started.
func killWriterMidWrite(t *testing.T, path string, named bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriterLeavesNoTempFile$", "-test.count=1")
	cmd.Env = append(os.Environ(), killedWriterEnv+"="+path)
	if named {
		cmd.Env = append(cmd.Env, killedWriterEnv+"_NAMED=1")
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "writing 2" {
			break
		}
	}
	time.Sleep(5 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("writer child: %v (not killed mid-write)", err)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// A staged checkpoint leaves path as it was until Commit, which puts
// there the same checkpoint WriteCheckpointFile writes; Discard leaves
// nothing behind.
func TestStageCheckpointFile(t *testing.T) {
	p := pausedWithData(t, 4)
	dir := t.TempDir()
	want, path := filepath.Join(dir, "want"), filepath.Join(dir, "ck")
	cfg := NewCheckpointConfig()
	if err := p.WriteCheckpointFile(want, cfg); err != nil {
		t.Fatal(err)
	}
	staged, err := p.StageCheckpointFile(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Fatalf("before Commit the directory holds %v", names)
	}
	if err := staged.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := staged.Commit(); err == nil {
		t.Fatal("a second Commit succeeded")
	}
	a, _ := os.ReadFile(want)
	b, _ := os.ReadFile(path)
	// The files differ only in their creation time.
	if len(a) != len(b) || len(a) < 4*65536 {
		t.Fatalf("staged checkpoint has %d bytes, WriteCheckpointFile's %d", len(b), len(a))
	}
	ck, err := OpenCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := ck.Verify(); err != nil {
		t.Fatal(err)
	}
	ck.Close()
	discarded, err := p.StageCheckpointFile(filepath.Join(dir, "discarded"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	discarded.Discard()
	if names := dirNames(t, dir); len(names) != 2 {
		t.Fatalf("after Discard the directory holds %v, want ck and want", names)
	}
}

// The pause of a periodic checkpoint of a 512 MiB guest: Capture's copy
// (into the previous capture's buffers) against StageCheckpointFile's
// write into the page cache, and what the rest costs once the guest runs
// again (the capture's write and fsync; the staged file's fsync).
func BenchmarkPeriodicCheckpointPause(b *testing.B) {
	p := pausedWithData(b, 8192)
	path := filepath.Join(b.TempDir(), "ck")
	cfg := NewCheckpointConfig()
	b.Run("capture", func(b *testing.B) {
		var c *Capture
		var pause, after time.Duration
		for range b.N {
			start := time.Now()
			var err error
			if c, err = p.Capture(cfg, c); err != nil {
				b.Fatal(err)
			}
			mid := time.Now()
			if err := c.WriteFile(path); err != nil {
				b.Fatal(err)
			}
			pause, after = pause+mid.Sub(start), after+time.Since(mid)
		}
		b.ReportMetric(float64(pause.Milliseconds())/float64(b.N), "pause-ms/op")
		b.ReportMetric(float64(after.Milliseconds())/float64(b.N), "background-ms/op")
	})
	b.Run("stage", func(b *testing.B) {
		var pause, after time.Duration
		for range b.N {
			start := time.Now()
			s, err := p.StageCheckpointFile(path, cfg)
			if err != nil {
				b.Fatal(err)
			}
			mid := time.Now()
			if err := s.Commit(); err != nil {
				b.Fatal(err)
			}
			pause, after = pause+mid.Sub(start), after+time.Since(mid)
		}
		b.ReportMetric(float64(pause.Milliseconds())/float64(b.N), "pause-ms/op")
		b.ReportMetric(float64(after.Milliseconds())/float64(b.N), "background-ms/op")
	})
}

// A write removes the temporary files of its path left by writers that
// are gone (killed between naming the file and renaming it, or using the
// named fallback), and only those: not a live writer's, not another
// path's.
func TestStaleTempFilesOfDeadWritersRemoved(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "ck")
	stale := fmt.Sprintf(".ck.tmp.%d.0123456789ab", dead.Process.Pid)
	live := fmt.Sprintf(".ck.tmp.%d.0123456789ab", os.Getpid())
	other := fmt.Sprintf(".other.tmp.%d.0123456789ab", dead.Process.Pid)
	for _, name := range []string{stale, live, other} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := pausedWithData(t, 2).WriteCheckpointFile(path, NewCheckpointConfig()); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(dirNames(t, dir), " ")
	if want := strings.Join([]string{live, other, "ck"}, " "); got != want {
		t.Fatalf("directory holds %s, want %s", got, want)
	}
}

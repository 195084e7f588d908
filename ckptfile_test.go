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
func pausedWithData(t *testing.T, pages uint64) *Paused {
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

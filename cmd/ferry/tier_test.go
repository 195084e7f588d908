package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A bad --tier is a one-line usage error on every command that takes it.
func TestTierFlagBadValue(t *testing.T) {
	for _, cmd := range []string{"run", "restore", "wast"} {
		code, _, stderr := runCLI(t, cmd, "--tier", "jit", "x")
		if code != exitUsage || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, `unknown tier "jit"`) {
			t.Errorf("%s --tier jit: exit %d, stderr %q", cmd, code, stderr)
		}
	}
}

// Checkpoints cross tiers: a run in compiled code stopped at pause:N,
// restored in the interpreter, and a run in the interpreter restored in
// compiled code, each end as an uninterrupted run; --leave-running in
// compiled code re-enters it after the checkpoint and the checkpoint
// continues to the same end.
func TestCLICheckpointAcrossTiers(t *testing.T) {
	wantDir := ckptData(t)
	code, want, stderr := runCLI(t, "run", "--dir", wantDir+"::.", ckptProg, "in.txt", "out.txt")
	if code != exitOK {
		t.Fatalf("uninterrupted run: exit %d: %s", code, stderr)
	}
	for _, n := range []int{1, 37, 800, 4000} {
		for _, tiers := range [][2]string{{"compiled", "interp"}, {"interp", "compiled"}, {"compiled", "compiled"}} {
			dir := ckptData(t)
			ck := filepath.Join(t.TempDir(), "ck")
			code, out, stderr := runCLI(t, "run", "--tier", tiers[0], "--dir", dir+"::.", "--checkpoint-to", ck,
				"--checkpoint-on", "pause:"+strconv.Itoa(n), ckptProg, "in.txt", "out.txt")
			if code != exitOK {
				t.Fatalf("N=%d %v: run: exit %d: %s", n, tiers, code, stderr)
			}
			code, more, stderr := runCLI(t, "restore", "--tier", tiers[1], ck)
			if code != exitOK {
				t.Fatalf("N=%d %v: restore: exit %d: %s", n, tiers, code, stderr)
			}
			if out+more != want {
				t.Fatalf("N=%d %v: output differs:\n%s\n--- want\n%s", n, tiers, out+more, want)
			}
		}
	}
	dir := ckptData(t)
	ck := filepath.Join(t.TempDir(), "ck")
	code, out, stderr := runCLI(t, "run", "--tier", "compiled", "--dir", dir+"::.", "--checkpoint-to", ck,
		"--checkpoint-on", "pause:500", "--leave-running", ckptProg, "in.txt", "out.txt")
	if code != exitOK || out != want {
		t.Fatalf("--leave-running: exit %d, output %q: %s", code, out, stderr)
	}
	if _, err := os.Stat(ck); err != nil {
		t.Fatal(err)
	}
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// loopWat runs a loop of $n iterations from _start.
const loopWat = `(module
  (func (export "_start")
    (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const %d))))))`

var pollsLine = regexp.MustCompile(`the run polled (\d+) pause points`)

// countPauses runs a module with --count-pauses (and more flags) and
// returns the count it reported.
func countPauses(t *testing.T, wat string, flags ...string) int64 {
	t.Helper()
	code, _, stderr := runCLI(t, append(append([]string{"run", "--count-pauses"}, flags...), wat)...)
	m := pollsLine.FindStringSubmatch(stderr)
	if code != exitOK || m == nil {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// A user could not learn how many pause points a run has, so as to pick
// --checkpoint-on pause:N: --count-pauses says, and its N is exactly the
// last one that fires.
func TestCountPausesUnknownToUser(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, iters int) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(fmt.Sprintf(loopWat, iters)), 0o644)
		return p
	}
	short, long := write("short.wat", 1000), write("long.wat", 3000)
	n := countPauses(t, short)
	if d := countPauses(t, long) - n; d != 2000 {
		t.Errorf("2000 more iterations polled %d more pause points, want 2000 (one per back-edge)", d)
	}
	ck := filepath.Join(dir, "loop.ckpt")
	code, _, stderr := runCLI(t, "run", "--checkpoint-to", ck, "--checkpoint-on", fmt.Sprintf("pause:%d", n), short)
	if _, err := os.Stat(ck); code != exitOK || err != nil || !strings.Contains(stderr, fmt.Sprintf("at pause point %d", n)) {
		t.Errorf("pause:%d (the count): exit %d, checkpoint %v, stderr:\n%s", n, code, err, stderr)
	}
	os.Remove(ck)
	code, _, stderr = runCLI(t, "run", "--checkpoint-to", ck, "--checkpoint-on", fmt.Sprintf("pause:%d", n+1), short)
	if _, err := os.Stat(ck); code != exitOK || err == nil || !strings.Contains(stderr, "did not fire") {
		t.Errorf("pause:%d (one past the count): exit %d, checkpoint %v, stderr:\n%s", n+1, code, err, stderr)
	}
	// Checkpoints taken on the way, the program running on after each,
	// do not change the count: a resumed leg's first poll is the pause
	// point it continues from.
	legs := countPauses(t, short, "--checkpoint-to", ck, "--leave-running",
		"--checkpoint-on", "pause:10", "--checkpoint-on", "pause:500", "--checkpoint-on", fmt.Sprintf("pause:%d", n-1))
	if legs != n {
		t.Errorf("with three checkpoints on the way: %d pause points, want %d", legs, n)
	}
}

// A call that polls one pause point (its entry) is counted in the
// singular.
func TestCountPausesOne(t *testing.T) {
	p := filepath.Join(t.TempDir(), "none.wat")
	os.WriteFile(p, []byte(`(module (func (export "f") (result i32) (i32.const 7)))`), 0o644)
	code, out, stderr := runCLI(t, "run", "--count-pauses", "--invoke", "f", p)
	if code != exitOK || out != "7\n" || !strings.Contains(stderr, "the run polled 1 pause point: --checkpoint-on pause:1 fires at it") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}

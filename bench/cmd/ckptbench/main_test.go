package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestSmall runs every section on tiny inputs: it checks that the
// checkpoints restore to the right memory contents and that a cold and a
// restored bootapp give the same first response, not any timing. The boot
// section builds ../cmd/ferry with the go command (skipped with -short or
// without go on PATH).
func TestSmall(t *testing.T) {
	sections := "poll,write,restore,boot"
	if _, err := exec.LookPath("go"); err != nil || testing.Short() {
		sections = "poll,write,restore"
	}
	for _, dense := range []bool{false, true} {
		args := []string{"-n", "1", "-poll-n", "1", "-kernels", "fib,simd_dot", "-sizes", "1,3",
			"-records", "2000", "-sections", sections}
		if dense {
			args = append(args, "-dense", "-sections", "write,restore")
		}
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 0 {
			t.Fatalf("ckptbench %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out.String(), errb.String())
		}
		for _, s := range strings.Split(sections, ",") {
			if dense && (s == "poll" || s == "boot") {
				continue
			}
			if !strings.Contains(out.String(), "== "+s+":") {
				t.Errorf("ckptbench %v: no %s section in\n%s", args, s, out.String())
			}
		}
	}
}

// The restore section alone runs (it shares its pass with write) and has
// a column pair for every memory verification setting and the zstd file.
func TestRestoreSectionAlone(t *testing.T) {
	var out, errb bytes.Buffer
	args := []string{"-n", "1", "-sizes", "1", "-sections", "restore"}
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("ckptbench %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out.String(), errb.String())
	}
	for _, want := range []string{"== restore:", "concurrent restore", "before-run restore", "off restore", "zstd restore", "1 MiB"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "== write:") {
		t.Errorf("a write table without -sections write:\n%s", out.String())
	}
}

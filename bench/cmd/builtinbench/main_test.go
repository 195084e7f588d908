package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestRunTiny runs the command with tiny sizes and checks that it prints
// the tables' rows (not what the timings are).
func TestRunTiny(t *testing.T) {
	args := []string{"-benchtime", "100us", "-reps", "1", "-n", "1", "-warmup", "0",
		"-simd", "simd_dot,simd_memchr", "-kernelarg", "1", "-memscale", "4096"}
	_, lookErr := exec.LookPath("wat2wasm")
	if lookErr != nil {
		args = append(args, "-mem", "none")
	}
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s\nstdout:\n%s", code, errb.String(), out.String())
	}
	s := out.String()
	want := []string{
		"memory.fill", "memory.copy", "page.iszero", "crc32c", "(hash/crc32)",
		"i8x16.swizzle", "i32x4.dot_i16x8_s", "f32x4.relaxed_madd",
		"simd_dot", "simd_memchr", "baseline/native",
	}
	if lookErr == nil {
		want = append(want, "mem fill+copy 4 KiB", "mem fill+copy 64 KiB", "mem fill+copy 1 MiB")
	} else {
		t.Logf("wat2wasm not found: memory workload not tested")
	}
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	// Every builtin's table has a portable row and a selected ("*") row.
	for _, name := range []string{"memory.fill", "page.iszero", "crc32c", "i8x16.popcnt"} {
		var portable, selected bool
		for _, line := range strings.Split(s, "\n") {
			f := strings.Fields(line)
			if len(f) < 2 || f[0] != name {
				continue
			}
			portable = portable || f[1] == "portable"
			selected = selected || strings.Contains(line, " *")
		}
		if !portable || !selected {
			t.Errorf("%s: portable row %v, selected row %v", name, portable, selected)
		}
	}
	if t.Failed() {
		t.Logf("stdout:\n%s", s)
	}
}

func TestBadFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-n", "0"}, &out, &errb); code != 2 {
		t.Errorf("-n 0: exit %d, want 2", code)
	}
}

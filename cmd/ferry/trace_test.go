package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A default clang -O2 build has no name section, and its trap trace was
// one frame "<unnamed> (func 7)" although function 7 is exported as
// _start: a function without a name is now called by its export name.
func TestTrapTraceUnnamedExport(t *testing.T) {
	dir := t.TempDir()
	// main is inlined into _start at -O2, so the trap is in _start.
	_, wasm := clangWasm(t, dir, "trap", "int main(int argc, char **argv) { if (argc < 5) __builtin_trap(); return 0; }\n", "-O2")
	code, _, stderr := runCLI(t, "run", wasm)
	if code != exitTrap || !strings.Contains(stderr, "\n  0: _start (func ") || strings.Contains(stderr, "<unnamed>") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit %d and frame 0 named _start", code, stderr, exitTrap)
	}
}

// The same without clang: a text module assembled without its names,
// whose trapping function is exported twice (the first export names it)
// and called from an unexported one, which stays unnamed.
func TestTrapTraceUnnamedExportWat(t *testing.T) {
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Fatal("wat2wasm not found on PATH: install wabt (Debian package wabt) to run these tests")
	}
	dir := t.TempDir()
	src, wasm := filepath.Join(dir, "m.wat"), filepath.Join(dir, "m.wasm")
	os.WriteFile(src, []byte(`(module
  (func $inner (export "boom") (export "other") unreachable)
  (func $outer call $inner)
  (func (export "_start") call $outer))`), 0o644)
	if out, err := exec.Command(tool, src, "-o", wasm).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, out)
	}
	code, _, stderr := runCLI(t, "run", wasm)
	want := "  0: boom (func 0) @"
	if code != exitTrap || !strings.Contains(stderr, want) || !strings.Contains(stderr, "  1: <unnamed> (func 1)") ||
		!strings.Contains(stderr, "  2: _start (func 2)") {
		t.Errorf("exit %d, stderr:\n%s\nwant frames boom, <unnamed>, _start", code, stderr)
	}
}

// The DWARF of a clang -g build was not used: a trap's trace named
// functions but no source lines.
func TestTrapTraceWithoutDWARFLines(t *testing.T) {
	dir := t.TempDir()
	src, wasm := clangWasm(t, dir, "divide", `#include <stdio.h>
int divide(int a, int b) {
  if (b == 0) __builtin_trap();
  return a / b;
}
int main(int argc, char **argv) {
  printf("%d\n", divide(10, argc - 1));
  return 0;
}
`, "-g", "-O0")
	code, _, stderr := runCLI(t, "run", wasm)
	for _, want := range []string{"  0: divide (func ", " at " + src + ":3\n", "  1: main (func ", " at " + src + ":7\n"} {
		if code != exitTrap || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, stderr)
		}
	}
}

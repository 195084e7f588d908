package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// "ferry run add.wat" said "magic header not detected": the text format
// is accepted wherever a module is (run, restore --module), assembled by
// Ferry's own reader (internal/wat): no wabt on PATH is needed.
func TestWatInputMagicHeader(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", t.TempDir())
	add := filepath.Join(dir, "add.wat")
	os.WriteFile(add, []byte(arithWat), 0o644)
	code, out, stderr := runCLI(t, "run", "--invoke", "add", add, "40", "2")
	if code != exitOK || out != "42\n" {
		t.Errorf("run --invoke add add.wat 40 2: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	// Text without the .wat suffix is recognised by its first character.
	noExt := filepath.Join(dir, "module")
	os.WriteFile(noExt, []byte(";; a comment\n"+arithWat), 0o644)
	if code, out, stderr := runCLI(t, "run", "--invoke", "add", noExt, "1", "2"); code != exitOK || out != "3\n" {
		t.Errorf("text module without suffix: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	// Text that does not assemble fails as a malformed binary does, and
	// says where.
	bad := filepath.Join(dir, "bad.wat")
	os.WriteFile(bad, []byte("(module (func"), 0o644)
	code, _, stderr = runCLI(t, "run", bad)
	if code != exitFail || !strings.Contains(stderr, "not a valid text-format module") || !strings.Contains(stderr, "bad.wat:1:14: unexpected end of text") {
		t.Errorf("bad.wat: exit %d, stderr %q", code, stderr)
	}
}

// The text format is accepted for "ferry restore --module" as for run:
// a checkpoint written without its module continues with the .wat.
func TestWatModuleOnRestore(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "loop.wat")
	os.WriteFile(src, []byte(`(module
  (func $count (export "count") (param $n i32) (result i32)
    (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i)))`), 0o644)
	ck := filepath.Join(dir, "loop.ckpt")
	code, _, stderr := runCLI(t, "run", "--checkpoint-to", ck, "--checkpoint-on", "pause:500", "--checkpoint-no-module", "--invoke", "count", src, "1000")
	if code != exitOK {
		t.Fatalf("run: exit %d, stderr:\n%s", code, stderr)
	}
	code, out, stderr := runCLI(t, "restore", "--module", src, ck)
	if code != exitOK || out != "1000\n" {
		t.Errorf("restore --module loop.wat: exit %d, stdout %q, stderr:\n%s", code, out, stderr)
	}
}

// A real program in the text format: a C program built with clang and
// printed as text by wabt's wasm2wat (flat instructions, every section)
// runs from its .wat exactly as from its .wasm. A differential test of the
// text reader on a compiler's output, not on hand-written modules.
func TestWatRealProgramRoundTrip(t *testing.T) {
	wasm2wat, err := exec.LookPath("wasm2wat")
	if err != nil {
		t.Fatal("wasm2wat not found on PATH: install wabt (Debian package wabt) to run this test")
	}
	dir := t.TempDir()
	_, wasm := clangWasm(t, dir, "sort", `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
static int cmp(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }
int main(int argc, char **argv) {
  qsort(argv + 1, argc - 1, sizeof *argv, cmp);
  for (int i = 1; i < argc; i++) printf("%s%c", argv[i], i + 1 < argc ? ' ' : '\n');
  double x = 0;
  for (int i = 1; i <= 1000; i++) x += sqrt((double)i) / i;
  printf("%.6f %lld\n", x, (long long)x * 1234567890123LL);
  return argc;
}
`, "-O2")
	wat := filepath.Join(dir, "sort.wat")
	if out, err := exec.Command(wasm2wat, wasm, "-o", wat).CombinedOutput(); err != nil {
		t.Fatalf("wasm2wat: %v\n%s", err, out)
	}
	args := []string{"pear", "apple", "fig"}
	wantCode, want, wantErr := runCLI(t, append([]string{"run", "--argv0", "sort", wasm}, args...)...)
	code, got, stderr := runCLI(t, append([]string{"run", "--argv0", "sort", wat}, args...)...)
	if code != wantCode || got != want || wantCode != 4 || !strings.HasPrefix(want, "apple fig pear\n") {
		t.Errorf("from .wat: exit %d, stdout %q, stderr %q\nfrom .wasm: exit %d, stdout %q, stderr %q", code, got, stderr, wantCode, want, wantErr)
	}
}

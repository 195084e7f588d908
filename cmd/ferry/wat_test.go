package main

import (
	"os"
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

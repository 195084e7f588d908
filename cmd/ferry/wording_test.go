package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// "ferry restore missing.ckpt" exited 1 where "ferry run missing.wasm"
// exits 2: an input that cannot be read is a usage error for every command.
func TestRestoreMissingCheckpointExit1(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.ckpt")
	for _, cmd := range []string{"run", "restore", "inspect"} {
		code, _, stderr := runCLI(t, cmd, missing)
		if code != exitUsage || !strings.Contains(stderr, "no such file or directory") {
			t.Errorf("ferry %s MISSING: exit %d, stderr %q; want %d", cmd, code, stderr, exitUsage)
		}
	}
	// A file that is there but no checkpoint stays a failure.
	if code, _, stderr := runCLI(t, "restore", ckptProg); code != exitFail {
		t.Errorf("ferry restore FILE.wasm: exit %d, stderr %q; want %d", code, stderr, exitFail)
	}
}

// "ferry wast my.wast" summed up as "my.json", the temporary file it
// converted the script into.
func TestWastSummaryNamesTempJSON(t *testing.T) {
	path := writeWast(t, "my.wast", passingWast)
	_, stdout, _ := runCLI(t, "wast", path)
	if !strings.HasPrefix(stdout, "my.wast: ") || strings.Contains(stdout, "my.json") {
		t.Errorf("stdout %q; want the summary named my.wast", stdout)
	}
}

// Link errors came worded two ways: "link error: unknown import env.f
// (func)" from ferry run's own check, "link error: import "M" "N": unknown
// import" from the runtime's; and arguments were "not a i32".
func TestLinkErrorWordedTwoWays(t *testing.T) {
	for _, c := range []struct{ wat, want string }{
		{`(module (import "env" "f" (func)) (func (export "_start")))`,
			`link error: import "env" "f": unknown import: ferry run provides only wasi_snapshot_preview1`},
		{`(module (import "wasi_snapshot_preview1" "nope" (func)) (func (export "_start")))`,
			`link error: import "wasi_snapshot_preview1" "nope": unknown import`},
	} {
		code, _, stderr := runCLI(t, "run", wat2wasm(t, c.wat))
		if code != exitFail || !strings.Contains(stderr, c.want) {
			t.Errorf("exit %d, stderr %q; want %q", code, stderr, c.want)
		}
	}
	wasm := wat2wasm(t, `(module (func (export "f") (param i32 f32)))`)
	_, _, stderr := runCLI(t, "run", "--invoke", "f", wasm, "x", "1")
	if !strings.Contains(stderr, `"x" is not an i32`) {
		t.Errorf("stderr %q; want \"x\" is not an i32", stderr)
	}
	_, _, stderr = runCLI(t, "run", "--invoke", "f", wasm, "1", "y")
	if !strings.Contains(stderr, `"y" is not an f32`) {
		t.Errorf("stderr %q; want \"y\" is not an f32", stderr)
	}
}

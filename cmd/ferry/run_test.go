package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/api"
)

const arithWat = `(module
  (func $add (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "neg64") (param i64) (result i64)
    (i64.sub (i64.const 0) (local.get 0)))
  (func (export "half") (param f64) (result f64)
    (f64.mul (local.get 0) (f64.const 0.5)))
  (func (export "pair") (param f32) (result i32 f32)
    (i32.const -7) (local.get 0))
  (func (export "nothing"))
  (func $divide (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func $outer (export "div") (param i32 i32) (result i32)
    (call $divide (local.get 0) (local.get 1)))
)`

func TestRunUsageErrors(t *testing.T) {
	wasm := wat2wasm(t, arithWat)
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"unknown flag", []string{"run", "--bogus", wasm}, "unknown flag --bogus"},
		{"flag without value", []string{"run", "--invoke"}, "flag needs a value: --invoke"},
		{"no file", []string{"run"}, "missing FILE.wasm"},
		{"bad dir", []string{"run", "--dir", filepath.Join(t.TempDir(), "nowhere"), wasm}, "no such file"},
		{"dir is a file", []string{"run", "--dir", wasm + "::/", wasm}, "is not a directory"},
		{"empty guest dir", []string{"run", "--dir", ".::", wasm}, "want HOST or HOST::GUEST"},
		{"empty env name", []string{"run", "--env", "=x", wasm}, "want NAME=VAL or NAME"},
		{"bad listen address", []string{"run", "--tcplisten", "8080", wasm}, "--tcplisten"},
		{"too few args", []string{"run", "--invoke", "add", wasm, "1"}, "add takes 2 arguments (i32 i32), got 1"},
		{"not an integer", []string{"run", "--invoke", "add", wasm, "1", "x"}, `argument 2 of add: "x" is not an i32`},
		{"i32 out of range", []string{"run", "--invoke", "add", wasm, "1", "4294967296"}, "is not an i32"},
		{"not a float", []string{"run", "--invoke", "half", wasm, "1.5.2"}, "is not an f64"},
		{"unreadable file", []string{"run", filepath.Join(t.TempDir(), "missing.wasm")}, "no such file"},
		{"bad depth", []string{"run", "--max-call-depth", "0", wasm}, "--max-call-depth must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout not empty: %q", stdout)
			}
		})
	}
	// Usage errors about flags and arguments say where the usage is.
	if _, _, stderr := runCLI(t, "run", "--bogus"); !strings.Contains(stderr, "see 'ferry help run'") {
		t.Errorf("flag error without a pointer to the usage:\n%s", stderr)
	}
}

func TestRunInvoke(t *testing.T) {
	wasm := wat2wasm(t, arithWat)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"add", "2", "3"}, "5\n"},
		{[]string{"add", "4294967295", "0"}, "-1\n"},           // unsigned in, signed out
		{[]string{"add", "-2147483648", "-1"}, "2147483647\n"}, // wraps
		{[]string{"neg64", "9223372036854775807"}, "-9223372036854775807\n"},
		{[]string{"half", "3"}, "1.5\n"},
		{[]string{"half", "0.1"}, "0.05\n"},
		{[]string{"half", "inf"}, "inf\n"},
		{[]string{"half", "-inf"}, "-inf\n"},
		{[]string{"half", "nan"}, "nan\n"},
		{[]string{"pair", "2.5"}, "-7\n2.5\n"},
		{[]string{"nothing"}, ""},
	}
	for _, tt := range tests {
		args := append([]string{"run", "--invoke", tt.args[0], wasm}, tt.args[1:]...)
		code, stdout, stderr := runCLI(t, args...)
		if code != exitOK || stdout != tt.want {
			t.Errorf("ferry %s: exit %d, stdout %q, want 0 and %q; stderr:\n%s", strings.Join(tt.args, " "), code, stdout, tt.want, stderr)
		}
	}
}

func TestRunTrap(t *testing.T) {
	wasm := wat2wasm(t, arithWat)
	code, stdout, stderr := runCLI(t, "run", "--invoke", "div", wasm, "1", "0")
	if code != exitTrap {
		t.Errorf("exit %d, want %d", code, exitTrap)
	}
	if stdout != "" {
		t.Errorf("stdout not empty: %q", stdout)
	}
	// The message, then the WebAssembly stack innermost first, with names.
	for _, want := range []string{"integer divide by zero", "wasm stack", "divide", "outer"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if i, j := strings.Index(stderr, "divide"), strings.Index(stderr, "outer"); i > j {
		t.Errorf("stack trace is not innermost first:\n%s", stderr)
	}
	// The same function without a trap.
	if code, stdout, _ := runCLI(t, "run", "--invoke", "div", wasm, "7", "2"); code != exitOK || stdout != "3\n" {
		t.Errorf("div 7 2: exit %d, %q", code, stdout)
	}
}

func TestRunStart(t *testing.T) {
	withStart := wat2wasm(t, `(module
  (global $g (mut i32) (i32.const 0))
  (func (export "_start") (global.set $g (i32.const 1))))`)
	if code, stdout, stderr := runCLI(t, "run", withStart); code != exitOK || stdout != "" {
		t.Errorf("_start: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	trapping := wat2wasm(t, `(module (func $boom (export "_start") unreachable))`)
	code, _, stderr := runCLI(t, "run", trapping)
	if code != exitTrap || !strings.Contains(stderr, "unreachable") || !strings.Contains(stderr, "boom") {
		t.Errorf("trapping _start: exit %d, stderr:\n%s", code, stderr)
	}
	// A trap in the start section happens while instantiating.
	startSection := wat2wasm(t, `(module
  (memory 1)
  (func $init (i32.store (i32.const 65536) (i32.const 1)))
  (start $init)
  (func (export "_start")))`)
	code, _, stderr = runCLI(t, "run", startSection)
	if code != exitTrap || !strings.Contains(stderr, "out of bounds memory access") || !strings.Contains(stderr, "init") {
		t.Errorf("trapping start section: exit %d, stderr:\n%s", code, stderr)
	}
	noStart := wat2wasm(t, arithWat)
	code, _, stderr = runCLI(t, "run", noStart)
	if code != exitFail || !strings.Contains(stderr, `no exported function "_start"`) || !strings.Contains(stderr, `"add"`) {
		t.Errorf("no _start: exit %d, stderr:\n%s", code, stderr)
	}
	code, _, stderr = runCLI(t, "run", "--invoke", "missing", noStart)
	if code != exitFail || !strings.Contains(stderr, `no exported function "missing"`) {
		t.Errorf("--invoke missing: exit %d, stderr:\n%s", code, stderr)
	}
}

func TestRunForeignImportsFailToLink(t *testing.T) {
	wasm := wat2wasm(t, `(module
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
  (import "env" "log" (func (param i32)))
  (func (export "_start")))`)
	code, _, stderr := runCLI(t, "run", wasm)
	if code != exitFail {
		t.Errorf("exit %d, want %d", code, exitFail)
	}
	if !strings.Contains(stderr, "link error") || !strings.Contains(stderr, `import "env" "log": unknown import`) || strings.Contains(stderr, "proc_exit") {
		t.Errorf("stderr does not name exactly the foreign import:\n%s", stderr)
	}
}

func TestRunMalformed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.wasm")
	if err := os.WriteFile(path, []byte("\x00asm\x02\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "run", path)
	if code != exitFail || !strings.Contains(stderr, "bad.wasm") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

func TestParseArgFloats(t *testing.T) {
	tests := []struct {
		typ  byte
		in   string
		want uint64
	}{
		{0x7D, "nan", 0x7fc00000},
		{0x7D, "-nan", 0xffc00000},
		{0x7D, "-0", 0x80000000},
		{0x7D, "1.5", 0x3fc00000},
		{0x7C, "NaN", 0x7ff8000000000000},
		{0x7C, "inf", 0x7ff0000000000000},
		{0x7C, "-Inf", 0xfff0000000000000},
		{0x7F, "-1", 0xffffffff},
		{0x7E, "-1", 0xffffffffffffffff},
	}
	for _, tt := range tests {
		got, err := parseArg(tt.typ, tt.in)
		if err != nil || len(got) != 1 || got[0] != tt.want {
			t.Errorf("parseArg(%s, %q) = %#x, %v; want %#x", api.ValueTypeName(tt.typ), tt.in, got, err, tt.want)
		}
	}
	v, err := parseArg(0x7B, "0x000102030405060708090a0b0c0d0e0f")
	if err != nil || len(v) != 2 || v[0] != 0x08090a0b0c0d0e0f || v[1] != 0x0001020304050607 {
		t.Errorf("v128: %#x, %v", v, err)
	}
	if got := formatResult(0x7B, v); got != "0x000102030405060708090a0b0c0d0e0f" {
		t.Errorf("v128 formats as %s", got)
	}
}

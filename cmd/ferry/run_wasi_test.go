package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// echoWat is a WASI command that writes its arguments, its environment,
// the names of its pre-opened directories and its standard input to
// standard output, one item a line, and exits with its argument count.
const echoWat = `(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $env_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $env_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $prestat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $prestat_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  ;; $lines writes len bytes at buf to stdout, NULs turned into newlines.
  (func $lines (param $buf i32) (param $len i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (if (i32.eqz (i32.load8_u (i32.add (local.get $buf) (local.get $i))))
          (then (i32.store8 (i32.add (local.get $buf) (local.get $i)) (i32.const 10))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.store (i32.const 0) (local.get $buf))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $start (export "_start")
    (local $fd i32)
    (drop (call $args_sizes (i32.const 16) (i32.const 20)))
    (drop (call $args_get (i32.const 100) (i32.const 4096)))
    (call $lines (i32.const 4096) (i32.load (i32.const 20)))
    (drop (call $env_sizes (i32.const 24) (i32.const 28)))
    (drop (call $env_get (i32.const 100) (i32.const 8192)))
    (call $lines (i32.const 8192) (i32.load (i32.const 28)))
    (local.set $fd (i32.const 3))
    (block $done
      (loop $next
        (br_if $done (call $prestat (local.get $fd) (i32.const 32)))
        (drop (call $prestat_name (local.get $fd) (i32.const 12288) (i32.load (i32.const 36))))
        (i32.store8 (i32.add (i32.const 12288) (i32.load (i32.const 36))) (i32.const 0))
        (call $lines (i32.const 12288) (i32.add (i32.load (i32.const 36)) (i32.const 1)))
        (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
        (br $next)))
    (i32.store (i32.const 0) (i32.const 16384))
    (i32.store (i32.const 4) (i32.const 256))
    (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $lines (i32.const 16384) (i32.load (i32.const 8)))
    (call $exit (i32.load (i32.const 16))))
  ;; exit calls proc_exit with its argument.
  (func (export "exit") (param i32) (call $exit (local.get 0)))
  ;; trap traps inside a WASI module.
  (func $boom (export "trap") unreachable))`

func runCLIStdin(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runStdio(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunWASI(t *testing.T) {
	wasm := wat2wasm(t, echoWat)
	a, b := t.TempDir(), t.TempDir()
	t.Setenv("FERRY_TEST_INHERITED", "from the host")
	t.Setenv("FERRY_TEST_NOT_PASSED", "secret")
	code, stdout, stderr := runCLIStdin(t, "typed input",
		"run", "--env", "A=1", "--env", "FERRY_TEST_INHERITED", "--env", "FERRY_TEST_UNSET_XYZ",
		"--env=B=x=y", "--dir", a+"::/data", "--dir="+b, "--",
		wasm, "one", "--dir", "-x", "")
	want := strings.Join([]string{
		wasm, "one", "--dir", "-x", "", // argv: the file as given, then ARGS untouched
		"A=1", "FERRY_TEST_INHERITED=from the host", "B=x=y", // only what the flags grant
		"/data", b, // pre-opens in flag order; HOST alone is its own guest path
		"typed input",
	}, "\n")
	if code != 5 || stdout != want {
		t.Errorf("exit %d, stdout:\n%s\nwant exit 5, stdout:\n%s\nstderr: %s", code, stdout, want, stderr)
	}
	if strings.Contains(stdout, "secret") {
		t.Errorf("the host environment leaked into the guest")
	}
}

func TestRunWASIExitCodes(t *testing.T) {
	wasm := wat2wasm(t, echoWat)
	for _, n := range []int{0, 3, 134, 255} {
		code, stdout, stderr := runCLI(t, "run", "--invoke", "exit", wasm, strconv.Itoa(n))
		if code != n || stdout != "" || stderr != "" {
			t.Errorf("proc_exit(%d): exit %d, stdout %q, stderr %q", n, code, stdout, stderr)
		}
	}
	code, _, stderr := runCLI(t, "run", "--invoke", "exit", wasm, "256")
	if code != exitFail || !strings.Contains(stderr, "proc_exit(256)") {
		t.Errorf("proc_exit(256): exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "run", "--invoke", "trap", wasm)
	if code != exitTrap || !strings.Contains(stderr, "unreachable") || !strings.Contains(stderr, "boom") {
		t.Errorf("trap: exit %d, stderr %q", code, stderr)
	}
}

// A module that imports nothing ignores the WASI arguments, as under
// wasmtime.
func TestRunStartIgnoresArgs(t *testing.T) {
	wasm := wat2wasm(t, `(module (func (export "_start")))`)
	if code, stdout, stderr := runCLI(t, "run", "--dir", t.TempDir(), wasm, "a", "b"); code != exitOK || stdout != "" || stderr != "" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestRunHelpDocumentsFlags(t *testing.T) {
	_, stdout, _ := runCLI(t, "help", "run")
	for _, want := range []string{"--dir HOST[::GUEST]", "--env NAME=VAL", "--env NAME", "--tcplisten ADDR", "--invoke NAME", "--max-call-depth", "proc_exit", "134", "130", "\n  2 ", "\n  1 ", "\"--\""} {
		if !strings.Contains(stdout, want) {
			t.Errorf("ferry help run lacks %q", want)
		}
	}
}

func TestRunTCPListen(t *testing.T) {
	wasm := wat2wasm(t, echoWat)
	// The listener is pre-opened after the directories; the guest above
	// stops at the first descriptor that is not a directory, so only its
	// successful creation is visible here.
	code, _, stderr := runCLIStdin(t, "", "run", "--tcplisten", "127.0.0.1:0", wasm)
	if code != 1 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "run", "--tcplisten", "256.0.0.1:1", wasm)
	if code != exitFail || !strings.Contains(stderr, "listen") {
		t.Errorf("bad listen address: exit %d, stderr %q", code, stderr)
	}
}

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command line and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// wat2wasm assembles a text module (with its names, for stack traces) into a
// .wasm file in a temporary directory; flags go to wat2wasm too, e.g.
// "--enable-relaxed-simd".
func wat2wasm(t *testing.T, wat string, flags ...string) string {
	t.Helper()
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Fatal("wat2wasm not found on PATH: install wabt (Debian package wabt) to run these tests")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "m.wat")
	if err := os.WriteFile(src, []byte(wat), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "m.wasm")
	args := append(append([]string{"--debug-names"}, flags...), src, "-o", out)
	if msg, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm %v: %v\n%s", flags, err, msg)
	}
	return out
}

// clangWasm writes the C source code to dir/name.c and builds it with
// clang for wasm32-wasi and flags into dir/name.wasm; it returns both
// paths, and skips the test where clang is missing.
func clangWasm(t *testing.T, dir, name, code string, flags ...string) (src, wasm string) {
	t.Helper()
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("clang not found: install clang lld wasi-libc libclang-rt-14-dev-wasm32 (scripts/deps.sh)")
	}
	src, wasm = filepath.Join(dir, name+".c"), filepath.Join(dir, name+".wasm")
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{"--target=wasm32-wasi"}, flags...), "-o", wasm, src)
	if out, err := exec.Command(clang, args...).CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, out)
	}
	return src, wasm
}

func TestUsage(t *testing.T) {
	code, _, stderr := runCLI(t)
	if code != exitUsage || !strings.Contains(stderr, "Usage: ferry COMMAND") {
		t.Errorf("no arguments: exit %d, stderr %q; want %d and the usage", code, stderr, exitUsage)
	}
	code, _, stderr = runCLI(t, "frobnicate")
	if code != exitUsage || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, stderr %q", code, stderr)
	}
	code, stdout, _ := runCLI(t, "help")
	if code != exitOK {
		t.Errorf("help: exit %d", code)
	}
	for _, want := range []string{"Running programs:", "Testing:", "Information:", "  run ", "  wast ", "  version "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("help output lacks %q:\n%s", want, stdout)
		}
	}
	// The groups come in their order, each command under its own.
	if strings.Index(stdout, "Running programs:") > strings.Index(stdout, "  run ") ||
		strings.Index(stdout, "Testing:") > strings.Index(stdout, "  wast ") ||
		strings.Index(stdout, "  run ") > strings.Index(stdout, "Testing:") {
		t.Errorf("help output is not grouped:\n%s", stdout)
	}
	for _, cmd := range []string{"run", "wast", "version"} {
		code, stdout, _ := runCLI(t, "help", cmd)
		if code != exitOK || !strings.HasPrefix(stdout, "usage: ferry "+cmd) {
			t.Errorf("help %s: exit %d, stdout %q", cmd, code, stdout)
		}
		code, stdout, _ = runCLI(t, cmd, "--help")
		if code != exitOK || !strings.HasPrefix(stdout, "usage: ferry "+cmd) {
			t.Errorf("%s --help: exit %d, stdout %q", cmd, code, stdout)
		}
	}
	if _, stdout, _ := runCLI(t, "help", "run"); !strings.Contains(stdout, "134") {
		t.Errorf("ferry help run does not document the trap exit code:\n%s", stdout)
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := runCLI(t, "version")
	if code != exitOK || !strings.HasPrefix(stdout, "ferry ") || !strings.Contains(stdout, "go1.") {
		t.Errorf("version: exit %d, %q", code, stdout)
	}
	if code, _, _ := runCLI(t, "version", "extra"); code != exitUsage {
		t.Errorf("version extra: exit %d, want %d", code, exitUsage)
	}
}

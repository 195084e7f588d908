package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/spectest"
)

// writeWast writes a script into a temporary directory.
func writeWast(t *testing.T, name, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const passingWast = `(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1))))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
(assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")
(assert_malformed (module quote "(func") "unexpected end")
`

func TestWastPasses(t *testing.T) {
	path := writeWast(t, "ok.wast", passingWast)
	code, stdout, stderr := runCLI(t, "wast", path)
	if code != exitOK {
		t.Errorf("exit %d, want 0; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	want := "ok.wast: 4 passed, 0 failed, 0 skipped\n4 passed, 0 failed, 0 skipped\n"
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
}

func TestWastFailures(t *testing.T) {
	bad := writeWast(t, "bad.wast", `(module (func (export "one") (result i32) (i32.const 1)))
(assert_return (invoke "one") (i32.const 2))
(assert_return (invoke "one") (i32.const 1))
`)
	good := writeWast(t, "ok.wast", passingWast)
	code, stdout, _ := runCLI(t, "wast", bad, good)
	if code != exitFail {
		t.Errorf("exit %d, want %d", code, exitFail)
	}
	for _, want := range []string{
		`bad.wast:2: assert_return invoke "one"(): expected [i32:2], got [i32:1]` + "\n",
		"bad.wast: 2 passed, 1 failed, 0 skipped\n",
		"ok.wast: 4 passed, 0 failed, 0 skipped\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.HasSuffix(stdout, "\n6 passed, 1 failed, 0 skipped\n") {
		t.Errorf("stdout does not end with the total:\n%s", stdout)
	}
}

func TestWastUsageErrors(t *testing.T) {
	if code, _, stderr := runCLI(t, "wast"); code != exitUsage || !strings.Contains(stderr, "no FILE given") {
		t.Errorf("no files: exit %d, stderr:\n%s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "wast", "--timeout", "soon", "x.json"); code != exitUsage || !strings.Contains(stderr, "see 'ferry help wast'") {
		t.Errorf("bad flag: exit %d, stderr:\n%s", code, stderr)
	}
	missing := filepath.Join(t.TempDir(), "missing.json")
	if code, _, stderr := runCLI(t, "wast", missing); code != exitUsage || !strings.Contains(stderr, "missing.json") {
		t.Errorf("missing file: exit %d, stderr:\n%s", code, stderr)
	}
	// A script that does not read is a bad FILE, reported with its line
	// and column; a module in it that does not assemble fails its command.
	broken := writeWast(t, "broken.wast", "(module (func)\n")
	if code, _, stderr := runCLI(t, "wast", broken); code != exitUsage || !strings.Contains(stderr, "broken.wast:2:1: unexpected end of text") {
		t.Errorf("unreadable script: exit %d, stderr:\n%s", code, stderr)
	}
	badModule := writeWast(t, "badmod.wast", "(module (func (i32.bogus)))\n")
	if code, stdout, _ := runCLI(t, "wast", badModule); code != exitFail || !strings.Contains(stdout, "badmod.wast:1: module: compile: malformed module: text format: 1:16: unknown operator i32.bogus") {
		t.Errorf("malformed module: exit %d, stdout:\n%s", code, stdout)
	}
}

// "ferry wast my.wast" needed wabt's wast2json on PATH; the script is now
// read by Ferry itself.
func TestWastWithoutWast2json(t *testing.T) {
	path := writeWast(t, "ok.wast", passingWast)
	t.Setenv("PATH", t.TempDir())
	if code, stdout, stderr := runCLI(t, "wast", path); code != exitOK || !strings.Contains(stdout, "ok.wast: 4 passed, 0 failed, 0 skipped") {
		t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// TestSpecSuite runs every script of the official spec suite through
// "ferry wast", read by Ferry's own text-format reader, and requires every
// command to pass, the text-format assert_malformed and assert_invalid
// modules included (none is skipped). Each script's summary is logged
// (go test -v) for the counts.
func TestSpecSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("the spec suite takes a while; not in -short mode")
	}
	testSpecScripts(t, spectest.WastFiles(t), func(_ testing.TB, path string) string { return path })
}

// TestSpecSuiteWast2json runs the suite as wabt's wast2json converts it:
// a cross-check of the own reader on the modules wabt encodes (text
// modules, which wast2json leaves as .wat files, are read by internal/wat
// in both).
func TestSpecSuiteWast2json(t *testing.T) {
	if testing.Short() {
		t.Skip("the spec suite takes a while; not in -short mode")
	}
	testSpecScripts(t, spectest.WastFiles(t), spectest.Convert)
}

func testSpecScripts(t *testing.T, scripts []string, input func(testing.TB, string) string) {
	// Two scripts at a time: the machine is shared.
	sem := make(chan struct{}, 2)
	for _, path := range scripts {
		name := strings.TrimSuffix(filepath.Base(path), ".wast")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := input(t, path)
			sem <- struct{}{}
			defer func() { <-sem }()
			// The per-command limit only guards against hangs; on a loaded
			// machine the deepest recursion tests need more than the default.
			code, stdout, stderr := runCLI(t, "wast", "--timeout", "60s", in)
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if len(lines) >= 2 {
				t.Log(lines[len(lines)-2]) // the script's summary line
			}
			if code != exitOK || !strings.HasSuffix(stdout, " 0 failed, 0 skipped\n") {
				t.Errorf("ferry wast %s: exit %d\n%s%s", in, code, firstLines(stdout, 40), stderr)
			}
		})
	}
}

// firstLines keeps a failing script's report readable.
func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) <= n+2 {
		return s
	}
	// The last two lines are the file's summary and the total.
	tail := lines[len(lines)-3:]
	return strings.Join(lines[:n], "") + fmt.Sprintf("... %d more lines ...\n", len(lines)-n-3) + strings.Join(tail, "")
}

// TestSpecSuiteCompiled runs the whole spec suite with --tier=compiled:
// every function the compiler supports is compiled when its module is,
// and every command must pass as in the interpreter. The log gives the
// number of functions compiled and left to the interpreter.
func TestSpecSuiteCompiled(t *testing.T) {
	testSpecSuiteTier(t, "compiled")
}

// TestSpecSuiteDeoptStress is TestSpecSuiteCompiled with compiled frames
// forced back to the interpreter at random pause points (and re-entering
// compiled code): results must not change.
func TestSpecSuiteDeoptStress(t *testing.T) {
	t.Setenv("FERRY_DEOPT_STRESS", "3")
	testSpecSuiteTier(t, "compiled")
}

func testSpecSuiteTier(t *testing.T, tier string) {
	if testing.Short() {
		t.Skip("the spec suite takes a while; not in -short mode")
	}
	args := []string{"wast", "--timeout", "60s", "--tier", tier}
	for _, path := range spectest.WastFiles(t) {
		args = append(args, spectest.Convert(t, path))
	}
	code, stdout, stderr := runCLI(t, args...)
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) >= 2 {
		t.Log(lines[len(lines)-2]) // the total
		t.Log(lines[len(lines)-1]) // functions compiled and interpreted
	}
	if !strings.Contains(stdout, "functions compiled") {
		t.Errorf("no compiled-function count in the output")
	}
	if code != exitOK {
		t.Errorf("ferry wast --tier %s: exit %d\n%s%s", tier, code, firstLines(stdout, 40), stderr)
	}
}

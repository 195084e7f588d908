package wast

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// convert runs wast2json on a testdata script into a temporary directory.
func convert(t *testing.T, name string) string {
	t.Helper()
	tool, err := exec.LookPath("wast2json")
	if err != nil {
		t.Fatal("wast2json not found on PATH: install wabt (Debian package wabt) to run these tests")
	}
	src, err := filepath.Abs(filepath.Join("testdata", name+".wast"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), name+".json")
	if msg, err := exec.Command(tool, src, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wast2json %s: %v\n%s", src, err, msg)
	}
	return out
}

// inputs are a testdata script's two forms: the .wast read directly (the
// default) and wast2json's .json, kept as a cross-check of the reader.
func inputs(t *testing.T, name string) map[string]string {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("testdata", name+".wast"))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"wast": src, "json": convert(t, name)}
}

func TestRunEveryCommandKind(t *testing.T) {
	for form, path := range inputs(t, "commands") {
		t.Run(form, func(t *testing.T) {
			var out bytes.Buffer
			res, err := Run(context.Background(), path, &out)
			if err != nil {
				t.Fatal(err)
			}
			// The text module (module quote) is read by internal/wat in
			// both forms: nothing is skipped any more.
			if want := (Result{Passed: 40}); res != want {
				t.Errorf("got %+v, want %+v; output:\n%s", res, want, out.String())
			}
			if got, want := out.String(), "commands."+form+": 40 passed, 0 failed, 0 skipped\n"; got != want {
				t.Errorf("output:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestRunReportsFailures(t *testing.T) {
	for form, path := range inputs(t, "failures") {
		t.Run(form, func(t *testing.T) { testRunReportsFailures(t, form, path) })
	}
}

func testRunReportsFailures(t *testing.T, form, path string) {
	var out bytes.Buffer
	start := time.Now()
	res, err := RunWithOptions(context.Background(), path, &out, Options{CommandTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("the endless loop was not cut off by the command timeout: run took %v", elapsed)
	}
	if want := (Result{Passed: 2, Failed: 7}); res != want {
		t.Errorf("got %+v, want %+v", res, want)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	// Each failure line starts with the script and line and names the
	// command (and, from wast2json's output, the module file); the rest
	// is checked for the essential parts.
	file := func(name string) string {
		if form == "json" {
			return " " + name
		}
		return ""
	}
	want := []struct{ prefix, contains string }{
		{`failures.wast:9: assert_return invoke "add"(i32:1, i32:1): `, "expected [i32:3], got [i32:2]"},
		{`failures.wast:10: assert_return invoke "nan"(): `, "expected [f32:nan:canonical], got [f32:NaN(0x7fa00000)]"},
		{`failures.wast:11: assert_trap invoke "div"(i32:1, i32:0): `, `expected trap "integer overflow", got`},
		{`failures.wast:12: assert_trap invoke "div"(i32:1, i32:1): `, `expected trap "integer divide by zero", got no error`},
		{`failures.wast:13: assert_invalid` + file("failures.1.wasm") + `: `, `expected "type mismatch", compiled fine`},
		{`failures.wast:14: assert_unlinkable` + file("failures.2.wasm") + `: `, `expected link error "unknown import", instantiated fine`},
		{`failures.wast:15: assert_return invoke "loop"(): `, "deadline exceeded"},
		{`failures.` + form + `: 2 passed, 7 failed, 0 skipped`, ""},
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w.prefix) || !strings.Contains(lines[i], w.contains) {
			t.Errorf("line %d:\n got %s\nwant %s...%s", i+1, lines[i], w.prefix, w.contains)
		}
	}
	if strings.Contains(lines[2], "\n") || !strings.Contains(lines[2], "integer divide by zero") {
		t.Errorf("a wrong trap should be reported on one line with its kind: %s", lines[2])
	}
}

func TestRunRejectsBadScripts(t *testing.T) {
	dir := t.TempDir()
	if _, err := Run(context.Background(), filepath.Join(dir, "missing.json"), &bytes.Buffer{}); err == nil {
		t.Error("missing file: no error")
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("(module)"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), bad, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "not a wast2json script") {
		t.Errorf("not JSON: got %v", err)
	}
	// A script naming a module file that is not there fails that command.
	odd := filepath.Join(dir, "odd.json")
	script := `{"commands": [
	  {"type": "module", "line": 1, "filename": "gone.wasm"},
	  {"type": "assert_return", "line": 2, "action": {"type": "invoke", "field": "f", "args": []}, "expected": []},
	  {"type": "assert_return", "line": 3, "action": {"type": "invoke", "field": "f", "args": [{"type": "i32", "value": "x"}]}, "expected": []},
	  {"type": "register", "line": 4, "name": "$nope", "as": "x"},
	  {"type": "assert_something", "line": 5}]}`
	if err := os.WriteFile(odd, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := Run(context.Background(), odd, &out)
	if err != nil {
		t.Fatal(err)
	}
	if res != (Result{Failed: 5}) {
		t.Errorf("got %+v, want 5 failed:\n%s", res, out.String())
	}
	for _, want := range []string{
		"odd.json:1: module gone.wasm: compile gone.wasm:",
		`odd.json:2: assert_return invoke "f"(): expected [], got error: no module: the module at line 1 failed`,
		`odd.json:3: assert_return invoke "f"(i32:"x"): `,
		"odd.json:4: register: no module $nope to register",
		`odd.json:5: assert_something: unsupported command type "assert_something"`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	res, err := Run(ctx, filepath.Join("testdata", "commands.wast"), &out)
	if err != context.Canceled {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if res.Passed+res.Failed+res.Skipped != 0 {
		t.Errorf("commands ran after cancellation: %+v", res)
	}
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// runFileprog runs testdata/fileprog.wasm over a fresh directory, with
// extra flags, and returns its stdout and exit code, its stderr and the
// files it left.
func runFileprog(t *testing.T, flags ...string) (string, string, map[string]string) {
	t.Helper()
	dir := forgeSetup(t)
	args := append(append([]string{"run", "--dir", dir + "::."}, flags...), "testdata/fileprog.wasm")
	code, out, stderr := runCLI(t, args...)
	// fileprog exits with a status made of what it read (3 to 7).
	if code < 3 || code > 7 {
		t.Fatalf("run %v: exit %d: %s", flags, code, stderr)
	}
	return fmt.Sprintf("%s\nexit %d", out, code), stderr, snapshotDir(t, dir)
}

// TestCompileIntoCacheRunsAlike: a program run from code the cache holds
// (written by ferry compile) does what it does compiled afresh, and an
// entry damaged in the cache is refused, compiled again and rewritten.
func TestCompileIntoCacheRunsAlike(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "cache")
	if code, out, stderr := runCLI(t, "compile", "--cache-dir", cache, "testdata/fileprog.wasm"); code != exitOK || !strings.Contains(out, "written in") {
		t.Fatalf("compile: exit %d, %q, %s", code, out, stderr)
	}
	entries, _ := filepath.Glob(filepath.Join(cache, "*.fcc"))
	if len(entries) != 1 {
		t.Fatalf("cache holds %v, want one entry", entries)
	}
	if code, out, _ := runCLI(t, "compile", "--cache-dir", cache, "testdata/fileprog.wasm"); code != exitOK || !strings.Contains(out, "already there") {
		t.Fatalf("compile again: exit %d, %q", code, out)
	}
	wantOut, wantErr, wantFiles := runFileprog(t)
	out, stderr, files := runFileprog(t, "--cache-dir", cache)
	if out != wantOut || !reflect.DeepEqual(files, wantFiles) || stderr != wantErr {
		for name := range wantFiles {
			if files[name] != wantFiles[name] {
				t.Errorf("file %s differs: %q, want %q", name, files[name], wantFiles[name])
			}
		}
		t.Fatalf("from the cache: %q (stderr %q), want %q", out, stderr, wantOut)
	}
	good, err := os.ReadFile(entries[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FERRY_CACHE_DIR", cache) // the environment's directory, this time
	// A damaged header is refused when the module is compiled, and said
	// so; a damaged function when it first runs (its digest), silently:
	// either way the program runs as without a cache and the entry is
	// rewritten.
	for _, at := range []struct {
		where string
		i     int
		say   bool
	}{{"header", 60, true}, {"code", len(good) / 2, false}} {
		bad := append([]byte(nil), good...)
		bad[at.i] ^= 1
		if err := os.WriteFile(entries[0], bad, 0o600); err != nil {
			t.Fatal(err)
		}
		out, stderr, files = runFileprog(t)
		if out != wantOut || !reflect.DeepEqual(files, wantFiles) || strings.Contains(stderr, "code cache entry refused") != at.say || !strings.HasSuffix(stderr, wantErr) {
			t.Fatalf("damaged %s: %q %v (stderr %q)", at.where, out, files, stderr)
		}
		if b, _ := os.ReadFile(entries[0]); string(b) != string(good) {
			t.Fatalf("the entry damaged in its %s was not rewritten", at.where)
		}
	}
}

// TestCompileOutputFile: -o writes the entry a cache directory would
// hold, under the name it prints.
func TestCompileOutputFile(t *testing.T) {
	tmp := t.TempDir()
	out := filepath.Join(tmp, "fileprog.fcc")
	code, stdout, stderr := runCLI(t, "compile", "-o", out, "testdata/fileprog.wasm")
	if code != exitOK {
		t.Fatalf("compile -o: exit %d: %s", code, stderr)
	}
	name := strings.TrimSuffix(stdout[strings.LastIndex(stdout, "name it ")+len("name it "):], ")\n")
	cache := filepath.Join(tmp, "cache")
	if code, _, stderr := runCLI(t, "compile", "--cache-dir", cache, "testdata/fileprog.wasm"); code != exitOK {
		t.Fatalf("compile: %s", stderr)
	}
	a, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(cache, name))
	if err != nil || string(a) != string(b) {
		t.Fatalf("-o wrote another entry than the cache holds as %s (%v)", name, err)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, ".ferry-compile-*")); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}

func TestCompileUsageErrors(t *testing.T) {
	t.Setenv("FERRY_CACHE_DIR", "")
	for _, args := range [][]string{{"compile"}, {"compile", "testdata/fileprog.wasm"}, {"compile", "--cache-dir", t.TempDir(), "nonexistent.wasm"}} {
		if code, _, stderr := runCLI(t, args...); code != exitUsage || !strings.Contains(stderr, "ferry") {
			t.Fatalf("%v: exit %d, %s", args, code, stderr)
		}
	}
}

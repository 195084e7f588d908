// Package wasisuite gives tests access to the official WASI preview-1
// conformance suite (WebAssembly/wasi-testsuite): where it lives, its test
// cases with their specifications, and a scratch copy of each case's
// directories to run it in. How a case runs (the wasi package directly, or
// the ferry command) is up to the test.
//
// The rules come from the suite's doc/specification.md: every *.wasm is a
// case; a *.json beside it gives args, env, dirs (relative to the case's
// directory), the expected exit code and stdout (defaults: none, none, none,
// 0, unchecked); *.cleanup files are artifacts of earlier runs.
//
// The document lists "" as stdout's default, but its reference runner
// (test-runner's stdout validator) compares stdout only when the
// specification gives one, and two Rust cases (path_open_preopen,
// poll_oneoff_stdio) print diagnostics without one; we follow the runner.
package wasisuite

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/spectest"
)

// Dir returns the absolute path of the suite's tests directory (the one
// holding c/, rust/, assemblyscript/): $FERRY_WASI_TESTSUITE if set, else
// ../shared/wasi-testsuite next to the repository root. The variable may
// name the suite's root or its tests directory.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("FERRY_WASI_TESTSUITE")
	if dir == "" {
		cwd, err := os.Getwd()
		if err != nil {
			tb.Fatalf("wasi-testsuite: %v", err)
		}
		root := spectest.RepoRoot(cwd)
		if root == "" {
			tb.Fatalf("wasi-testsuite not found: no go.mod of module %s above %s; set FERRY_WASI_TESTSUITE", spectest.ModulePath, cwd)
		}
		dir = filepath.Join(filepath.Dir(root), "shared", "wasi-testsuite")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		tb.Fatalf("wasi-testsuite %q: %v", dir, err)
	}
	if fi, err := os.Stat(filepath.Join(abs, "tests")); err == nil && fi.IsDir() {
		abs = filepath.Join(abs, "tests")
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		tb.Fatalf("wasi-testsuite not found at %s (../shared/wasi-testsuite from the repository root); set FERRY_WASI_TESTSUITE to the suite's directory", abs)
	}
	return abs
}

// Spec is a case's legacy specification, defaults filled in.
type Spec struct {
	Args     []string          `json:"args"`
	Env      map[string]string `json:"env"`
	Dirs     []string          `json:"dirs"`
	ExitCode int               `json:"exit_code"`
	// Stdout and Stderr are nil when the specification does not give them:
	// then they are not compared.
	Stdout *string `json:"stdout"`
	Stderr *string `json:"stderr"`
}

// EnvKeys returns the keys of Env in order, for a reproducible environment.
func (s Spec) EnvKeys() []string {
	keys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Case is one test case.
type Case struct {
	Name string // language/case, e.g. "c/fdopendir-with-access"
	Wasm string // absolute path of the .wasm
	Spec Spec
}

// Cases lists every wasm32-wasip1 case of the suite, sorted by name. It
// fails the test when the suite holds none.
func Cases(tb testing.TB) []Case {
	tb.Helper()
	root := Dir(tb)
	paths, _ := filepath.Glob(filepath.Join(root, "*", "testsuite", "wasm32-wasip1", "*.wasm"))
	if len(paths) == 0 {
		tb.Fatalf("no wasi-testsuite cases under %s", root)
	}
	var cases []Case
	for _, p := range paths {
		lang := filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(p))))
		c := Case{Name: lang + "/" + strings.TrimSuffix(filepath.Base(p), ".wasm"), Wasm: p}
		if js, err := os.ReadFile(strings.TrimSuffix(p, ".wasm") + ".json"); err == nil {
			if err := json.Unmarshal(js, &c.Spec); err != nil {
				tb.Fatalf("%s: specification: %v", c.Name, err)
			}
		}
		cases = append(cases, c)
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].Name < cases[j].Name })
	return cases
}

// Scratch copies the case's directories into a new temporary directory and
// returns it: the case's dirs are then scratch/dir, writable, without the
// *.cleanup artifacts of earlier runs.
func (c Case) Scratch(tb testing.TB) string {
	tb.Helper()
	scratch := tb.TempDir()
	for _, d := range c.Spec.Dirs {
		copyTree(tb, filepath.Join(filepath.Dir(c.Wasm), d), filepath.Join(scratch, d))
	}
	return scratch
}

// Check reports every way the observed run differs from the specification.
func (c Case) Check(tb testing.TB, exitCode int, stdout, stderr string) {
	tb.Helper()
	if exitCode != c.Spec.ExitCode {
		tb.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", exitCode, c.Spec.ExitCode, stdout, stderr)
	}
	if c.Spec.Stdout != nil && stdout != *c.Spec.Stdout {
		tb.Errorf("stdout %q, want %q", stdout, *c.Spec.Stdout)
	}
	if c.Spec.Stderr != nil && stderr != *c.Spec.Stderr {
		tb.Errorf("stderr %q, want %q", stderr, *c.Spec.Stderr)
	}
}

func copyTree(tb testing.TB, src, dst string) {
	tb.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if strings.HasSuffix(d.Name(), ".cleanup") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(out, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, out)
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(out, b, 0o644)
		}
	})
	if err != nil {
		tb.Fatalf("copy %s: %v", src, err)
	}
}

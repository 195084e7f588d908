package wasi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/wasi"
)

// suiteDir is the WASI preview-1 conformance suite (see its SOURCE.md).
const suiteDir = "../../shared/wasi-testsuite/tests"

// caseSpec is the legacy test specification of wasi-testsuite
// (doc/specification.md): missing fields take their defaults.
type caseSpec struct {
	Args     []string          `json:"args"`
	Env      map[string]string `json:"env"`
	Dirs     []string          `json:"dirs"`
	ExitCode int               `json:"exit_code"`
	Stdout   *string           `json:"stdout"`
	Stderr   *string           `json:"stderr"`
}

// TestConformance runs every case of the official suite through Run, each in
// a scratch copy of its test directory.
func TestConformance(t *testing.T) { conformance(t, wasi.ResolveAuto) }

// TestConformanceWalk runs the suite again with the portable path walk that
// kernels without openat2 get.
func TestConformanceWalk(t *testing.T) { conformance(t, wasi.ResolveWalk) }

func conformance(t *testing.T, mode wasi.Resolution) {
	root := os.Getenv("FERRY_WASI_TESTSUITE")
	if root == "" {
		root = suiteDir
	}
	cases, _ := filepath.Glob(filepath.Join(root, "*", "testsuite", "wasm32-wasip1", "*.wasm"))
	if len(cases) == 0 {
		t.Skipf("no wasi-testsuite cases under %s", root)
	}
	sort.Strings(cases)
	var passed, failed []string
	for _, wasmPath := range cases {
		lang := filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(wasmPath))))
		name := lang + "/" + strings.TrimSuffix(filepath.Base(wasmPath), ".wasm")
		ok := t.Run(name, func(t *testing.T) { runCase(t, wasmPath, mode) })
		if ok {
			passed = append(passed, name)
		} else {
			failed = append(failed, name)
		}
	}
	t.Logf("wasi-testsuite: %d/%d passed", len(passed), len(cases))
	if len(failed) > 0 {
		t.Logf("failing: %s", strings.Join(failed, " "))
	}
}

func runCase(t *testing.T, wasmPath string, mode wasi.Resolution) {
	wasmBytes, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	var spec caseSpec
	if js, err := os.ReadFile(strings.TrimSuffix(wasmPath, ".wasm") + ".json"); err == nil {
		if err := json.Unmarshal(js, &spec); err != nil {
			t.Fatalf("spec: %v", err)
		}
	}
	scratch := t.TempDir()
	for _, d := range spec.Dirs {
		copyTree(t, filepath.Join(filepath.Dir(wasmPath), d), filepath.Join(scratch, d))
	}
	var stdout, stderr bytes.Buffer
	cfg := wasi.NewConfig().
		WithArgs(append([]string{filepath.Base(wasmPath)}, spec.Args...)...).
		WithStdout(&stdout).WithStderr(&stderr).WithPathResolution(mode)
	keys := make([]string, 0, len(spec.Env))
	for k := range spec.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cfg = cfg.WithEnv(k, spec.Env[k])
	}
	for _, d := range spec.Dirs {
		cfg = cfg.WithPreopen(filepath.Join(scratch, d), d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer r.Close(ctx)
	code, err := wasi.Run(ctx, r, wasmBytes, cfg)
	if err != nil {
		t.Errorf("run: %v\nstderr: %s", err, stderr.String())
		return
	}
	if code != spec.ExitCode {
		t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, spec.ExitCode, stdout.String(), stderr.String())
	}
	if spec.Stdout != nil && stdout.String() != *spec.Stdout {
		t.Errorf("stdout %q, want %q", stdout.String(), *spec.Stdout)
	}
	if spec.Stderr != nil && stderr.String() != *spec.Stderr {
		t.Errorf("stderr %q, want %q", stderr.String(), *spec.Stderr)
	}
}

// copyTree copies a test directory into the scratch area, writable, without
// the *.cleanup artifacts of earlier runs.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
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
		t.Fatalf("copy %s: %v", src, err)
	}
}

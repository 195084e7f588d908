package wasi_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/internal/wasisuite"
	"github.com/ferryvm/ferry/wasi"
)

// TestConformanceWalk runs every case of the official suite through Run
// with the portable path walk that kernels without openat2 get, each in a
// scratch copy of its test directory. The default resolution is covered by
// cmd/ferry's TestWASIConformance, which runs the same cases through
// `ferry run`.
func TestConformanceWalk(t *testing.T) {
	cases := wasisuite.Cases(t)
	passed := 0
	for _, c := range cases {
		if t.Run(c.Name, func(t *testing.T) { runCase(t, c, wasi.ResolveWalk) }) {
			passed++
		}
	}
	t.Logf("wasi-testsuite: %d/%d passed", passed, len(cases))
}

func runCase(t *testing.T, c wasisuite.Case, mode wasi.Resolution) {
	wasmBytes, err := os.ReadFile(c.Wasm)
	if err != nil {
		t.Fatal(err)
	}
	scratch := c.Scratch(t)
	var stdout, stderr bytes.Buffer
	cfg := wasi.NewConfig().
		WithArgs(append([]string{filepath.Base(c.Wasm)}, c.Spec.Args...)...).
		WithStdout(&stdout).WithStderr(&stderr).WithPathResolution(mode)
	for _, k := range c.Spec.EnvKeys() {
		cfg = cfg.WithEnv(k, c.Spec.Env[k])
	}
	for _, d := range c.Spec.Dirs {
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
	c.Check(t, code, stdout.String(), stderr.String())
}

package difftest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ttfFeatures limits generated modules to what Ferry implements: MVP plus
// the WebAssembly 2.0 proposals other than SIMD (no threads, exceptions,
// GC, tail calls, memory64, extended-const).
//
// Binaryen 108 with reference types enabled (and GC disabled) mostly
// generates invalid modules: typed function references (value type 0x6b)
// and ref.func initialising externref globals. Those still test that Ferry
// rejects what wazero rejects, but compare no execution, so only one seed
// in refTypesEvery enables reference types; the others get every other
// feature and always validate.
var ttfFeatures = []string{
	"--mvp-features",
	"--enable-mutable-globals",
	"--enable-sign-ext",
	"--enable-nontrapping-float-to-int",
	"--enable-bulk-memory",
	"--enable-multivalue",
}

const refTypesEvery = 4

// featureFlags returns the wasm-opt feature flags used for seed.
func featureFlags(seed uint64) []string {
	flags := append([]string(nil), ttfFeatures...)
	if seed%refTypesEvery == 0 {
		flags = append(flags, "--enable-reference-types")
	}
	return flags
}

// findWasmOpt locates binaryen's wasm-opt ($WASM_OPT, else $PATH).
func findWasmOpt() (string, error) {
	if p := os.Getenv("WASM_OPT"); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("wasm-opt")
	if err != nil {
		return "", fmt.Errorf("wasm-opt (binaryen) not found: install it (Debian: apt-get install binaryen) or set WASM_OPT: %w", err)
	}
	return p, nil
}

// wasmOptVersion returns `wasm-opt --version`, for reports.
func wasmOptVersion(wasmOpt string) string {
	out, err := exec.Command(wasmOpt, "--version").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// seedBytes is the entropy binaryen turns into the module for seed: between
// 256 bytes and 6 KiB from a PCG stream, so small and large modules mix.
func seedBytes(seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x66657272792d6474)) // "ferry-dt"
	b := make([]byte, 256+r.IntN(6*1024))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// generate makes the module for seed with wasm-opt -ttf, working in dir.
func generate(ctx context.Context, wasmOpt string, seed uint64, dir string) ([]byte, error) {
	in := filepath.Join(dir, fmt.Sprintf("seed-%d.bin", seed))
	out := filepath.Join(dir, fmt.Sprintf("seed-%d.wasm", seed))
	if err := os.WriteFile(in, seedBytes(seed), 0o644); err != nil {
		return nil, err
	}
	defer os.Remove(in)
	defer os.Remove(out)
	args := append([]string{in, "-ttf", "-o", out}, featureFlags(seed)...)
	cmd := exec.CommandContext(ctx, wasmOpt, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("wasm-opt %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return os.ReadFile(out)
}

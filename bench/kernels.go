// Package bench compares Ferry with its peers (wazero's interpreter and
// compiler, wasmtime through wasmtime-go) on a fixed set of WebAssembly
// kernels (kernels/*.c, built by kernels/build.sh into the committed
// kernels/*.wasm) and of whole WASI programs (programs/, built by
// programs/build.sh). It lives in a module of its own so that the runtime
// module never depends on the peers it is measured against.
package bench

import (
	"embed"
	"fmt"
)

//go:embed kernels/*.wasm
var kernelFS embed.FS

//go:embed programs/*.wasm programs/*.stdout
var programFS embed.FS

// Kernel is one benchmark program: a module exporting run(n) -> i32 checksum.
type Kernel struct {
	Name string
	// Arg is the n passed to run, sized so one call takes roughly 50-200 ms
	// in an interpreter on a slow machine (the whole ferrybench run, three
	// runtimes, stays well under two minutes).
	Arg uint64
	// Want is the checksum run(Arg) returns. It was computed once with
	// wazero's compiler; every runtime must reproduce it.
	Want uint32
	Wasm []byte
	// SIMD marks the kernels built with -msimd128 (SIMDKernels): their
	// inner loops are WebAssembly 2.0 vector instructions.
	SIMD bool
}

// kernelTable lists the kernels in report order.
var kernelTable = []struct {
	name string
	arg  uint64
	want uint32
}{
	{"fib", 30, 832040},
	{"sieve", 600_000, 49098},
	{"matmul", 128, 0x86b4ec5a},
	{"sha256", 1 << 18, 0x3c7762a3},
	{"sort", 100_000, 0x44eda7b7},
	{"vm", 60_000, 0x20e7dbf9},
}

// simdKernelTable lists the SIMD kernels (kernels/simd_*.c, clang
// -msimd128 with wasm_simd128.h intrinsics) in report order. Their
// checksums were computed with wazero's compiler and are pinned by every
// runtime agreeing (and, for simd_dot and simd_hist, by Go references in
// kernels_test.go).
var simdKernelTable = []struct {
	name string
	arg  uint64
	want uint32
}{
	{"simd_matmul", SIMDMatmulArg, SIMDMatmulWant},
	{"simd_hist", SIMDHistArg, SIMDHistWant},
	{"simd_dot", SIMDDotArg, SIMDDotWant},
	{"simd_memchr", SIMDMemchrArg, SIMDMemchrWant},
}

// Kernels returns the scalar benchmark kernels with their embedded modules.
func Kernels() ([]Kernel, error) { return loadKernels(kernelTable, false) }

// SIMDKernels returns the SIMD kernels (issue 4) with their embedded modules.
func SIMDKernels() ([]Kernel, error) { return loadKernels(simdKernelTable, true) }

func loadKernels(table []struct {
	name string
	arg  uint64
	want uint32
}, simd bool) ([]Kernel, error) {
	out := make([]Kernel, 0, len(table))
	for _, k := range table {
		wasm, err := kernelFS.ReadFile("kernels/" + k.name + ".wasm")
		if err != nil {
			return nil, fmt.Errorf("kernel %s: %w (run kernels/build.sh)", k.name, err)
		}
		out = append(out, Kernel{Name: k.name, Arg: k.arg, Want: k.want, Wasm: wasm, SIMD: simd})
	}
	return out, nil
}

// Arguments and checksums of the SIMD kernels.
const (
	SIMDMatmulArg  = 128
	SIMDMatmulWant = 0x5f940a73
	SIMDHistArg    = 8
	SIMDHistWant   = 0xd79f3261
	SIMDDotArg     = 600
	SIMDDotWant    = 0x4b7953e0
	SIMDMemchrArg  = 300
	SIMDMemchrWant = 0x04fe3f37
)

package bench

import (
	"context"
	"testing"
)

// BenchmarkKernels times run(Arg) for every kernel under every runtime, as
// BenchmarkKernels/<kernel>/<runtime>, so results compare with benchstat:
//
//	go test -run '^$' -bench . -count 6 > new.txt && benchstat old.txt new.txt
//
// Loading (compile + instantiate) is outside the timed region. ferry-nopoll
// (pause polling off) is included so the cost of polling can be read off.
func BenchmarkKernels(b *testing.B) {
	kernels, err := Kernels()
	if err != nil {
		b.Fatal(err)
	}
	benchKernels(b, kernels)
}

// BenchmarkSIMDKernels is BenchmarkKernels for the SIMD kernels (issue 4),
// as BenchmarkSIMDKernels/<kernel>/<runtime>. Profile Ferry on one with
//
//	go test -run '^$' -bench 'SIMDKernels/simd_matmul/ferry$' -cpuprofile cpu.out . && go tool pprof -top cpu.out
func BenchmarkSIMDKernels(b *testing.B) {
	kernels, err := SIMDKernels()
	if err != nil {
		b.Fatal(err)
	}
	benchKernels(b, kernels)
}

func benchKernels(b *testing.B, kernels []Kernel) {
	ctx := context.Background()
	for _, k := range kernels {
		b.Run(k.Name, func(b *testing.B) {
			for _, rt := range AllRuntimes() {
				b.Run(rt.Name, func(b *testing.B) {
					call, release, err := rt.Load(ctx, k.Wasm, "run")
					if err != nil {
						b.Fatal(err)
					}
					defer release()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						out, err := call(ctx, k.Arg)
						if err != nil {
							b.Fatal(err)
						}
						if got := uint32(out[0]); got != k.Want {
							b.Fatalf("checksum %#x, want %#x", got, k.Want)
						}
					}
				})
			}
		})
	}
}

// TestKernelChecksums runs every kernel once under every runtime and checks
// the recorded checksum, so a runtime that computes a wrong answer fails a
// plain `go test` rather than only a benchmark run.
func TestKernelChecksums(t *testing.T) {
	kernels, err := Kernels()
	if err != nil {
		t.Fatal(err)
	}
	simd, err := SIMDKernels()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range simd {
		if !k.SIMD {
			t.Errorf("%s: not flagged SIMD", k.Name)
		}
	}
	kernels = append(kernels, simd...)
	for _, k := range kernels {
		for _, rt := range Runtimes() {
			t.Run(k.Name+"/"+rt.Name, func(t *testing.T) {
				if testing.Short() && rt.Name != NameWazeroCompiler && rt.Name != NameWasmtime {
					t.Skip("interpreters are slow; -short runs the compilers only")
				}
				res := Measure(context.Background(), rt, k, 0, 1)
				if res.Err != nil {
					t.Fatal(res.Err)
				}
				if res.Checksum != k.Want {
					t.Fatalf("checksum %#x, want %#x", res.Checksum, k.Want)
				}
			})
		}
	}
}

//go:build linux

package dirty

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ferryvm/ferry"
)

// TestTrackingOverheadOnKernels measures what tracking costs a program:
// the interpreter kernels of bench/ (kernels/*.wasm, the runtime
// module's benchmark set) run with a tracker armed over their memory
// (registered just before the call, so every page the call writes takes
// its first-write fault) and with none (off: nothing in the engine knows
// about tracking, so off is the plain run). Runs alternate between the
// two; the medians are logged, and the median of each pair's ratio
// (armed over the off run just before it), which a machine whose load
// drifts disturbs less. Not a pass/fail test of speed (the
// machine is shared): it runs only with FERRYD_OVERHEAD=1, e.g.
//
//	FERRYD_OVERHEAD=1 go test -count=1 -v -run TestTrackingOverheadOnKernels ./internal/dirty
func TestTrackingOverheadOnKernels(t *testing.T) {
	if os.Getenv("FERRYD_OVERHEAD") == "" {
		t.Skip("set FERRYD_OVERHEAD=1 to measure")
	}
	requireTracking(t)
	// bench/kernels.go's kernelTable: name, argument, checksum.
	kernels := []struct {
		name string
		arg  uint64
		want uint32
	}{
		{"fib", 30, 832040},
		{"sieve", 600_000, 49098},
		{"matmul", 128, 0x86b4ec5a},
		{"sort", 100_000, 0x44eda7b7},
		{"vm", 60_000, 0x20e7dbf9},
	}
	const runs = 9
	ctx := context.Background()
	for _, k := range kernels {
		wasm, err := os.ReadFile(filepath.Join("..", "..", "..", "bench", "kernels", k.name+".wasm"))
		if err != nil {
			t.Fatal(err)
		}
		rt := ferry.NewRuntime(ferry.NewRuntimeConfig().WithTier(ferry.TierInterp))
		m, err := rt.Compile(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		var off, armed []time.Duration
		var ratios []float64
		pages := 0
		for i := 0; i < 2*runs; i++ {
			inst, err := rt.Instantiate(ctx, m, "")
			if err != nil {
				t.Fatal(err)
			}
			var tr *Tracker
			if i%2 == 1 {
				if tr, err = New(inst.Memory("memory").Bytes()); err != nil {
					t.Fatal(err)
				}
			}
			t0 := time.Now()
			res, err := inst.Function("run").Call(ctx, k.arg)
			d := time.Since(t0)
			if err != nil || uint32(res[0]) != k.want {
				t.Fatalf("%s: %v %v, want checksum %#x", k.name, res, err, k.want)
			}
			if tr == nil {
				off = append(off, d)
			} else {
				armed = append(armed, d)
				ratios = append(ratios, ms(d)/ms(off[len(off)-1]))
				pages = 0
				if err := tr.Collect(func(r Range) { pages += r.Count }); err != nil {
					t.Fatal(err)
				}
				tr.Close()
			}
			inst.Close(ctx)
		}
		rt.Close(ctx)
		slices.Sort(off)
		slices.Sort(armed)
		slices.Sort(ratios)
		mo, ma := off[runs/2], armed[runs/2]
		t.Logf("%-7s off %8.2f ms  armed %8.2f ms  medians %+6.1f %%, paired %+6.1f %%  (%d pages first written: %.2f ms at 8.2 µs a fault)",
			k.name, ms(mo), ms(ma), 100*(ms(ma)-ms(mo))/ms(mo), 100*(ratios[runs/2]-1), pages, float64(pages)*0.0082)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

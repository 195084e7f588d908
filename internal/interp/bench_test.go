package interp

import (
	"context"
	"os"
	"runtime"
	"testing"

	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/store"
)

const benchWat = `(module
  (memory 1)
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_s (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  ;; A loop-heavy kernel: n rounds of an xorshift hash over a 4 KiB buffer.
  (func (export "hash") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $h i32)
    (local.set $h (i32.const 0x12345678))
    (loop $outer
      (local.set $j (i32.const 0))
      (loop $inner
        (local.set $h (i32.xor (local.get $h) (i32.shl (local.get $h) (i32.const 13))))
        (local.set $h (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 17))))
        (local.set $h (i32.xor (local.get $h) (i32.shl (local.get $h) (i32.const 5))))
        (i32.store (local.get $j) (i32.add (i32.load (local.get $j)) (local.get $h)))
        (br_if $inner (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 4))) (i32.const 4096))))
      (br_if $outer (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $h))
  ;; The same kernel on v128 (i32x4 lanes): 4x the data per iteration.
  (func (export "vhash") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $h v128)
    (local.set $h (v128.const i32x4 0x12345678 0x9abcdef0 0x0fedcba9 0x87654321))
    (loop $outer
      (local.set $j (i32.const 0))
      (loop $inner
        (local.set $h (v128.xor (local.get $h) (i32x4.shl (local.get $h) (i32.const 13))))
        (local.set $h (v128.xor (local.get $h) (i32x4.shr_u (local.get $h) (i32.const 17))))
        (local.set $h (v128.xor (local.get $h) (i32x4.shl (local.get $h) (i32.const 5))))
        (v128.store (local.get $j) (i32x4.add (v128.load (local.get $j)) (local.get $h)))
        (br_if $inner (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 16))) (i32.const 4096))))
      (br_if $outer (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (i32x4.extract_lane 0 (local.get $h)))
)`

// benchInstance compiles benchWat with or without poll instructions.
func benchInstance(b testing.TB, noPoll bool) *store.Instance {
	m, err := binary.Decode(wat(b, benchWat))
	if err != nil {
		b.Fatal(err)
	}
	c, err := compile(m, noPoll)
	if err != nil {
		b.Fatal(err)
	}
	inst, err := store.NewStore().Instantiate(m, "bench", c.Code(), func(string, string) (store.Extern, bool) { return store.Extern{}, false })
	if err != nil {
		b.Fatal(err)
	}
	return inst
}

func benchCall(b *testing.B, fn string, arg uint64, noPoll, pausePolling bool) {
	inst := benchInstance(b, noPoll)
	e := NewEngine(Config{PausePolling: pausePolling})
	f := export(b, inst, fn)
	ctx := context.Background()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	cpu := threadCPU()
	for i := 0; i < b.N; i++ {
		if _, err := e.Call(ctx, f, []uint64{arg}); err != nil {
			b.Fatal(err)
		}
	}
	if cpu != 0 {
		b.ReportMetric(float64(threadCPU()-cpu)/float64(b.N), "cpu-ns/op")
	}
}

// The three variants of each kernel: no poll instructions at all (the
// baseline for the polling cost), polling with pause requests ignored, and
// polling with pause requests honoured (the default configuration).
func BenchmarkFib25NoPoll(b *testing.B) { benchCall(b, "fib", 25, true, false) }
func BenchmarkFib25Poll(b *testing.B)   { benchCall(b, "fib", 25, false, false) }
func BenchmarkFib25Pause(b *testing.B)  { benchCall(b, "fib", 25, false, true) }
func BenchmarkHashNoPoll(b *testing.B)  { benchCall(b, "hash", 200, true, false) }
func BenchmarkHashPoll(b *testing.B)    { benchCall(b, "hash", 200, false, false) }
func BenchmarkHashPause(b *testing.B)   { benchCall(b, "hash", 200, false, true) }

// VHash is Hash on v128 (i32x4) lanes: the SIMD instructions through the
// v128 table.
func BenchmarkVHashPause(b *testing.B) { benchCall(b, "vhash", 200, false, true) }

// BenchmarkPollingCost measures what polling costs by running the
// variants interleaved, round after round, and comparing their best
// thread-CPU times (on a shared machine, interleaving keeps load changes
// from favouring one variant). It reports the overhead of polls
// (poll-%) and of honouring pauses (pause-%) over code lowered without
// polls; the target (at most 1-2 %) lives here and in bench/'s
// ckptbench, never in a test.
func BenchmarkPollingCost(b *testing.B) {
	for _, k := range []struct {
		fn  string
		arg uint64
	}{{"fib", 25}, {"hash", 200}} {
		b.Run(k.fn, func(b *testing.B) {
			// Thread CPU time: the sub-benchmark's own goroutine stays on
			// one thread.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			type variant struct {
				e    *Engine
				f    *store.Function
				best int64
			}
			var vs []*variant
			for _, v := range []struct{ noPoll, honour bool }{{true, false}, {false, false}, {false, true}} {
				inst := benchInstance(b, v.noPoll)
				vs = append(vs, &variant{e: NewEngine(Config{PausePolling: v.honour}), f: export(b, inst, k.fn), best: 1 << 62})
			}
			ctx := context.Background()
			for b.Loop() {
				for _, v := range vs {
					c := threadCPU()
					if _, err := v.e.Call(ctx, v.f, []uint64{k.arg}); err != nil {
						b.Fatal(err)
					}
					if d := threadCPU() - c; d < v.best {
						v.best = d
					}
				}
			}
			base := float64(vs[0].best)
			b.ReportMetric(100*(float64(vs[1].best)-base)/base, "poll-%")
			b.ReportMetric(100*(float64(vs[2].best)-base)/base, "pause-%")
		})
	}
}

// BenchmarkCompileGoProgram validates and lowers a 3.5 MB Go wasip1
// program (bench/programs/gojson.wasm): what a restore of a booted Go app
// pays before its first instruction.
func BenchmarkCompileGoProgram(b *testing.B) {
	bs, err := os.ReadFile("../../bench/programs/gojson.wasm")
	if err != nil {
		b.Fatal(err)
	}
	m, err := binary.Decode(bs)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(bs)))
	for b.Loop() {
		if _, err := Compile(m); err != nil {
			b.Fatal(err)
		}
	}
}

package interp

import (
	"context"
	"reflect"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/profile"
	"github.com/ferryvm/ferry/internal/store"
)

// A kernel with one hot loop in "hot", a function "cold" called once
// before it, and "leaf" called from the loop on every 1024th iteration.
const profileWat = `(module
  (func $cold (result i32) (i32.const 7))
  (func $leaf (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (local.set $acc (call $cold))
    (loop $l
      (local.set $acc (i32.add (i32.xor (local.get $acc) (local.get $i)) (i32.const 0x9e37)))
      (if (i32.eqz (i32.and (local.get $i) (i32.const 1023)))
        (then (local.set $acc (call $leaf (local.get $acc)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc)))`

// runFor calls run with growing n until one call took at least d, so that
// the test takes about as long on a slow machine as on a fast one.
func runFor(t *testing.T, e *Engine, inst *store.Instance, d time.Duration) {
	t.Helper()
	for n := uint64(1 << 16); ; n *= 2 {
		start := time.Now()
		if _, err := invoke(t, e, inst, "run", n); err != nil {
			t.Fatal(err)
		}
		if time.Since(start) >= d || n >= 1<<31 {
			return
		}
	}
}

func TestProfileFindsHotLoop(t *testing.T) {
	tm := load(t, profileWat)
	inst := tm.instance(t, nil)
	var mu sync.Mutex
	var compiled []uint32
	q := profile.NewQueue(1, func(ctx context.Context, fn *store.Function) error {
		mu.Lock()
		compiled = append(compiled, fn.Index)
		mu.Unlock()
		return nil
	})
	s := profile.NewSampler(profile.SamplerConfig{Interval: time.Millisecond, Threshold: 3, Queue: q})
	defer s.Close()
	e := NewEngine(Config{PausePolling: true, Sampler: s})
	runFor(t, e, inst, 150*time.Millisecond)
	if err := q.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	hot := s.Module(tm.mod).Hot(1)
	if len(hot) == 0 {
		t.Fatalf("no samples (%d taken)", s.Samples())
	}
	run := export(t, inst, "run")
	if hot[0].Func != run.Index {
		t.Fatalf("hottest function %d, want run (%d): %+v", hot[0].Func, run.Index, hot)
	}
	pauses := run.Code.Pauses()
	if len(hot[0].Loops) == 0 || pauses.Points[hot[0].Loops[0].Pause].Kind != api.PauseLoop {
		t.Fatalf("run's hottest pause point is not its loop: %+v", hot[0])
	}
	// Nearly all samples are in the loop: the entry of run was polled once
	// per call, the loop millions of times.
	if l := hot[0].Loops[0].Samples; l*10 < hot[0].Samples*9 {
		t.Errorf("loop has %d of run's %d samples", l, hot[0].Samples)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(compiled) == 0 || compiled[0] != run.Index {
		t.Errorf("compiled %v, want run (%d) first", compiled, run.Index)
	}
	if w := inst.InterruptWord().Load(); w != 0 {
		t.Errorf("interrupt word %#x after the call, want 0 (the sample bit keeps the code armed)", w)
	}
	if !alwaysArmed {
		for _, f := range tm.comp.funcs {
			if armed, _ := armedOps(f); armed != 0 {
				t.Errorf("func %d: %d back-edges still armed after the run", f.Index, armed)
			}
		}
	}
}

// A sampled run computes what an unsampled one does, and the samples do
// not count as pause points for PauseAfter (the checkpoint-anywhere
// hook): the same pause:N stops at the same place with the sampler on.
func TestSamplerKeepsPauseCount(t *testing.T) {
	tm := load(t, profileWat)
	plain := NewEngine(Config{PausePolling: true})
	want, err := invoke(t, plain, tm.instance(t, nil), "run", 3_000_000)
	if err != nil {
		t.Fatal(err)
	}
	s := profile.NewSampler(profile.SamplerConfig{Interval: 200 * time.Microsecond})
	defer s.Close()
	sampled := NewEngine(Config{PausePolling: true, Sampler: s})
	got, err := invoke(t, sampled, tm.instance(t, nil), "run", 3_000_000)
	if err != nil || got[0] != want[0] {
		t.Fatalf("sampled run: %v, %v; want %v", got, err, want)
	}
	if s.Samples() == 0 {
		t.Fatal("no samples taken")
	}
	a, errA := invoke(t, plain.Counting(5000).(*Engine), tm.instance(t, nil), "run", 3_000_000)
	b, errB := invoke(t, NewEngine(Config{PausePolling: true, Sampler: s, PauseAfter: 5000}), tm.instance(t, nil), "run", 3_000_000)
	sa, okA := errA.(*Suspended)
	sb, okB := errB.(*Suspended)
	if !okA || !okB || a != nil || b != nil {
		t.Fatalf("want two suspensions, got %v and %v", errA, errB)
	}
	if sa.Polled != sb.Polled || !reflect.DeepEqual(sa.Frames, sb.Frames) {
		t.Fatalf("pause:5000 differs with the sampler: %+v vs %+v", sa, sb)
	}
}

// BenchmarkSamplingCost measures what the tier-up profile costs the
// interpreter: the kernels of BenchmarkPollingCost, long enough for
// several ticks per call, without a sampler, with the default 5 ms
// interval, with 1 ms, and with a sampler that never ticks (idle-%: the
// per-call part alone), interleaved round after round; it reports the
// overhead of the best thread-CPU times over no sampler (the ticker's own
// goroutine runs on another thread: its cost is the proc-% metric, the
// whole process's CPU time over the same calls).
func BenchmarkSamplingCost(b *testing.B) {
	for _, k := range []struct {
		fn  string
		arg uint64
	}{{"fib", 27}, {"hash", 1000}} {
		b.Run(k.fn, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			type variant struct {
				e          *Engine
				f          *store.Function
				best, proc int64
			}
			var vs []*variant
			// An hour never ticks: what a sampler costs per call alone.
			for _, iv := range []time.Duration{0, profile.DefaultInterval, time.Millisecond, time.Hour} {
				var s *profile.Sampler
				if iv > 0 {
					s = profile.NewSampler(profile.SamplerConfig{Interval: iv})
					defer s.Close()
				}
				inst := benchInstance(b, false)
				vs = append(vs, &variant{e: NewEngine(Config{PausePolling: true, Sampler: s}), f: export(b, inst, k.fn), best: 1 << 62, proc: 1 << 62})
			}
			ctx := context.Background()
			for b.Loop() {
				for _, v := range vs {
					c, p := threadCPU(), processCPU()
					if _, err := v.e.Call(ctx, v.f, []uint64{k.arg}); err != nil {
						b.Fatal(err)
					}
					if d := threadCPU() - c; d < v.best {
						v.best = d
					}
					if d := processCPU() - p; d < v.proc {
						v.proc = d
					}
				}
			}
			base, pbase := float64(vs[0].best), float64(vs[0].proc)
			b.ReportMetric(float64(vs[0].best)/1e6, "base-ms")
			b.ReportMetric(100*(float64(vs[1].best)-base)/base, "5ms-%")
			b.ReportMetric(100*(float64(vs[2].best)-base)/base, "1ms-%")
			b.ReportMetric(100*(float64(vs[1].proc)-pbase)/pbase, "5ms-proc-%")
			b.ReportMetric(100*(float64(vs[2].proc)-pbase)/pbase, "1ms-proc-%")
			b.ReportMetric(100*(float64(vs[3].best)-base)/base, "idle-%")
		})
	}
}

// processCPU is the CPU time of the whole process in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

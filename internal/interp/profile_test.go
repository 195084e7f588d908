package interp

import (
	"context"
	"reflect"
	"sync"
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

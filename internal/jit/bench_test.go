package jit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/ferryvm/ferry/internal/interp"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/native"
	"github.com/ferryvm/ferry/internal/store"
)

// kernelsWat holds loop kernels for the benchmarks (and the lint corpus).
const kernelsWat = `(module
  (memory 4)
  ;; sum of n 32-bit words, after filling them with i*7.
  (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $fill
      (i32.store (i32.shl (local.get $i) (i32.const 2)) (i32.mul (local.get $i) (i32.const 7)))
      (br_if $fill (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.set $i (i32.const 0))
    (loop $sum
      (local.set $s (i32.add (local.get $s) (i32.load (i32.shl (local.get $i) (i32.const 2)))))
      (br_if $sum (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $s))
  ;; primes below n with a byte sieve.
  (func (export "sieve") (param $n i32) (result i32) (local $i i32) (local $j i32) (local $c i32)
    (memory.fill (i32.const 0) (i32.const 0) (local.get $n))
    (local.set $i (i32.const 2))
    (block $done (loop $outer
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (if (i32.eqz (i32.load8_u (local.get $i))) (then
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (local.set $j (i32.mul (local.get $i) (local.get $i)))
        (block $d2 (loop $inner
          (br_if $d2 (i32.ge_u (local.get $j) (local.get $n)))
          (i32.store8 (local.get $j) (i32.const 1))
          (local.set $j (i32.add (local.get $j) (local.get $i)))
          (br $inner)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $outer)))
    (local.get $c))
  ;; an i64 hash mixing loop.
  (func (export "mix") (param $n i32) (result i64) (local $h i64)
    (local.set $h (i64.const 0x9E3779B97F4A7C15))
    (loop $l
      (local.set $h (i64.mul (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 29))) (i64.const 0xBF58476D1CE4E5B9)))
      (local.set $h (i64.add (local.get $h) (i64.extend_i32_u (local.get $n))))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $h))
)`

var kernelArgs = map[string]uint64{"sum": 60000, "sieve": 200000, "mix": 1000000}

func TestKernelsAgree(t *testing.T) {
	m := loadWat(t, kernelsWat)
	for name, n := range kernelArgs {
		want, _, wantErr := interpCall(m, name, []uint64{n})
		got, _, err := runExport(t, m, name, 1<<16, n)
		if !sameOutcome(want, wantErr, got, err) {
			t.Fatalf("%s(%d): interpreter %v, %v; compiled %v, %v", name, n, want, wantErr, got, err)
		}
	}
}

func BenchmarkKernels(b *testing.B) {
	m := loadWat(b, kernelsWat)
	alloc := newAlloc()
	for _, name := range []string{"sum", "sieve", "mix"} {
		n := kernelArgs[name]
		idx, _ := m.exportedFunc(name)
		b.Run(name+"/interp", func(b *testing.B) {
			inst, err := m.instance()
			if err != nil {
				b.Fatal(err)
			}
			e := interp.NewEngine(interp.Config{})
			fn := inst.Funcs[idx]
			for b.Loop() {
				if _, err := e.Call(context.Background(), fn, []uint64{n}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/compiled", func(b *testing.B) {
			code, err := Compile(m.ir[idx], Options{}.WithFeatures(hostFeatures()), alloc)
			if err != nil {
				b.Fatal(err)
			}
			defer code.Free()
			inst, err := m.instance()
			if err != nil {
				b.Fatal(err)
			}
			r := newRunner(inst, 1<<16)
			for b.Loop() {
				if _, err := r.call(code, m.ir[idx], []uint64{n}, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestCompiledCodeIsSharedAcrossGoroutines runs one compiled kernel from
// several goroutines at once, each with its own context and instance,
// while another goroutine forces collections: the code holds no state of
// its own, budget exits let the GC stop the world, and every result must
// equal the interpreter's.
func TestCompiledCodeIsSharedAcrossGoroutines(t *testing.T) {
	m := loadWat(t, kernelsWat)
	idx, _ := m.exportedFunc("mix")
	const n = 300000
	want, _, err := interpCall(m, "mix", []uint64{n})
	if err != nil {
		t.Fatal(err)
	}
	code := compileExport(t, m, "mix", newAlloc())
	stop := make(chan struct{})
	gcDone := make(chan int)
	go func() {
		gcs := 0
		for {
			select {
			case <-stop:
				gcDone <- gcs
				return
			default:
				runtime.GC()
				gcs++
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inst, err := m.instance()
			if err != nil {
				errs <- err
				return
			}
			r := newRunner(inst, 1<<12)
			for range 3 {
				got, err := r.call(code, m.ir[idx], []uint64{n}, 7)
				if err != nil || len(got) != 1 || got[0] != want[0] {
					errs <- fmt.Errorf("mix(%d) = %v, %v; want %v", n, got, err, want)
					return
				}
			}
			if r.budgets == 0 {
				errs <- fmt.Errorf("no budget exit in %d iterations", 3*n)
			}
		}()
	}
	wg.Wait()
	close(stop)
	t.Logf("%d collections during the runs", <-gcDone)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// pollKernels are bench/'s scalar kernels (bench/kernels, the committed
// builds of its C sources) with the argument bench/kernels.go gives each.
var pollKernels = []struct {
	name string
	arg  uint64
}{{"fib", 30}, {"sieve", 600_000}, {"matmul", 128}, {"sha256", 1 << 18}, {"sort", 100_000}, {"vm", 60_000}}

// BenchmarkPollCost measures what the compiled tier's budget polls cost
// (issue 11: at most 1 %): each of bench/'s scalar kernels runs in the
// compiled tier, as the runtime runs it (polls armed off, no pause ever
// requested), and compiled without polls (Options.noPolls), the two
// called alternately on one locked thread, in an order swapped every
// round, so that load changes favour neither. It reports the median thread CPU time of each (polls-ns,
// nopolls-ns) and the cost of the polls in percent of the no-poll time
// (poll-%, from the medians; poll-min-% from the fastest calls).
//
//	go test -run '^$' -bench PollCost -benchtime 15x -count 5 ./internal/jit
func BenchmarkPollCost(b *testing.B) {
	for _, k := range pollKernels {
		b.Run(k.name, func(b *testing.B) {
			bin, err := os.ReadFile(filepath.Join("..", "..", "bench", "kernels", k.name+".wasm"))
			if err != nil {
				b.Fatal(err)
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			type variant struct {
				e     *interp.Engine
				fn    *store.Function
				times []int64
			}
			var vs [2]*variant
			for i, noPolls := range []bool{false, true} {
				e, fn := compiledKernel(b, bin, noPolls)
				vs[i] = &variant{e: e, fn: fn}
			}
			ctx := context.Background()
			var want []uint64
			for round := 0; b.Loop(); round++ {
				// Swapping the order every round keeps whatever the
				// first call leaves behind (caches, a collection) from
				// favouring one variant.
				order := vs
				if round%2 == 1 {
					order = [2]*variant{vs[1], vs[0]}
				}
				for _, v := range order {
					c := threadCPU()
					got, err := v.e.Call(ctx, v.fn, []uint64{k.arg})
					v.times = append(v.times, threadCPU()-c)
					if err != nil {
						b.Fatal(err)
					}
					if want == nil {
						want = got
					} else if !slices.Equal(got, want) {
						b.Fatalf("run(%d) = %v with polls, %v without", k.arg, want, got)
					}
				}
			}
			polls, nopolls := vs[0].times, vs[1].times
			b.ReportMetric(float64(medianNs(polls)), "polls-ns")
			b.ReportMetric(float64(medianNs(nopolls)), "nopolls-ns")
			b.ReportMetric(100*(float64(medianNs(polls))/float64(medianNs(nopolls))-1), "poll-%")
			b.ReportMetric(100*(float64(slices.Min(polls))/float64(slices.Min(nopolls))-1), "poll-min-%")
		})
	}
}

// compiledKernel instantiates the kernel bin in an engine of the compiled
// tier whose compiler leaves polls out when noPolls is set, and returns
// the engine and the kernel's run export. Every function of the kernel
// must compile: one left interpreted would measure the interpreter.
func compiledKernel(b *testing.B, bin []byte, noPolls bool) (*interp.Engine, *store.Function) {
	m := loadBinary(b, bin)
	opts := Options{noPolls: noPolls}.WithFeatures(hostFeatures())
	e := interp.NewEngine(interp.Config{PausePolling: true, Tier: interp.TierCompiled, Compiler: &interp.Compiler{
		Compile: func(f *ir.Func, alloc *native.Allocator) (interp.NativeCode, error) {
			c, err := Compile(f, opts, alloc)
			if err != nil {
				return nil, err
			}
			return benchCode{c}, nil
		},
		TrapErr: func(aux uint32) error { return TrapCode(aux).Err() },
		NoPause: NoPause,
	}})
	if e.EffectiveTier() != interp.TierCompiled {
		b.Skip(e.Note())
	}
	em, err := e.Compile(m.mod)
	if err != nil {
		b.Fatal(err)
	}
	c := em.(*interp.Compiled)
	if s := c.TierStats(); s.Interpreted != 0 {
		b.Fatalf("%d functions left interpreted: %+v", s.Interpreted, s)
	}
	inst, err := store.NewStore().Instantiate(m.mod, "bench", c.Code(), func(string, string) (store.Extern, bool) { return store.Extern{}, false })
	if err != nil {
		b.Fatal(err)
	}
	idx, ok := m.exportedFunc("run")
	if !ok {
		b.Fatal("no run export")
	}
	return e, inst.Funcs[idx]
}

// benchCode is what the runtime's compiler hands the engine.
type benchCode struct{ *Code }

func (c benchCode) CanEnterAt(id uint32) bool { return int(id) < len(c.Cont) && c.Cont[id] >= 0 }

func medianNs(ts []int64) int64 {
	s := slices.Clone(ts)
	slices.Sort(s)
	return s[len(s)/2]
}

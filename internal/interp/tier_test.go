package interp

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/jit"
	"github.com/ferryvm/ferry/internal/native"
	"github.com/ferryvm/ferry/internal/store"
)

// testCompiler is what the runtime plugs in (ferry's jitCompiler): the
// interpreter does not import internal/jit, its tests do.
func testCompiler() *Compiler {
	opts := jit.Options{}.WithFeatures(cpu.Host().Set())
	return &Compiler{
		Compile: func(f *ir.Func, alloc *native.Allocator) (NativeCode, error) {
			c, err := jit.Compile(f, opts, alloc)
			if err != nil {
				return nil, err
			}
			return testCode{c}, nil
		},
		TrapErr: func(aux uint32) error { return jit.TrapCode(aux).Err() },
		NoPause: jit.NoPause,
	}
}

type testCode struct{ *jit.Code }

func (c testCode) CanEnterAt(id uint32) bool { return int(id) < len(c.Cont) && c.Cont[id] >= 0 }

// tierEngine returns an engine of tier t with pause polling on, or skips
// the test where compiled code cannot run.
func tierEngine(tb testing.TB, t Tier, mod func(*Config)) *Engine {
	tb.Helper()
	cfg := Config{PausePolling: true, Tier: t, Compiler: testCompiler()}
	if mod != nil {
		mod(&cfg)
	}
	e := NewEngine(cfg)
	if t != TierInterp && e.EffectiveTier() != t {
		tb.Skip(e.Note())
	}
	return e
}

// tierInstance lowers src with e (compiling it for e's tier) and
// instantiates it.
func tierInstance(tb testing.TB, e *Engine, src string) (*store.Instance, *Compiled) {
	tb.Helper()
	m, err := binary.Decode(wat(tb, src))
	if err != nil {
		tb.Fatal(err)
	}
	em, err := e.Compile(m)
	if err != nil {
		tb.Fatal(err)
	}
	c := em.(*Compiled)
	inst, err := store.NewStore().Instantiate(m, "test", c.Code(), func(string, string) (store.Extern, bool) { return store.Extern{}, false })
	if err != nil {
		tb.Fatal(err)
	}
	return inst, c
}

const tierProg = `(module
  (memory 1)
  (global $g (mut i32) (i32.const 0))
  (table 2 funcref)
  (elem (i32.const 0) $sq $fib)
  (func $sq (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
  ;; doubly recursive: every call an exit and a push, every return a pop
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  ;; a long loop: back-edge polls, an indirect call, a global, memory
  (func (export "loop") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s)
        (call_indirect (param i32) (result i32) (local.get $i) (i32.const 0))))
      (i32.store (i32.and (local.get $i) (i32.const 1023)) (local.get $s))
      (global.set $g (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i32.add (local.get $s) (global.get $g)))
  ;; a pure loop: nothing but back-edge polls leaves it
  (func (export "spin") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.xor (i32.mul (local.get $s) (i32.const 31)) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s))
  ;; deep recursion with a large frame: the value stack grows across exits
  (func $deep (export "deep") (param i32) (result i32)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $deep (i32.sub (local.get 0) (i32.const 1)))))))
  ;; memory.grow (an interp exit) between loads
  (func (export "grow") (result i32)
    (drop (memory.grow (i32.const 1)))
    (i32.store (i32.const 70000) (i32.const 7))
    (i32.add (memory.size) (i32.load (i32.const 70000))))
  (func (export "trap") (param i32) (result i32)
    (i32.div_u (i32.const 1) (local.get 0))))`

func call(tb testing.TB, e *Engine, inst *store.Instance, name string, args ...uint64) uint64 {
	tb.Helper()
	r, err := invoke(tb, e, inst, name, args...)
	if err != nil {
		tb.Fatalf("%s%v: %v", name, args, err)
	}
	return r[0]
}

// The compiled tier computes what the interpreter computes, on calls,
// returns, indirect calls, globals, memory.grow and deep recursion; traps
// are the interpreter's, trace included.
func TestCompiledMatchesInterpreter(t *testing.T) {
	ei := tierEngine(t, TierInterp, nil)
	ec := tierEngine(t, TierCompiled, nil)
	ii, _ := tierInstance(t, ei, tierProg)
	ic, c := tierInstance(t, ec, tierProg)
	if s := c.TierStats(); s.Compiled != len(c.funcs) {
		t.Fatalf("compiled %d of %d functions (%+v)", s.Compiled, len(c.funcs), s)
	}
	for _, tc := range []struct {
		name string
		args []uint64
	}{{"fib", []uint64{20}}, {"loop", []uint64{100000}}, {"spin", []uint64{1000000}}, {"deep", []uint64{20000}}, {"grow", nil}} {
		if a, b := call(t, ei, ii, tc.name, tc.args...), call(t, ec, ic, tc.name, tc.args...); a != b {
			t.Errorf("%s%v: interpreter %d, compiled %d", tc.name, tc.args, a, b)
		}
	}
	_, errI := invoke(t, ei, ii, "trap", 0)
	_, errC := invoke(t, ec, ic, "trap", 0)
	var tI, tC *api.TrapError
	if !errors.As(errI, &tI) || !errors.As(errC, &tC) || !errors.Is(errC, api.ErrIntegerDivideByZero) {
		t.Fatalf("traps: interpreter %v, compiled %v", errI, errC)
	}
	if len(tI.Stack) != len(tC.Stack) || tI.Stack[0] != tC.Stack[0] {
		t.Fatalf("trap traces: interpreter %+v, compiled %+v", tI.Stack, tC.Stack)
	}
}

// Deep recursion in compiled code grows the value stack at exits (the
// stack moves: the code reloads its base at every entry), and a recursion
// past the depth limit traps as in the interpreter, never crashes.
func TestCompiledDeepRecursionGrowsStack(t *testing.T) {
	e := tierEngine(t, TierCompiled, func(c *Config) { c.MaxCallDepth = 40000 })
	inst, _ := tierInstance(t, e, tierProg)
	if got := call(t, e, inst, "deep", 39000); got != 39000 {
		t.Fatalf("deep(39000) = %d", got)
	}
	_, err := invoke(t, e, inst, "deep", 50000)
	if !errors.Is(err, api.ErrCallStackExhausted) {
		t.Fatalf("deep(50000): %v, want call stack exhausted", err)
	}
}

// Deopt stress forces frames out of compiled code at random pause points
// (and back in); results do not change, and the deoptimizations happen.
func TestDeoptStressKeepsResults(t *testing.T) {
	ei := tierEngine(t, TierInterp, nil)
	ii, _ := tierInstance(t, ei, tierProg)
	for _, seed := range []uint64{1, 2, 3} {
		es := tierEngine(t, TierCompiled, func(c *Config) { c.DeoptStress = seed })
		is, _ := tierInstance(t, es, tierProg)
		for _, name := range []string{"fib", "loop", "spin"} {
			if a, b := call(t, ei, ii, name, 18), call(t, es, is, name, 18); a != b {
				t.Errorf("seed %d: %s: interpreter %d, under stress %d", seed, name, a, b)
			}
		}
		if n := es.tier.stressDeopts.Load(); n == 0 {
			t.Errorf("seed %d: no deoptimization forced", seed)
		}
	}
}

// Making code non-entrant while frames run it: they fall back to the
// interpreter at their next exit, new calls start interpreted, results
// stay exact.
func TestNonEntrantWhileRunning(t *testing.T) {
	e := tierEngine(t, TierCompiled, nil)
	inst, c := tierInstance(t, e, tierProg)
	want := call(t, tierEngine(t, TierInterp, nil), func() *store.Instance {
		i, _ := tierInstance(t, tierEngine(t, TierInterp, nil), tierProg)
		return i
	}(), "fib", 25)
	done := make(chan uint64)
	go func() { done <- call(t, e, inst, "fib", 25) }()
	time.Sleep(5 * time.Millisecond)
	c.SetNonEntrant()
	if got := <-done; got != want {
		t.Fatalf("fib(25) = %d, want %d", got, want)
	}
	if s := c.TierStats(); s.Compiled != 0 {
		t.Fatalf("after SetNonEntrant: %+v", s)
	}
}

// The auto tier compiles a function after hotCalls calls, in the
// background, and later calls run its code.
func TestAutoTierCompilesHotFunctions(t *testing.T) {
	e := tierEngine(t, TierAuto, nil)
	inst, c := tierInstance(t, e, tierProg)
	call(t, e, inst, "fib", 20) // 21891 calls of fib
	deadline := time.Now().Add(10 * time.Second)
	for c.TierStats().Compiled == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("nothing compiled: %+v", c.TierStats())
		}
		time.Sleep(time.Millisecond)
	}
	if got := call(t, e, inst, "fib", 20); got != 6765 {
		t.Fatalf("fib(20) = %d", got)
	}
}

// A pause request from another goroutine stops a long compiled loop at its
// next poll, as an interpreter frame at the loop's pause point.
func TestPauseRequestStopsCompiledLoop(t *testing.T) {
	e := tierEngine(t, TierCompiled, nil)
	inst, _ := tierInstance(t, e, tierProg)
	done := make(chan error)
	go func() {
		_, err := invoke(t, e, inst, "spin", 1<<31-1)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	inst.SetInterrupt(store.InterruptPause)
	err := <-done
	took := time.Since(start)
	var s *Suspended
	if !errors.As(err, &s) {
		t.Fatalf("got %v, want a pause", err)
	}
	if f := s.Frames[len(s.Frames)-1]; f.Kind != api.PauseLoop {
		t.Fatalf("stopped at %v, want a loop", f.Kind)
	}
	t.Logf("pause honoured %v after the request", took)
}

// Many goroutines enter and leave compiled code at once (run under -race:
// race builds keep the interpreter's code armed, the compiled code is the
// same), while another forces collections and the CPU profiler runs.
func TestTrampolineStressThroughEngine(t *testing.T) {
	e := tierEngine(t, TierCompiled, nil)
	var prof bytes.Buffer
	if err := pprof.StartCPUProfile(&prof); err == nil {
		defer pprof.StopCPUProfile()
	}
	stop := make(chan struct{})
	var gcs sync.WaitGroup
	gcs.Add(1)
	go func() {
		defer gcs.Done()
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
				time.Sleep(time.Millisecond)
			}
		}
	}()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inst, _ := tierInstance(t, e, tierProg)
			for i := range 20 {
				n := uint64(10 + (g+i)%8)
				if got, want := call(t, e, inst, "fib", n), fibRef(n); got != want {
					t.Errorf("fib(%d) = %d, want %d", n, got, want)
					return
				}
				call(t, e, inst, "deep", 3000)
				call(t, e, inst, "loop", 5000)
			}
		}()
	}
	wg.Wait()
	close(stop)
	gcs.Wait()
}

func fibRef(n uint64) uint64 {
	a, b := uint64(0), uint64(1)
	for range n {
		a, b = b, a+b
	}
	return a
}

// A long compiled loop does not hold up the GC: its budget exits let the
// stop-the-world in. The test reports the largest GC pause seen.
func TestLongCompiledLoopLetsGCIn(t *testing.T) {
	e := tierEngine(t, TierCompiled, nil)
	inst, _ := tierInstance(t, e, tierProg)
	stop := make(chan struct{})
	gcDone := make(chan int)
	before := gcPauses()
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				gcDone <- n
				return
			default:
				runtime.GC()
				n++
			}
		}
	}()
	start := time.Now()
	call(t, e, inst, "spin", 400_000_000)
	loop := time.Since(start)
	close(stop)
	n := <-gcDone
	after := gcPauses()
	maxPause := maxNewPause(before, after)
	t.Logf("compiled loop %v, %d collections during it, GC pauses: %v", loop, n, newPauses(before, after))
	if n < 2 {
		t.Fatalf("only %d collections completed during a %v loop", n, loop)
	}
	if maxPause > loop/2 {
		t.Fatalf("max GC pause %v in a %v loop", maxPause, loop)
	}
}

func gcPauses() *metrics.Float64Histogram {
	s := []metrics.Sample{{Name: "/sched/pauses/total/gc:seconds"}}
	metrics.Read(s)
	return s[0].Value.Float64Histogram()
}

// maxNewPause is the upper bound of the largest bucket that grew.
func maxNewPause(a, b *metrics.Float64Histogram) time.Duration {
	var m float64
	for i := range b.Counts {
		if b.Counts[i] > a.Counts[i] {
			m = b.Buckets[i+1]
		}
	}
	return time.Duration(m * float64(time.Second))
}

var _ = context.Background

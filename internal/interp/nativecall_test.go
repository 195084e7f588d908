package interp

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

// nativeCallProg calls compiled functions from compiled functions, and
// has something leave to Go at the bottom of a chain of n native calls
// (down): a trap, memory.grow (an interp exit), a host call, a long loop
// (budget exits), unbounded recursion, a call_indirect (a call exit).
const nativeCallProg = `(module
  (import "env" "twice" (func $twice (param i32) (result i32)))
  (type $t (func (param i32) (result i32)))
  (memory 1)
  (table 1 funcref)
  (elem (i32.const 0) $sq)
  (func $sq (type $t) (i32.mul (local.get 0) (local.get 0)))
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func $even (export "even") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1))
      (else (call $odd (i32.sub (local.get 0) (i32.const 1))))))
  (func $odd (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (call $even (i32.sub (local.get 0) (i32.const 1))))))
  ;; $y and $z read 0 only if the call cleared them: down2 runs the chain
  ;; twice over the same slots, the first run leaving 12345 in them. Ten
  ;; locals take the native entry's clearing loop, small's two the
  ;; unrolled stores.
  (func $down (export "down") (param $n i32) (param $what i32) (result i32)
    (local $y i64) (local i64 i64 i64 i64 i64 i64 i64 i64) (local $z i32)
    (local.set $z (i32.add (i32.wrap_i64 (local.get $y)) (local.get $z)))
    (local.set $y (i64.const 12345))
    (i32.add (i32.add (local.get $z) (call $small (local.get $n)))
      (if (result i32) (i32.eqz (local.get $n))
        (then (call $bottom (local.get $what)))
        (else (call $down (i32.sub (local.get $n) (i32.const 1)) (local.get $what))))))
  (func $small (param $n i32) (result i32) (local $a i32) (local $b i32)
    (local.set $b (i32.add (local.get $a) (local.get $b)))
    (local.set $a (i32.const 777))
    (local.get $b))
  (func $bottom (param $what i32) (result i32) (local $i i32) (local $s i32)
    (if (i32.eq (local.get $what) (i32.const 0)) (then unreachable))
    (if (i32.eq (local.get $what) (i32.const 1)) (then (return (memory.grow (i32.const 1)))))
    (if (i32.eq (local.get $what) (i32.const 2)) (then (return (call $twice (i32.const 21)))))
    (if (i32.eq (local.get $what) (i32.const 3)) (then
      (loop $l
        (local.set $s (i32.add (local.get $s) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 300000))))
      (return (local.get $s))))
    (if (i32.eq (local.get $what) (i32.const 4)) (then (return (call $inf (i32.const 0)))))
    (if (i32.eq (local.get $what) (i32.const 5)) (then
      (return (call_indirect (type $t) (i32.const 9) (i32.const 0)))))
    (i32.const -1))
  (func $inf (param i32) (result i32) (i32.add (i32.const 1) (call $inf (local.get 0))))
  (func (export "down2") (param $n i32) (param $what i32) (result i32)
    (i32.add (call $down (local.get $n) (local.get $what))
             (i32.add (call $down (local.get $n) (local.get $what)) (memory.size)))))`

// nativeCallInstance instantiates nativeCallProg with e, env.twice doubling
// its argument.
func nativeCallInstance(tb testing.TB, e *Engine) (*store.Instance, *Compiled) {
	tb.Helper()
	m, err := binary.Decode(wat(tb, nativeCallProg))
	if err != nil {
		tb.Fatal(err)
	}
	em, err := e.Compile(m)
	if err != nil {
		tb.Fatal(err)
	}
	c := em.(*Compiled)
	st := store.NewStore()
	hm, err := st.InstantiateHost(&store.HostModule{Name: "env", Funcs: []store.HostFunc{{
		Name: "twice", Type: wasm.FuncType{Params: []wasm.ValType{wasm.I32}, Results: []wasm.ValType{wasm.I32}},
		Fn: func(_ context.Context, _ api.Module, stack []uint64) { stack[0] = uint64(uint32(stack[0]) * 2) },
	}}})
	if err != nil {
		tb.Fatal(err)
	}
	twice, _ := hm.Export("twice")
	inst, err := st.Instantiate(m, "test", c.Code(), func(mod, name string) (store.Extern, bool) {
		return twice, mod == "env" && name == "twice"
	})
	if err != nil {
		tb.Fatal(err)
	}
	return inst, c
}

// outcome is what a call did, in a form two tiers' runs compare by: the
// results or the trap with its whole trace, and the memory size.
func outcome(tb testing.TB, e *Engine, inst *store.Instance, name string, args ...uint64) string {
	tb.Helper()
	r, err := invoke(tb, e, inst, name, args...)
	pages := len(inst.Memories[0].Buf) >> 16
	var te *api.TrapError
	if errors.As(err, &te) {
		return fmt.Sprintf("trap %v, %d frames %+v, %d pages", te.Kind, len(te.Stack), te.Stack, pages)
	}
	if err != nil {
		tb.Fatalf("%s%v: %v", name, args, err)
	}
	return fmt.Sprintf("%v, %d pages", r, pages)
}

// Calls between compiled functions run natively and compute what the
// interpreter computes: fib, mutual recursion, and chains of 1, 2 and 1000
// native calls at whose bottom something exits to Go (memory.grow, a host
// call, budget exits, a call_indirect) or traps (unreachable, unbounded
// recursion), the trap's trace listing every natively called frame. That
// the calls were native shows in the frames Go adopted at those exits.
func TestNativeCallsMatchInterpreter(t *testing.T) {
	ei := tierEngine(t, TierInterp, nil)
	ec := tierEngine(t, TierCompiled, nil)
	type tc struct {
		name string
		args []uint64
	}
	cases := []tc{{"fib", []uint64{24}}, {"even", []uint64{10001}}, {"even", []uint64{7}}}
	for _, n := range []uint64{0, 1, 2, 1000} {
		for what := range uint64(6) {
			cases = append(cases, tc{"down2", []uint64{n, what}})
		}
	}
	for _, c := range cases {
		ii, _ := nativeCallInstance(t, ei)
		ic, comp := nativeCallInstance(t, ec)
		if s := comp.TierStats(); s.Compiled != len(comp.funcs) {
			t.Fatalf("compiled %d of %d functions", s.Compiled, len(comp.funcs))
		}
		before := ec.tier.adopted.Load()
		want, got := outcome(t, ei, ii, c.name, c.args...), outcome(t, ec, ic, c.name, c.args...)
		if got != want {
			t.Errorf("%s%v: compiled %.300s\ninterpreter %.300s", c.name, c.args, got, want)
		}
		adopted := ec.tier.adopted.Load() - before
		if c.name == "down2" && c.args[1] < 6 {
			// down2 -> down (n+1 levels) -> bottom: n+2 native calls
			// under way when the bottom exits, but for the few calls
			// that exit because the value stack must grow (Go doubles
			// it, so at most a handful in 1000).
			min := int64(c.args[0] + 2)
			if c.args[0] > 100 {
				min -= 10
			}
			if adopted < min {
				t.Errorf("%s%v: Go adopted %d frames of native calls, want at least %d", c.name, c.args, adopted, min)
			}
		}
	}
}

// A run stopped at its N-th pause point, for every N, stands at the same
// frames in both tiers when the compiled run is inside natively called
// functions (Counting's budget runs out in a callee's entry poll or loop:
// the frames Go adopts must be the interpreter's exactly), and resuming
// the compiled tier's frames gives the interpreter's result.
func TestNativeCallsPauseAtEveryPointAsInterpreter(t *testing.T) {
	ctx := context.Background()
	ei := tierEngine(t, TierInterp, nil)
	ec := tierEngine(t, TierCompiled, nil)
	for _, c := range []struct {
		name string
		args []uint64
	}{{"fib", []uint64{9}}, {"even", []uint64{21}}, {"down2", []uint64{3, 1}}, {"down2", []uint64{3, 2}}, {"down2", []uint64{2, 5}}} {
		iw, _ := nativeCallInstance(t, ei)
		want := outcome(t, ei, iw, c.name, c.args...)
		before := ec.tier.adopted.Load()
		for n := int64(1); ; n++ {
			ii, _ := nativeCallInstance(t, ei)
			ic, _ := nativeCallInstance(t, ec)
			_, errI := ei.Counting(n).Call(ctx, export(t, ii, c.name), c.args)
			_, errC := ec.Counting(n).Call(ctx, export(t, ic, c.name), c.args)
			var sI, sC *Suspended
			okI, okC := errors.As(errI, &sI), errors.As(errC, &sC)
			if okI != okC {
				t.Fatalf("%s%v N=%d: interpreter %v, compiled %v", c.name, c.args, n, errI, errC)
			}
			if !okI {
				if errI != nil || errC != nil {
					t.Fatalf("%s%v N=%d: interpreter %v, compiled %v", c.name, c.args, n, errI, errC)
				}
				if n < 10 {
					t.Fatalf("%s%v: only %d pause points", c.name, c.args, n-1)
				}
				break
			}
			fi, fc := fmt.Sprintf("%+v", sI.Frames), fmt.Sprintf("%+v", sC.Frames)
			if fi != fc || sI.Polled != sC.Polled {
				t.Fatalf("%s%v N=%d: compiled stopped at (%d polled)\n%.600s\ninterpreter (%d polled)\n%.600s", c.name, c.args, n, sC.Polled, fc, sI.Polled, fi)
			}
			r, err := ec.Resume(ctx, ic, sC.Frames)
			pages := len(ic.Memories[0].Buf) >> 16
			if got := fmt.Sprintf("%v, %d pages", r, pages); err != nil || got != want {
				t.Fatalf("%s%v N=%d: resumed compiled: %v %v, want %s", c.name, c.args, n, got, err, want)
			}
		}
		if ec.tier.adopted.Load() == before {
			t.Errorf("%s%v: no pause inside a native call", c.name, c.args)
		}
	}
}

// SetNonEntrant while callers run natively: the dispatch table's words go
// to 0 at once, so the next native call of any function exits to Go and
// runs interpreted, frames already in the code finish there or fall back
// at their next exit, and the result is exact.
func TestSetNonEntrantDuringNativeCalls(t *testing.T) {
	ei := tierEngine(t, TierInterp, nil)
	ii, _ := nativeCallInstance(t, ei)
	want := outcome(t, ei, ii, "fib", 27)
	for _, delay := range []time.Duration{0, time.Millisecond, 3 * time.Millisecond} {
		ec := tierEngine(t, TierCompiled, nil)
		ic, comp := nativeCallInstance(t, ec)
		done := make(chan string)
		go func() { done <- outcome(t, ec, ic, "fib", 27) }()
		time.Sleep(delay)
		comp.SetNonEntrant()
		if got := <-done; got != want {
			t.Fatalf("delay %v: fib(27) = %s, want %s", delay, got, want)
		}
		for i, w := range comp.codes.dispatch {
			if i%2 == 0 && w != 0 {
				t.Fatalf("delay %v: dispatch word of function %d is %#x after SetNonEntrant", delay, i/2, w)
			}
		}
		// Calls now run interpreted: no native call is left to adopt.
		before := ec.tier.adopted.Load()
		if got := outcome(t, ec, ic, "down2", 50, 3); got != outcome(t, ei, ii, "down2", 50, 3) {
			t.Fatalf("delay %v: down2 after SetNonEntrant: %s", delay, got)
		}
		if n := ec.tier.adopted.Load() - before; n != 0 {
			t.Fatalf("delay %v: %d frames of native calls after SetNonEntrant", delay, n)
		}
	}
}

// Deopt stress with native calls: budget exits deep in native callees
// (the stress countdown runs out there) and entries whose native calls
// are all turned off; results stay the interpreter's, and deep exits
// were adopted.
func TestDeoptStressInNativeCallees(t *testing.T) {
	ei := tierEngine(t, TierInterp, nil)
	for _, seed := range []uint64{1, 7, 42} {
		es := tierEngine(t, TierCompiled, func(c *Config) { c.DeoptStress = seed })
		for _, c := range []struct {
			name string
			args []uint64
		}{{"fib", []uint64{18}}, {"even", []uint64{3001}}, {"down2", []uint64{300, 3}}, {"down2", []uint64{40, 0}}, {"down2", []uint64{40, 2}}} {
			ii, _ := nativeCallInstance(t, ei)
			is, _ := nativeCallInstance(t, es)
			if a, b := outcome(t, ei, ii, c.name, c.args...), outcome(t, es, is, c.name, c.args...); a != b {
				t.Errorf("seed %d: %s%v: under stress %.300s\ninterpreter %.300s", seed, c.name, c.args, b, a)
			}
		}
		if es.tier.stressDeopts.Load() == 0 || es.tier.adopted.Load() == 0 {
			t.Errorf("seed %d: %d forced deoptimizations, %d adopted frames", seed, es.tier.stressDeopts.Load(), es.tier.adopted.Load())
		}
	}
}

package interp

import (
	"context"
	"errors"
	"fmt"
	"testing"

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

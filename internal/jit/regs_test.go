package jit

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/wasm"
)

// homesWat builds a module whose loop keeps more locals of each class
// live across its back-edges than there are home registers (12 i32, 4
// i64, 7 f32, 7 f64 besides the counters), so that some stay in slots,
// and takes every kind of exit in the loop while the homes hold values
// their slots do not: polls (of the loop and a nested one), a call
// (ExitCall), memory.grow (ExitInterp) and, when the loop counter reaches
// $trapAt, a division by zero. memory.fill and memory.copy take local
// operands (REP STOSB and MOVSB use RSI, RDI and RCX, two of them homes).
// The result folds every local into one i64.
func homesWat() string {
	i32s := []string{"a", "b", "c", "d", "e", "f", "g", "h", "k", "l", "j", "m"}
	i64s := []string{"p", "q", "r", "s"}
	f32s := []string{"x", "y", "z", "w", "u", "v", "t"}
	f64s := []string{"X", "Y", "Z", "W", "U", "V", "T"}
	var b strings.Builder
	b.WriteString(`(module
  (memory 1 4)
  (func $bump (param i32) (result i32) (i32.add (local.get 0) (i32.const 3)))
  (func (export "many") (param $n i32) (param $trapAt i32) (result i64)
`)
	decl := func(names []string, t string) {
		for _, n := range names {
			fmt.Fprintf(&b, "    (local $%s %s)\n", n, t)
		}
	}
	decl(i32s, "i32")
	decl(i64s, "i64")
	decl(f32s, "f32")
	decl(f64s, "f64")
	b.WriteString("    (local $i i32) (local $acc i64)\n")
	for k, n := range i32s {
		fmt.Fprintf(&b, "    (local.set $%s (i32.const %d))\n", n, 3+k*7)
	}
	for k, n := range i64s {
		fmt.Fprintf(&b, "    (local.set $%s (i64.const %d))\n", n, 0x1234567+k*977)
	}
	for k, n := range f32s {
		fmt.Fprintf(&b, "    (local.set $%s (f32.const %g))\n", n, 1.25+float64(k)/3)
	}
	for k, n := range f64s {
		fmt.Fprintf(&b, "    (local.set $%s (f64.const %g))\n", n, 1.0001+float64(k)/7)
	}
	b.WriteString(`    (loop $top
      (local.set $a (i32.add (local.get $a) (local.get $i)))
      (local.set $b (i32.xor (local.get $b) (i32.shl (local.get $a) (local.get $i))))
      (local.set $c (i32.rotl (local.get $c) (local.get $b)))
      (local.set $d (i32.div_u (local.get $a) (i32.sub (local.get $trapAt) (local.get $i))))
      (local.set $e (i32.rem_s (local.get $b) (i32.or (local.get $a) (i32.const 1))))
      (local.set $f (i32.mul (local.get $f) (local.get $f)))
      (local.set $f (i32.add (local.get $f) (call $bump (local.get $e))))
      (local.set $g (i32.add (local.get $g) (memory.grow (i32.const 0))))
      (local.set $h (select (local.get $a) (local.get $b) (i32.and (local.get $i) (i32.const 1))))
      (local.set $k (i32.load (i32.and (local.get $b) (i32.const 0xfc))))
      (i32.store offset=256 (i32.shl (i32.and (local.get $i) (i32.const 63)) (i32.const 2)) (local.get $a))
      (local.set $l (i32.eqz (local.get $k)))
      (local.set $j (i32.const 3))
      (loop $inner
        (local.set $m (i32.sub (local.get $m) (i32.mul (local.get $j) (local.get $h))))
        (br_if $inner (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
      (local.set $p (i64.add (local.get $p) (i64.extend_i32_s (local.get $b))))
      (local.set $q (i64.mul (local.get $q) (i64.const 6364136223846793005)))
      (local.set $q (i64.add (local.get $q) (local.get $p)))
      (local.set $r (i64.rotr (local.get $q) (local.get $p)))
      (local.set $s (i64.sub (local.get $s) (i64.reinterpret_f64 (local.get $X))))
      (local.set $a (i32.xor (local.get $a) (i32.wrap_i64 (i64.shr_u (local.get $q) (i64.const 33)))))
      (local.set $x (f32.add (local.get $x) (local.get $y)))
      (local.set $y (f32.mul (local.get $y) (f32.const 1.0001)))
      (local.set $z (f32.min (local.get $z) (local.get $x)))
      (local.set $w (f32.copysign (local.get $w) (f32.sub (local.get $z) (local.get $x))))
      (local.set $u (f32.convert_i32_s (local.get $b)))
      (local.set $v (f32.demote_f64 (local.get $Y)))
      (local.set $t (f32.div (local.get $u) (local.get $t)))
      (local.set $X (f64.add (local.get $X) (f64.promote_f32 (local.get $x))))
      (local.set $Y (f64.div (local.get $Y) (f64.sqrt (local.get $X))))
      (local.set $Z (f64.max (local.get $Z) (local.get $Y)))
      (local.set $W (f64.convert_i64_u (local.get $q)))
      (local.set $U (f64.floor (local.get $X)))
      (local.set $V (f64.mul (local.get $V) (local.get $V)))
      (local.set $T (select (local.get $X) (local.get $Y) (f64.lt (local.get $X) (local.get $Y))))
      (local.set $c (i32.add (local.get $c) (i32.trunc_sat_f32_s (local.get $x))))
      (local.set $d (i32.add (local.get $d) (i32.reinterpret_f32 (local.get $w))))
      (f64.store offset=512 (i32.shl (i32.and (local.get $i) (i32.const 31)) (i32.const 3)) (local.get $T))
      (f32.store offset=768 (i32.shl (i32.and (local.get $i) (i32.const 31)) (i32.const 2)) (local.get $t))
      (memory.fill (i32.add (i32.const 1024) (i32.and (local.get $a) (i32.const 127))) (local.get $b) (i32.and (local.get $i) (i32.const 15)))
      (memory.copy (i32.add (i32.const 2048) (i32.and (local.get $a) (i32.const 255))) (local.get $h) (i32.and (local.get $c) (i32.const 63)))
      (br_if $top (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
`)
	fold := func(names []string, conv string) {
		for _, n := range names {
			fmt.Fprintf(&b, "    (local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 31)) %s))\n", fmt.Sprintf(conv, "(local.get $"+n+")"))
		}
	}
	fold(i32s, "(i64.extend_i32_u %s)")
	fold(i64s, "%s")
	fold(f32s, "(i64.extend_i32_u (i32.reinterpret_f32 %s))")
	fold(f64s, "(i64.reinterpret_f64 %s)")
	b.WriteString("    (local.get $acc))\n)\n")
	return b.String()
}

// TestRegisterHomesDifferential runs the loop of homesWat compiled, with
// budgets that make every poll exit (re-entering through Cont[id] every
// other time, which reloads every home from its slot) and with a large
// one, against the interpreter: results, traps and memory must agree.
// A home that a spill or reload missed shows as a wrong value.
func TestRegisterHomesDifferential(t *testing.T) {
	m := loadWat(t, homesWat())
	idx, _ := m.exportedFunc("many")
	h := allocHomes(m.ir[idx])
	if h == nil || len(h.slots) != len(gprPool)+len(xmmPool) {
		t.Fatalf("homes %+v: want every home register used", h)
	}
	alloc := newAlloc()
	code := compileExport(t, m, "many", alloc)
	for _, args := range [][]uint64{{40, 1000}, {1, 1000}, {40, 17}, {40, 0}} {
		want, wantInst, wantErr := interpCall(m, "many", args)
		for _, budget := range []int64{0, 1, 2, 1 << 16} {
			inst, err := m.instance()
			if err != nil {
				t.Fatal(err)
			}
			r := newRunner(inst, budget).withCalls(m, alloc)
			got, err := r.call(code, m.ir[idx], args, 3)
			r.free()
			if !sameOutcome(want, wantErr, got, err) {
				t.Fatalf("many%v budget %d: interpreter %v, %v; compiled %v, %v", args, budget, want, wantErr, got, err)
			}
			if d := stateDiff(wantInst, inst); d != "" {
				t.Fatalf("many%v budget %d: %s differs from the interpreter's", args, budget, d)
			}
			if budget <= 2 && args[0] > 1 && args[1] > 1 && r.reenter == 0 {
				t.Fatalf("many%v budget %d: no re-entry through Cont[id]", args, budget)
			}
		}
	}
}

// TestAllocHomesRanksByLoopDepth checks the allocator's choices: the
// locals of the innermost loop first, the register class by type, and no
// homes where v128 code reads slots.
func TestAllocHomesRanksByLoopDepth(t *testing.T) {
	var locals strings.Builder
	for k := 0; k < 10; k++ {
		fmt.Fprintf(&locals, "(local $c%d i32) ", k)
	}
	src := `(module
  (func (export "f") (param $n i32) (result f64) ` + locals.String() + `(local $i i32) (local $x f64)
    (local.set $c0 (i32.add (local.get $c1) (local.get $c2)))
    (local.set $c3 (i32.add (local.get $c4) (local.get $c5)))
    (local.set $c6 (i32.add (local.get $c7) (local.get $c8)))
    (local.set $c9 (i32.add (local.get $c0) (local.get $c3)))
    (loop $l
      (local.set $x (f64.add (local.get $x) (f64.convert_i32_u (local.get $i))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $x))
  (func (export "simd") (param $n i32) (result i32) (local $v v128)
    (local.set $v (i32x4.splat (local.get $n)))
    (i32x4.extract_lane 1 (local.get $v))))`
	m := loadWat(t, src)
	idx, _ := m.exportedFunc("f")
	f := m.ir[idx]
	h := allocHomes(f)
	if h == nil {
		t.Fatal("no homes")
	}
	n, i, x := uint32(0), uint32(11), uint32(12)
	for _, s := range []uint32{n, i} {
		if _, ok := h.gprOf(s); !ok {
			t.Errorf("loop local %d has no register home: %+v", s, h)
		}
	}
	if r, ok := h.xmmOf(x); !ok || r != xmmPool[0] {
		t.Errorf("f64 loop local %d: home %v, %v; want %v", x, r, ok, xmmPool[0])
	}
	gprs, tempXMM := 0, false
	for _, s := range h.slots {
		if _, ok := h.gprOf(s); ok {
			gprs++
		}
		if _, ok := h.xmmOf(s); ok && s >= f.LocalSlots {
			tempXMM = true
		}
	}
	if gprs != len(gprPool) {
		t.Errorf("%d GPR homes, want every one of %d", gprs, len(gprPool))
	}
	if !tempXMM {
		t.Errorf("the loop's f64 temporary (the conversion's result) has no XMM home: %+v", h)
	}
	d := loopDepths(f)
	inLoop := 0
	for _, v := range d {
		if v > 1 {
			t.Fatalf("loop depth %d in a function with one loop: %v", v, d)
		}
		inLoop += int(v)
	}
	if inLoop == 0 {
		t.Fatalf("no instruction in the loop: %v", d)
	}
	// The SIMD function: homes would hide values from code that reads
	// its operands from slots.
	sidx, _ := m.exportedFunc("simd")
	if h := allocHomes(m.ir[sidx]); h != nil {
		t.Errorf("a function with v128 code got homes %+v", h)
	}
}

// TestAllocHomesOddLocals: locals whose types do not account for the
// frame's local slots (a corrupt or hand-built function) get no homes,
// and neither do reference locals.
func TestAllocHomesOddLocals(t *testing.T) {
	f := &ir.Func{Locals: []wasm.ValType{wasm.I32, wasm.F64}, LocalSlots: 3, FrameSlots: 4,
		Code: []ir.Instr{{Op: ir.Mov, A: 0, B: 1}, {Op: ir.Return}}}
	if h := allocHomes(f); h != nil {
		t.Errorf("3 local slots for 2 scalar locals: homes %+v", h)
	}
	f.Locals = []wasm.ValType{wasm.I32, wasm.FuncRef, wasm.F64}
	h := allocHomes(f)
	if h == nil {
		t.Fatal("no homes")
	}
	if h.has(1) {
		t.Errorf("funcref local has a home: %+v", h)
	}
	if r, ok := h.gprOf(0); !ok || r != gprPool[0] {
		t.Errorf("i32 local 0: home %v, %v", r, ok)
	}
}

// TestWrapInPlaceClearsUpperHalf pins a bug of the first allocation of
// temporaries: i32.wrap_i64 whose source and result share a slot (and so
// a home register) moved nothing, leaving the i64's upper half in the
// i32 result (seed 11 of the random expressions, f38).
func TestWrapInPlaceClearsUpperHalf(t *testing.T) {
	m := loadWat(t, `(module (memory 1)
  (func (export "wrap") (param i64) (result i32) (i32.wrap_i64 (i64.add (local.get 0) (i64.const 0))))
  (func (export "wrapShl") (param i64 i64) (result i32)
    (i32.wrap_i64 (i64.shl (local.get 0) (i64.clz (local.get 1)))))
  (func (export "wrapStore") (param i64) (result i64)
    (i32.store (i32.const 8) (i32.wrap_i64 (i64.mul (local.get 0) (i64.const 3))))
    (i64.load (i32.const 8))))`)
	for _, c := range []struct {
		name string
		args []uint64
	}{
		{"wrap", []uint64{0x1_0000_0005}},
		{"wrap", []uint64{0xffff_ffff_ffff_fff0}},
		{"wrapShl", []uint64{0x8_0000_0003, 1 << 60}},
		{"wrapStore", []uint64{0x5_5555_5555}},
	} {
		want, _, wantErr := interpCall(m, c.name, c.args)
		got, _, err := runExport(t, m, c.name, 1<<16, c.args...)
		if !sameOutcome(want, wantErr, got, err) {
			t.Errorf("%s%v: interpreter %#x, %v; compiled %#x, %v", c.name, c.args, want, wantErr, got, err)
		}
	}
}

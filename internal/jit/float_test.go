package jit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/interp"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/native"
	"github.com/ferryvm/ferry/internal/native/amd64asm"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

// The float lowering is tested against the interpreter, the semantics
// every tier must reproduce bit for bit: each operation is one function
// of a small Wasm module the interpreter runs, and one IR instruction
// that emitFloat compiles into a harness the test enters natively, for
// the baseline x86-64 mask and for the host's (with SSE4.1 when it has
// it), on edge values and seeded random bit patterns.

// floatOp is one operation under test: its IR op, its Wasm encoding and
// its signature.
type floatOp struct {
	name   string
	op     ir.Op
	code   []byte // the Wasm instruction
	params []wasm.ValType
	result wasm.ValType
}

func floatOps() []floatOp {
	var ops []floatOp
	add := func(name string, op ir.Op, code []byte, result wasm.ValType, params ...wasm.ValType) {
		ops = append(ops, floatOp{name, op, code, params, result})
	}
	one := func(name string, w wasm.Opcode, result wasm.ValType, params ...wasm.ValType) {
		add(name, ir.Op(w), []byte{byte(w)}, result, params...)
	}
	f32, f64, i32, i64 := wasm.F32, wasm.F64, wasm.I32, wasm.I64
	for i, n := range []string{"eq", "ne", "lt", "gt", "le", "ge"} {
		one("f32."+n, wasm.OpF32Eq+wasm.Opcode(i), i32, f32, f32)
		one("f64."+n, wasm.OpF64Eq+wasm.Opcode(i), i32, f64, f64)
	}
	for i, n := range []string{"abs", "neg", "ceil", "floor", "trunc", "nearest", "sqrt"} {
		one("f32."+n, wasm.OpF32Abs+wasm.Opcode(i), f32, f32)
		one("f64."+n, wasm.OpF64Abs+wasm.Opcode(i), f64, f64)
	}
	for i, n := range []string{"add", "sub", "mul", "div", "min", "max", "copysign"} {
		one("f32."+n, wasm.OpF32Add+wasm.Opcode(i), f32, f32, f32)
		one("f64."+n, wasm.OpF64Add+wasm.Opcode(i), f64, f64, f64)
	}
	one("i32.trunc_f32_s", wasm.OpI32TruncF32S, i32, f32)
	one("i32.trunc_f32_u", wasm.OpI32TruncF32U, i32, f32)
	one("i32.trunc_f64_s", wasm.OpI32TruncF64S, i32, f64)
	one("i32.trunc_f64_u", wasm.OpI32TruncF64U, i32, f64)
	one("i64.trunc_f32_s", wasm.OpI64TruncF32S, i64, f32)
	one("i64.trunc_f32_u", wasm.OpI64TruncF32U, i64, f32)
	one("i64.trunc_f64_s", wasm.OpI64TruncF64S, i64, f64)
	one("i64.trunc_f64_u", wasm.OpI64TruncF64U, i64, f64)
	one("f32.convert_i32_s", wasm.OpF32ConvertI32S, f32, i32)
	one("f32.convert_i32_u", wasm.OpF32ConvertI32U, f32, i32)
	one("f32.convert_i64_s", wasm.OpF32ConvertI64S, f32, i64)
	one("f32.convert_i64_u", wasm.OpF32ConvertI64U, f32, i64)
	one("f32.demote_f64", wasm.OpF32DemoteF64, f32, f64)
	one("f64.convert_i32_s", wasm.OpF64ConvertI32S, f64, i32)
	one("f64.convert_i32_u", wasm.OpF64ConvertI32U, f64, i32)
	one("f64.convert_i64_s", wasm.OpF64ConvertI64S, f64, i64)
	one("f64.convert_i64_u", wasm.OpF64ConvertI64U, f64, i64)
	one("f64.promote_f32", wasm.OpF64PromoteF32, f64, f32)
	one("i32.reinterpret_f32", wasm.OpI32ReinterpretF32, i32, f32)
	one("i64.reinterpret_f64", wasm.OpI64ReinterpretF64, i64, f64)
	one("f32.reinterpret_i32", wasm.OpF32ReinterpretI32, f32, i32)
	one("f64.reinterpret_i64", wasm.OpF64ReinterpretI64, f64, i64)
	for k, n := range []string{"i32.trunc_sat_f32_s", "i32.trunc_sat_f32_u", "i32.trunc_sat_f64_s", "i32.trunc_sat_f64_u",
		"i64.trunc_sat_f32_s", "i64.trunc_sat_f32_u", "i64.trunc_sat_f64_s", "i64.trunc_sat_f64_u"} {
		res, src := i32, f32
		if k >= 4 {
			res = i64
		}
		if k%4 >= 2 {
			src = f64
		}
		add(n, ir.SatBase+ir.Op(k), []byte{0xFC, byte(k)}, res, src)
	}
	return ops
}

// floatModule encodes a module exporting one function per op, named
// after it, whose body is local.get of each parameter and the op.
func floatModule(ops []floatOp) []byte {
	sec := func(out []byte, id byte, body []byte) []byte {
		out = append(out, id)
		out = wasmULEB(out, uint64(len(body)))
		return append(out, body...)
	}
	var types, funcs, exports, code []byte
	types = wasmULEB(types, uint64(len(ops)))
	funcs = wasmULEB(funcs, uint64(len(ops)))
	exports = wasmULEB(exports, uint64(len(ops)))
	code = wasmULEB(code, uint64(len(ops)))
	for i, o := range ops {
		types = append(types, 0x60)
		types = wasmULEB(types, uint64(len(o.params)))
		for _, p := range o.params {
			types = append(types, byte(p))
		}
		types = append(types, 1, byte(o.result))
		funcs = wasmULEB(funcs, uint64(i))
		exports = wasmULEB(exports, uint64(len(o.name)))
		exports = append(exports, o.name...)
		exports = append(exports, 0)
		exports = wasmULEB(exports, uint64(i))
		body := []byte{0} // no locals
		for j := range o.params {
			body = append(body, 0x20, byte(j))
		}
		body = append(append(body, o.code...), 0x0B)
		code = wasmULEB(code, uint64(len(body)))
		code = append(code, body...)
	}
	m := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	m = sec(m, 1, types)
	m = sec(m, 3, funcs)
	m = sec(m, 7, exports)
	return sec(m, 10, code)
}

func wasmULEB(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// floatOutcome is one result: the value of the result slot, or the trap.
type floatOutcome struct {
	val  uint64
	trap TrapCode
}

func (o floatOutcome) String() string {
	if o.trap != TrapNone {
		return fmt.Sprintf("trap %d", o.trap)
	}
	return fmt.Sprintf("%#x", o.val)
}

// floatOracle runs the ops in the interpreter.
type floatOracle struct {
	eng  *interp.Engine
	inst *store.Instance
}

func newFloatOracle(t testing.TB, ops []floatOp) *floatOracle {
	t.Helper()
	m, err := binary.Decode(floatModule(ops))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	c, err := interp.CompileWithoutPolls(m)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	inst, err := store.NewStore().Instantiate(m, "float", c.Code(), func(string, string) (store.Extern, bool) { return store.Extern{}, false })
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	return &floatOracle{eng: interp.NewEngine(interp.Config{}), inst: inst}
}

var floatTrapKinds = []struct {
	err  error
	code TrapCode
}{
	{api.ErrInvalidConversion, TrapInvalidConversion},
	{api.ErrIntegerOverflow, TrapIntegerOverflow},
}

func (o *floatOracle) run(t testing.TB, name string, args []uint64) floatOutcome {
	e := o.inst.Exports[name]
	res, err := o.eng.Call(context.Background(), o.inst.Funcs[e.Index], args)
	if err != nil {
		var te *api.TrapError
		if errors.As(err, &te) {
			for _, k := range floatTrapKinds {
				if errors.Is(te.Kind, k.err) {
					return floatOutcome{trap: k.code}
				}
			}
		}
		t.Fatalf("%s%#x: interpreter: %v", name, args, err)
	}
	return floatOutcome{val: res[0]}
}

// floatHarness is one op compiled by emitFloat between an entry that sets the
// frame base and a return exit, with one exit stub per trap code it
// asked for.
type floatHarness struct {
	unit   *native.Unit
	ctx    *native.Context
	stack  []uint64
	before []uint64 // the stack as the run started
	dst    uint32
}

// floatFrameSlot is where the harness frame starts in the value stack, so
// that slot addressing relative to R15 is exercised with R15 != R12;
// floatCheckSlot (in the frame) receives the harness's check that R15 kept
// its value.
const floatFrameSlot, floatCheckSlot = 3, 4

func floatExit(a *amd64asm.Asm, kind native.ExitKind, arg uint32) {
	a.StoreImm(amd64asm.W32, amd64asm.M(amd64asm.RBX, native.OffExit), int32(kind))
	a.StoreImm(amd64asm.W32, amd64asm.M(amd64asm.RBX, native.OffExitArg), int32(arg))
	a.Load(amd64asm.W64, amd64asm.RSP, amd64asm.M(amd64asm.RBX, native.OffEntrySP))
	a.Load(amd64asm.W64, amd64asm.RBP, amd64asm.M(amd64asm.RBX, native.OffEntryBP))
	a.Ret()
}

// assembleFloat compiles in for feats; it fails the test if emitFloat does not
// take the op or the code needs a feature outside feats.
func assembleFloat(t testing.TB, feats cpu.Set, in ir.Instr) []byte {
	t.Helper()
	var a amd64asm.Asm
	a.Lea(amd64asm.W64, amd64asm.R15, amd64asm.M(amd64asm.R12, 8*floatFrameSlot))
	var traps []TrapCode
	labels := map[TrapCode]amd64asm.Label{}
	trap := func(c TrapCode) amd64asm.Label {
		l, ok := labels[c]
		if !ok {
			l = a.NewLabel()
			labels[c] = l
			traps = append(traps, c)
		}
		return l
	}
	slot := func(i uint32) amd64asm.Mem { return amd64asm.M(amd64asm.R15, int32(8*i)) }
	if !emitFloat(&a, feats, &in, slot, trap) {
		t.Fatalf("emitFloat does not take op %#x", in.Op)
	}
	// emitFloat must leave the frame base alone: slot floatCheckSlot
	// gets R15 - (R12 + 8*floatFrameSlot), which must be 0.
	a.Lea(amd64asm.W64, amd64asm.RAX, amd64asm.M(amd64asm.R12, 8*floatFrameSlot))
	a.ALU(amd64asm.SUB, amd64asm.W64, amd64asm.RAX, amd64asm.R15)
	a.Store(amd64asm.W64, slot(floatCheckSlot), amd64asm.RAX)
	floatExit(&a, native.ExitReturn, 0)
	for _, c := range traps {
		a.Bind(labels[c])
		floatExit(&a, native.ExitTrap, uint32(c))
	}
	code, err := a.Finish()
	if err != nil {
		t.Fatalf("op %#x: %v", in.Op, err)
	}
	// The SSE4.1 feature is only in the mask when it was offered: the
	// baseline code must run on any x86-64.
	if got := a.Features(); !got.SubsetOf(feats) {
		t.Fatalf("op %#x for mask %v needs %v", in.Op, feats, got)
	}
	return append([]byte(nil), code...)
}

func skipFloatWithoutNative(t *testing.T, alloc *native.Allocator) {
	u, err := alloc.Map([]byte{0xC3})
	if errors.Is(err, native.ErrNotSupported) {
		t.Skip("generated code cannot run here:", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	_ = u.Free()
}

func newFloatHarness(t testing.TB, alloc *native.Allocator, feats cpu.Set, in ir.Instr) *floatHarness {
	t.Helper()
	u, err := alloc.Map(assembleFloat(t, feats, in))
	if errors.Is(err, native.ErrNotSupported) {
		t.Skip("generated code cannot run here:", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Free() })
	h := &floatHarness{unit: u, ctx: native.NewContext(), stack: make([]uint64, floatFrameSlot+floatCheckSlot+2), dst: in.A}
	h.before = make([]uint64, len(h.stack))
	h.ctx.SetStack(h.stack)
	return h
}

// floatGarbage fills the result slot and the slots around the operands,
// so that a store of fewer than 8 bytes, or to another slot, shows.
const floatGarbage = 0xdeadbeefcafef00d

func (h *floatHarness) run(t testing.TB, args []uint64) floatOutcome {
	for i := range h.stack {
		h.stack[i] = floatGarbage
	}
	copy(h.stack[floatFrameSlot:], args)
	copy(h.before, h.stack)
	ex, err := h.unit.Enter(h.ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	switch ex.Kind {
	case native.ExitReturn:
		if d := h.stack[floatFrameSlot+floatCheckSlot]; d != 0 {
			t.Fatalf("the code moved the frame base R15 by %d", int64(d))
		}
		for i, v := range h.stack {
			if i != floatFrameSlot+int(h.dst) && i != floatFrameSlot+floatCheckSlot && v != h.before[i] {
				t.Fatalf("stack slot %d changed from %#x to %#x; only frame slot %d is the result", i, h.before[i], v, h.dst)
			}
		}
		return floatOutcome{val: h.stack[floatFrameSlot+int(h.dst)]}
	case native.ExitTrap:
		// A trapping instruction writes nothing, as in the interpreter.
		for i, v := range h.stack {
			if v != h.before[i] {
				t.Fatalf("trap %d, yet stack slot %d changed from %#x to %#x", ex.Arg, i, h.before[i], v)
			}
		}
		return floatOutcome{trap: TrapCode(ex.Arg)}
	}
	t.Fatalf("unexpected exit %v", ex)
	return floatOutcome{}
}

// floatMasks are the feature masks the tests compile for: baseline
// x86-64 (no SSE4.1: the rounding fallback) and the host's, when it
// differs.
func floatMasks() []floatMask {
	base := cpu.Baseline("amd64")
	masks := []floatMask{{"baseline", base}}
	if h := cpu.Host().Set(); h.Has(cpu.X86SSE2) && h != base {
		masks = append(masks, floatMask{"host", h})
	}
	return masks
}

type floatMask struct {
	name string
	set  cpu.Set
}

// Edge values, by type.
func floatEdges32() []uint64 {
	var v []uint64
	fl := func(xs ...float32) {
		for _, x := range xs {
			v = append(v, uint64(math.Float32bits(x)), uint64(math.Float32bits(-x)))
			v = append(v, uint64(math.Float32bits(math.Nextafter32(x, 0))), uint64(math.Float32bits(math.Nextafter32(x, float32(math.Inf(1))))))
			v = append(v, uint64(math.Float32bits(math.Nextafter32(-x, 0))), uint64(math.Float32bits(math.Nextafter32(-x, float32(math.Inf(-1))))))
		}
	}
	fl(0, 1, 0.5, 1.5, 2.5, 3.5, 0.75, 1<<23, 1<<24, 1<<31, 1<<32, 1<<63, 1<<64, 2147483520, 4294967040,
		math.MaxFloat32, math.SmallestNonzeroFloat32, 1.1754944e-38, float32(math.Inf(1)), 0.49999997, 8388607.5)
	v = append(v, 0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fa00000, 0x7fc12345, 0xffd54321,
		0x7fbfffff, 0x007fffff, 0x807fffff, 0x00000001, 0x80000001, 0x7f7fffff)
	return v
}

func floatEdges64() []uint64 {
	var v []uint64
	fl := func(xs ...float64) {
		for _, x := range xs {
			v = append(v, math.Float64bits(x), math.Float64bits(-x))
			v = append(v, math.Float64bits(math.Nextafter(x, 0)), math.Float64bits(math.Nextafter(x, math.Inf(1))))
			v = append(v, math.Float64bits(math.Nextafter(-x, 0)), math.Float64bits(math.Nextafter(-x, math.Inf(-1))))
		}
	}
	fl(0, 1, 0.5, 1.5, 2.5, 3.5, 0.75, 1<<23, 1<<31, 1<<32, 1<<52, 1<<53, 1<<63, 1<<64,
		2147483647, 2147483647.5, 2147483648.5, 2147483649, 4294967295, 4294967295.5, 4294967296.5,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 2.2250738585072014e-308, math.Inf(1), 0.49999999999999994,
		4503599627370495.5, math.MaxFloat32, 3.4028235677973366e+38, 1.401298464324817e-45)
	v = append(v, 0x7ff8000000000000, 0xfff8000000000000, 0x7ff0000000000001, 0xfff0000000000001,
		0x7ff4000000000000, 0x7ff8000012345678, 0xfffabcdef0123456, 0x7ff7ffffffffffff, 0x7ff00000e0000000,
		0x000fffffffffffff, 0x800fffffffffffff, 1, 0x8000000000000001)
	return v
}

func floatEdgesInt(w wasm.ValType) []uint64 {
	v := []uint64{0, 1, 2, 3, 0x7fffffff, 0x80000000, 0x80000001, 0xffffffff, 0xfffffffe, 1 << 24, 1<<24 + 1, 1<<24 + 3,
		0x7fffff80, 0x7fffffc0, 0x7fffffc1, 0xffffff7f, 0xffffff80, 0xffffff81}
	if w == wasm.I64 {
		v = append(v, 1<<32, 1<<53, 1<<53+1, 1<<53+3, 1<<63-1, 1<<63, 1<<63+1, 1<<64-1, 1<<64-2,
			1<<63+1<<10, 1<<63+1<<10+1, 1<<63+1<<11, 1<<63+1<<11+1, 1<<63-1<<10, 1<<64-1<<11, 1<<64-1<<11-1,
			1<<64-1<<39, 1<<64-1<<40, 1<<64-1<<40+1, 0xfffffffffffff800, 0x7ffffffffffffc00, 0x7ffffffffffffdff)
	}
	return v
}

func floatEdges(w wasm.ValType) []uint64 {
	switch w {
	case wasm.F32:
		return floatEdges32()
	case wasm.F64:
		return floatEdges64()
	}
	return floatEdgesInt(w)
}

// randomFloatArg draws a value of type w: raw bits, a number of moderate
// magnitude (where rounding and conversions have work to do), or an edge
// value nudged by a few ulps.
func randomFloatArg(r *rand.Rand, w wasm.ValType) uint64 {
	switch r.IntN(4) {
	case 0:
		if w == wasm.I32 || w == wasm.F32 {
			return uint64(r.Uint32())
		}
		return r.Uint64()
	case 1:
		x := float64(r.Int64N(1<<40)) / float64(uint64(1)<<r.IntN(40))
		x = math.Ldexp(x, r.IntN(70)-10)
		if r.IntN(2) == 0 {
			x = -x
		}
		switch w {
		case wasm.F32:
			return uint64(math.Float32bits(float32(x)))
		case wasm.F64:
			return math.Float64bits(x)
		case wasm.I32:
			return uint64(uint32(int64(x)))
		}
		return uint64(int64(x))
	}
	e := floatEdges(w)
	v := e[r.IntN(len(e))] + uint64(r.IntN(9)) - 4
	if w == wasm.I32 || w == wasm.F32 {
		v = uint64(uint32(v))
		// Both tiers read only the low half of a 32-bit slot: a stray
		// upper half must change nothing.
		if r.IntN(8) == 0 {
			v |= r.Uint64() << 32
		}
	}
	return v
}

// floatInputs lists the argument vectors for op: every combination of
// edge values, then n seeded random ones.
func floatInputs(o floatOp, n int, seed uint64) [][]uint64 {
	var in [][]uint64
	e0 := floatEdges(o.params[0])
	if len(o.params) == 1 {
		for _, x := range e0 {
			in = append(in, []uint64{x})
		}
	} else {
		e1 := floatEdges(o.params[1])
		for _, x := range e0 {
			for _, y := range e1 {
				in = append(in, []uint64{x, y})
			}
		}
	}
	r := rand.New(rand.NewPCG(seed, uint64(o.op)))
	for range n {
		args := make([]uint64, len(o.params))
		for i, p := range o.params {
			args[i] = randomFloatArg(r, p)
		}
		in = append(in, args)
	}
	return in
}

// TestFloatOpsMatchInterpreter compiles every float and conversion op
// for each mask and two slot layouts (result in its own slot, and in the
// first operand's slot as the lowering usually places it) and compares
// every result bit and every trap with the interpreter's.
func TestFloatOpsMatchInterpreter(t *testing.T) {
	ops := floatOps()
	orc := newFloatOracle(t, ops)
	n := 3000
	if testing.Short() {
		n = 300
	}
	alloc := native.NewAllocator(1 << 24)
	skipFloatWithoutNative(t, alloc)
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) {
			inputs := floatInputs(o, n, 11)
			want := make([]floatOutcome, len(inputs))
			for i, args := range inputs {
				want[i] = orc.run(t, o.name, args)
			}
			for _, mask := range floatMasks() {
				for _, in := range []ir.Instr{{Op: o.op, A: 2, B: 0, C: 1}, {Op: o.op, A: 0, B: 0, C: 1}} {
					h := newFloatHarness(t, alloc, mask.set, in)
					bad := 0
					for i, args := range inputs {
						if got := h.run(t, args); got != want[i] {
							t.Errorf("mask %s, dst slot %d: %s%#x = %v, interpreter %v", mask.name, in.A, o.name, args, got, want[i])
							if bad++; bad == 10 {
								t.FailNow()
							}
						}
					}
				}
			}
		})
	}
}

// TestEmitFloatRefusesOtherOps checks that emitFloat leaves every op
// outside its set to the caller, emitting nothing.
func TestEmitFloatRefusesOtherOps(t *testing.T) {
	mine := map[ir.Op]bool{}
	for _, o := range floatOps() {
		mine[o.op] = true
	}
	for op := ir.Op(0); op < ir.Count; op++ {
		var a amd64asm.Asm
		in := ir.Instr{Op: op, A: 2, B: 0, C: 1}
		took := emitFloat(&a, cpu.Host().Set(), &in, func(i uint32) amd64asm.Mem { return amd64asm.M(amd64asm.R15, int32(8*i)) },
			func(TrapCode) amd64asm.Label { return a.NewLabel() })
		if took != mine[op] {
			t.Errorf("op %#x: emitFloat took it: %v, want %v", op, took, mine[op])
		}
		if !took && a.Offset() != 0 {
			t.Errorf("op %#x: refused but emitted %d bytes", op, a.Offset())
		}
		if _, _, ok := floatLowering(op, cpu.Host().Set()); ok && !took {
			t.Errorf("op %#x: floatLowering names a lowering for an op emitFloat refuses", op)
		}
	}
}

// TestFloatRoundingNeedsSSE41OnlyWhenOffered checks the feature each
// rounding lowering records: ROUNDSS/SD (sse41) when the mask has it, the
// baseline sequence (sse2 only) otherwise, and that floatLowering reports
// the same choice.
func TestFloatRoundingNeedsSSE41OnlyWhenOffered(t *testing.T) {
	base := cpu.Baseline("amd64")
	for _, op := range []wasm.Opcode{wasm.OpF32Ceil, wasm.OpF32Floor, wasm.OpF32Trunc, wasm.OpF32Nearest,
		wasm.OpF64Ceil, wasm.OpF64Floor, wasm.OpF64Trunc, wasm.OpF64Nearest} {
		for _, mask := range []cpu.Set{base, base.With(cpu.X86SSE41)} {
			var a amd64asm.Asm
			in := ir.Instr{Op: ir.Op(op), A: 1, B: 0}
			emitFloat(&a, mask, &in, func(i uint32) amd64asm.Mem { return amd64asm.M(amd64asm.R15, int32(8*i)) },
				func(TrapCode) amd64asm.Label { return a.NewLabel() })
			if _, err := a.Finish(); err != nil {
				t.Fatalf("op %#x: %v", op, err)
			}
			if got := a.Features(); got != mask {
				t.Errorf("op %#x for mask %v: code needs %v, want exactly the mask", op, mask, got)
			}
			lowering, needs, ok := floatLowering(ir.Op(op), mask)
			if !ok || lowering == "" || base.With(needs...) != a.Features() {
				t.Errorf("op %#x for mask %v: floatLowering says %q needs %v (ok %v), the code needs %v",
					op, mask, lowering, needs, ok, a.Features())
			}
		}
	}
}

// TestTruncI64OfMinusTwo63KeepsItsResult pins a bug of the first
// version: the trapping f32/f64 -> i64 truncation of exactly -2^63 (in
// range, but CVTT's "indefinite" value) loaded the -2^63 constant it
// compares with through RAX, the register that held the result, and
// stored the constant's bits instead of 1<<63.
func TestTruncI64OfMinusTwo63KeepsItsResult(t *testing.T) {
	alloc := native.NewAllocator(1 << 20)
	skipFloatWithoutNative(t, alloc)
	for _, c := range []struct {
		op ir.Op
		x  uint64
	}{
		{ir.Op(wasm.OpI64TruncF32S), uint64(math.Float32bits(-1 << 63))},
		{ir.Op(wasm.OpI64TruncF64S), math.Float64bits(-1 << 63)},
	} {
		h := newFloatHarness(t, alloc, cpu.Baseline("amd64"), ir.Instr{Op: c.op, A: 1, B: 0})
		if got := h.run(t, []uint64{c.x}); got != (floatOutcome{val: 1 << 63}) {
			t.Errorf("op %#x of -2^63 = %v, want 0x8000000000000000", c.op, got)
		}
	}
}

// BenchmarkEmitFloat encodes every float op once per iteration and
// reports the code size per op for the mask; encoding must not allocate
// once the buffer is warm.
func BenchmarkEmitFloat(b *testing.B) {
	ops := floatOps()
	slot := func(i uint32) amd64asm.Mem { return amd64asm.M(amd64asm.R15, int32(8*i)) }
	for _, mask := range floatMasks() {
		b.Run(mask.name, func(b *testing.B) {
			var a amd64asm.Asm
			trapLabel := amd64asm.Label(0)
			trap := func(TrapCode) amd64asm.Label { return trapLabel }
			ins := make([]ir.Instr, len(ops))
			for i, o := range ops {
				ins[i] = ir.Instr{Op: o.op, A: 2, B: 0, C: 1}
			}
			b.ReportAllocs()
			for b.Loop() {
				a.Reset()
				trapLabel = a.NewLabel()
				for i := range ins {
					emitFloat(&a, mask.set, &ins[i], slot, trap)
				}
				a.Bind(trapLabel)
				if _, err := a.Finish(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(a.Offset())/float64(len(ops)), "bytes/op")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ops)), "ns/instr")
		})
	}
}

// FuzzFloatOpsMatchInterpreter runs one op, chosen by index, on two
// arbitrary operand bit patterns in the interpreter and natively for
// every mask, and wants the same result or trap. The seeds run as part
// of the ordinary tests; `go test -fuzz FuzzFloat ./internal/jit`
// explores further.
func FuzzFloatOpsMatchInterpreter(f *testing.F) {
	ops := floatOps()
	for i := range ops {
		f.Add(uint8(i), uint64(0x7fc00001), uint64(0xfff8000000000001))
		f.Add(uint8(i), uint64(0x4f000000), uint64(0x43e0000000000000))
	}
	orc := newFloatOracle(f, ops)
	alloc := native.NewAllocator(1 << 24)
	f.Fuzz(func(t *testing.T, k uint8, x, y uint64) {
		skipFloatWithoutNative(t, alloc)
		o := ops[int(k)%len(ops)]
		args := []uint64{x, y}[:len(o.params)]
		for i, p := range o.params {
			if p == wasm.I32 || p == wasm.F32 {
				args[i] = uint64(uint32(args[i]))
			}
		}
		want := orc.run(t, o.name, args)
		for _, mask := range floatMasks() {
			h := newFloatHarness(t, alloc, mask.set, ir.Instr{Op: o.op, A: 2, B: 0, C: 1})
			if got := h.run(t, args); got != want {
				t.Errorf("mask %s: %s%#x = %v, interpreter %v", mask.name, o.name, args, got, want)
			}
		}
	})
}

// emitFloat emits in's code when in is a float operation (f32/f64
// arithmetic, comparisons, unary ops, min/max, copysign,
// ceil/floor/trunc/nearest, sqrt), a conversion to or from a float
// (including the trapping trunc and the trunc_sat forms,
// SatBase..SatBase+7), a promote/demote or a reinterpret; it returns false
// for any other op. Operands are frame slots: slot(i) is slot i's memory
// operand. It uses RAX, RCX, RDX and X0-X4 only (the other registers
// may be register homes, regs.go); a trapping conversion branches to
// trap(code), a label whose stub exits with that trap.
func emitFloat(a *amd64asm.Asm, feats cpu.Set, in *ir.Instr, slot func(uint32) amd64asm.Mem, trap func(TrapCode) amd64asm.Label) bool {
	f := floatEmitter{a: a, feats: feats, in: in, slot: slot, trap: trap}
	return f.emit()
}

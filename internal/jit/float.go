package jit

import (
	"math"

	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/native/amd64asm"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Float and conversion lowering. Every result must equal the
// interpreter's bit for bit (internal/interp numeric.go and exec.go), NaN
// payloads included, because a frame may move between the tiers at any
// pause point and a checkpoint must not depend on which tier ran. The
// interpreter runs Go float code, which on amd64 is the same SSE
// instructions with the default MXCSR (round to nearest even, no DAZ/FTZ),
// so each lowering either is that instruction or reproduces it exactly.
//
// Register use: X0 holds the first operand and the result, X1 the second
// operand or a constant, X2-X4 temporaries; RAX carries integer results,
// RDX constants, RCX temporaries. f32 values live in the low lane
// with bits 32-63 of the register clear (a MOVSS load clears them and a
// scalar op keeps its destination's), so a MOVSD store writes the
// zero-extended slot the interpreter writes.

const (
	f32SignMask = 0x80000000
	f32AbsMask  = 0x7fffffff
	f64AbsMask  = 1<<63 - 1
	f32One      = 0x3f800000 // 1.0
	f64One      = 0x3ff0000000000000
	// At and above these magnitudes every float is an integer (2^23 and
	// 2^52), the bound of the baseline rounding fallback.
	f32Integral = 0x4b000000
	f64Integral = 0x4330000000000000
	f32Two63    = 0x5f000000 // 2^63
	f64Two63    = 0x43e0000000000000
	f32MinI64   = 0xdf000000 // -2^63
	f64MinI64   = 0xc3e0000000000000
)

// emitFloatHomes is emitFloat in the compiler's frame, where the locals
// in homes live in registers (regs.go): an operand is read from its home
// and a result written to it.
func emitFloatHomes(a *amd64asm.Asm, feats cpu.Set, in *ir.Instr, homes *regHomes, trap func(TrapCode) amd64asm.Label) bool {
	f := floatEmitter{a: a, feats: feats, in: in, slot: slot, trap: trap, homes: homes}
	return f.emit()
}

func (f *floatEmitter) emit() bool {
	a, in := f.a, f.in
	op := in.Op
	switch {
	case op >= ir.Op(wasm.OpF32Eq) && op <= ir.Op(wasm.OpF64Ge):
		f.compare(op >= ir.Op(wasm.OpF64Eq), int((op-ir.Op(wasm.OpF32Eq))%6))
	case op >= ir.Op(wasm.OpF32Abs) && op <= ir.Op(wasm.OpF32Copysign):
		f.arith(false, int(op-ir.Op(wasm.OpF32Abs)))
	case op >= ir.Op(wasm.OpF64Abs) && op <= ir.Op(wasm.OpF64Copysign):
		f.arith(true, int(op-ir.Op(wasm.OpF64Abs)))
	case op >= ir.Op(wasm.OpI32TruncF32S) && op <= ir.Op(wasm.OpI32TruncF64U):
		k := op - ir.Op(wasm.OpI32TruncF32S)
		f.trunc(k >= 2, false, k%2 == 0)
	case op >= ir.Op(wasm.OpI64TruncF32S) && op <= ir.Op(wasm.OpI64TruncF64U):
		k := op - ir.Op(wasm.OpI64TruncF32S)
		f.trunc(k >= 2, true, k%2 == 0)
	case op >= ir.SatBase && op <= ir.SatBase+7:
		k := op - ir.SatBase
		f.truncSat(k%4 >= 2, k >= 4, k%2 == 0)
	case op >= ir.Op(wasm.OpF32ConvertI32S) && op <= ir.Op(wasm.OpF32ConvertI64U):
		k := op - ir.Op(wasm.OpF32ConvertI32S)
		f.convert(false, k >= 2, k%2 == 0)
	case op >= ir.Op(wasm.OpF64ConvertI32S) && op <= ir.Op(wasm.OpF64ConvertI64U):
		k := op - ir.Op(wasm.OpF64ConvertI32S)
		f.convert(true, k >= 2, k%2 == 0)
	case op == ir.Op(wasm.OpF32DemoteF64):
		// CVTSD2SS merges into its destination, so clear it first: the
		// f32 result must have bits 32-63 clear.
		f.load(true, amd64asm.X1, in.B)
		a.SSE(amd64asm.XORPS, amd64asm.X0, amd64asm.X0)
		a.SSE(amd64asm.CVTSD2SS, amd64asm.X0, amd64asm.X1)
		f.store(amd64asm.X0)
	case op == ir.Op(wasm.OpF64PromoteF32):
		f.load(false, amd64asm.X0, in.B)
		a.SSE(amd64asm.CVTSS2SD, amd64asm.X0, amd64asm.X0)
		f.store(amd64asm.X0)
	case op == ir.Op(wasm.OpI32ReinterpretF32) || op == ir.Op(wasm.OpF32ReinterpretI32):
		// A 32-bit load zero-extends: the slot keeps the interpreter's
		// uint64(uint32(x)).
		f.loadG(amd64asm.W32, amd64asm.RAX, in.B)
		f.storeG(amd64asm.RAX)
	case op == ir.Op(wasm.OpI64ReinterpretF64) || op == ir.Op(wasm.OpF64ReinterpretI64):
		f.loadG(amd64asm.W64, amd64asm.RAX, in.B)
		f.storeG(amd64asm.RAX)
	default:
		return false
	}
	return true
}

// floatLowering names the lowering emitFloat picks for op under feats
// when that choice depends on the CPU features (ceil, floor, trunc and
// nearest: ROUNDSS/SD with SSE4.1, a baseline sequence without), for the
// compiler's Code.Selections; ok is false for every other op. needs are
// the features beyond the amd64 baseline that the lowering requires.
func floatLowering(op ir.Op, feats cpu.Set) (lowering string, needs []cpu.Feature, ok bool) {
	var f64 bool
	switch {
	case op >= ir.Op(wasm.OpF32Ceil) && op <= ir.Op(wasm.OpF32Nearest):
	case op >= ir.Op(wasm.OpF64Ceil) && op <= ir.Op(wasm.OpF64Nearest):
		f64 = true
	default:
		return "", nil, false
	}
	if feats.Has(cpu.X86SSE41) {
		return pick(f64, "roundss", "roundsd"), sse41Only, true
	}
	return "sse2 round sequence", nil, true
}

var sse41Only = []cpu.Feature{cpu.X86SSE41}

// floatEmitter carries emitFloat's arguments through the per-group
// lowerings.
type floatEmitter struct {
	a     *amd64asm.Asm
	feats cpu.Set
	in    *ir.Instr
	slot  func(uint32) amd64asm.Mem
	trap  func(TrapCode) amd64asm.Label
	homes *regHomes // nil: every operand is in its slot
}

// pick returns the f64 form (an SSE op, a constant) when f64 is set,
// the f32 form otherwise.
func pick[T any](f64 bool, s, d T) T {
	if f64 {
		return d
	}
	return s
}

// load loads a float slot into x, clearing the rest of x. A home is
// copied whole: its bits beyond the value are clear too.
func (f *floatEmitter) load(f64 bool, x amd64asm.XReg, s uint32) {
	if h, ok := f.homes.xmmOf(s); ok {
		if h != x {
			f.a.SSE(amd64asm.MOVAPS, x, h)
		}
		return
	}
	f.a.SSELoad(pick(f64, amd64asm.MOVSS, amd64asm.MOVSD), x, f.mem(s))
}

// mem returns slot s as a memory operand to read, its home (of the
// other class, which typing rules out) stored there first.
func (f *floatEmitter) mem(s uint32) amd64asm.Mem {
	if r, ok := f.homes.gprOf(s); ok {
		f.a.Store(amd64asm.W64, f.slot(s), r)
	} else if x, ok := f.homes.xmmOf(s); ok {
		f.a.MovsdStore(f.slot(s), x)
	}
	return f.slot(s)
}

// op applies the SSE operation to x and slot s (its home, or memory).
func (f *floatEmitter) op(op amd64asm.SSEOp, x amd64asm.XReg, s uint32) {
	if h, ok := f.homes.xmmOf(s); ok {
		f.a.SSE(op, x, h)
		return
	}
	f.a.SSELoad(op, x, f.mem(s))
}

// dstReg is the register to compute slot A's float result in: its home,
// unless the home is also an operand read after the result is started.
func (f *floatEmitter) dstReg(others ...uint32) amd64asm.XReg {
	h, ok := f.homes.xmmOf(f.in.A)
	if !ok {
		return amd64asm.X0
	}
	for _, s := range others {
		if s == f.in.A {
			return amd64asm.X0
		}
	}
	return h
}

// store writes x's low lane to slot A as 8 bytes: for f32 that relies on
// bits 32-63 of x being clear (see the file comment), in a home as in
// the slot.
func (f *floatEmitter) store(x amd64asm.XReg) {
	if h, ok := f.homes.xmmOf(f.in.A); ok {
		if h != x {
			f.a.SSE(amd64asm.MOVAPS, h, x)
		}
		return
	}
	if r, ok := f.homes.gprOf(f.in.A); ok {
		f.a.MovFromX(amd64asm.W64, r, x)
		return
	}
	f.a.MovsdStore(f.slot(f.in.A), x)
}

// loadG loads w bytes of slot s into the general register r,
// zero-extended.
func (f *floatEmitter) loadG(w amd64asm.Width, r amd64asm.Reg, s uint32) {
	if h, ok := f.homes.gprOf(s); ok {
		f.a.Mov(w, r, h)
		return
	}
	if h, ok := f.homes.xmmOf(s); ok {
		f.a.MovFromX(w, r, h)
		return
	}
	f.a.Load(w, r, f.slot(s))
}

// storeG writes r, the full slot value, to slot A.
func (f *floatEmitter) storeG(r amd64asm.Reg) {
	if h, ok := f.homes.gprOf(f.in.A); ok {
		f.a.Mov(amd64asm.W64, h, r)
		return
	}
	if h, ok := f.homes.xmmOf(f.in.A); ok {
		f.a.MovToX(amd64asm.W64, h, r)
		return
	}
	f.a.Store(amd64asm.W64, f.slot(f.in.A), r)
}

// constant loads a float's bits into x, the rest of x clear. It goes
// through RDX, so that RAX may hold a result across it.
func (f *floatEmitter) constant(f64 bool, x amd64asm.XReg, bits uint64) {
	if f64 {
		f.a.MovImm64(amd64asm.RDX, int64(bits))
		f.a.MovToX(amd64asm.W64, x, amd64asm.RDX)
		return
	}
	f.a.MovImm32(amd64asm.RDX, uint32(bits))
	f.a.MovToX(amd64asm.W32, x, amd64asm.RDX)
}

// compare lowers eq, ne, lt, gt, le, ge (k = 0..5). UCOMISS/SD sets
// ZF, PF and CF all on an unordered pair, so lt/le test "above" with the
// operands swapped (false on NaN), and eq/ne also look at PF.
func (f *floatEmitter) compare(f64 bool, k int) {
	a, in := f.a, f.in
	ucomis := pick(f64, amd64asm.UCOMISS, amd64asm.UCOMISD)
	// SETcc writes one byte: clear the registers first, before the
	// comparison, since XOR writes the flags.
	a.ALU(amd64asm.XOR, amd64asm.W32, amd64asm.RAX, amd64asm.RAX)
	if k <= 1 {
		a.ALU(amd64asm.XOR, amd64asm.W32, amd64asm.RCX, amd64asm.RCX)
	}
	lhs, rhs := in.B, in.C
	if k == 2 || k == 4 { // lt, le: rhs > lhs, rhs >= lhs
		lhs, rhs = rhs, lhs
	}
	l := amd64asm.X0
	if h, ok := f.homes.xmmOf(lhs); ok {
		l = h // UCOMIS only reads its operands
	} else {
		f.load(f64, l, lhs)
	}
	f.op(ucomis, l, rhs)
	switch k {
	case 0:
		a.Setcc(amd64asm.CondE, amd64asm.RAX)
		a.Setcc(amd64asm.CondNP, amd64asm.RCX)
		a.ALU(amd64asm.AND, amd64asm.W32, amd64asm.RAX, amd64asm.RCX)
	case 1:
		a.Setcc(amd64asm.CondNE, amd64asm.RAX)
		a.Setcc(amd64asm.CondP, amd64asm.RCX)
		a.ALU(amd64asm.OR, amd64asm.W32, amd64asm.RAX, amd64asm.RCX)
	case 2, 3:
		a.Setcc(amd64asm.CondA, amd64asm.RAX)
	default:
		a.Setcc(amd64asm.CondAE, amd64asm.RAX)
	}
	f.storeG(amd64asm.RAX)
}

// arith lowers the opcodes abs … copysign of one width, k counting from
// abs (the f32 and f64 blocks have the same order).
func (f *floatEmitter) arith(f64 bool, k int) {
	a, in := f.a, f.in
	switch k {
	case 0, 1, 13: // abs, neg, copysign
		f.signOp(f64, k)
	case 2, 3, 4, 5: // ceil, floor, trunc, nearest
		f.round(f64, [4]amd64asm.RoundMode{amd64asm.RoundCeil, amd64asm.RoundFloor, amd64asm.RoundTrunc, amd64asm.RoundNearest}[k-2])
	case 6: // sqrt
		// SQRTSS/SD merge into their destination: clear it so an f32
		// result has bits 32-63 clear (and no false dependency).
		a.SSE(amd64asm.XORPS, amd64asm.X0, amd64asm.X0)
		f.op(pick(f64, amd64asm.SQRTSS, amd64asm.SQRTSD), amd64asm.X0, in.B)
		f.store(amd64asm.X0)
	case 7, 8, 9, 10: // add, sub, mul, div
		// lhs is the destination operand, as in Go's x op y: when both
		// are NaN, SSE returns the destination's (quieted), which is
		// what the interpreter gets.
		ops := [4][2]amd64asm.SSEOp{
			{amd64asm.ADDSS, amd64asm.ADDSD}, {amd64asm.SUBSS, amd64asm.SUBSD},
			{amd64asm.MULSS, amd64asm.MULSD}, {amd64asm.DIVSS, amd64asm.DIVSD},
		}[k-7]
		t := f.dstReg(in.C)
		f.load(f64, t, in.B)
		f.op(pick(f64, ops[0], ops[1]), t, in.C)
		f.store(t)
	case 11, 12: // min, max
		f.minMax(f64, k == 11)
	}
}

// signOp lowers abs, neg and copysign as integer bit operations: they
// change only the sign bit and keep NaN payloads, signalling ones too,
// which no SSE arithmetic would.
func (f *floatEmitter) signOp(f64 bool, k int) {
	a, in := f.a, f.in
	rax, rcx := amd64asm.RAX, amd64asm.RCX
	if !f64 {
		// 32-bit ALU forms zero-extend into the 64-bit register.
		f.loadG(amd64asm.W32, rax, in.B)
		switch k {
		case 0:
			a.ALUImm(amd64asm.AND, amd64asm.W32, rax, f32AbsMask)
		case 1:
			a.ALUImm(amd64asm.XOR, amd64asm.W32, rax, -f32SignMask)
		default:
			a.ALUImm(amd64asm.AND, amd64asm.W32, rax, f32AbsMask)
			f.loadG(amd64asm.W32, rcx, in.C)
			a.ALUImm(amd64asm.AND, amd64asm.W32, rcx, -f32SignMask)
			a.ALU(amd64asm.OR, amd64asm.W32, rax, rcx)
		}
		f.storeG(rax)
		return
	}
	f.loadG(amd64asm.W64, rax, in.B)
	switch k {
	case 0:
		a.ShiftImm(amd64asm.SHL, amd64asm.W64, rax, 1)
		a.ShiftImm(amd64asm.SHR, amd64asm.W64, rax, 1)
	case 1:
		a.MovImm64(rcx, math.MinInt64)
		a.ALU(amd64asm.XOR, amd64asm.W64, rax, rcx)
	default:
		a.ShiftImm(amd64asm.SHL, amd64asm.W64, rax, 1)
		a.ShiftImm(amd64asm.SHR, amd64asm.W64, rax, 1)
		f.loadG(amd64asm.W64, rcx, in.C)
		a.ShiftImm(amd64asm.SHR, amd64asm.W64, rcx, 63)
		a.ShiftImm(amd64asm.SHL, amd64asm.W64, rcx, 63)
		a.ALU(amd64asm.OR, amd64asm.W64, rax, rcx)
	}
	f.storeG(rax)
}

// minMax lowers WebAssembly's min and max as the interpreter computes
// them: a NaN operand gives lhs+rhs (the quieted NaN SSE addition picks),
// equal operands give the OR (min) or AND (max) of their bits, so that
// min(-0, +0) = -0 and max(-0, +0) = +0, and otherwise MINSS/MAXSS, which
// agree with Wasm on ordered, unequal operands.
func (f *floatEmitter) minMax(f64, isMin bool) {
	a, in := f.a, f.in
	x0, x1 := amd64asm.X0, amd64asm.X1
	nan, unequal, done := a.NewLabel(), a.NewLabel(), a.NewLabel()
	f.load(f64, x0, in.B)
	f.load(f64, x1, in.C)
	a.SSE(pick(f64, amd64asm.UCOMISS, amd64asm.UCOMISD), x0, x1)
	a.Jcc(amd64asm.CondP, nan)
	a.Jcc(amd64asm.CondNE, unequal)
	if isMin {
		a.SSE(amd64asm.ORPS, x0, x1)
	} else {
		a.SSE(amd64asm.ANDPS, x0, x1)
	}
	a.Jmp(done)
	a.Bind(unequal)
	if isMin {
		a.SSE(pick(f64, amd64asm.MINSS, amd64asm.MINSD), x0, x1)
	} else {
		a.SSE(pick(f64, amd64asm.MAXSS, amd64asm.MAXSD), x0, x1)
	}
	a.Jmp(done)
	a.Bind(nan)
	a.SSE(pick(f64, amd64asm.ADDSS, amd64asm.ADDSD), x0, x1)
	a.Bind(done)
	f.store(x0)
}

// round lowers ceil, floor, trunc and nearest: ROUNDSS/SD with SSE4.1
// (it quiets a NaN exactly as the interpreter's x+x does), else an exact
// baseline sequence.
func (f *floatEmitter) round(f64 bool, mode amd64asm.RoundMode) {
	a, in := f.a, f.in
	x0 := amd64asm.X0
	f.load(f64, x0, in.B)
	if f.feats.Has(cpu.X86SSE41) {
		if f64 {
			a.Roundsd(x0, x0, mode)
		} else {
			a.Roundss(x0, x0, mode)
		}
		f.store(x0)
		return
	}
	f.roundBaseline(f64, mode)
	f.store(x0)
}

// roundBaseline rounds X0 in place without SSE4.1. A float of magnitude
// 2^52 (2^23 for f32) or more, or an infinity, is already an integer and
// stays as it is; a NaN is quieted (x+x, as the interpreter does). Below
// that bound:
//   - nearest adds and subtracts 2^52 to |x|, which rounds half to even
//     in the default rounding mode, and puts x's sign back;
//   - trunc converts to a 64-bit integer and back (exact below 2^63);
//     floor and ceil then step by one where trunc went the wrong way;
//   - the result takes x's sign bit, so that -0.5 gives -0 (ceil, trunc,
//     nearest) and -0 stays -0, as Wasm requires.
func (f *floatEmitter) roundBaseline(f64 bool, mode amd64asm.RoundMode) {
	a := f.a
	x0, x1, x2, x3, x4 := amd64asm.X0, amd64asm.X1, amd64asm.X2, amd64asm.X3, amd64asm.X4
	p := func(s, d amd64asm.SSEOp) amd64asm.SSEOp { return pick(f64, s, d) }
	abs, integral, one := uint64(f32AbsMask), uint64(f32Integral), uint64(f32One)
	if f64 {
		abs, integral, one = f64AbsMask, f64Integral, f64One
	}
	nan, done := a.NewLabel(), a.NewLabel()

	f.constant(f64, x2, abs)
	a.SSE(amd64asm.MOVAPS, x1, x0)
	a.SSE(amd64asm.ANDPS, x1, x2) // |x|
	f.constant(f64, x3, integral)
	a.SSE(p(amd64asm.UCOMISS, amd64asm.UCOMISD), x1, x3)
	a.Jcc(amd64asm.CondP, nan)
	a.Jcc(amd64asm.CondAE, done)
	a.SSE(amd64asm.ANDNPS, x2, x0) // x's sign bit alone
	if mode == amd64asm.RoundNearest {
		a.SSE(p(amd64asm.ADDSS, amd64asm.ADDSD), x1, x3)
		a.SSE(p(amd64asm.SUBSS, amd64asm.SUBSD), x1, x3)
	} else {
		a.SSE(amd64asm.XORPS, x1, x1)
		if f64 {
			a.Cvttsd2si(amd64asm.W64, amd64asm.RAX, x0)
			a.Cvtsi2sd(amd64asm.W64, x1, amd64asm.RAX)
		} else {
			a.Cvttss2si(amd64asm.W64, amd64asm.RAX, x0)
			a.Cvtsi2ss(amd64asm.W64, x1, amd64asm.RAX)
		}
		// x1 = trunc(x); the mask in x4 is all ones where it must step.
		switch mode {
		case amd64asm.RoundFloor: // x < t: t - 1
			a.SSE(amd64asm.MOVAPS, x4, x0)
			f.cmp(f64, x4, x1, amd64asm.CmpLT)
		case amd64asm.RoundCeil: // t < x: t + 1
			a.SSE(amd64asm.MOVAPS, x4, x1)
			f.cmp(f64, x4, x0, amd64asm.CmpLT)
		}
		if mode != amd64asm.RoundTrunc {
			f.constant(f64, x3, one)
			a.SSE(amd64asm.ANDPS, x4, x3)
			if mode == amd64asm.RoundFloor {
				a.SSE(p(amd64asm.SUBSS, amd64asm.SUBSD), x1, x4)
			} else {
				a.SSE(p(amd64asm.ADDSS, amd64asm.ADDSD), x1, x4)
			}
		}
	}
	a.SSE(amd64asm.ORPS, x1, x2)
	a.SSE(amd64asm.MOVAPS, x0, x1)
	a.Jmp(done)
	a.Bind(nan)
	a.SSE(p(amd64asm.ADDSS, amd64asm.ADDSD), x0, x0)
	a.Bind(done)
}

func (f *floatEmitter) cmp(f64 bool, dst, src amd64asm.XReg, pred amd64asm.CmpPred) {
	if f64 {
		f.a.Cmpsd(dst, src, pred)
	} else {
		f.a.Cmpss(dst, src, pred)
	}
}

// cvtt converts X0 to a 64-bit integer in RAX, truncating: exact when
// |x| < 2^63, otherwise (NaN included) the "integer indefinite" 1<<63.
// Every truncation below converts at 64 bits and then checks the range it
// needs, so one instruction serves the 32-bit forms too.
func (f *floatEmitter) cvtt(f64 bool) {
	if f64 {
		f.a.Cvttsd2si(amd64asm.W64, amd64asm.RAX, amd64asm.X0)
	} else {
		f.a.Cvttss2si(amd64asm.W64, amd64asm.RAX, amd64asm.X0)
	}
}

// cvttChecked converts X0 into RAX with cvtt and branches to out unless
// RAX is then the exact truncation and inside the signed or unsigned
// 32- or 64-bit target range (u64 has its own sequence, truncU64). A
// 32-bit result is in range when it survives a 32-bit round trip (signed)
// or has its upper half clear (unsigned; x in (-1, 0) gives 0, in range).
// At 64 bits, CMP RAX, 1 overflows exactly when RAX is 1<<63: the
// indefinite value, or a true -2^63, which out must tell apart.
func (f *floatEmitter) cvttChecked(f64, to64, signed bool, out amd64asm.Label) {
	a := f.a
	rax, rcx := amd64asm.RAX, amd64asm.RCX
	f.cvtt(f64)
	switch {
	case to64:
		a.ALUImm(amd64asm.CMP, amd64asm.W64, rax, 1)
		a.Jcc(amd64asm.CondO, out)
	case signed:
		a.Movsx(amd64asm.W64, amd64asm.W32, rcx, rax)
		a.ALU(amd64asm.CMP, amd64asm.W64, rcx, rax)
		a.Jcc(amd64asm.CondNE, out)
	default:
		a.Mov(amd64asm.W64, rcx, rax)
		a.ShiftImm(amd64asm.SHR, amd64asm.W64, rcx, 32)
		a.Jcc(amd64asm.CondNE, out)
	}
}

// trunc lowers the trapping float-to-integer truncations. As in the
// interpreter (and the spec), NaN traps with an invalid conversion and a
// value whose truncation is out of the target range with an integer
// overflow.
func (f *floatEmitter) trunc(f64, to64, signed bool) {
	a, in := f.a, f.in
	rax := amd64asm.RAX
	x0, x1 := amd64asm.X0, amd64asm.X1
	ucomis := pick(f64, amd64asm.UCOMISS, amd64asm.UCOMISD)
	invalid, overflow := f.trap(TrapInvalidConversion), f.trap(TrapIntegerOverflow)
	f.load(f64, x0, in.B)
	if to64 && !signed {
		f.truncU64(f64, false, invalid, overflow)
		return
	}
	ok, out, done := a.NewLabel(), a.NewLabel(), a.NewLabel()
	f.cvttChecked(f64, to64, signed, out)
	a.Bind(ok)
	if !to64 {
		a.Mov(amd64asm.W32, rax, rax) // the slot holds the i32 zero-extended
	}
	f.storeG(rax)
	a.Jmp(done)

	a.Bind(out)
	a.SSE(ucomis, x0, x0)
	a.Jcc(amd64asm.CondP, invalid)
	if to64 {
		// -2^63 itself converts to 1<<63 and is in range.
		f.constant(f64, x1, pick[uint64](f64, f32MinI64, f64MinI64))
		a.SSE(ucomis, x0, x1)
		a.Jcc(amd64asm.CondE, ok)
	}
	a.Jmp(overflow)
	a.Bind(done)
}

// truncU64 converts X0 to an unsigned 64-bit integer and stores it.
// Below 2^63 CVTT is exact, and a negative result means x <= -1 or NaN;
// from 2^63 on it converts x - 2^63 (exact there) and sets the top bit,
// and a negative result means x >= 2^64. Trapping, those go to invalid
// and overflow; saturating (sat, the labels unused), they clamp without
// branches to 0 and to all ones.
func (f *floatEmitter) truncU64(f64, sat bool, invalid, overflow amd64asm.Label) {
	a := f.a
	rax, rcx, rdx := amd64asm.RAX, amd64asm.RCX, amd64asm.RDX
	x0, x1 := amd64asm.X0, amd64asm.X1
	big, ok := a.NewLabel(), a.NewLabel()
	f.constant(f64, x1, pick[uint64](f64, f32Two63, f64Two63))
	a.SSE(pick(f64, amd64asm.UCOMISS, amd64asm.UCOMISD), x0, x1)
	if !sat {
		a.Jcc(amd64asm.CondP, invalid)
	}
	a.Jcc(amd64asm.CondAE, big) // not taken on NaN (CF set)
	f.cvtt(f64)
	if sat {
		a.Mov(amd64asm.W64, rcx, rax)
		a.ShiftImm(amd64asm.SAR, amd64asm.W64, rcx, 63)
		a.Not(amd64asm.W64, rcx)
		a.ALU(amd64asm.AND, amd64asm.W64, rax, rcx)
	} else {
		a.Test(amd64asm.W64, rax, rax)
		a.Jcc(amd64asm.CondS, overflow)
	}
	a.Jmp(ok)

	a.Bind(big)
	a.SSE(pick(f64, amd64asm.SUBSS, amd64asm.SUBSD), x0, x1)
	f.cvtt(f64)
	if sat {
		a.Mov(amd64asm.W64, rcx, rax)
		a.ShiftImm(amd64asm.SAR, amd64asm.W64, rcx, 63)
	} else {
		a.Test(amd64asm.W64, rax, rax)
		a.Jcc(amd64asm.CondS, overflow)
	}
	a.MovImm64(rdx, math.MinInt64)
	a.ALU(amd64asm.XOR, amd64asm.W64, rax, rdx)
	if sat {
		a.ALU(amd64asm.OR, amd64asm.W64, rax, rcx)
	}
	a.Bind(ok)
	f.storeG(rax)
}

// truncSat lowers trunc_sat: NaN gives 0 and an out-of-range value the
// nearest bound, as the interpreter's sat* functions.
func (f *floatEmitter) truncSat(f64, to64, signed bool) {
	a, in := f.a, f.in
	rax := amd64asm.RAX
	x0, x1 := amd64asm.X0, amd64asm.X1
	f.load(f64, x0, in.B)
	if to64 && !signed {
		f.truncU64(f64, true, 0, 0)
		return
	}
	ok, out, done := a.NewLabel(), a.NewLabel(), a.NewLabel()
	f.cvttChecked(f64, to64, signed, out)
	a.Bind(ok)
	if !to64 {
		a.Mov(amd64asm.W32, rax, rax)
	}
	f.storeG(rax)
	a.Jmp(done)

	// Out of range or NaN: the bound follows from x's comparison with 0
	// (MOV leaves the flags alone); x in (-1, 0) never gets here.
	a.Bind(out)
	a.SSE(amd64asm.XORPS, x1, x1)
	a.SSE(pick(f64, amd64asm.UCOMISS, amd64asm.UCOMISD), x0, x1)
	a.MovImm32(rax, 0)
	switch {
	case !signed: // u32: NaN and negatives give 0, the rest all ones
		a.Jcc(amd64asm.CondBE, ok)
		a.MovImm32(rax, math.MaxUint32)
	case !to64:
		a.Jcc(amd64asm.CondP, ok)
		a.MovImm32(rax, 1<<31)
		a.Jcc(amd64asm.CondB, ok)
		a.MovImm32(rax, math.MaxInt32)
	default:
		a.Jcc(amd64asm.CondP, ok)
		a.MovImm64(rax, math.MinInt64)
		a.Jcc(amd64asm.CondB, ok)
		a.MovImm64(rax, math.MaxInt64)
	}
	a.Jmp(ok)
	a.Bind(done)
}

// convert lowers the integer-to-float conversions. CVTSI2SS/SD converts
// a signed integer with one rounding; an unsigned i32 is zero-extended and
// converted at 64 bits; an unsigned i64 with the top bit set is halved
// with the lost bit kept (round to odd), converted and doubled, which
// rounds once as the interpreter's u64ToF32/u64ToF64 do.
func (f *floatEmitter) convert(f64, from64, signed bool) {
	a, in := f.a, f.in
	rax, rcx := amd64asm.RAX, amd64asm.RCX
	x0 := amd64asm.X0
	cvt := a.Cvtsi2ss
	if f64 {
		cvt = a.Cvtsi2sd
	}
	// CVTSI2SS/SD merge into their destination: clear it so an f32 has
	// bits 32-63 clear (and no false dependency).
	a.SSE(amd64asm.XORPS, x0, x0)
	switch {
	case !from64 && signed:
		f.loadG(amd64asm.W32, rax, in.B)
		cvt(amd64asm.W32, x0, rax)
	case !from64:
		f.loadG(amd64asm.W32, rax, in.B)
		cvt(amd64asm.W64, x0, rax)
	case signed:
		f.loadG(amd64asm.W64, rax, in.B)
		cvt(amd64asm.W64, x0, rax)
	default:
		big, done := a.NewLabel(), a.NewLabel()
		f.loadG(amd64asm.W64, rax, in.B)
		a.Test(amd64asm.W64, rax, rax)
		a.Jcc(amd64asm.CondS, big)
		cvt(amd64asm.W64, x0, rax)
		a.Jmp(done)
		a.Bind(big)
		a.Mov(amd64asm.W64, rcx, rax)
		a.ShiftImm(amd64asm.SHR, amd64asm.W64, rcx, 1)
		a.ALUImm(amd64asm.AND, amd64asm.W32, rax, 1)
		a.ALU(amd64asm.OR, amd64asm.W64, rcx, rax)
		cvt(amd64asm.W64, x0, rcx)
		a.SSE(pick(f64, amd64asm.ADDSS, amd64asm.ADDSD), x0, x0)
		a.Bind(done)
	}
	f.store(x0)
}

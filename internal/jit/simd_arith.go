package jit

import (
	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/ir"
	. "github.com/ferryvm/ferry/internal/native/amd64asm"
	"github.com/ferryvm/ferry/internal/wasm"
)

// The lane arithmetic of the v128 lowering (simd.go): operands arrive in
// X0 (and X1), the lowering returns the register holding the result;
// X2..X7 are scratch (X7 is vconst's). A lowering that returns false has
// emitted nothing, and the instruction exits to Go.

// vform is a binary op that is one instruction: dst = x op y, or y op x
// when swap, optionally followed by a NOT of the result.
type vform struct {
	op   VecOp
	feat cpu.Feature // 0: SSE2
	swap bool
	not  bool
	imm  int // CMPPS/CMPPD predicate, -1 for none
}

var vforms = func() map[wasm.Opcode]vform {
	f := func(op VecOp) vform { return vform{op: op, imm: -1} }
	with := func(v vform, ft cpu.Feature) vform { v.feat = ft; return v }
	swap := func(v vform) vform { v.swap = true; return v }
	not := func(v vform) vform { v.not = true; return v }
	cmp := func(op VecOp, p CmpPred) vform { return vform{op: op, imm: int(p)} }
	sse41 := cpu.X86SSE41
	return map[wasm.Opcode]vform{
		wasm.OpI8x16Add: f(PADDB), wasm.OpI8x16AddSatS: f(PADDSB), wasm.OpI8x16AddSatU: f(PADDUSB),
		wasm.OpI8x16Sub: f(PSUBB), wasm.OpI8x16SubSatS: f(PSUBSB), wasm.OpI8x16SubSatU: f(PSUBUSB),
		wasm.OpI16x8Add: f(PADDW), wasm.OpI16x8AddSatS: f(PADDSW), wasm.OpI16x8AddSatU: f(PADDUSW),
		wasm.OpI16x8Sub: f(PSUBW), wasm.OpI16x8SubSatS: f(PSUBSW), wasm.OpI16x8SubSatU: f(PSUBUSW),
		wasm.OpI32x4Add: f(PADDD), wasm.OpI32x4Sub: f(PSUBD), wasm.OpI64x2Add: f(PADDQ), wasm.OpI64x2Sub: f(PSUBQ),
		wasm.OpI16x8Mul: f(PMULLW), wasm.OpI32x4Mul: with(f(PMULLD), sse41),
		wasm.OpV128And: f(PAND), wasm.OpV128Or: f(POR), wasm.OpV128Xor: f(PXOR),
		// andnot(x, y) = x & ~y = PANDN with y as the destination.
		wasm.OpV128Andnot: swap(f(PANDN)),

		wasm.OpI8x16Eq: f(PCMPEQB), wasm.OpI8x16Ne: not(f(PCMPEQB)),
		wasm.OpI8x16GtS: f(PCMPGTB), wasm.OpI8x16LtS: swap(f(PCMPGTB)),
		wasm.OpI8x16LeS: not(f(PCMPGTB)), wasm.OpI8x16GeS: not(swap(f(PCMPGTB))),
		wasm.OpI16x8Eq: f(PCMPEQW), wasm.OpI16x8Ne: not(f(PCMPEQW)),
		wasm.OpI16x8GtS: f(PCMPGTW), wasm.OpI16x8LtS: swap(f(PCMPGTW)),
		wasm.OpI16x8LeS: not(f(PCMPGTW)), wasm.OpI16x8GeS: not(swap(f(PCMPGTW))),
		wasm.OpI32x4Eq: f(PCMPEQD), wasm.OpI32x4Ne: not(f(PCMPEQD)),
		wasm.OpI32x4GtS: f(PCMPGTD), wasm.OpI32x4LtS: swap(f(PCMPGTD)),
		wasm.OpI32x4LeS: not(f(PCMPGTD)), wasm.OpI32x4GeS: not(swap(f(PCMPGTD))),
		wasm.OpI64x2Eq: with(f(PCMPEQQ), sse41), wasm.OpI64x2Ne: with(not(f(PCMPEQQ)), sse41),
		wasm.OpI64x2GtS: with(f(PCMPGTQ), cpu.X86SSE42), wasm.OpI64x2LtS: with(swap(f(PCMPGTQ)), cpu.X86SSE42),
		wasm.OpI64x2LeS: with(not(f(PCMPGTQ)), cpu.X86SSE42), wasm.OpI64x2GeS: with(not(swap(f(PCMPGTQ))), cpu.X86SSE42),

		wasm.OpI8x16MinU: f(PMINUB), wasm.OpI8x16MaxU: f(PMAXUB),
		wasm.OpI16x8MinS: f(PMINSW), wasm.OpI16x8MaxS: f(PMAXSW),
		wasm.OpI8x16MinS: with(f(PMINSB), sse41), wasm.OpI8x16MaxS: with(f(PMAXSB), sse41),
		wasm.OpI16x8MinU: with(f(PMINUW), sse41), wasm.OpI16x8MaxU: with(f(PMAXUW), sse41),
		wasm.OpI32x4MinS: with(f(PMINSD), sse41), wasm.OpI32x4MaxS: with(f(PMAXSD), sse41),
		wasm.OpI32x4MinU: with(f(PMINUD), sse41), wasm.OpI32x4MaxU: with(f(PMAXUD), sse41),
		wasm.OpI8x16AvgrU: f(PAVGB), wasm.OpI16x8AvgrU: f(PAVGW),
		wasm.OpI32x4DotI16x8S:    f(PMADDWD),
		wasm.OpI8x16NarrowI16x8S: f(PACKSSWB), wasm.OpI8x16NarrowI16x8U: f(PACKUSWB),
		wasm.OpI16x8NarrowI32x4S: f(PACKSSDW), wasm.OpI16x8NarrowI32x4U: with(f(PACKUSDW), sse41),

		// Selections that return one operand's bits: pmin is y < x ? y : x,
		// exactly MINPS y, x (the second operand when not less, NaN too).
		wasm.OpF32x4Pmin: swap(f(MINPS)), wasm.OpF32x4Pmax: swap(f(MAXPS)),
		wasm.OpF64x2Pmin: swap(f(MINPD)), wasm.OpF64x2Pmax: swap(f(MAXPD)),

		// IEEE comparisons: ne is unordered-or-unequal, as Go's !=.
		wasm.OpF32x4Eq: cmp(CMPPS, CmpEQ), wasm.OpF32x4Ne: cmp(CMPPS, CmpNEQ),
		wasm.OpF32x4Lt: cmp(CMPPS, CmpLT), wasm.OpF32x4Gt: swap(cmp(CMPPS, CmpLT)),
		wasm.OpF32x4Le: cmp(CMPPS, CmpLE), wasm.OpF32x4Ge: swap(cmp(CMPPS, CmpLE)),
		wasm.OpF64x2Eq: cmp(CMPPD, CmpEQ), wasm.OpF64x2Ne: cmp(CMPPD, CmpNEQ),
		wasm.OpF64x2Lt: cmp(CMPPD, CmpLT), wasm.OpF64x2Gt: swap(cmp(CMPPD, CmpLT)),
		wasm.OpF64x2Le: cmp(CMPPD, CmpLE), wasm.OpF64x2Ge: swap(cmp(CMPPD, CmpLE)),
	}
}()

// vnot inverts x.
func (c *compiler) vnot(x XReg) {
	c.a.Vec(PCMPEQD, X7, X7)
	c.a.Vec(PXOR, x, X7)
}

// vselect returns m ? X0 : X1 lane-wise in X0 (m is clobbered).
func (c *compiler) vselect(m XReg) XReg {
	c.a.Vec(PAND, X0, m)
	c.a.Vec(PANDN, m, X1)
	c.a.Vec(POR, X0, m)
	return X0
}

// fixNaN returns r with the lanes where mask m is set replaced by the
// canonical NaN (0x7FC00000, 0x7FF8000000000000): the shifts turn an
// all-ones lane into exactly those bits. m is clobbered.
func (c *compiler) fixNaN(r, m XReg, f64 bool) XReg {
	a := c.a
	a.Vec(MOVDQA, X6, m)
	a.Vec(PANDN, X6, r)
	if f64 {
		a.VecShiftImm(PSRLQi, m, 52)
		a.VecShiftImm(PSLLQi, m, 51)
	} else {
		a.VecShiftImm(PSRLDi, m, 23)
		a.VecShiftImm(PSLLDi, m, 22)
	}
	a.Vec(POR, m, X6)
	return m
}

// canon makes every NaN lane of r canonical, as the interpreter's
// arithmetic does (internal/v128: fromF32, fromF64).
func (c *compiler) canon(r XReg, f64 bool) XReg {
	cmp := CMPPS
	if f64 {
		cmp = CMPPD
	}
	c.a.Vec(MOVDQA, X5, r)
	c.a.VecImm(cmp, X5, X5, uint8(CmpUNORD))
	return c.fixNaN(r, X5, f64)
}

func (c *compiler) vbinary(op ir.Op, w wasm.Opcode) (XReg, bool) {
	a := c.a
	if f, ok := vforms[w]; ok && (f.feat == 0 || c.has(f.feat)) {
		name := w.String()
		if f.feat != 0 {
			c.selectedV(op, name, f.feat)
		} else {
			c.selectedV(op, name)
		}
		dst, src := X0, X1
		if f.swap {
			dst, src = X1, X0
		}
		if f.imm >= 0 {
			a.VecImm(f.op, dst, src, uint8(f.imm))
		} else {
			a.Vec(f.op, dst, src)
		}
		if f.not {
			c.vnot(dst)
		}
		return dst, true
	}
	switch w {
	case wasm.OpF32x4Add, wasm.OpF32x4Sub, wasm.OpF32x4Mul, wasm.OpF32x4Div,
		wasm.OpF64x2Add, wasm.OpF64x2Sub, wasm.OpF64x2Mul, wasm.OpF64x2Div:
		c.selectedV(op, "float+canon")
		f := map[wasm.Opcode]VecOp{
			wasm.OpF32x4Add: ADDPS, wasm.OpF32x4Sub: SUBPS, wasm.OpF32x4Mul: MULPS, wasm.OpF32x4Div: DIVPS,
			wasm.OpF64x2Add: ADDPD, wasm.OpF64x2Sub: SUBPD, wasm.OpF64x2Mul: MULPD, wasm.OpF64x2Div: DIVPD,
		}[w]
		a.Vec(f, X0, X1)
		return c.canon(X0, w >= wasm.OpF64x2Add), true
	case wasm.OpF32x4Min, wasm.OpF32x4Max, wasm.OpF64x2Min, wasm.OpF64x2Max:
		// MINPS returns its second operand for NaNs and equal zeros:
		// both orders, OR-ed (min: -0 wins) or AND-ed (max: +0 wins),
		// are exact for every non-NaN pair; lanes where an operand is a
		// NaN become the canonical NaN.
		c.selectedV(op, "minmax+canon")
		f64 := w == wasm.OpF64x2Min || w == wasm.OpF64x2Max
		mn, cmp, comb := MINPS, CMPPS, POR
		if f64 {
			mn, cmp = MINPD, CMPPD
		}
		if w == wasm.OpF32x4Max || w == wasm.OpF64x2Max {
			mn, comb = MAXPS, PAND
			if f64 {
				mn = MAXPD
			}
		}
		a.Vec(MOVDQA, X2, X0)
		a.VecImm(cmp, X2, X1, uint8(CmpUNORD))
		a.Vec(MOVDQA, X3, X1)
		a.Vec(mn, X3, X0)
		a.Vec(mn, X0, X1)
		a.Vec(comb, X0, X3)
		return c.fixNaN(X0, X2, f64), true
	case wasm.OpI64x2Eq, wasm.OpI64x2Ne:
		// Without PCMPEQQ: both dword halves equal.
		c.selectedV(op, "pcmpeqd+pshufd")
		a.Vec(PCMPEQD, X0, X1)
		a.VecImm(PSHUFD, X1, X0, 0xB1)
		a.Vec(PAND, X0, X1)
		if w == wasm.OpI64x2Ne {
			c.vnot(X0)
		}
		return X0, true
	case wasm.OpI32x4Mul:
		// Without PMULLD: PMULUDQ on the even and the odd lanes.
		c.selectedV(op, "pmuludq")
		a.Vec(MOVDQA, X2, X0)
		a.Vec(MOVDQA, X3, X1)
		a.VecShiftImm(PSRLQi, X2, 32)
		a.VecShiftImm(PSRLQi, X3, 32)
		a.Vec(PMULUDQ, X0, X1)
		a.Vec(PMULUDQ, X2, X3)
		a.VecImm(PSHUFD, X0, X0, 0x08)
		a.VecImm(PSHUFD, X2, X2, 0x08)
		a.Vec(PUNPCKLDQ, X0, X2)
		return X0, true
	case wasm.OpI64x2Mul:
		// lo*lo + (hi_x*lo_y + lo_x*hi_y) << 32.
		c.selectedV(op, "pmuludq")
		a.Vec(MOVDQA, X2, X0)
		a.VecShiftImm(PSRLQi, X2, 32)
		a.Vec(PMULUDQ, X2, X1)
		a.Vec(MOVDQA, X3, X1)
		a.VecShiftImm(PSRLQi, X3, 32)
		a.Vec(PMULUDQ, X3, X0)
		a.Vec(PADDQ, X2, X3)
		a.VecShiftImm(PSLLQi, X2, 32)
		a.Vec(PMULUDQ, X0, X1)
		a.Vec(PADDQ, X0, X2)
		return X0, true
	case wasm.OpI64x2GtS, wasm.OpI64x2LtS, wasm.OpI64x2LeS, wasm.OpI64x2GeS:
		// Without PCMPGTQ: x > y when the high dwords compare greater
		// (signed), or are equal and the low dwords compare greater
		// (unsigned: biased by 0x80000000, the high dwords unbiased).
		c.selectedV(op, "pcmpgtd+pcmpeqd")
		if w == wasm.OpI64x2LtS || w == wasm.OpI64x2GeS {
			a.Vec(MOVDQA, X2, X0)
			a.Vec(MOVDQA, X0, X1)
			a.Vec(MOVDQA, X1, X2)
		}
		c.vsplat64(X4, 0x80000000)
		a.Vec(MOVDQA, X3, X0)
		a.Vec(PCMPEQD, X3, X1) // eq, per dword
		a.Vec(PXOR, X0, X4)
		a.Vec(PXOR, X1, X4)
		a.Vec(PCMPGTD, X0, X1)         // gt, per dword
		a.VecImm(PSHUFD, X2, X0, 0xA0) // the low dwords' gt, in both halves
		a.VecImm(PSHUFD, X3, X3, 0xF5) // the high dwords' eq
		a.VecImm(PSHUFD, X0, X0, 0xF5) // the high dwords' gt
		a.Vec(PAND, X2, X3)
		a.Vec(POR, X0, X2)
		if w == wasm.OpI64x2LeS || w == wasm.OpI64x2GeS {
			c.vnot(X0)
		}
		return X0, true
	case wasm.OpI8x16LtU, wasm.OpI8x16GtU, wasm.OpI8x16LeU, wasm.OpI8x16GeU:
		// x <=u y exactly when min_u(x, y) = x.
		c.selectedV(op, "pminub/pmaxub+pcmpeqb")
		mm := PMINUB
		if w == wasm.OpI8x16LtU || w == wasm.OpI8x16GeU {
			mm = PMAXUB
		}
		a.Vec(MOVDQA, X2, X0)
		a.Vec(mm, X2, X1)
		a.Vec(PCMPEQB, X2, X0)
		if w == wasm.OpI8x16LtU || w == wasm.OpI8x16GtU {
			c.vnot(X2)
		}
		return X2, true
	case wasm.OpI16x8LtU, wasm.OpI16x8GtU, wasm.OpI16x8LeU, wasm.OpI16x8GeU:
		// x <=u y exactly when the saturating x - y is 0.
		c.selectedV(op, "psubusw+pcmpeqw")
		if w == wasm.OpI16x8LtU || w == wasm.OpI16x8GeU {
			a.Vec(PSUBUSW, X1, X0) // y - x
			a.Vec(PXOR, X2, X2)
			a.Vec(PCMPEQW, X2, X1)
		} else {
			a.Vec(PSUBUSW, X0, X1)
			a.Vec(PXOR, X2, X2)
			a.Vec(PCMPEQW, X2, X0)
		}
		if w == wasm.OpI16x8LtU || w == wasm.OpI16x8GtU {
			c.vnot(X2)
		}
		return X2, true
	case wasm.OpI32x4LtU, wasm.OpI32x4GtU, wasm.OpI32x4LeU, wasm.OpI32x4GeU:
		// Unsigned order is the signed order with the sign bits flipped.
		c.selectedV(op, "bias+pcmpgtd")
		c.vsplat32(X2, 0x80000000)
		a.Vec(PXOR, X0, X2)
		a.Vec(PXOR, X1, X2)
		switch w {
		case wasm.OpI32x4GtU, wasm.OpI32x4LeU:
			a.Vec(PCMPGTD, X0, X1)
		default:
			a.Vec(PCMPGTD, X1, X0)
			a.Vec(MOVDQA, X0, X1)
		}
		if w == wasm.OpI32x4LeU || w == wasm.OpI32x4GeU {
			c.vnot(X0)
		}
		return X0, true
	case wasm.OpI8x16MinS, wasm.OpI8x16MaxS, wasm.OpI32x4MinS, wasm.OpI32x4MaxS, wasm.OpI32x4MinU, wasm.OpI32x4MaxU:
		c.selectedV(op, "pcmpgt+select")
		gt := PCMPGTB
		if w != wasm.OpI8x16MinS && w != wasm.OpI8x16MaxS {
			gt = PCMPGTD
		}
		a.Vec(MOVDQA, X2, X0)
		a.Vec(MOVDQA, X3, X1)
		if w == wasm.OpI32x4MinU || w == wasm.OpI32x4MaxU {
			c.vsplat32(X4, 0x80000000)
			a.Vec(PXOR, X2, X4)
			a.Vec(PXOR, X3, X4)
		}
		if w == wasm.OpI8x16MaxS || w == wasm.OpI32x4MaxS || w == wasm.OpI32x4MaxU {
			a.Vec(gt, X2, X3) // x > y
		} else {
			a.Vec(gt, X3, X2) // y > x
			a.Vec(MOVDQA, X2, X3)
		}
		return c.vselect(X2), true
	case wasm.OpI16x8MinU, wasm.OpI16x8MaxU:
		// min_u = x - sat(x - y), max_u = y + sat(x - y).
		c.selectedV(op, "psubusw")
		a.Vec(MOVDQA, X2, X0)
		a.Vec(PSUBUSW, X2, X1)
		if w == wasm.OpI16x8MinU {
			a.Vec(PSUBW, X0, X2)
			return X0, true
		}
		a.Vec(PADDW, X1, X2)
		return X1, true
	case wasm.OpI16x8NarrowI32x4U:
		// Without PACKUSDW: each lane clamped to [0, 65535], biased by
		// -32768 into PACKSSDW's exact range, and unbiased after.
		c.selectedV(op, "clamp+packssdw")
		a.Vec(PXOR, X2, X2)
		c.vsplat32(X3, 0xFFFF)
		c.vsplat32(X4, 0x8000)
		for _, v := range []XReg{X0, X1} {
			a.Vec(MOVDQA, X5, v)
			a.Vec(PCMPGTD, X5, X2)
			a.Vec(PAND, v, X5) // negatives to 0
			a.Vec(MOVDQA, X5, v)
			a.Vec(PCMPGTD, X5, X3)
			a.Vec(MOVDQA, X6, v)
			a.Vec(PSUBD, X6, X3)
			a.Vec(PAND, X6, X5)
			a.Vec(PSUBD, v, X6) // above 65535 to 65535
			a.Vec(PSUBD, v, X4)
		}
		a.Vec(PACKSSDW, X0, X1)
		c.vsplat16(X4, 0x8000)
		a.Vec(PXOR, X0, X4)
		return X0, true
	case wasm.OpI8x16Swizzle:
		if !c.has(cpu.X86SSSE3) {
			return 0, false
		}
		// Indices from 16 on select 0: saturating +0x70 sets their top
		// bit, which PSHUFB reads as zero.
		c.selectedV(op, "paddusb+pshufb", cpu.X86SSSE3)
		c.vsplat8(X2, 0x70)
		a.Vec(PADDUSB, X1, X2)
		a.Vec(PSHUFB, X0, X1)
		return X0, true
	case wasm.OpI16x8Q15mulrSatS:
		if !c.has(cpu.X86SSSE3) {
			// The 32-bit products, rounded and shifted, then packed
			// with signed saturation (only -1 * -1 saturates).
			c.selectedV(op, "pmullw+pmulhw+packssdw")
			a.Vec(MOVDQA, X2, X0)
			a.Vec(PMULLW, X0, X1)
			a.Vec(PMULHW, X2, X1)
			a.Vec(MOVDQA, X3, X0)
			a.Vec(PUNPCKLWD, X0, X2)
			a.Vec(PUNPCKHWD, X3, X2)
			c.vsplat32(X4, 0x4000)
			a.Vec(PADDD, X0, X4)
			a.Vec(PADDD, X3, X4)
			a.VecShiftImm(PSRADi, X0, 15)
			a.VecShiftImm(PSRADi, X3, 15)
			a.Vec(PACKSSDW, X0, X3)
			return X0, true
		}
		// PMULHRSW is the rounding Q15 product; only -1 * -1 overflows,
		// to 0x8000, which saturates to 0x7FFF.
		c.selectedV(op, "pmulhrsw", cpu.X86SSSE3)
		a.Vec(PMULHRSW, X0, X1)
		c.vsplat16(X2, 0x8000)
		a.Vec(PCMPEQW, X2, X0)
		a.Vec(PXOR, X0, X2)
		return X0, true
	case wasm.OpI16x8ExtmulLowI8x16S, wasm.OpI16x8ExtmulHighI8x16S, wasm.OpI16x8ExtmulLowI8x16U, wasm.OpI16x8ExtmulHighI8x16U:
		ext := map[wasm.Opcode]wasm.Opcode{
			wasm.OpI16x8ExtmulLowI8x16S: wasm.OpI16x8ExtendLowI8x16S, wasm.OpI16x8ExtmulHighI8x16S: wasm.OpI16x8ExtendHighI8x16S,
			wasm.OpI16x8ExtmulLowI8x16U: wasm.OpI16x8ExtendLowI8x16U, wasm.OpI16x8ExtmulHighI8x16U: wasm.OpI16x8ExtendHighI8x16U,
		}[w]
		a.Vec(MOVDQA, X4, X1)
		rx, _ := c.extend(op, ext)
		a.Vec(MOVDQA, X3, rx)
		a.Vec(MOVDQA, X0, X4)
		ry, _ := c.extend(op, ext)
		a.Vec(PMULLW, X3, ry)
		return X3, true
	case wasm.OpI32x4ExtmulLowI16x8S, wasm.OpI32x4ExtmulHighI16x8S, wasm.OpI32x4ExtmulLowI16x8U, wasm.OpI32x4ExtmulHighI16x8U:
		// The low and high halves of the 32-bit products, interleaved.
		c.selectedV(op, "pmullw+pmulhw")
		hi := PMULHW
		if w == wasm.OpI32x4ExtmulLowI16x8U || w == wasm.OpI32x4ExtmulHighI16x8U {
			hi = PMULHUW
		}
		a.Vec(MOVDQA, X2, X0)
		a.Vec(PMULLW, X0, X1)
		a.Vec(hi, X2, X1)
		if w == wasm.OpI32x4ExtmulLowI16x8S || w == wasm.OpI32x4ExtmulLowI16x8U {
			a.Vec(PUNPCKLWD, X0, X2)
		} else {
			a.Vec(PUNPCKHWD, X0, X2)
		}
		return X0, true
	case wasm.OpI64x2ExtmulLowI32x4S, wasm.OpI64x2ExtmulHighI32x4S, wasm.OpI64x2ExtmulLowI32x4U, wasm.OpI64x2ExtmulHighI32x4U:
		signed := w == wasm.OpI64x2ExtmulLowI32x4S || w == wasm.OpI64x2ExtmulHighI32x4S
		if signed && !c.has(cpu.X86SSE41) {
			return 0, false
		}
		mul := PMULUDQ
		if signed {
			mul = PMULDQ
			c.selectedV(op, "pmuldq", cpu.X86SSE41)
		} else {
			c.selectedV(op, "pmuludq")
		}
		// Lanes 0,1 (or 2,3) to dwords 0 and 2, where PMUL(U)DQ reads.
		sh := uint8(0x50)
		if w == wasm.OpI64x2ExtmulHighI32x4S || w == wasm.OpI64x2ExtmulHighI32x4U {
			sh = 0xFA
		}
		a.VecImm(PSHUFD, X0, X0, sh)
		a.VecImm(PSHUFD, X1, X1, sh)
		a.Vec(mul, X0, X1)
		return X0, true
	}
	return 0, false
}

// extend compiles the extend_low/high ops on X0 (X1 scratch).
func (c *compiler) extend(op ir.Op, w wasm.Opcode) (XReg, bool) {
	a := c.a
	type ext struct {
		high, signed bool
		from         int // lane bytes of the source: 1, 2, 4
	}
	e, ok := map[wasm.Opcode]ext{
		wasm.OpI16x8ExtendLowI8x16S: {false, true, 1}, wasm.OpI16x8ExtendHighI8x16S: {true, true, 1},
		wasm.OpI16x8ExtendLowI8x16U: {false, false, 1}, wasm.OpI16x8ExtendHighI8x16U: {true, false, 1},
		wasm.OpI32x4ExtendLowI16x8S: {false, true, 2}, wasm.OpI32x4ExtendHighI16x8S: {true, true, 2},
		wasm.OpI32x4ExtendLowI16x8U: {false, false, 2}, wasm.OpI32x4ExtendHighI16x8U: {true, false, 2},
		wasm.OpI64x2ExtendLowI32x4S: {false, true, 4}, wasm.OpI64x2ExtendHighI32x4S: {true, true, 4},
		wasm.OpI64x2ExtendLowI32x4U: {false, false, 4}, wasm.OpI64x2ExtendHighI32x4U: {true, false, 4},
	}[w]
	if !ok {
		return 0, false
	}
	if c.has(cpu.X86SSE41) {
		c.selectedV(op, "pmovsx/pmovzx", cpu.X86SSE41)
		if e.high {
			a.VecImm(PSHUFD, X0, X0, 0xEE)
		}
		pm := map[ext]VecOp{
			{false, true, 1}: PMOVSXBW, {false, false, 1}: PMOVZXBW,
			{false, true, 2}: PMOVSXWD, {false, false, 2}: PMOVZXWD,
			{false, true, 4}: PMOVSXDQ, {false, false, 4}: PMOVZXDQ,
		}[ext{false, e.signed, e.from}]
		a.Vec(pm, X0, X0)
		return X0, true
	}
	c.selectedV(op, "punpck")
	unpack := map[int][2]VecOp{1: {PUNPCKLBW, PUNPCKHBW}, 2: {PUNPCKLWD, PUNPCKHWD}, 4: {PUNPCKLDQ, PUNPCKHDQ}}[e.from]
	u := unpack[0]
	if e.high {
		u = unpack[1]
	}
	switch {
	case !e.signed:
		a.Vec(PXOR, X1, X1)
		a.Vec(u, X0, X1)
	case e.from == 1:
		a.Vec(u, X0, X0)
		a.VecShiftImm(PSRAWi, X0, 8)
	case e.from == 2:
		a.Vec(u, X0, X0)
		a.VecShiftImm(PSRADi, X0, 16)
	default:
		a.Vec(PXOR, X1, X1)
		a.Vec(PCMPGTD, X1, X0) // the sign of each dword
		a.Vec(u, X0, X1)
	}
	return X0, true
}

func (c *compiler) vunary(op ir.Op, w wasm.Opcode) (XReg, bool) {
	a := c.a
	if r, ok := c.extend(op, w); ok {
		return r, true
	}
	switch w {
	case wasm.OpV128Not:
		c.selectedV(op, "pxor")
		c.vnot(X0)
		return X0, true
	case wasm.OpI8x16Neg, wasm.OpI16x8Neg, wasm.OpI32x4Neg, wasm.OpI64x2Neg:
		c.selectedV(op, "psub")
		sub := map[wasm.Opcode]VecOp{wasm.OpI8x16Neg: PSUBB, wasm.OpI16x8Neg: PSUBW, wasm.OpI32x4Neg: PSUBD, wasm.OpI64x2Neg: PSUBQ}[w]
		a.Vec(PXOR, X1, X1)
		a.Vec(sub, X1, X0)
		return X1, true
	case wasm.OpI8x16Abs, wasm.OpI16x8Abs, wasm.OpI32x4Abs:
		if c.has(cpu.X86SSSE3) {
			c.selectedV(op, "pabs", cpu.X86SSSE3)
			abs := map[wasm.Opcode]VecOp{wasm.OpI8x16Abs: PABSB, wasm.OpI16x8Abs: PABSW, wasm.OpI32x4Abs: PABSD}[w]
			a.Vec(abs, X0, X0)
			return X0, true
		}
		c.selectedV(op, "sign+xor+sub")
		gt, sub := PCMPGTB, PSUBB
		switch w {
		case wasm.OpI16x8Abs:
			gt, sub = PCMPGTW, PSUBW
		case wasm.OpI32x4Abs:
			gt, sub = PCMPGTD, PSUBD
		}
		a.Vec(PXOR, X1, X1)
		a.Vec(gt, X1, X0)
		a.Vec(PXOR, X0, X1)
		a.Vec(sub, X0, X1)
		return X0, true
	case wasm.OpI64x2Abs:
		c.selectedV(op, "sign+xor+sub")
		a.VecImm(PSHUFD, X1, X0, 0xF5)
		a.VecShiftImm(PSRADi, X1, 31)
		a.Vec(PXOR, X0, X1)
		a.Vec(PSUBQ, X0, X1)
		return X0, true
	case wasm.OpF32x4Abs, wasm.OpF32x4Neg, wasm.OpF64x2Abs, wasm.OpF64x2Neg:
		// Sign-bit operations keep NaN payloads (no canonicalization).
		c.selectedV(op, "sign mask")
		a.Vec(PCMPEQD, X1, X1)
		switch w {
		case wasm.OpF32x4Abs:
			a.VecShiftImm(PSRLDi, X1, 1)
			a.Vec(PAND, X0, X1)
		case wasm.OpF64x2Abs:
			a.VecShiftImm(PSRLQi, X1, 1)
			a.Vec(PAND, X0, X1)
		case wasm.OpF32x4Neg:
			a.VecShiftImm(PSLLDi, X1, 31)
			a.Vec(PXOR, X0, X1)
		default:
			a.VecShiftImm(PSLLQi, X1, 63)
			a.Vec(PXOR, X0, X1)
		}
		return X0, true
	case wasm.OpF32x4Sqrt, wasm.OpF64x2Sqrt:
		c.selectedV(op, "sqrt+canon")
		f64 := w == wasm.OpF64x2Sqrt
		if f64 {
			a.Vec(SQRTPD, X0, X0)
		} else {
			a.Vec(SQRTPS, X0, X0)
		}
		return c.canon(X0, f64), true
	case wasm.OpF32x4Ceil, wasm.OpF32x4Floor, wasm.OpF32x4Trunc, wasm.OpF32x4Nearest,
		wasm.OpF64x2Ceil, wasm.OpF64x2Floor, wasm.OpF64x2Trunc, wasm.OpF64x2Nearest:
		if !c.has(cpu.X86SSE41) {
			return 0, false
		}
		c.selectedV(op, "round+canon", cpu.X86SSE41)
		mode := map[wasm.Opcode]uint8{
			wasm.OpF32x4Nearest: 0, wasm.OpF32x4Floor: 1, wasm.OpF32x4Ceil: 2, wasm.OpF32x4Trunc: 3,
			wasm.OpF64x2Nearest: 0, wasm.OpF64x2Floor: 1, wasm.OpF64x2Ceil: 2, wasm.OpF64x2Trunc: 3,
		}[w]
		f64 := w == wasm.OpF64x2Ceil || w == wasm.OpF64x2Floor || w == wasm.OpF64x2Trunc || w == wasm.OpF64x2Nearest
		if f64 {
			a.VecImm(ROUNDPD, X0, X0, mode|8)
		} else {
			a.VecImm(ROUNDPS, X0, X0, mode|8)
		}
		return c.canon(X0, f64), true
	case wasm.OpI8x16Popcnt:
		// Bit pairs, nibbles, then bytes; the word shifts leak bits
		// across bytes that the masks clear.
		c.selectedV(op, "swar")
		c.vsplat8(X4, 0x55)
		a.Vec(MOVDQA, X1, X0)
		a.VecShiftImm(PSRLWi, X1, 1)
		a.Vec(PAND, X1, X4)
		a.Vec(PSUBB, X0, X1)
		c.vsplat8(X4, 0x33)
		a.Vec(MOVDQA, X1, X0)
		a.Vec(PAND, X0, X4)
		a.VecShiftImm(PSRLWi, X1, 2)
		a.Vec(PAND, X1, X4)
		a.Vec(PADDB, X0, X1)
		a.Vec(MOVDQA, X1, X0)
		a.VecShiftImm(PSRLWi, X1, 4)
		a.Vec(PADDB, X0, X1)
		c.vsplat8(X4, 0x0F)
		a.Vec(PAND, X0, X4)
		return X0, true
	case wasm.OpI16x8ExtaddPairwiseI8x16S, wasm.OpI16x8ExtaddPairwiseI8x16U,
		wasm.OpI32x4ExtaddPairwiseI16x8S, wasm.OpI32x4ExtaddPairwiseI16x8U:
		// Each wide lane: its low half extended plus its high half
		// extended, by shifts within the lane.
		c.selectedV(op, "shifts+add")
		sl, sr, add, n := PSLLWi, PSRLWi, PADDW, uint8(8)
		switch w {
		case wasm.OpI16x8ExtaddPairwiseI8x16S:
			sr = PSRAWi
		case wasm.OpI32x4ExtaddPairwiseI16x8S:
			sl, sr, add, n = PSLLDi, PSRADi, PADDD, 16
		case wasm.OpI32x4ExtaddPairwiseI16x8U:
			sl, sr, add, n = PSLLDi, PSRLDi, PADDD, 16
		}
		a.Vec(MOVDQA, X1, X0)
		a.VecShiftImm(sl, X1, n)
		a.VecShiftImm(sr, X1, n)
		a.VecShiftImm(sr, X0, n)
		a.Vec(add, X0, X1)
		return X0, true
	case wasm.OpF32x4ConvertI32x4S:
		c.selectedV(op, "cvtdq2ps")
		a.Vec(CVTDQ2PS, X0, X0)
		return X0, true
	case wasm.OpF32x4ConvertI32x4U:
		// The high and low 16 bits convert exactly; one rounding in the
		// sum.
		c.selectedV(op, "cvtdq2ps halves")
		a.Vec(MOVDQA, X1, X0)
		a.VecShiftImm(PSRLDi, X1, 16)
		a.VecShiftImm(PSLLDi, X0, 16)
		a.VecShiftImm(PSRLDi, X0, 16)
		a.Vec(CVTDQ2PS, X1, X1)
		c.vsplat32(X2, 0x47800000) // 65536.0
		a.Vec(MULPS, X1, X2)
		a.Vec(CVTDQ2PS, X0, X0)
		a.Vec(ADDPS, X0, X1)
		return X0, true
	case wasm.OpF64x2ConvertLowI32x4S:
		c.selectedV(op, "cvtdq2pd")
		a.Vec(CVTDQ2PD, X0, X0)
		return X0, true
	case wasm.OpF64x2ConvertLowI32x4U:
		// 2^52 + x has x in its mantissa: subtracting 2^52 is exact.
		c.selectedV(op, "2^52 bias")
		a.Vec(PXOR, X1, X1)
		a.Vec(PUNPCKLDQ, X0, X1)
		c.vsplat64(X2, 0x4330000000000000)
		a.Vec(POR, X0, X2)
		a.Vec(SUBPD, X0, X2)
		return X0, true
	case wasm.OpI32x4TruncSatF32x4S:
		// NaN lanes to 0 first; CVTTPS2DQ gives 0x80000000 out of range,
		// right for large negatives, flipped to 0x7FFFFFFF for x >= 2^31.
		c.selectedV(op, "cvttps2dq+fix")
		a.Vec(MOVDQA, X1, X0)
		a.VecImm(CMPPS, X1, X0, uint8(CmpORD))
		a.Vec(PAND, X0, X1)
		c.vsplat32(X2, 0x4F000000) // 2^31
		a.VecImm(CMPPS, X2, X0, uint8(CmpLE))
		a.Vec(CVTTPS2DQ, X0, X0)
		a.Vec(PXOR, X0, X2)
		return X0, true
	case wasm.OpI32x4TruncSatF32x4U:
		// MAXPS with +0 maps NaN and negatives to +0 (it returns the
		// second operand). Lanes from 2^31 on convert x - 2^31 (exact)
		// and get bit 31 back; lanes from 2^32 on saturate to all ones.
		c.selectedV(op, "cvttps2dq halves")
		a.Vec(PXOR, X1, X1)
		a.Vec(MAXPS, X0, X1)
		c.vsplat32(X1, 0x4F000000) // 2^31
		a.Vec(MOVDQA, X2, X0)
		a.Vec(SUBPS, X2, X1)
		a.Vec(MOVDQA, X3, X1)
		a.VecImm(CMPPS, X3, X0, uint8(CmpLE)) // 2^31 <= x
		c.vsplat32(X4, 0x4F800000)            // 2^32
		a.VecImm(CMPPS, X4, X0, uint8(CmpLE))
		a.Vec(PAND, X2, X3)
		a.Vec(MOVDQA, X5, X3)
		a.Vec(PANDN, X5, X0)
		a.Vec(POR, X2, X5)
		a.Vec(CVTTPS2DQ, X2, X2)
		a.VecShiftImm(PSLLDi, X3, 31)
		a.Vec(PXOR, X2, X3)
		a.Vec(POR, X2, X4)
		return X2, true
	case wasm.OpI32x4TruncSatF64x2UZero:
		// Clamped to [0, 2^32-1] (NaN to +0 by MAXPD), then as above:
		// lanes from 2^31 on convert x - 2^31 and get bit 31 back.
		c.selectedV(op, "cvttpd2dq halves")
		a.Vec(PXOR, X1, X1)
		a.Vec(MAXPD, X0, X1)
		c.vsplat64(X1, 0x41EFFFFFFFE00000) // 4294967295.0
		a.Vec(MINPD, X0, X1)
		c.vsplat64(X1, 0x41E0000000000000) // 2^31
		a.Vec(MOVDQA, X2, X0)
		a.Vec(SUBPD, X2, X1)
		a.Vec(MOVDQA, X3, X1)
		a.VecImm(CMPPD, X3, X0, uint8(CmpLE))
		a.Vec(PAND, X2, X3)
		a.Vec(MOVDQA, X5, X3)
		a.Vec(PANDN, X5, X0)
		a.Vec(POR, X2, X5)
		a.Vec(CVTTPD2DQ, X2, X2)
		a.VecImm(PSHUFD, X3, X3, 0x08)
		a.Vec(MOVQ, X3, X3) // the upper two lanes are zero
		a.VecShiftImm(PSLLDi, X3, 31)
		a.Vec(PXOR, X2, X3)
		return X2, true
	case wasm.OpI32x4TruncSatF64x2SZero:
		c.selectedV(op, "cvttpd2dq+fix")
		a.Vec(MOVDQA, X1, X0)
		a.VecImm(CMPPD, X1, X0, uint8(CmpORD))
		a.Vec(PAND, X0, X1)
		c.vsplat64(X2, 0x41DFFFFFFFC00000) // 2147483647.0
		a.Vec(MINPD, X0, X2)
		a.Vec(CVTTPD2DQ, X0, X0)
		return X0, true
	case wasm.OpF32x4DemoteF64x2Zero:
		c.selectedV(op, "cvtpd2ps+canon")
		a.Vec(CVTPD2PS, X0, X0)
		return c.canon(X0, false), true
	case wasm.OpF64x2PromoteLowF32x4:
		c.selectedV(op, "cvtps2pd+canon")
		a.Vec(CVTPS2PD, X0, X0)
		return c.canon(X0, true), true
	}
	return 0, false
}

// vshift compiles the lane shifts: the count is taken modulo the lane
// width, as WebAssembly requires (the hardware would saturate).
func (c *compiler) vshift(in *ir.Instr) {
	a := c.a
	w := wasm.Opcode(0x200 + uint16(uint8(in.Imm)))
	var bitsN uint32
	switch {
	case w >= wasm.OpI8x16Shl && w <= wasm.OpI8x16ShrU:
		bitsN = 8
	case w >= wasm.OpI16x8Shl && w <= wasm.OpI16x8ShrU:
		bitsN = 16
	case w >= wasm.OpI32x4Shl && w <= wasm.OpI32x4ShrU:
		bitsN = 32
	default:
		bitsN = 64
	}
	kind := 0 // shl, shr_s, shr_u
	switch w {
	case wasm.OpI8x16ShrS, wasm.OpI16x8ShrS, wasm.OpI32x4ShrS, wasm.OpI64x2ShrS:
		kind = 1
	case wasm.OpI8x16ShrU, wasm.OpI16x8ShrU, wasm.OpI32x4ShrU, wasm.OpI64x2ShrU:
		kind = 2
	}
	constant := in.Op == ir.V128ShiftI
	n := in.C & (bitsN - 1)
	c.vload(X0, in.B)
	if !constant {
		a.Load(W32, RCX, slot(in.C))
		a.ALUImm(AND, W32, RCX, int32(bitsN-1))
	}
	// count puts the count (plus extra) in X1 for the register forms.
	count := func(extra int32) {
		if constant {
			a.MovImm32(RDX, uint32(int32(n)+extra))
			a.MovToX(W32, X1, RDX)
			return
		}
		a.Lea(W64, RDX, M(RCX, extra))
		a.MovToX(W32, X1, RDX)
	}
	byReg := [3][3]VecOp{{PSLLW, PSRAW, PSRLW}, {PSLLD, PSRAD, PSRLD}, {PSLLQ, 0, PSRLQ}}
	byImm := [3][3]VecShift{{PSLLWi, PSRAWi, PSRLWi}, {PSLLDi, PSRADi, PSRLDi}, {PSLLQi, 0, PSRLQi}}
	r := X0
	switch {
	case bitsN == 8 && kind == 1:
		// Each byte sign-extended into a word, shifted, packed back
		// (the values fit: no saturation).
		c.selectedV(in.Op, "i8 shr_s: punpck+psraw+packsswb")
		a.Vec(MOVDQA, X2, X0)
		a.Vec(PUNPCKLBW, X0, X0)
		a.Vec(PUNPCKHBW, X2, X2)
		count(8)
		a.Vec(PSRAW, X0, X1)
		a.Vec(PSRAW, X2, X1)
		a.Vec(PACKSSWB, X0, X2)
	case bitsN == 8:
		// Word shifts, then a byte mask clears what crossed bytes.
		c.selectedV(in.Op, "i8 shift: psllw/psrlw+mask")
		if constant {
			m := uint8(0xFF << n)
			if kind == 2 {
				m = 0xFF >> n
			}
			count(0)
			c.vsplat8(X2, m)
		} else {
			count(0)
			a.MovImm32(RDX, 0xFF)
			if kind == 2 {
				a.ShiftCL(SHR, W32, RDX)
			} else {
				a.ShiftCL(SHL, W32, RDX)
			}
			a.MovToX(W32, X2, RDX)
			c.splatLow(X2, W8)
		}
		if kind == 2 {
			a.Vec(PSRLW, X0, X1)
		} else {
			a.Vec(PSLLW, X0, X1)
		}
		a.Vec(PAND, X0, X2)
	case bitsN == 64 && kind == 1:
		// No PSRAQ before AVX-512: shift x ^ s logically, where s is the
		// sign of each lane, and flip back.
		c.selectedV(in.Op, "i64 shr_s: sign+psrlq")
		a.VecImm(PSHUFD, X2, X0, 0xF5)
		a.VecShiftImm(PSRADi, X2, 31)
		a.Vec(PXOR, X0, X2)
		count(0)
		a.Vec(PSRLQ, X0, X1)
		a.Vec(PXOR, X0, X2)
	default:
		row := map[uint32]int{16: 0, 32: 1, 64: 2}[bitsN]
		c.selectedV(in.Op, "psll/psra/psrl")
		if constant {
			if n != 0 {
				a.VecShiftImm(byImm[row][kind], X0, uint8(n))
			}
		} else {
			count(0)
			a.Vec(byReg[row][kind], X0, X1)
		}
	}
	c.vstore(in.A, r)
}

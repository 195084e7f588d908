package amd64asm

// SSEOp is a scalar or bitwise SSE operation of the form op xmm, xmm/m.
// Every one is SSE or SSE2 and tagged sse2 (Ferry's amd64 baseline; the
// cpu package has no separate SSE1 feature).
type SSEOp uint8

// SSE operations. The packed bitwise forms (ANDPS…XORPD) are what a scalar
// compiler uses for abs, neg and copysign; their memory forms need a
// 16-byte-aligned operand. MOVSS/MOVSD between registers merge into the
// low lane; MOVAPS copies the whole register.
const (
	ADDSS SSEOp = iota
	ADDSD
	SUBSS
	SUBSD
	MULSS
	MULSD
	DIVSS
	DIVSD
	SQRTSS
	SQRTSD
	MINSS
	MINSD
	MAXSS
	MAXSD
	UCOMISS
	UCOMISD
	CVTSS2SD
	CVTSD2SS
	ANDPS
	ANDPD
	ANDNPS
	ANDNPD
	ORPS
	ORPD
	XORPS
	XORPD
	MOVSS
	MOVSD
	MOVAPS
	sseEnd
)

// sseForms gives the mandatory prefix and the opcode after 0F.
var sseForms = [sseEnd]struct{ pfx, op byte }{
	ADDSS: {0xF3, 0x58}, ADDSD: {0xF2, 0x58},
	SUBSS: {0xF3, 0x5C}, SUBSD: {0xF2, 0x5C},
	MULSS: {0xF3, 0x59}, MULSD: {0xF2, 0x59},
	DIVSS: {0xF3, 0x5E}, DIVSD: {0xF2, 0x5E},
	SQRTSS: {0xF3, 0x51}, SQRTSD: {0xF2, 0x51},
	MINSS: {0xF3, 0x5D}, MINSD: {0xF2, 0x5D},
	MAXSS: {0xF3, 0x5F}, MAXSD: {0xF2, 0x5F},
	UCOMISS: {0, 0x2E}, UCOMISD: {0x66, 0x2E},
	CVTSS2SD: {0xF3, 0x5A}, CVTSD2SS: {0xF2, 0x5A},
	ANDPS: {0, 0x54}, ANDPD: {0x66, 0x54},
	ANDNPS: {0, 0x55}, ANDNPD: {0x66, 0x55},
	ORPS: {0, 0x56}, ORPD: {0x66, 0x56},
	XORPS: {0, 0x57}, XORPD: {0x66, 0x57},
	MOVSS: {0xF3, 0x10}, MOVSD: {0xF2, 0x10},
	MOVAPS: {0, 0x28},
}

func (a *Asm) sseOK(op SSEOp) bool {
	if op >= sseEnd {
		a.fail("SSE operation %d", op)
		return false
	}
	return true
}

// SSE emits op dst, src. MINSS/MAXSS are not WebAssembly's min/max (NaN
// and signed-zero rules differ); the compiler wraps them.
func (a *Asm) SSE(op SSEOp, dst, src XReg) {
	if a.sseOK(op) {
		f := sseForms[op]
		if a.rr(f.pfx, false, false, op2(0x0F, f.op), byte(dst), byte(src)) {
			a.need(featSSE2)
		}
	}
}

// SSELoad emits op dst, [m]; for MOVSS/MOVSD this is the scalar load,
// which zeroes the rest of dst.
func (a *Asm) SSELoad(op SSEOp, dst XReg, m Mem) {
	if a.sseOK(op) {
		f := sseForms[op]
		if a.rm(f.pfx, false, false, op2(0x0F, f.op), byte(dst), m) {
			a.need(featSSE2)
		}
	}
}

// MovssStore emits MOVSS [m], src (stores 4 bytes).
func (a *Asm) MovssStore(m Mem, src XReg) {
	if a.rm(0xF3, false, false, op2(0x0F, 0x11), byte(src), m) {
		a.need(featSSE2)
	}
}

// MovsdStore emits MOVSD [m], src (stores 8 bytes).
func (a *Asm) MovsdStore(m Mem, src XReg) {
	if a.rm(0xF2, false, false, op2(0x0F, 0x11), byte(src), m) {
		a.need(featSSE2)
	}
}

// MovToX emits MOVD/MOVQ dst, src: the low w bytes of a GPR into an XMM
// register, zeroing the rest (f32/f64 reinterpret and constants).
func (a *Asm) MovToX(w Width, dst XReg, src Reg) {
	if wide, ok := a.width64(w); ok && a.rr(0x66, wide, false, op2(0x0F, 0x6E), byte(dst), byte(src)) {
		a.need(featSSE2)
	}
}

// MovFromX emits MOVD/MOVQ dst, src: the low w bytes of an XMM register
// into a GPR.
func (a *Asm) MovFromX(w Width, dst Reg, src XReg) {
	if wide, ok := a.width64(w); ok && a.rr(0x66, wide, false, op2(0x0F, 0x7E), byte(src), byte(dst)) {
		a.need(featSSE2)
	}
}

// Cvtsi2ss emits CVTSI2SS dst, src converting a signed w-byte integer.
// It writes only the low lane of dst, so the compiler may want to clear
// dst first to break the dependency on its old value.
func (a *Asm) Cvtsi2ss(w Width, dst XReg, src Reg) { a.cvtsi(0xF3, w, dst, src) }

// Cvtsi2sd emits CVTSI2SD dst, src.
func (a *Asm) Cvtsi2sd(w Width, dst XReg, src Reg) { a.cvtsi(0xF2, w, dst, src) }

func (a *Asm) cvtsi(pfx byte, w Width, dst XReg, src Reg) {
	if wide, ok := a.width64(w); ok && a.rr(pfx, wide, false, op2(0x0F, 0x2A), byte(dst), byte(src)) {
		a.need(featSSE2)
	}
}

// Cvttss2si emits CVTTSS2SI dst, src (truncating; out-of-range and NaN
// give the "integer indefinite" 0x80…0, which the compiler checks for).
func (a *Asm) Cvttss2si(w Width, dst Reg, src XReg) { a.cvtt(0xF3, w, dst, src) }

// Cvttsd2si emits CVTTSD2SI dst, src.
func (a *Asm) Cvttsd2si(w Width, dst Reg, src XReg) { a.cvtt(0xF2, w, dst, src) }

func (a *Asm) cvtt(pfx byte, w Width, dst Reg, src XReg) {
	if wide, ok := a.width64(w); ok && a.rr(pfx, wide, false, op2(0x0F, 0x2C), byte(dst), byte(src)) {
		a.need(featSSE2)
	}
}

// CmpPred is the predicate of CMPSS/CMPSD; the result lane is all ones
// when it holds and zero otherwise, and the unordered/ordered predicates
// are how the compiler tests for NaN without a branch.
type CmpPred uint8

// Comparison predicates.
const (
	CmpEQ    CmpPred = 0
	CmpLT    CmpPred = 1
	CmpLE    CmpPred = 2
	CmpUNORD CmpPred = 3
	CmpNEQ   CmpPred = 4
	CmpNLT   CmpPred = 5
	CmpNLE   CmpPred = 6
	CmpORD   CmpPred = 7
)

// Cmpss emits CMPSS dst, src, pred.
func (a *Asm) Cmpss(dst, src XReg, pred CmpPred) { a.cmps(0xF3, dst, src, pred) }

// Cmpsd emits CMPSD dst, src, pred.
func (a *Asm) Cmpsd(dst, src XReg, pred CmpPred) { a.cmps(0xF2, dst, src, pred) }

func (a *Asm) cmps(pfx byte, dst, src XReg, pred CmpPred) {
	if pred > CmpORD {
		a.fail("comparison predicate %d", pred)
		return
	}
	if a.rr(pfx, false, false, op2(0x0F, 0xC2), byte(dst), byte(src)) {
		a.imm8(int8(pred))
		a.need(featSSE2)
	}
}

// RoundMode is ROUNDSS/ROUNDSD's immediate. Ferry always sets bit 3 so
// the inexact exception is suppressed (it is masked anyway).
type RoundMode uint8

// Rounding modes for Roundss/Roundsd: WebAssembly's nearest, floor, ceil
// and trunc.
const (
	RoundNearest RoundMode = 0x8
	RoundFloor   RoundMode = 0x9
	RoundCeil    RoundMode = 0xA
	RoundTrunc   RoundMode = 0xB
)

// Roundss emits ROUNDSS dst, src, mode (sse41).
func (a *Asm) Roundss(dst, src XReg, mode RoundMode) { a.round(0x0A, dst, src, mode) }

// Roundsd emits ROUNDSD dst, src, mode (sse41).
func (a *Asm) Roundsd(dst, src XReg, mode RoundMode) { a.round(0x0B, dst, src, mode) }

func (a *Asm) round(op byte, dst, src XReg, mode RoundMode) {
	if mode > 0xF {
		a.fail("rounding mode %#x", mode)
		return
	}
	if a.rr(0x66, false, false, op3(0x0F, 0x3A, op), byte(dst), byte(src)) {
		a.imm8(int8(mode))
		a.need(featSSE41)
	}
}

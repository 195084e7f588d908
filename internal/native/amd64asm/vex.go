package amd64asm

import "github.com/ferryvm/ferry/internal/cpu"

// VecLen is a vector length in bytes: the XMM, YMM or ZMM view of a
// vector register. VEX forms take V128 and V256, EVEX forms all three.
type VecLen uint8

// Vector lengths.
const (
	V128 VecLen = 16
	V256 VecLen = 32
	V512 VecLen = 64
)

var (
	featAVX  = cpu.NewSet(cpu.X86AVX)
	featAVX2 = cpu.NewSet(cpu.X86AVX2)
)

// vexPP maps a legacy mandatory prefix to VEX.pp.
func vexPP(pfx byte) byte {
	switch pfx {
	case 0x66:
		return 1
	case 0xF3:
		return 2
	case 0xF2:
		return 3
	}
	return 0
}

// vexEmit writes a VEX prefix, the opcode and the ModRM for either a
// register rm (m == nil) or a memory operand. r, vvvv and rm are register
// numbers 0-15; mp is the opcode map (1: 0F, 2: 0F38, 3: 0F3A). It picks
// the two-byte C5 prefix whenever the instruction allows it (map 0F, W0,
// no X or B extension), as assemblers do, so the golden bytes match.
func (a *Asm) vexEmit(pp, mp byte, w1 bool, l VecLen, op, r, vvvv, rm byte, m *Mem) {
	var x, b byte
	if m != nil {
		b = byte(m.Base)
		if m.Scale != 0 {
			x = byte(m.Index)
		}
	} else {
		b = rm
	}
	var lbit byte
	if l == V256 {
		lbit = 4
	}
	// R, X, B and vvvv are stored inverted.
	rx := (^r >> 3 & 1) << 7
	tail := (^vvvv&15)<<3 | lbit | pp
	if mp == 1 && !w1 && x < 8 && b < 8 {
		a.buf = append(a.buf, 0xC5, rx|tail, op)
	} else {
		b1 := rx | (^x>>3&1)<<6 | (^b>>3&1)<<5 | mp
		if w1 {
			tail |= 0x80
		}
		a.buf = append(a.buf, 0xC4, b1, tail, op)
	}
	if m != nil {
		a.modrmMem(r, *m)
	} else {
		a.buf = append(a.buf, 0xC0|(r&7)<<3|rm&7)
	}
}

// vexForm validates op and l for a VEX form. unary says whether the
// caller uses the one-source methods, imm whether it passes an
// immediate, mem whether the rm operand is memory. It returns the feature
// the form needs at length l.
func (a *Asm) vexForm(op VecOp, l VecLen, unary, imm, mem bool) (*vecForm, cpu.Set, bool) {
	if a.err != nil {
		return nil, cpu.Set{}, false
	}
	if op >= vecEnd {
		a.fail("vector operation %d", op)
		return nil, cpu.Set{}, false
	}
	f := &vecForms[op]
	switch {
	case l != V128 && l != V256:
		a.fail("%s: VEX vector length %d, want 16 or 32", f.name, l)
	case l == V256 && f.flags&vNo256 != 0:
		a.fail("v%s has no 256-bit form", f.name)
	case l == V128 && f.flags&vOnly256 != 0:
		a.fail("%s has no 128-bit form", f.name)
	case unary != (f.flags&vUnary != 0):
		if unary {
			a.fail("%s has two sources", f.name)
		} else {
			a.fail("%s has one source", f.name)
		}
	case imm != (f.flags&vImm != 0):
		a.failImm(f.name, imm)
	case mem && f.flags&vRegOnly != 0:
		a.fail("%s has no memory form", f.name)
	case !mem && f.flags&vMemOnly != 0:
		a.fail("%s has no register form", f.name)
	default:
		switch {
		case f.flags&vVEXOnly != 0:
			return f, vecFeat[f.feat], true
		case l == V256 && f.flags&vI256 != 0:
			return f, featAVX2, true
		}
		return f, featAVX, true
	}
	return nil, cpu.Set{}, false
}

func (a *Asm) vexRegs(rs ...byte) bool {
	for _, r := range rs {
		if !a.regOK(r) {
			return false
		}
	}
	return true
}

// vexDo encodes a validated form: reg-reg when m is nil.
func (a *Asm) vexDo(f *vecForm, feat cpu.Set, l VecLen, dst, s1, s2 byte, m *Mem, imm int) {
	if !a.vexRegs(dst, s1, s2) {
		return
	}
	if m != nil && !a.memOK(*m) {
		return
	}
	if f.flags&vImm != 0 && !a.vecImmOK(f, uint8(imm), true) {
		return
	}
	a.vexEmit(vexPP(f.pfx), f.mp, f.flags&vW1 != 0, l, f.op, dst, s1, s2, m)
	if imm >= 0 {
		a.imm8(int8(imm))
	}
	a.need(feat)
}

// V emits the three-operand VEX form dst = s1 op s2 at length l (s1 is
// the VEX.vvvv source, s2 the ModRM.rm one; for the FMA forms dst is also
// the addend). 128-bit forms are avx, 256-bit integer forms avx2.
func (a *Asm) V(op VecOp, l VecLen, dst, s1, s2 XReg) {
	if f, feat, ok := a.vexForm(op, l, false, false, false); ok {
		a.vexDo(f, feat, l, byte(dst), byte(s1), byte(s2), nil, -1)
	}
}

// VLoad emits dst = s1 op [m]. Unlike the legacy forms, the memory
// operand needs no alignment.
func (a *Asm) VLoad(op VecOp, l VecLen, dst, s1 XReg, m Mem) {
	if f, feat, ok := a.vexForm(op, l, false, false, true); ok {
		a.vexDo(f, feat, l, byte(dst), byte(s1), 0, &m, -1)
	}
}

// VImm emits dst = op(s1, s2, imm) (VSHUFPS, VPALIGNR, VPBLENDW,
// VCMPPS, VINSERTI128 …).
func (a *Asm) VImm(op VecOp, l VecLen, dst, s1, s2 XReg, imm uint8) {
	if f, feat, ok := a.vexForm(op, l, false, true, false); ok {
		a.vexDo(f, feat, l, byte(dst), byte(s1), byte(s2), nil, int(imm))
	}
}

// VLoadImm emits dst = op(s1, [m], imm).
func (a *Asm) VLoadImm(op VecOp, l VecLen, dst, s1 XReg, m Mem, imm uint8) {
	if f, feat, ok := a.vexForm(op, l, false, true, true); ok {
		a.vexDo(f, feat, l, byte(dst), byte(s1), 0, &m, int(imm))
	}
}

// VUn emits the one-source VEX form dst = op(src): moves, PABS,
// PMOVSX/ZX, conversions, broadcasts, VSQRTPS, VPTEST. A register-to-
// register move from X8-X15 into X0-X7 uses the store opcode, which
// needs only the two-byte prefix, as assemblers do.
func (a *Asm) VUn(op VecOp, l VecLen, dst, src XReg) {
	f, feat, ok := a.vexForm(op, l, true, false, false)
	if !ok {
		return
	}
	if f.st != 0 && dst < 8 && src >= 8 && src <= 15 {
		g := *f
		g.op = f.st
		if op == MOVQ {
			g.pfx = 0x66
		}
		a.vexDo(&g, feat, l, byte(src), 0, byte(dst), nil, -1)
		return
	}
	a.vexDo(f, feat, l, byte(dst), 0, byte(src), nil, -1)
}

// VUnLoad emits dst = op([m]).
func (a *Asm) VUnLoad(op VecOp, l VecLen, dst XReg, m Mem) {
	if f, feat, ok := a.vexForm(op, l, true, false, true); ok {
		a.vexDo(f, feat, l, byte(dst), 0, 0, &m, -1)
	}
}

// VUnImm emits dst = op(src, imm) (VPSHUFD, VROUNDPS, VPERMQ …).
func (a *Asm) VUnImm(op VecOp, l VecLen, dst, src XReg, imm uint8) {
	if f, feat, ok := a.vexForm(op, l, true, true, false); ok {
		a.vexDo(f, feat, l, byte(dst), 0, byte(src), nil, int(imm))
	}
}

// VUnLoadImm emits dst = op([m], imm).
func (a *Asm) VUnLoadImm(op VecOp, l VecLen, dst XReg, m Mem, imm uint8) {
	if f, feat, ok := a.vexForm(op, l, true, true, true); ok {
		a.vexDo(f, feat, l, byte(dst), 0, 0, &m, int(imm))
	}
}

// VStore emits op [m], src for VMOVDQU, VMOVDQA, VMOVUPS, VMOVQ, VMOVD.
func (a *Asm) VStore(op VecOp, l VecLen, m Mem, src XReg) {
	f, feat, ok := a.vexForm(op, l, true, false, true)
	if !ok {
		return
	}
	if f.st == 0 {
		a.fail("v%s has no store form", f.name)
		return
	}
	g := *f
	g.op = f.st
	if op == MOVQ {
		g.pfx = 0x66
	}
	a.vexDo(&g, feat, l, byte(src), 0, 0, &m, -1)
}

// VShiftImm emits dst = src shifted by n (VEX: the destination is in
// vvvv and ModRM.reg holds the opcode extension). 256-bit is avx2.
func (a *Asm) VShiftImm(op VecShift, l VecLen, dst, src XReg, n uint8) {
	if a.err != nil || !a.vecShiftOK(op) || !a.vecLenOK(l) || !a.vexRegs(byte(dst), byte(src)) {
		return
	}
	s := vecShifts[op]
	a.vexEmit(1, 1, false, l, s.op, s.ext, byte(dst), byte(src), nil)
	a.imm8(int8(n))
	a.need(intFeat(l))
}

func (a *Asm) vecLenOK(l VecLen) bool {
	if l != V128 && l != V256 {
		a.fail("VEX vector length %d, want 16 or 32", l)
		return false
	}
	return true
}

func intFeat(l VecLen) cpu.Set {
	if l == V256 {
		return featAVX2
	}
	return featAVX
}

// VBlendv emits dst = mask ? s2 : s1 per lane (the top bit of each mask
// lane selects s2); the mask register travels in imm8[7:4], so it is
// not tied to XMM0 as in the legacy form. 256-bit VPBLENDVB is avx2.
func (a *Asm) VBlendv(op BlendvOp, l VecLen, dst, s1, s2, mask XReg) {
	if a.err != nil || !a.vecLenOK(l) || !a.vexRegs(byte(dst), byte(s1), byte(s2), byte(mask)) {
		return
	}
	if op >= blendvEnd {
		a.fail("blend operation %d", op)
		return
	}
	a.vexEmit(1, 3, false, l, blendvForms[op].vx, byte(dst), byte(s1), byte(s2), nil)
	a.imm8(int8(mask << 4))
	if op == PBLENDVB {
		a.need(intFeat(l))
	} else {
		a.need(featAVX)
	}
}

// VExtracti128 emits VEXTRACTI128 dst, src, half (avx2): the low (0) or
// high (1) 128 bits of a YMM register.
func (a *Asm) VExtracti128(dst, src XReg, half uint8) {
	if a.err != nil || !a.vexRegs(byte(dst), byte(src)) {
		return
	}
	if half > 1 {
		a.fail("vextracti128 half %d", half)
		return
	}
	a.vexEmit(1, 3, false, V256, 0x39, byte(src), 0, byte(dst), nil)
	a.imm8(int8(half))
	a.need(featAVX2)
}

// VPextr emits VPEXTRB/W/D/Q dst, src, lane (avx).
func (a *Asm) VPextr(w Width, dst Reg, src XReg, lane uint8) {
	f, ok := a.laneOK(&pextrForms, w, lane)
	if !ok || !a.vexRegs(byte(dst), byte(src)) {
		return
	}
	if w == W16 {
		a.vexEmit(1, 1, false, V128, 0xC5, byte(dst), 0, byte(src), nil)
	} else {
		a.vexEmit(1, 3, f.wide, V128, f.op, byte(src), 0, byte(dst), nil)
	}
	a.imm8(int8(lane))
	a.need(featAVX)
}

// VPinsr emits VPINSRB/W/D/Q dst, s1, src, lane: s1 with one lane
// replaced by the low w bytes of src (avx).
func (a *Asm) VPinsr(w Width, dst, s1 XReg, src Reg, lane uint8) {
	f, ok := a.laneOK(&pinsrForms, w, lane)
	if !ok || !a.vexRegs(byte(dst), byte(s1), byte(src)) {
		return
	}
	a.vexEmit(1, f.mp, f.wide, V128, f.op, byte(dst), byte(s1), byte(src), nil)
	a.imm8(int8(lane))
	a.need(featAVX)
}

// VMovmsk emits VPMOVMSKB/VMOVMSKPS/VMOVMSKPD dst, src; 256-bit
// VPMOVMSKB is avx2.
func (a *Asm) VMovmsk(op MovmskOp, l VecLen, dst Reg, src XReg) {
	if a.err != nil || !a.vecLenOK(l) || !a.vexRegs(byte(dst), byte(src)) {
		return
	}
	if op >= movmskEnd {
		a.fail("mask operation %d", op)
		return
	}
	f := movmskForms[op]
	a.vexEmit(vexPP(f.pfx), 1, false, l, f.op, byte(dst), 0, byte(src), nil)
	if op == PMOVMSKB {
		a.need(intFeat(l))
	} else {
		a.need(featAVX)
	}
}

// Vzeroupper emits VZEROUPPER (avx). Compiled code that used 256-bit
// registers runs it before returning to Go or calling SSE code, whose
// legacy encodings otherwise pay a state-transition penalty.
func (a *Asm) Vzeroupper() {
	if a.err == nil {
		a.buf = append(a.buf, 0xC5, 0xF8, 0x77)
		a.need(featAVX)
	}
}

// VExtracti128Store emits VEXTRACTI128 [m], src, half (avx2): stores the
// low (0) or high (1) 128 bits of a YMM register.
func (a *Asm) VExtracti128Store(m Mem, src XReg, half uint8) {
	if a.err != nil || !a.vexRegs(byte(src)) || !a.memOK(m) {
		return
	}
	if half > 1 {
		a.fail("vextracti128 half %d", half)
		return
	}
	a.vexEmit(1, 3, false, V256, 0x39, byte(src), 0, 0, &m)
	a.imm8(int8(half))
	a.need(featAVX2)
}

// Vcvtps2ph emits VCVTPS2PH dst, src, rc (f16c): four (V128) or eight
// (V256) floats rounded to half precision in the low 64 or 128 bits of
// dst. rc is the rounding immediate: 0-3 a fixed mode, 4 (bit 2) the
// MXCSR mode.
func (a *Asm) Vcvtps2ph(l VecLen, dst, src XReg, rc uint8) {
	if a.err != nil || !a.vecLenOK(l) || !a.vexRegs(byte(dst), byte(src)) || !a.rcOK(rc) {
		return
	}
	a.vexEmit(1, 3, false, l, 0x1D, byte(src), 0, byte(dst), nil)
	a.imm8(int8(rc))
	a.need(vecFeat[cpu.X86F16C])
}

// Vcvtps2phStore emits VCVTPS2PH [m], src, rc (f16c), storing 8 or 16
// bytes.
func (a *Asm) Vcvtps2phStore(l VecLen, m Mem, src XReg, rc uint8) {
	if a.err != nil || !a.vecLenOK(l) || !a.vexRegs(byte(src)) || !a.memOK(m) || !a.rcOK(rc) {
		return
	}
	a.vexEmit(1, 3, false, l, 0x1D, byte(src), 0, 0, &m)
	a.imm8(int8(rc))
	a.need(vecFeat[cpu.X86F16C])
}

// rcOK refuses VCVTPS2PH immediates with bits above the rounding field,
// which the SDM reserves.
func (a *Asm) rcOK(rc uint8) bool {
	if rc > 7 {
		a.fail("vcvtps2ph rounding control %#x", rc)
		return false
	}
	return true
}

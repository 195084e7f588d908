package amd64asm

import "github.com/ferryvm/ferry/internal/cpu"

// Vector registers only EVEX forms can name (AVX-512). The legacy SSE
// and VEX methods refuse them like any register above 15.
const (
	X16 XReg = iota + 16
	X17
	X18
	X19
	X20
	X21
	X22
	X23
	X24
	X25
	X26
	X27
	X28
	X29
	X30
	X31
)

// KReg is an AVX-512 opmask register, K0 … K7. As a write mask K0 means
// "no mask".
type KReg uint8

// Opmask registers.
const (
	K0 KReg = iota
	K1
	K2
	K3
	K4
	K5
	K6
	K7
)

// Mask is an EVEX form's write mask: lanes whose bit in K is clear keep
// dst's old value, or become zero when Zero is set. The zero value is
// unmasked; Zero needs a mask register other than K0.
type Mask struct {
	K    KReg
	Zero bool
}

// EvexOp is an AVX-512 operation that has no VEX form: the ones that pay
// for WebAssembly SIMD (bitwise selects, byte permutes, unsigned and
// 64-bit lane conversions, 64-bit multiply and abs, masked moves).
type EvexOp uint8

// EVEX operations.
const (
	VPTERNLOGD EvexOp = iota // imm8: the truth table of (dst, s1, s2)
	VPTERNLOGQ               // imm8
	VPERMB                   // dst = s2[s1] over the whole vector (vbmi)
	VPERMW
	VPERMT2B // dst = two-table permute of (dst, s2) indexed by s1 (vbmi)
	VPERMT2W
	VPERMT2D
	VPERMT2Q
	VPABSQ
	VPMULLQ
	VCVTPS2UDQ
	VCVTTPS2UDQ
	VCVTUDQ2PS
	VCVTPD2UQQ
	VCVTTPD2UQQ
	VCVTUQQ2PD
	VCVTTPD2UDQ // the destination is half as wide as the source
	VCVTUDQ2PD  // the source is half as wide as the destination
	VMOVDQU8
	VMOVDQU16
	VMOVDQU32
	VMOVDQU64
	VPSRAQ // i64x2.shr_s: s1 shifted by the count in the low 64 bits of XMM s2
	evexEnd
)

// Flags of an evexForm, besides the vUnary, vImm, vDstX and vSrcX of
// vecForm: the tuple type below decides how an 8-bit displacement is
// scaled.
const (
	eHalf = 1 << (iota + 12) // half-vector memory operand (HV tuple)
	eM128                    // the memory operand is 16 bytes at every length (M128 tuple)
)

// evexForm is one EVEX operation: mandatory prefix, opcode map, opcode,
// store opcode (0: none), EVEX.W, feature, the element size that a
// broadcast memory operand repeats (0: no broadcast; the memory operand
// is then a full vector, tuple FVM) and flags.
type evexForm struct {
	name  string
	pfx   byte
	mp    byte
	op    byte
	st    byte
	w1    bool
	feat  cpu.Feature
	elem  uint8
	flags uint16
}

const (
	isaAVX512F    = cpu.X86AVX512F
	isaAVX512BW   = cpu.X86AVX512BW
	isaAVX512DQ   = cpu.X86AVX512DQ
	isaAVX512VBMI = cpu.X86AVX512VBMI
)

var evexForms = [evexEnd]evexForm{
	VPTERNLOGD:  {"vpternlogd", 0x66, 3, 0x25, 0, false, isaAVX512F, 4, vImm},
	VPTERNLOGQ:  {"vpternlogq", 0x66, 3, 0x25, 0, true, isaAVX512F, 8, vImm},
	VPERMB:      {"vpermb", 0x66, 2, 0x8D, 0, false, isaAVX512VBMI, 0, 0},
	VPERMW:      {"vpermw", 0x66, 2, 0x8D, 0, true, isaAVX512BW, 0, 0},
	VPERMT2B:    {"vpermt2b", 0x66, 2, 0x7D, 0, false, isaAVX512VBMI, 0, 0},
	VPERMT2W:    {"vpermt2w", 0x66, 2, 0x7D, 0, true, isaAVX512BW, 0, 0},
	VPERMT2D:    {"vpermt2d", 0x66, 2, 0x7E, 0, false, isaAVX512F, 4, 0},
	VPERMT2Q:    {"vpermt2q", 0x66, 2, 0x7E, 0, true, isaAVX512F, 8, 0},
	VPABSQ:      {"vpabsq", 0x66, 2, 0x1F, 0, true, isaAVX512F, 8, vUnary},
	VPMULLQ:     {"vpmullq", 0x66, 2, 0x40, 0, true, isaAVX512DQ, 8, 0},
	VCVTPS2UDQ:  {"vcvtps2udq", 0, 1, 0x79, 0, false, isaAVX512F, 4, vUnary},
	VCVTTPS2UDQ: {"vcvttps2udq", 0, 1, 0x78, 0, false, isaAVX512F, 4, vUnary},
	VCVTUDQ2PS:  {"vcvtudq2ps", 0xF2, 1, 0x7A, 0, false, isaAVX512F, 4, vUnary},
	VCVTPD2UQQ:  {"vcvtpd2uqq", 0x66, 1, 0x79, 0, true, isaAVX512DQ, 8, vUnary},
	VCVTTPD2UQQ: {"vcvttpd2uqq", 0x66, 1, 0x78, 0, true, isaAVX512DQ, 8, vUnary},
	VCVTUQQ2PD:  {"vcvtuqq2pd", 0xF3, 1, 0x7A, 0, true, isaAVX512DQ, 8, vUnary},
	VCVTTPD2UDQ: {"vcvttpd2udq", 0, 1, 0x78, 0, true, isaAVX512F, 8, vUnary | vDstX},
	VCVTUDQ2PD:  {"vcvtudq2pd", 0xF3, 1, 0x7A, 0, false, isaAVX512F, 4, vUnary | vSrcX | eHalf},
	VMOVDQU8:    {"vmovdqu8", 0xF2, 1, 0x6F, 0x7F, false, isaAVX512BW, 0, vUnary},
	VMOVDQU16:   {"vmovdqu16", 0xF2, 1, 0x6F, 0x7F, true, isaAVX512BW, 0, vUnary},
	VMOVDQU32:   {"vmovdqu32", 0xF3, 1, 0x6F, 0x7F, false, isaAVX512F, 0, vUnary},
	VMOVDQU64:   {"vmovdqu64", 0xF3, 1, 0x6F, 0x7F, true, isaAVX512F, 0, vUnary},
	VPSRAQ:      {"vpsraq", 0x66, 1, 0xE2, 0, true, isaAVX512F, 0, vSrc2X | eM128},
}

// evexFeat is the feature set of an AVX-512 form at length l: its own
// feature, plus avx512vl below 512 bits.
func evexFeat(f cpu.Feature, l VecLen) cpu.Set {
	if l == V512 {
		return vecFeat[f]
	}
	return vecFeat[f].Union(vecFeat[cpu.X86AVX512VL])
}

func (a *Asm) zregOK(x XReg) bool {
	if x > 31 {
		a.fail("vector register %d out of range 0-31", x)
		return false
	}
	return true
}

func (a *Asm) evexLenOK(l VecLen) bool {
	if l != V128 && l != V256 && l != V512 {
		a.fail("EVEX vector length %d, want 16, 32 or 64", l)
		return false
	}
	return true
}

func (a *Asm) maskOK(k Mask) bool {
	switch {
	case k.K > K7:
		a.fail("mask register k%d out of range 0-7", k.K)
		return false
	case k.Zero && k.K == K0:
		a.fail("zeroing needs a mask register other than k0")
		return false
	}
	return true
}

// evexArgs is one EVEX instruction's fields, gathered so the emitter
// takes one value rather than a dozen parameters.
type evexArgs struct {
	pp, mp, op byte
	w1         bool
	l          VecLen
	r, v, rm   byte // ModRM.reg, vvvv and a register ModRM.rm, 0-31
	m          *Mem
	k          Mask
	bcst       bool
	n          int32 // disp8 scale of the memory operand
}

// evexEmit writes the four-byte EVEX prefix (62, P0, P1, P2), the opcode
// and ModRM/SIB/displacement. Register numbers above 15 use R' (for
// ModRM.reg), V' (for vvvv) and, for a register rm, the X bit, which
// has no index to extend there.
func (a *Asm) evexEmit(e *evexArgs) {
	var x, b byte
	if e.m != nil {
		b = byte(e.m.Base)
		if e.m.Scale != 0 {
			x = byte(e.m.Index)
		}
	} else {
		b = e.rm & 15
		x = (e.rm >> 4) << 3
	}
	// R, X, B, R', vvvv and V' are stored inverted.
	p0 := (^e.r>>3&1)<<7 | (^x>>3&1)<<6 | (^b>>3&1)<<5 | (^e.r>>4&1)<<4 | e.mp
	p1 := (^e.v&15)<<3 | 4 | e.pp
	if e.w1 {
		p1 |= 0x80
	}
	var ll byte
	switch e.l {
	case V256:
		ll = 1
	case V512:
		ll = 2
	}
	p2 := ll<<5 | (^e.v>>4&1)<<3 | byte(e.k.K)
	if e.k.Zero {
		p2 |= 0x80
	}
	if e.bcst {
		p2 |= 0x10
	}
	a.buf = append(a.buf, 0x62, p0, p1, p2, e.op)
	if e.m != nil {
		a.modrmMemScaled(e.r, *e.m, e.n)
	} else {
		a.buf = append(a.buf, 0xC0|(e.r&7)<<3|e.rm&7)
	}
}

// modrmMemScaled writes the ModRM byte, the SIB byte and the
// displacement of a memory operand. An 8-bit displacement counts units of
// n bytes: 1 for the legacy and VEX forms (modrmMem), the memory operand's
// size or the element size under broadcast for EVEX's compressed
// displacement, so a multiple of n within ±128n still takes one byte; any
// other falls back to disp32, which is never scaled.
func (a *Asm) modrmMemScaled(reg byte, m Mem, n int32) {
	base := byte(m.Base) & 7
	// mod 00 with base 101 means RIP-relative (or disp32 with a SIB), so
	// RBP and R13 always carry a displacement, even zero.
	var mod byte
	switch {
	case m.Disp == 0 && base != 5:
		mod = 0
	case m.Disp%n == 0 && fits8(m.Disp/n):
		mod = 1
	default:
		mod = 2
	}
	// rm 100 means "a SIB byte follows", so RSP and R12 as a base need a
	// SIB with index 100 (none).
	if m.Scale != 0 || base == 4 {
		a.buf = append(a.buf, mod<<6|(reg&7)<<3|4)
		sib := byte(4<<3) | base
		if m.Scale != 0 {
			var ss byte
			switch m.Scale {
			case 2:
				ss = 1
			case 4:
				ss = 2
			case 8:
				ss = 3
			}
			sib = ss<<6 | (byte(m.Index)&7)<<3 | base
		}
		a.buf = append(a.buf, sib)
	} else {
		a.buf = append(a.buf, mod<<6|(reg&7)<<3|base)
	}
	switch mod {
	case 1:
		a.imm8(int8(m.Disp / n))
	case 2:
		a.imm32(m.Disp)
	}
}

// evexForm validates an EvexOp call.
func (a *Asm) evexForm(op EvexOp, l VecLen, k Mask, unary, imm bool) (*evexForm, bool) {
	if a.err != nil || !a.evexLenOK(l) || !a.maskOK(k) {
		return nil, false
	}
	if op >= evexEnd {
		a.fail("EVEX operation %d", op)
		return nil, false
	}
	f := &evexForms[op]
	switch {
	case unary != (f.flags&vUnary != 0):
		if unary {
			a.fail("%s has two sources", f.name)
		} else {
			a.fail("%s has one source", f.name)
		}
	case imm != (f.flags&vImm != 0):
		a.failImm(f.name, imm)
	default:
		return f, true
	}
	return nil, false
}

// memScale is the disp8*N factor of f's memory operand at length l.
func (f *evexForm) memScale(l VecLen, bcst bool) int32 {
	switch {
	case bcst:
		return int32(f.elem)
	case f.flags&eHalf != 0:
		return int32(l) / 2
	case f.flags&eM128 != 0:
		return 16
	}
	return int32(l)
}

func (a *Asm) evexDo(f *evexForm, l VecLen, k Mask, dst, s1, s2 XReg, m *Mem, bcst bool, imm int) {
	if !a.zregOK(dst) || !a.zregOK(s1) || !a.zregOK(s2) {
		return
	}
	if m != nil && !a.memOK(*m) {
		return
	}
	if bcst && f.elem == 0 {
		a.fail("%s has no broadcast form", f.name)
		return
	}
	e := evexArgs{pp: vexPP(f.pfx), mp: f.mp, op: f.op, w1: f.w1, l: l, r: byte(dst), v: byte(s1), rm: byte(s2), m: m, k: k, bcst: bcst}
	if m != nil {
		e.n = f.memScale(l, bcst)
	}
	a.evexEmit(&e)
	if imm >= 0 {
		a.imm8(int8(imm))
	}
	a.need(evexFeat(f.feat, l))
}

// E emits the EVEX form dst{k} = s1 op s2 (s1 in vvvv, s2 in ModRM.rm;
// for VPERMT2* dst is also the first table, for VPERMB s1 holds the
// indices).
func (a *Asm) E(op EvexOp, l VecLen, k Mask, dst, s1, s2 XReg) {
	if f, ok := a.evexForm(op, l, k, false, false); ok {
		a.evexDo(f, l, k, dst, s1, s2, nil, false, -1)
	}
}

// ELoad emits dst{k} = s1 op [m]; with bcst the operand is one element
// repeated across the vector (forms with 32- or 64-bit lanes only).
func (a *Asm) ELoad(op EvexOp, l VecLen, k Mask, dst, s1 XReg, m Mem, bcst bool) {
	if f, ok := a.evexForm(op, l, k, false, false); ok {
		a.evexDo(f, l, k, dst, s1, 0, &m, bcst, -1)
	}
}

// EImm emits dst{k} = op(dst, s1, s2, imm): VPTERNLOGD/Q, where imm is
// the truth table indexed by the bits of (dst, s1, s2).
func (a *Asm) EImm(op EvexOp, l VecLen, k Mask, dst, s1, s2 XReg, imm uint8) {
	if f, ok := a.evexForm(op, l, k, false, true); ok {
		a.evexDo(f, l, k, dst, s1, s2, nil, false, int(imm))
	}
}

// ELoadImm emits dst{k} = op(dst, s1, [m], imm).
func (a *Asm) ELoadImm(op EvexOp, l VecLen, k Mask, dst, s1 XReg, m Mem, bcst bool, imm uint8) {
	if f, ok := a.evexForm(op, l, k, false, true); ok {
		a.evexDo(f, l, k, dst, s1, 0, &m, bcst, int(imm))
	}
}

// EUn emits the one-source form dst{k} = op(src) (VPABSQ, the
// conversions, the masked moves).
func (a *Asm) EUn(op EvexOp, l VecLen, k Mask, dst, src XReg) {
	if f, ok := a.evexForm(op, l, k, true, false); ok {
		a.evexDo(f, l, k, dst, 0, src, nil, false, -1)
	}
}

// EUnLoad emits dst{k} = op([m]); a masked VMOVDQU* load does not fault
// on masked-off lanes, which is how a compiler can load a partial vector
// at the end of memory.
func (a *Asm) EUnLoad(op EvexOp, l VecLen, k Mask, dst XReg, m Mem, bcst bool) {
	if f, ok := a.evexForm(op, l, k, true, false); ok {
		a.evexDo(f, l, k, dst, 0, 0, &m, bcst, -1)
	}
}

// EStore emits VMOVDQU8/16/32/64 [m]{k}, src: only the lanes selected by
// k are written (merge masking; a store cannot zero).
func (a *Asm) EStore(op EvexOp, l VecLen, k KReg, m Mem, src XReg) {
	f, ok := a.evexForm(op, l, Mask{K: k}, true, false)
	if !ok {
		return
	}
	if f.st == 0 {
		a.fail("%s has no store form", f.name)
		return
	}
	g := *f
	g.op = f.st
	a.evexDo(&g, l, Mask{K: k}, src, 0, 0, &m, false, -1)
}

// ECmpOp is an AVX-512 integer compare into a mask register.
type ECmpOp uint8

// Integer compares: signed and unsigned, per lane width.
const (
	VPCMPB ECmpOp = iota
	VPCMPUB
	VPCMPW
	VPCMPUW
	VPCMPD
	VPCMPUD
	VPCMPQ
	VPCMPUQ
	ecmpEnd
)

var ecmpForms = [ecmpEnd]evexForm{
	VPCMPB:  {"vpcmpb", 0x66, 3, 0x3F, 0, false, isaAVX512BW, 0, 0},
	VPCMPUB: {"vpcmpub", 0x66, 3, 0x3E, 0, false, isaAVX512BW, 0, 0},
	VPCMPW:  {"vpcmpw", 0x66, 3, 0x3F, 0, true, isaAVX512BW, 0, 0},
	VPCMPUW: {"vpcmpuw", 0x66, 3, 0x3E, 0, true, isaAVX512BW, 0, 0},
	VPCMPD:  {"vpcmpd", 0x66, 3, 0x1F, 0, false, isaAVX512F, 4, 0},
	VPCMPUD: {"vpcmpud", 0x66, 3, 0x1E, 0, false, isaAVX512F, 4, 0},
	VPCMPQ:  {"vpcmpq", 0x66, 3, 0x1F, 0, true, isaAVX512F, 8, 0},
	VPCMPUQ: {"vpcmpuq", 0x66, 3, 0x1E, 0, true, isaAVX512F, 8, 0},
}

// IntPred is VPCMP's predicate: the relation s1 pred s2 per lane.
type IntPred uint8

// Integer comparison predicates (3 is "always false", 7 "always true").
const (
	IntEQ  IntPred = 0
	IntLT  IntPred = 1
	IntLE  IntPred = 2
	IntNE  IntPred = 4
	IntNLT IntPred = 5 // greater or equal
	IntNLE IntPred = 6 // greater
)

func (a *Asm) ecmpOK(op ECmpOp, l VecLen, dst, k KReg, pred IntPred) bool {
	switch {
	case a.err != nil || !a.evexLenOK(l) || !a.maskOK(Mask{K: k}):
		return false
	case op >= ecmpEnd:
		a.fail("EVEX compare %d", op)
	case dst > K7:
		a.fail("mask register k%d out of range 0-7", dst)
	case pred > 7:
		a.fail("integer comparison predicate %d", pred)
	default:
		return true
	}
	return false
}

// ECmp emits VPCMP[U]B/W/D/Q dst{k}, s1, s2, pred: bit i of dst is set
// where lane i of s1 pred s2 holds (and bit i of k, if k is not K0).
func (a *Asm) ECmp(op ECmpOp, l VecLen, dst, k KReg, s1, s2 XReg, pred IntPred) {
	if a.ecmpOK(op, l, dst, k, pred) {
		a.evexDo(&ecmpForms[op], l, Mask{K: k}, XReg(dst), s1, s2, nil, false, int(pred))
	}
}

// ECmpLoad emits VPCMP[U]B/W/D/Q dst{k}, s1, [m], pred.
func (a *Asm) ECmpLoad(op ECmpOp, l VecLen, dst, k KReg, s1 XReg, m Mem, bcst bool, pred IntPred) {
	if a.ecmpOK(op, l, dst, k, pred) {
		a.evexDo(&ecmpForms[op], l, Mask{K: k}, XReg(dst), s1, 0, &m, bcst, int(pred))
	}
}

// laneMaskForm gives VPMOVM2* / VPMOV*2M per lane width: opcodes in 0F38
// with prefix F3, W1 for the 16- and 64-bit lanes.
func (a *Asm) laneMaskForm(w Width, l VecLen) (op byte, w1 bool, feat cpu.Feature, ok bool) {
	if a.err != nil || !a.evexLenOK(l) {
		return 0, false, 0, false
	}
	switch w {
	case W8:
		return 0x28, false, isaAVX512BW, true
	case W16:
		return 0x28, true, isaAVX512BW, true
	case W32:
		return 0x38, false, isaAVX512DQ, true
	case W64:
		return 0x38, true, isaAVX512DQ, true
	}
	a.fail("lane width %d", w)
	return 0, false, 0, false
}

// Vpmovm2 emits VPMOVM2B/W/D/Q dst, src: every lane of w bytes becomes
// all ones where its bit in src is set and zero elsewhere.
func (a *Asm) Vpmovm2(w Width, l VecLen, dst XReg, src KReg) {
	op, w1, feat, ok := a.laneMaskForm(w, l)
	if !ok || !a.zregOK(dst) {
		return
	}
	if src > K7 {
		a.fail("mask register k%d out of range 0-7", src)
		return
	}
	a.evexEmit(&evexArgs{pp: 2, mp: 2, op: op, w1: w1, l: l, r: byte(dst), rm: byte(src)})
	a.need(evexFeat(feat, l))
}

// Vpmov2m emits VPMOVB2M/W2M/D2M/Q2M dst, src: bit i of dst is the top
// bit of lane i (bitmask and all_true without a GPR round trip).
func (a *Asm) Vpmov2m(w Width, l VecLen, dst KReg, src XReg) {
	op, w1, feat, ok := a.laneMaskForm(w, l)
	if !ok || !a.zregOK(src) {
		return
	}
	if dst > K7 {
		a.fail("mask register k%d out of range 0-7", dst)
		return
	}
	a.evexEmit(&evexArgs{pp: 2, mp: 2, op: op + 1, w1: w1, l: l, r: byte(dst), rm: byte(src)})
	a.need(evexFeat(feat, l))
}

// kmovForm gives KMOVB/W/D/Q between a mask register and a GPR (VEX
// encoded, L0): prefix, W and feature per width.
func (a *Asm) kmovForm(w Width) (pfx byte, w1 bool, feat cpu.Feature, ok bool) {
	if a.err != nil {
		return 0, false, 0, false
	}
	switch w {
	case W8:
		return 0x66, false, isaAVX512DQ, true
	case W16:
		return 0, false, isaAVX512F, true
	case W32:
		return 0xF2, false, isaAVX512BW, true
	case W64:
		return 0xF2, true, isaAVX512BW, true
	}
	a.fail("kmov width %d", w)
	return 0, false, 0, false
}

// KmovToGPR emits KMOVB/W/D/Q dst, src: the low w*8 bits of a mask into
// a GPR (a 32-bit destination below W64, zero-extended).
func (a *Asm) KmovToGPR(w Width, dst Reg, src KReg) {
	pfx, w1, feat, ok := a.kmovForm(w)
	if !ok || !a.regOK(byte(dst)) {
		return
	}
	if src > K7 {
		a.fail("mask register k%d out of range 0-7", src)
		return
	}
	a.vexEmit(vexPP(pfx), 1, w1, V128, 0x93, byte(dst), 0, byte(src), nil)
	a.need(vecFeat[feat])
}

// KmovFromGPR emits KMOVB/W/D/Q dst, src.
func (a *Asm) KmovFromGPR(w Width, dst KReg, src Reg) {
	pfx, w1, feat, ok := a.kmovForm(w)
	if !ok || !a.regOK(byte(src)) {
		return
	}
	if dst > K7 {
		a.fail("mask register k%d out of range 0-7", dst)
		return
	}
	a.vexEmit(vexPP(pfx), 1, w1, V128, 0x92, byte(dst), 0, byte(src), nil)
	a.need(vecFeat[feat])
}

// VpsraqImm emits VPSRAQ dst{k}, src, n (avx512f): the 64-bit arithmetic
// shift SSE and AVX2 lack, so i64x2.shr_s is one instruction. As with the
// other shifts, counts of 64 or more fill with the sign: the compiler
// masks the count to WebAssembly's modulo rule first.
func (a *Asm) VpsraqImm(l VecLen, k Mask, dst, src XReg, n uint8) {
	if a.err != nil || !a.evexLenOK(l) || !a.maskOK(k) || !a.zregOK(dst) || !a.zregOK(src) {
		return
	}
	// EVEX.NDD: the destination is in vvvv, ModRM.reg holds /4.
	a.evexEmit(&evexArgs{pp: 1, mp: 1, op: 0x72, w1: true, l: l, r: 4, v: byte(dst), rm: byte(src), k: k})
	a.imm8(int8(n))
	a.need(evexFeat(isaAVX512F, l))
}

// VpsraqImmLoad emits VPSRAQ dst{k}, [m], n; with bcst one 64-bit
// element of [m] is shifted into every lane.
func (a *Asm) VpsraqImmLoad(l VecLen, k Mask, dst XReg, m Mem, bcst bool, n uint8) {
	if a.err != nil || !a.evexLenOK(l) || !a.maskOK(k) || !a.zregOK(dst) || !a.memOK(m) {
		return
	}
	scale := int32(l)
	if bcst {
		scale = 8
	}
	a.evexEmit(&evexArgs{pp: 1, mp: 1, op: 0x72, w1: true, l: l, r: 4, v: byte(dst), m: &m, k: k, bcst: bcst, n: scale})
	a.imm8(int8(n))
	a.need(evexFeat(isaAVX512F, l))
}

// VpbroadcastGPR emits VPBROADCASTB/W/D/Q dst{k}, src: the low w bytes
// of a GPR in every lane, the one-instruction splat (avx512bw for 8- and
// 16-bit lanes, avx512f for 32 and 64).
func (a *Asm) VpbroadcastGPR(w Width, l VecLen, k Mask, dst XReg, src Reg) {
	if a.err != nil || !a.evexLenOK(l) || !a.maskOK(k) || !a.zregOK(dst) || !a.regOK(byte(src)) {
		return
	}
	var op byte
	var w1 bool
	feat := isaAVX512F
	switch w {
	case W8:
		op, feat = 0x7A, isaAVX512BW
	case W16:
		op, feat = 0x7B, isaAVX512BW
	case W32:
		op = 0x7C
	case W64:
		op, w1 = 0x7C, true
	default:
		a.fail("lane width %d", w)
		return
	}
	a.evexEmit(&evexArgs{pp: 1, mp: 2, op: op, w1: w1, l: l, r: byte(dst), rm: byte(src), k: k})
	a.need(evexFeat(feat, l))
}

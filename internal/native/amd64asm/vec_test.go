package amd64asm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/ferryvm/ferry/internal/cpu"
	"golang.org/x/arch/x86/x86asm"
)

// vexFields is what decodeVEX reads back from a VEX or EVEX instruction:
// the prefix's fields with the inverted bits un-inverted and the register
// extensions applied.
type vexFields struct {
	evex         bool
	mp, pp       byte
	w            bool
	l            VecLen
	op           byte
	reg, vvvv    byte // with R/R' and V'
	rm           byte // register rm with B and X (EVEX), or the base with B
	mod          byte
	k            KReg
	zero, bcst   bool
	length       int // whole instruction, given whether it has an imm8
	idx          byte
	hasSIB       bool
	disp         int32
	dispBytes    int
	vvvvReserved bool // EVEX: the fixed bit of P1 is set, P0's zero bits clear
}

// decodeVEX is a decoder for the prefix and ModRM/SIB/displacement of
// VEX (C4/C5) and EVEX (62) instructions, written from the SDM's
// prefix diagrams independently of the encoder, so that the register
// sweep and the fuzzer check the encoder's bit placement against a second
// reading of the spec (x86asm decodes neither).
func decodeVEX(code []byte, imm bool) (vexFields, error) {
	var f vexFields
	if len(code) < 3 {
		return f, fmt.Errorf("%d bytes", len(code))
	}
	var rBit, xBit, bBit, r2, v2 byte
	var p int
	switch code[0] {
	case 0xC5:
		rBit, xBit, bBit = ^code[1]>>7&1, 0, 0
		f.mp = 1
		f.vvvv = ^code[1] >> 3 & 15
		f.l = []VecLen{V128, V256}[code[1]>>2&1]
		f.pp = code[1] & 3
		p = 2
	case 0xC4:
		rBit, xBit, bBit = ^code[1]>>7&1, ^code[1]>>6&1, ^code[1]>>5&1
		f.mp = code[1] & 31
		f.w = code[2]&0x80 != 0
		f.vvvv = ^code[2] >> 3 & 15
		f.l = []VecLen{V128, V256}[code[2]>>2&1]
		f.pp = code[2] & 3
		p = 3
	case 0x62:
		if len(code) < 6 {
			return f, fmt.Errorf("%d bytes", len(code))
		}
		f.evex = true
		p0, p1, p2 := code[1], code[2], code[3]
		rBit, xBit, bBit, r2 = ^p0>>7&1, ^p0>>6&1, ^p0>>5&1, ^p0>>4&1
		f.vvvvReserved = p0&0x0C == 0 && p1&4 != 0
		f.mp = p0 & 3
		f.w = p1&0x80 != 0
		f.vvvv = ^p1 >> 3 & 15
		f.pp = p1 & 3
		f.zero = p2&0x80 != 0
		ll := p2 >> 5 & 3
		if ll == 3 {
			return f, fmt.Errorf("reserved L'L")
		}
		f.l = []VecLen{V128, V256, V512}[ll]
		f.bcst = p2&0x10 != 0
		v2 = ^p2 >> 3 & 1
		f.k = KReg(p2 & 7)
		p = 4
	default:
		return f, fmt.Errorf("no VEX/EVEX prefix: %#x", code[0])
	}
	if len(code) < p+2 {
		return f, fmt.Errorf("%d bytes", len(code))
	}
	f.op = code[p]
	modrm := code[p+1]
	p += 2
	f.mod = modrm >> 6
	f.reg = modrm>>3&7 | rBit<<3 | r2<<4
	f.vvvv |= v2 << 4
	rm := modrm & 7
	if f.mod == 3 {
		f.rm = rm | bBit<<3
		if f.evex {
			f.rm |= xBit << 4
		}
	} else {
		base := rm
		if rm == 4 {
			if len(code) <= p {
				return f, fmt.Errorf("no SIB")
			}
			sib := code[p]
			p++
			f.hasSIB = true
			base = sib & 7
			f.idx = sib>>3&7 | xBit<<3
		}
		f.rm = base | bBit<<3
		switch {
		case f.mod == 1:
			f.dispBytes = 1
		case f.mod == 2 || f.mod == 0 && base == 5:
			f.dispBytes = 4
		}
		if len(code) < p+f.dispBytes {
			return f, fmt.Errorf("short displacement")
		}
		switch f.dispBytes {
		case 1:
			f.disp = int32(int8(code[p]))
		case 4:
			f.disp = int32(binary.LittleEndian.Uint32(code[p:]))
		}
		p += f.dispBytes
	}
	if imm {
		p++
	}
	f.length = p
	return f, nil
}

// TestVEXRegisterSweep encodes a three-operand VEX form for every
// combination of X0-X15 in its three operands at both lengths, and every
// combination through the C5 and C4 prefixes, and decodes the fields
// back.
func TestVEXRegisterSweep(t *testing.T) {
	var a Asm
	for _, l := range []VecLen{V128, V256} {
		for _, op := range []VecOp{PADDD, PSHUFB, VFMADD231PD} {
			for d := XReg(0); d < 16; d++ {
				for s1 := XReg(0); s1 < 16; s1++ {
					for s2 := XReg(0); s2 < 16; s2++ {
						a.Reset()
						a.V(op, l, d, s1, s2)
						code, err := a.Finish()
						if err != nil {
							t.Fatal(err)
						}
						f, err := decodeVEX(code, false)
						if err != nil || f.length != len(code) {
							t.Fatalf("%v %d %d,%d,%d: % x: %v (length %d)", vecForms[op].name, l, d, s1, s2, code, err, f.length)
						}
						vf := vecForms[op]
						if f.reg != byte(d) || f.vvvv != byte(s1) || f.rm != byte(s2) || f.l != l || f.mp != vf.mp ||
							f.op != vf.op || f.pp != vexPP(vf.pfx) || f.w != (vf.flags&vW1 != 0) {
							t.Fatalf("%v %d %d,%d,%d: % x decodes as %+v", vf.name, l, d, s1, s2, code, f)
						}
						// The two-byte prefix exactly when it can express the instruction.
						if short := code[0] == 0xC5; short != (vf.mp == 1 && vf.flags&vW1 == 0 && s2 < 8) {
							t.Fatalf("%v %d,%d,%d: prefix %#x", vf.name, d, s1, s2, code[0])
						}
					}
				}
			}
		}
	}
}

// TestEVEXRegisterSweep does the same for EVEX over X0-X31 in every
// operand, every length and every mask, which exercises R', V' and the
// X bit as the fifth bit of a register rm.
func TestEVEXRegisterSweep(t *testing.T) {
	var a Asm
	for _, l := range []VecLen{V128, V256, V512} {
		for d := XReg(0); d < 32; d++ {
			for s1 := XReg(0); s1 < 32; s1++ {
				for s2 := XReg(0); s2 < 32; s2++ {
					k := maskAt(int(d) + int(s1)*3 + int(s2))
					a.Reset()
					a.EImm(VPTERNLOGQ, l, k, d, s1, s2, 0xCA)
					code, err := a.Finish()
					if err != nil {
						t.Fatal(err)
					}
					f, err := decodeVEX(code, true)
					if err != nil || f.length != len(code) || !f.evex || !f.vvvvReserved {
						t.Fatalf("%d %d,%d,%d: % x: %v %+v", l, d, s1, s2, code, err, f)
					}
					if f.reg != byte(d) || f.vvvv != byte(s1) || f.rm != byte(s2) || f.l != l || f.k != k.K ||
						f.zero != k.Zero || f.bcst || !f.w || f.mp != 3 || f.pp != 1 || f.op != 0x25 || code[len(code)-1] != 0xCA {
						t.Fatalf("%d %d,%d,%d %v: % x decodes as %+v", l, d, s1, s2, k, code, f)
					}
				}
			}
		}
	}
}

// TestEVEXDisp8Compression: for every length, broadcast or not, and a
// range of displacements, the displacement decoded back (disp8 times N,
// or disp32) equals the one asked for, and disp8 is used exactly when
// the displacement is a multiple of N within ±128N.
func TestEVEXDisp8Compression(t *testing.T) {
	var a Asm
	for _, l := range []VecLen{V128, V256, V512} {
		for _, c := range []struct {
			op   EvexOp
			bcst bool
			n    int32
		}{{VPERMT2Q, false, int32(l)}, {VPERMT2Q, true, 8}, {VPERMT2D, true, 4}, {VPERMB, false, int32(l)}, {VCVTUDQ2PD, false, int32(l) / 2}} {
			for disp := int32(-130 * 64); disp <= 130*64; disp += 4 {
				m := M(RDX, disp)
				a.Reset()
				if evexForms[c.op].flags&vUnary != 0 {
					a.EUnLoad(c.op, l, Mask{}, X3, m, c.bcst)
				} else {
					a.ELoad(c.op, l, Mask{}, X3, X20, m, c.bcst)
				}
				code, err := a.Finish()
				if err != nil {
					t.Fatal(err)
				}
				f, err := decodeVEX(code, false)
				if err != nil || f.length != len(code) {
					t.Fatalf("% x: %v", code, err)
				}
				got := f.disp
				if f.dispBytes == 1 {
					got *= c.n
				}
				wantShort := disp != 0 && disp%c.n == 0 && disp/c.n >= -128 && disp/c.n <= 127
				if got != disp || (f.dispBytes == 1) != wantShort || f.bcst != c.bcst {
					t.Fatalf("%s %d bcst=%v disp %d: % x decodes to disp %d (%d bytes)", evexForms[c.op].name, l, c.bcst, disp, code, got, f.dispBytes)
				}
			}
		}
	}
}

// TestVecInvalidOperandsAreErrors: every malformed vector call is an
// ErrInvalid from Finish, emits no bytes and records no feature.
func TestVecInvalidOperandsAreErrors(t *testing.T) {
	for name, emit := range map[string]func(a *Asm){
		"legacy X16":                  func(a *Asm) { a.Vec(PADDB, X16, X0) },
		"legacy unknown op":           func(a *Asm) { a.Vec(vecEnd, X0, X1) },
		"legacy VEX-only op":          func(a *Asm) { a.Vec(VPERMD, X0, X1) },
		"legacy missing imm":          func(a *Asm) { a.Vec(PSHUFD, X0, X1) },
		"legacy unexpected imm":       func(a *Asm) { a.VecImm(PADDB, X0, X1, 1) },
		"legacy cmpps predicate 8":    func(a *Asm) { a.VecImm(CMPPS, X0, X1, 8) },
		"legacy roundps mode 16":      func(a *Asm) { a.VecImm(ROUNDPS, X0, X1, 16) },
		"movd register form":          func(a *Asm) { a.Vec(MOVD, X0, X1) },
		"movhlps memory form":         func(a *Asm) { a.VecLoad(MOVHLPS, X0, M(RAX, 0)) },
		"store of paddb":              func(a *Asm) { a.VecStore(PADDB, M(RAX, 0), X1) },
		"shift op":                    func(a *Asm) { a.VecShiftImm(vecShiftEnd, X1, 1) },
		"blendv op":                   func(a *Asm) { a.Blendv(blendvEnd, X1, X2) },
		"pextrb lane 16":              func(a *Asm) { a.Pextr(W8, RAX, X1, 16) },
		"pinsrq lane 2":               func(a *Asm) { a.Pinsr(W64, X1, RAX, 2) },
		"pinsr width 3":               func(a *Asm) { a.Pinsr(Width(3), X1, RAX, 0) },
		"movmsk op":                   func(a *Asm) { a.Movmsk(movmskEnd, RAX, X1) },
		"VEX X16":                     func(a *Asm) { a.V(PADDB, V128, X0, X16, X1) },
		"VEX length 64":               func(a *Asm) { a.V(PADDB, V512, X0, X1, X2) },
		"VEX 256-bit movq":            func(a *Asm) { a.VUn(MOVQ, V256, X0, X1) },
		"VEX 128-bit vpermq":          func(a *Asm) { a.VUnImm(VPERMQ, V128, X0, X1, 0) },
		"VEX unary as binary":         func(a *Asm) { a.V(PABSB, V128, X0, X1, X2) },
		"VEX binary as unary":         func(a *Asm) { a.VUn(PADDB, V128, X0, X1) },
		"VEX cmpps predicate 32":      func(a *Asm) { a.VImm(CMPPS, V128, X0, X1, X2, 32) },
		"VEX bad memory scale":        func(a *Asm) { a.VLoad(PADDB, V128, X0, X1, MI(RAX, RCX, 3, 0)) },
		"VEX store of vpaddb":         func(a *Asm) { a.VStore(PADDB, V128, M(RAX, 0), X1) },
		"vextracti128 half 2":         func(a *Asm) { a.VExtracti128(X0, X1, 2) },
		"vextracti128 store half 2":   func(a *Asm) { a.VExtracti128Store(M(RAX, 0), X1, 2) },
		"vcvtps2ph rounding 8":        func(a *Asm) { a.Vcvtps2ph(V128, X0, X1, 8) },
		"vcvtps2ph store length 64":   func(a *Asm) { a.Vcvtps2phStore(V512, M(RAX, 0), X1, 0) },
		"vblendv mask X16":            func(a *Asm) { a.VBlendv(PBLENDVB, V128, X0, X1, X2, X16) },
		"VEX shift length":            func(a *Asm) { a.VShiftImm(PSLLWi, VecLen(8), X0, X1, 1) },
		"EVEX X32":                    func(a *Asm) { a.E(VPERMB, V512, Mask{}, X0, XReg(32), X1) },
		"EVEX length 8":               func(a *Asm) { a.E(VPERMB, VecLen(8), Mask{}, X0, X1, X2) },
		"EVEX k8":                     func(a *Asm) { a.E(VPERMB, V512, Mask{K: 8}, X0, X1, X2) },
		"EVEX zeroing without a mask": func(a *Asm) { a.E(VPERMB, V512, Mask{Zero: true}, X0, X1, X2) },
		"EVEX byte broadcast":         func(a *Asm) { a.ELoad(VPERMB, V512, Mask{}, X0, X1, M(RAX, 0), true) },
		"EVEX missing imm":            func(a *Asm) { a.E(VPTERNLOGD, V512, Mask{}, X0, X1, X2) },
		"EVEX unknown op":             func(a *Asm) { a.E(evexEnd, V512, Mask{}, X0, X1, X2) },
		"EVEX store of vpabsq":        func(a *Asm) { a.EStore(VPABSQ, V512, K1, M(RAX, 0), X1) },
		"vpcmp predicate 8":           func(a *Asm) { a.ECmp(VPCMPUB, V512, K1, K0, X1, X2, 8) },
		"vpcmp into k8":               func(a *Asm) { a.ECmp(VPCMPUB, V512, 8, K0, X1, X2, 0) },
		"vpcmp unknown op":            func(a *Asm) { a.ECmp(ecmpEnd, V512, K1, K0, X1, X2, 0) },
		"vpmovm2 width 3":             func(a *Asm) { a.Vpmovm2(Width(3), V512, X1, K1) },
		"vpmovm2 from k8":             func(a *Asm) { a.Vpmovm2(W8, V512, X1, 8) },
		"vpmov2m into k9":             func(a *Asm) { a.Vpmov2m(W8, V512, 9, X1) },
		"vpsraq X32":                  func(a *Asm) { a.VpsraqImm(V512, Mask{}, XReg(32), X1, 1) },
		"vpsraq zeroing k0":           func(a *Asm) { a.VpsraqImmLoad(V512, Mask{Zero: true}, X1, M(RAX, 0), false, 1) },
		"vpbroadcast width 3":         func(a *Asm) { a.VpbroadcastGPR(Width(3), V512, Mask{}, X1, RAX) },
		"vpbroadcast from R16":        func(a *Asm) { a.VpbroadcastGPR(W8, V512, Mask{}, X1, Reg(16)) },
		"kmov width 3":                func(a *Asm) { a.KmovToGPR(Width(3), RAX, K1) },
		"kmov from R16":               func(a *Asm) { a.KmovFromGPR(W16, K1, Reg(16)) },
	} {
		var a Asm
		emit(&a)
		_, err := a.Finish()
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", name, err)
		}
		if a.Offset() != 0 || !a.Features().IsEmpty() {
			t.Errorf("%s: emitted %d bytes, features %v", name, a.Offset(), a.Features())
		}
	}
}

func TestVecFeaturesAreTheUnionOfWhatWasEmitted(t *testing.T) {
	var a Asm
	a.Vec(PADDB, X1, X2)
	a.Vec(PSHUFB, X1, X2)
	a.V(PADDB, V256, X1, X2, X3)
	a.EImm(VPTERNLOGD, V128, Mask{}, X1, X2, X3, 0)
	a.E(VPERMB, V512, Mask{}, X1, X2, X3)
	want := cpu.NewSet(cpu.X86SSE2, cpu.X86SSSE3, cpu.X86AVX2, cpu.X86AVX512F, cpu.X86AVX512VL, cpu.X86AVX512VBMI)
	if a.Features() != want {
		t.Fatalf("features %v, want %v", a.Features(), want)
	}
}

// TestFMAIsOnlyRecordedByFMAForms pins the rule that scalar compiled
// code never fuses: no non-FMA form records fma, so the feature lint
// would catch a compiler that emitted one where it meant a plain
// multiply and add.
func TestFMAIsOnlyRecordedByFMAForms(t *testing.T) {
	var a Asm
	for _, c := range allVecCases() {
		a.Reset()
		c.emit(&a)
		name := c.att[:len("vfmadd")]
		if fma := a.Features().Has(cpu.X86FMA); fma != (name == "vfmadd" || name == "vfnmad") {
			t.Errorf("%s records %v", c.att, a.Features())
		}
	}
}

// vecFuzzForms calls every vector method with raw fuzzer bytes as
// operands. legacy says whether x86asm can decode what it emits; imm
// whether the form ends in an imm8, for decodeVEX.
var vecFuzzForms = []struct {
	legacy, imm bool
	emit        func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool)
}{
	{true, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) { a.Vec(VecOp(o[0]), XReg(o[2]), XReg(o[3])) }},
	{true, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) { a.VecLoad(VecOp(o[0]), XReg(o[2]), m) }},
	{true, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) { a.VecStore(VecOp(o[0]), m, XReg(o[2])) }},
	{true, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.VecImm(VecOp(o[0]), XReg(o[2]), XReg(o[3]), o[1])
	}},
	{true, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.VecLoadImm(VecOp(o[0]), XReg(o[2]), m, o[1])
	}},
	{true, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.VecShiftImm(VecShift(o[0]), XReg(o[2]), o[1])
	}},
	{true, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.Blendv(BlendvOp(o[0]), XReg(o[2]), XReg(o[3]))
	}},
	{true, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.Pextr(Width(o[1]), Reg(o[2]), XReg(o[3]), o[0])
	}},
	{true, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.PextrStore(Width(o[1]), m, XReg(o[3]), o[0])
	}},
	{true, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.Pinsr(Width(o[1]), XReg(o[2]), Reg(o[3]), o[0])
	}},
	{true, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) { a.PinsrLoad(Width(o[1]), XReg(o[2]), m, o[0]) }},
	{true, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.Movmsk(MovmskOp(o[0]), Reg(o[2]), XReg(o[3]))
	}},
	{false, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.V(VecOp(o[0]), l, XReg(o[1]), XReg(o[2]), XReg(o[3]))
	}},
	{false, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.VLoad(VecOp(o[0]), l, XReg(o[1]), XReg(o[2]), m)
	}},
	{false, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.VImm(VecOp(o[0]), l, XReg(o[1]), XReg(o[2]), XReg(o[3]), o[1])
	}},
	{false, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.VLoadImm(VecOp(o[0]), l, XReg(o[1]), XReg(o[2]), m, o[3])
	}},
	{false, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) { a.VUn(VecOp(o[0]), l, XReg(o[1]), XReg(o[2])) }},
	{false, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) { a.VUnLoad(VecOp(o[0]), l, XReg(o[1]), m) }},
	{false, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.VUnImm(VecOp(o[0]), l, XReg(o[1]), XReg(o[2]), o[3])
	}},
	{false, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.VUnLoadImm(VecOp(o[0]), l, XReg(o[1]), m, o[3])
	}},
	{false, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) { a.VStore(VecOp(o[0]), l, m, XReg(o[1])) }},
	{false, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.VShiftImm(VecShift(o[0]), l, XReg(o[1]), XReg(o[2]), o[3])
	}},
	{false, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.VBlendv(BlendvOp(o[0]), l, XReg(o[1]), XReg(o[2]), XReg(o[3]), XReg(o[0]>>4))
	}},
	{false, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) { a.VExtracti128(XReg(o[1]), XReg(o[2]), o[3]) }},
	{false, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.VPextr(Width(o[1]), Reg(o[2]), XReg(o[3]), o[0])
	}},
	{false, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.VPinsr(Width(o[1]), XReg(o[2]), XReg(o[3]), Reg(o[0]), o[0]>>4)
	}},
	{false, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.VMovmsk(MovmskOp(o[0]), l, Reg(o[2]), XReg(o[3]))
	}},
	{false, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.E(EvexOp(o[0]), l, k, XReg(o[1]), XReg(o[2]), XReg(o[3]))
	}},
	{false, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.ELoad(EvexOp(o[0]), l, k, XReg(o[1]), XReg(o[2]), m, b)
	}},
	{false, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.EImm(EvexOp(o[0]), l, k, XReg(o[1]), XReg(o[2]), XReg(o[3]), o[0])
	}},
	{false, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.ELoadImm(EvexOp(o[0]), l, k, XReg(o[1]), XReg(o[2]), m, b, o[3])
	}},
	{false, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.EUn(EvexOp(o[0]), l, k, XReg(o[1]), XReg(o[2]))
	}},
	{false, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.EUnLoad(EvexOp(o[0]), l, k, XReg(o[1]), m, b)
	}},
	{false, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) { a.EStore(EvexOp(o[0]), l, k.K, m, XReg(o[1])) }},
	{false, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.ECmp(ECmpOp(o[0]), l, KReg(o[1]), k.K, XReg(o[2]), XReg(o[3]), IntPred(o[0]>>4))
	}},
	{false, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.ECmpLoad(ECmpOp(o[0]), l, KReg(o[1]), k.K, XReg(o[2]), m, b, IntPred(o[0]>>4))
	}},
	{false, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.Vpmovm2(Width(o[1]), l, XReg(o[2]), KReg(o[3]))
	}},
	{false, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.Vpmov2m(Width(o[1]), l, KReg(o[2]), XReg(o[3]))
	}},
	{false, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.KmovToGPR(Width(o[1]), Reg(o[2]), KReg(o[3]))
	}},
	{false, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.KmovFromGPR(Width(o[1]), KReg(o[2]), Reg(o[3]))
	}},
	{false, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) { a.Vzeroupper() }},
	{false, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) { a.VExtracti128Store(m, XReg(o[1]), o[2]) }},
	{false, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) { a.Vcvtps2ph(l, XReg(o[1]), XReg(o[2]), o[3]) }},
	{false, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) { a.Vcvtps2phStore(l, m, XReg(o[1]), o[3]) }},
	{false, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.VpsraqImm(l, k, XReg(o[1]), XReg(o[2]), o[3])
	}},
	{false, true, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) { a.VpsraqImmLoad(l, k, XReg(o[1]), m, b, o[3]) }},
	{false, false, func(a *Asm, o []byte, l VecLen, k Mask, m Mem, b bool) {
		a.VpbroadcastGPR(Width(o[0]), l, k, XReg(o[1]), Reg(o[2]))
	}},
}

// FuzzEncodeVec is FuzzEncode for the vector forms: random sequences of
// (form, operands), often invalid. No input panics; a rejected call is an
// ErrInvalid and emits nothing; an accepted legacy form decodes with
// x86asm to exactly its bytes, and an accepted VEX/EVEX form has the
// length decodeVEX reads from its prefix and ModRM.
func FuzzEncodeVec(f *testing.F) {
	f.Add([]byte{0, 0, 4, 1, 2, 0, 0, 0, 0, 4, 5, 4, 0x10, 0, 0, 0})
	f.Add([]byte{12, 3, 17, 9, 30, 1, 2, 3, 4, 12, 13, 8, 0x80, 0, 0, 0, 28, 0, 31, 16, 7, 2, 1, 0, 0, 5, 12, 2, 0, 1, 0, 0})
	f.Add([]byte{0x9b, 0xff, 40, 2, 9, 3, 0x77, 0, 0, 21, 4, 3, 0, 0, 0, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Asm
		for len(data) >= 16 {
			rec := data[:16]
			data = data[16:]
			start := a.Offset()
			o := rec[1:5]
			m := Mem{Base: Reg(rec[9]), Index: Reg(rec[10]), Scale: rec[11], Disp: int32(binary.LittleEndian.Uint32(rec[12:16]))}
			l := VecLen(rec[5])
			k := Mask{K: KReg(rec[6]), Zero: rec[7]&1 != 0}
			bcst := rec[7]&2 != 0
			if rec[0]&0x80 == 0 {
				// Mostly valid operands so that most records encode.
				o = []byte{rec[1] % 64, rec[2] % 32, rec[3] % 32, rec[4] % 32}
				l = []VecLen{V128, V256, V512}[rec[5]%3]
				k.K %= 8
				k.Zero = k.Zero && k.K != 0
				m.Base %= 16
				m.Index %= 16
				m.Scale = []uint8{0, 1, 2, 4, 8}[m.Scale%5]
				if m.Index == RSP {
					m.Index = RBP
				}
				if rec[8]&1 == 0 {
					m.Disp = int32(int8(m.Disp)) * 16
				}
			}
			form := vecFuzzForms[int(rec[0]&0x7f)%len(vecFuzzForms)]
			form.emit(&a, o, l, k, m, bcst)
			if a.Err() != nil {
				if !errors.Is(a.Err(), ErrInvalid) {
					t.Fatalf("error %v does not wrap ErrInvalid", a.Err())
				}
				if a.Offset() != start {
					t.Fatalf("record % x failed after emitting % x", rec, a.Bytes()[start:])
				}
				break
			}
			code := a.Bytes()[start:]
			if len(code) == 0 {
				t.Fatalf("record % x emitted nothing and no error", rec)
			}
			if form.legacy {
				inst, err := x86asm.Decode(code, 64)
				if err != nil || inst.Len != len(code) {
					t.Fatalf("record % x encoded % x, which x86asm reads as %v (%d bytes), %v", rec, code, inst, inst.Len, err)
				}
				continue
			}
			if code[0] == 0xC5 && len(code) == 3 && code[1] == 0xF8 && code[2] == 0x77 {
				continue // VZEROUPPER has no ModRM
			}
			if fl, err := decodeVEX(code, form.imm); err != nil || fl.length != len(code) {
				t.Fatalf("record % x encoded % x, which decodes to %d bytes, %v", rec, code, fl.length, err)
			}
		}
		if _, err := a.Finish(); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("error %v does not wrap ErrInvalid", err)
		}
	})
}

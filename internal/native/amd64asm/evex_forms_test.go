package amd64asm

import (
	"fmt"

	"github.com/ferryvm/ferry/internal/cpu"
)

func maskText(k Mask) string {
	s := ""
	if k.K != K0 {
		s = fmt.Sprintf(" {%%k%d}", k.K)
	}
	if k.Zero {
		s += " {z}"
	}
	return s
}

// maskAt rotates through every mask register, with and without zeroing.
func maskAt(i int) Mask {
	k := Mask{K: KReg(i % 8)}
	k.Zero = k.K != K0 && i%3 == 0
	return k
}

func halfLen(l VecLen) VecLen {
	if l == V512 {
		return V256
	}
	return V128
}

// evexCaseFeat is the feature set of an AVX-512 form per the SDM's
// CPUID column: the form's extension, and AVX512VL below 512 bits.
func evexCaseFeat(f cpu.Feature, l VecLen) cpu.Set {
	if l == V512 {
		return fs(f)
	}
	return fs(f, cpu.X86AVX512VL)
}

// evexCases: every EVEX form at every length over X0-X31 in each
// operand position, every mask register with and without zeroing, and
// memory operands whose displacements do and do not compress to disp8*N,
// with and without broadcast.
func evexCases() []vcase {
	var cs []vcase
	add := func(feat cpu.Set, emit func(a *Asm), format string, args ...any) {
		cs = append(cs, vcase{att: fmt.Sprintf(format, args...), emit: emit, feat: feat})
	}
	lens := []VecLen{V128, V256, V512}
	evexFeatOf := map[EvexOp]cpu.Feature{
		VPTERNLOGD: cpu.X86AVX512F, VPTERNLOGQ: cpu.X86AVX512F,
		VPERMB: cpu.X86AVX512VBMI, VPERMW: cpu.X86AVX512BW, VPERMT2B: cpu.X86AVX512VBMI, VPERMT2W: cpu.X86AVX512BW,
		VPERMT2D: cpu.X86AVX512F, VPERMT2Q: cpu.X86AVX512F, VPABSQ: cpu.X86AVX512F, VPMULLQ: cpu.X86AVX512DQ,
		VCVTPS2UDQ: cpu.X86AVX512F, VCVTTPS2UDQ: cpu.X86AVX512F, VCVTUDQ2PS: cpu.X86AVX512F,
		VCVTPD2UQQ: cpu.X86AVX512DQ, VCVTTPD2UQQ: cpu.X86AVX512DQ, VCVTUQQ2PD: cpu.X86AVX512DQ,
		VCVTTPD2UDQ: cpu.X86AVX512F, VCVTUDQ2PD: cpu.X86AVX512F,
		VMOVDQU8: cpu.X86AVX512BW, VMOVDQU16: cpu.X86AVX512BW, VMOVDQU32: cpu.X86AVX512F, VMOVDQU64: cpu.X86AVX512F,
		VPSRAQ: cpu.X86AVX512F,
	}
	for op := EvexOp(0); op < evexEnd; op++ {
		f := evexForms[op]
		for _, l := range lens {
			feat := evexCaseFeat(evexFeatOf[op], l)
			dl, sl, s2l := l, l, l
			if f.flags&vSrc2X != 0 {
				s2l = V128
			}
			if f.flags&vDstX != 0 {
				dl = halfLen(l)
			}
			if f.flags&vSrcX != 0 {
				sl = halfLen(l)
			}
			for i, t := range vecTriples(32) {
				d, s1, s2 := t[0], t[1], t[2]
				k := maskAt(i + int(op))
				imm := uint8(i*29 + 3)
				switch {
				case f.flags&vUnary != 0:
					add(feat, func(a *Asm) { a.EUn(op, l, k, d, s2) }, "%s %s, %s%s", f.name, vn(sl, s2), vn(dl, d), maskText(k))
				case f.flags&vImm != 0:
					add(feat, func(a *Asm) { a.EImm(op, l, k, d, s1, s2, imm) }, "%s $%d, %s, %s, %s%s", f.name, imm, vn(l, s2), vn(l, s1), vn(l, d), maskText(k))
				default:
					add(feat, func(a *Asm) { a.E(op, l, k, d, s1, s2) }, "%s %s, %s, %s%s", f.name, vn(s2l, s2), vn(l, s1), vn(l, d), maskText(k))
				}
			}
			mname := f.name
			if f.flags&vDstX != 0 && l != V512 {
				mname += map[VecLen]string{V128: "x", V256: "y"}[l]
			}
			for i, m := range evexMems(int(op)+int(l), f.memScale(l, false)) {
				d := XReg((int(op)*7 + i*5) % 32)
				s1 := XReg((int(op) + i*11) % 32)
				k := maskAt(i + int(l))
				bcst := f.elem != 0 && i%2 == 1
				if bcst {
					// A broadcast operand's disp8 counts elements.
					m.Disp = m.Disp / f.memScale(l, false) * int32(f.elem)
				}
				mt := mn(m)
				if bcst {
					mt += fmt.Sprintf("{1to%d}", int(l)/int(f.elem)/map[bool]int{true: 2, false: 1}[f.flags&eHalf != 0])
				}
				imm := uint8(i*53 + 1)
				switch {
				case f.flags&vUnary != 0:
					add(feat, func(a *Asm) { a.EUnLoad(op, l, k, d, m, bcst) }, "%s %s, %s%s", mname, mt, vn(dl, d), maskText(k))
				case f.flags&vImm != 0:
					add(feat, func(a *Asm) { a.ELoadImm(op, l, k, d, s1, m, bcst, imm) }, "%s $%d, %s, %s, %s%s", f.name, imm, mt, vn(l, s1), vn(l, d), maskText(k))
				default:
					add(feat, func(a *Asm) { a.ELoad(op, l, k, d, s1, m, bcst) }, "%s %s, %s, %s%s", f.name, mt, vn(l, s1), vn(l, d), maskText(k))
				}
				if f.st != 0 {
					kk := KReg(i % 8)
					add(feat, func(a *Asm) { a.EStore(op, l, kk, m, d) }, "%s %s, %s%s", f.name, vn(l, d), mn(m), maskText(Mask{K: kk}))
				}
			}
		}
	}
	cmpFeat := []cpu.Feature{cpu.X86AVX512BW, cpu.X86AVX512BW, cpu.X86AVX512BW, cpu.X86AVX512BW,
		cpu.X86AVX512F, cpu.X86AVX512F, cpu.X86AVX512F, cpu.X86AVX512F}
	for op := ECmpOp(0); op < ecmpEnd; op++ {
		f := ecmpForms[op]
		for _, l := range lens {
			feat := evexCaseFeat(cmpFeat[op], l)
			for i, t := range vecTriples(32) {
				dst, k := KReg(i%8), KReg((i/8+int(op))%8)
				s1, s2 := t[1], t[2]
				pred := IntPred(i % 8)
				add(feat, func(a *Asm) { a.ECmp(op, l, dst, k, s1, s2, pred) }, "%s $%d, %s, %s, %%k%d%s", f.name, pred, vn(l, s2), vn(l, s1), dst, maskText(Mask{K: k}))
			}
			for i, m := range evexMems(int(op)*3+int(l), f.memScale(l, false)) {
				dst, k := KReg((i+3)%8), KReg(i%8)
				s1 := XReg((int(op)*5 + i*7) % 32)
				bcst := f.elem != 0 && i%2 == 1
				if bcst {
					m.Disp = m.Disp / f.memScale(l, false) * int32(f.elem)
				}
				mt := mn(m)
				if bcst {
					mt += fmt.Sprintf("{1to%d}", int(l)/int(f.elem))
				}
				pred := IntPred((i + 1) % 8)
				add(feat, func(a *Asm) { a.ECmpLoad(op, l, dst, k, s1, m, bcst, pred) }, "%s $%d, %s, %s, %%k%d%s", f.name, pred, mt, vn(l, s1), dst, maskText(Mask{K: k}))
			}
		}
	}
	lane := []string{"b", "w", "d", "q"}
	laneFeat := []cpu.Feature{cpu.X86AVX512BW, cpu.X86AVX512BW, cpu.X86AVX512DQ, cpu.X86AVX512DQ}
	for i, w := range []Width{W8, W16, W32, W64} {
		for _, l := range lens {
			feat := evexCaseFeat(laneFeat[i], l)
			for x := XReg(0); x < 32; x++ {
				k := KReg((int(x) + i) % 8)
				add(feat, func(a *Asm) { a.Vpmovm2(w, l, x, k) }, "vpmovm2%s %%k%d, %s", lane[i], k, vn(l, x))
				add(feat, func(a *Asm) { a.Vpmov2m(w, l, k, x) }, "vpmov%s2m %s, %%k%d", lane[i], vn(l, x), k)
			}
		}
	}
	for i, w := range []Width{W8, W16, W32, W64} {
		gw := W32
		if w == W64 {
			gw = W64
		}
		for _, l := range lens {
			feat := evexCaseFeat(laneFeat[i], l)
			if i >= 2 {
				feat = evexCaseFeat(cpu.X86AVX512F, l)
			}
			for r := RAX; r <= R15; r++ {
				x := XReg((int(r)*9 + i*5 + int(l)) % 32)
				k := maskAt(int(r) + i)
				add(feat, func(a *Asm) { a.VpbroadcastGPR(w, l, k, x, r) }, "vpbroadcast%s %s, %s%s", lane[i], rn(gw, r), vn(l, x), maskText(k))
			}
		}
	}
	for _, l := range lens {
		feat := evexCaseFeat(cpu.X86AVX512F, l)
		for i, p := range vecPairs(32) {
			d, s := p[0], p[1]
			k := maskAt(i)
			n := uint8(i * 7 % 64)
			add(feat, func(a *Asm) { a.VpsraqImm(l, k, d, s, n) }, "vpsraq $%d, %s, %s%s", n, vn(l, s), vn(l, d), maskText(k))
		}
		for i, m := range evexMems(int(l), int32(l)) {
			d := XReg((i*13 + 5) % 32)
			k := maskAt(i + 1)
			bcst := i%2 == 1
			mt := mn(m)
			if bcst {
				m.Disp = m.Disp / int32(l) * 8
				mt = mn(m) + fmt.Sprintf("{1to%d}", int(l)/8)
			}
			n := uint8(i + 1)
			add(feat, func(a *Asm) { a.VpsraqImmLoad(l, k, d, m, bcst, n) }, "vpsraq $%d, %s, %s%s", n, mt, vn(l, d), maskText(k))
		}
	}
	kmovFeat := []cpu.Feature{cpu.X86AVX512DQ, cpu.X86AVX512F, cpu.X86AVX512BW, cpu.X86AVX512BW}
	for i, w := range []Width{W8, W16, W32, W64} {
		gw := W32
		if w == W64 {
			gw = W64
		}
		for r := RAX; r <= R15; r++ {
			k := KReg((int(r) + i) % 8)
			add(fs(kmovFeat[i]), func(a *Asm) { a.KmovToGPR(w, r, k) }, "kmov%s %%k%d, %s", lane[i], k, rn(gw, r))
			add(fs(kmovFeat[i]), func(a *Asm) { a.KmovFromGPR(w, k, r) }, "kmov%s %s, %%k%d", lane[i], rn(gw, r), k)
		}
	}
	return cs
}

// evexMems is a rotating subset of the addressing matrix plus
// displacements at the edges of disp8*N compression for scale n: the
// largest and smallest multiples that fit, one step beyond, and
// non-multiples that must fall back to disp32.
func evexMems(i int, n int32) []Mem {
	ms := memsFor(i, 4)
	for j, d := range []int32{127 * n, -128 * n, 128 * n, -129 * n, n, n + 1, n / 2, 3} {
		ms = append(ms, Mem{Base: Reg((i + j*5) % 16), Index: Reg((i + j*3) % 16), Scale: []uint8{0, 1, 2, 4, 8}[j%5], Disp: d})
		if ms[len(ms)-1].Index == RSP {
			ms[len(ms)-1].Index = RBP
		}
	}
	return ms
}

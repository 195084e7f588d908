package amd64asm

import (
	"fmt"
	"strings"

	"github.com/ferryvm/ferry/internal/cpu"
)

// vcase is one encoded vector instruction: how to emit it, its AT&T text
// as llvm-mc reads it, the features it must record, and whether
// golang.org/x/arch's x86asm can decode it (it knows the legacy SSE
// encodings but neither VEX vector forms nor EVEX).
type vcase struct {
	att    string
	emit   func(a *Asm)
	feat   cpu.Set
	legacy bool
}

func vn(l VecLen, x XReg) string {
	switch l {
	case V256:
		return fmt.Sprintf("%%ymm%d", x)
	case V512:
		return fmt.Sprintf("%%zmm%d", x)
	}
	return fmt.Sprintf("%%xmm%d", x)
}

// vecPairs puts every register X0-X15 in each operand position against
// partners with and without the REX/VEX extension bit.
func vecPairs(n XReg) [][2]XReg {
	var ps [][2]XReg
	for x := XReg(0); x < n; x++ {
		ps = append(ps, [2]XReg{x, (x + 9) % n}, [2]XReg{(x*5 + 3) % n, x})
	}
	return ps
}

// vecTriples puts every register in each of three positions.
func vecTriples(n XReg) [][3]XReg {
	var ts [][3]XReg
	for x := XReg(0); x < n; x++ {
		ts = append(ts, [3]XReg{x, (x + 7) % n, (x + 11) % n},
			[3]XReg{(x + 3) % n, x, (x*3 + 1) % n},
			[3]XReg{(x*7 + 2) % n, (x + 13) % n, x})
	}
	return ts
}

// memsFor gives op number i a rotating subset of the addressing matrix,
// so every op meets several shapes and every shape many ops.
func memsFor(i, k int) []Mem {
	ms := mems()
	out := make([]Mem, 0, k)
	for j := 0; j < k; j++ {
		out = append(out, ms[(i*k+j*7)%len(ms)])
	}
	return out
}

func fs(f ...cpu.Feature) cpu.Set { return cpu.NewSet(f...) }

// vecVEXFeat is the feature a VEX form records, derived from the
// instruction tables in the Intel SDM independently of the encoder's
// tables: 128-bit forms are avx, 256-bit integer forms avx2, and the
// AVX2/FMA/F16C-only forms their own feature.
func vecVEXFeat(op VecOp, l VecLen) cpu.Set {
	switch op {
	case VPERMQ, VPERMD, VPBROADCASTB, VPBROADCASTW, VPBROADCASTD, VPBROADCASTQ, VINSERTI128:
		return fs(cpu.X86AVX2)
	case VINSERTF128:
		return fs(cpu.X86AVX)
	case VFMADD231PS, VFMADD231PD, VFNMADD231PS, VFNMADD231PD:
		return fs(cpu.X86FMA)
	case VCVTPH2PS:
		return fs(cpu.X86F16C)
	}
	name := vecForms[op].name
	float := strings.HasSuffix(name, "ps") || strings.HasSuffix(name, "pd") ||
		strings.HasPrefix(name, "mov") || name == "ptest" || strings.HasPrefix(name, "cvt")
	if l == V256 && !float {
		return fs(cpu.X86AVX2)
	}
	return fs(cpu.X86AVX)
}

// vecLegacyFeat is the feature of the legacy form, by ISA extension.
func vecLegacyFeat(op VecOp) cpu.Set {
	switch {
	case op <= MOVLHPS:
		return fs(cpu.X86SSE2)
	case op <= MOVSHDUP:
		return fs(cpu.X86SSE3)
	case op <= PALIGNR:
		return fs(cpu.X86SSSE3)
	case op <= INSERTPS:
		return fs(cpu.X86SSE41)
	}
	return fs(cpu.X86SSE42)
}

func (op VecOp) has(flag uint16) bool { return vecForms[op].flags&flag != 0 }

// vecImm gives a legal immediate for op that varies with k.
func vecImm(op VecOp, k int, vex bool) uint8 {
	switch op {
	case CMPPS, CMPPD:
		if vex {
			return uint8(k % 32)
		}
		return uint8(k % 8)
	case ROUNDPS, ROUNDPD:
		return uint8(8 + k%4)
	case VINSERTI128, VINSERTF128:
		return uint8(k % 2)
	}
	return uint8(k*37 + 1)
}

// legacyVecCases: every legacy VecOp over the register sweep and a
// rotating set of memory operands, and the special forms.
func legacyVecCases() []vcase {
	var cs []vcase
	add := func(feat cpu.Set, emit func(a *Asm), format string, args ...any) {
		cs = append(cs, vcase{att: fmt.Sprintf(format, args...), emit: emit, feat: feat, legacy: true})
	}
	for op := VecOp(0); op < vecEnd; op++ {
		f := vecForms[op]
		if op.has(vVEXOnly) {
			continue
		}
		feat := vecLegacyFeat(op)
		for k, p := range vecPairs(16) {
			d, s := p[0], p[1]
			switch {
			case op.has(vMemOnly):
			case op.has(vImm):
				imm := vecImm(op, k, false)
				add(feat, func(a *Asm) { a.VecImm(op, d, s, imm) }, "%s $%d, %s, %s", f.name, imm, xn(s), xn(d))
			default:
				add(feat, func(a *Asm) { a.Vec(op, d, s) }, "%s %s, %s", f.name, xn(s), xn(d))
			}
		}
		if op.has(vRegOnly) {
			continue
		}
		for k, m := range memsFor(int(op), 6) {
			x := XReg((int(op) + k*5) % 16)
			if op.has(vImm) {
				imm := vecImm(op, k, false)
				add(feat, func(a *Asm) { a.VecLoadImm(op, x, m, imm) }, "%s $%d, %s, %s", f.name, imm, mn(m), xn(x))
			} else {
				add(feat, func(a *Asm) { a.VecLoad(op, x, m) }, "%s %s, %s", f.name, mn(m), xn(x))
			}
			if f.st != 0 {
				add(feat, func(a *Asm) { a.VecStore(op, m, x) }, "%s %s, %s", f.name, xn(x), mn(m))
			}
		}
	}
	shiftNames := []string{"psllw", "pslld", "psllq", "psrlw", "psrld", "psrlq", "psraw", "psrad", "pslldq", "psrldq"}
	for op := VecShift(0); op < vecShiftEnd; op++ {
		for x := X0; x <= X15; x++ {
			n := uint8(int(x)*3 + int(op))
			add(fs(cpu.X86SSE2), func(a *Asm) { a.VecShiftImm(op, x, n) }, "%s $%d, %s", shiftNames[op], n, xn(x))
		}
	}
	for op := BlendvOp(0); op < blendvEnd; op++ {
		for _, p := range vecPairs(16) {
			d, s := p[0], p[1]
			add(fs(cpu.X86SSE41), func(a *Asm) { a.Blendv(op, d, s) }, "%s %%xmm0, %s, %s", blendvForms[op].name, xn(s), xn(d))
		}
	}
	laneNames := []string{"b", "w", "d", "q"}
	for i, w := range []Width{W8, W16, W32, W64} {
		gw := W32
		if w == W64 {
			gw = W64
		}
		lanes := pextrForms[i].lanes
		ext, ins := fs(cpu.X86SSE41), fs(cpu.X86SSE41)
		if w == W16 {
			ext, ins = fs(cpu.X86SSE2), fs(cpu.X86SSE2)
		}
		for r := RAX; r <= R15; r++ {
			x := XReg((int(r)*5 + 2) % 16)
			lane := uint8(int(r)) % lanes
			add(ext, func(a *Asm) { a.Pextr(w, r, x, lane) }, "pextr%s $%d, %s, %s", laneNames[i], lane, xn(x), rn(gw, r))
			add(ins, func(a *Asm) { a.Pinsr(w, x, r, lane) }, "pinsr%s $%d, %s, %s", laneNames[i], lane, rn(gw, r), xn(x))
		}
		for k, m := range memsFor(i, 8) {
			x := XReg((i*3 + k*5) % 16)
			lane := uint8(k) % lanes
			add(fs(cpu.X86SSE41), func(a *Asm) { a.PextrStore(w, m, x, lane) }, "pextr%s $%d, %s, %s", laneNames[i], lane, xn(x), mn(m))
			add(ins, func(a *Asm) { a.PinsrLoad(w, x, m, lane) }, "pinsr%s $%d, %s, %s", laneNames[i], lane, mn(m), xn(x))
		}
	}
	for op := MovmskOp(0); op < movmskEnd; op++ {
		for r := RAX; r <= R15; r++ {
			x := XReg((int(r)*7 + int(op)) % 16)
			add(fs(cpu.X86SSE2), func(a *Asm) { a.Movmsk(op, r, x) }, "%s %s, %s", movmskForms[op].name, xn(x), rn(W32, r))
		}
	}
	return cs
}

// vexVecCases: every VecOp's VEX form at each length it has, over the
// three-register sweep and a rotating set of memory operands.
func vexVecCases() []vcase {
	var cs []vcase
	add := func(feat cpu.Set, emit func(a *Asm), format string, args ...any) {
		cs = append(cs, vcase{att: fmt.Sprintf(format, args...), emit: emit, feat: feat})
	}
	for op := VecOp(0); op < vecEnd; op++ {
		f := vecForms[op]
		name := f.name
		if !op.has(vVEXOnly) {
			name = "v" + name
		}
		for _, l := range []VecLen{V128, V256} {
			if l == V256 && op.has(vNo256) || l == V128 && op.has(vOnly256) {
				continue
			}
			feat := vecVEXFeat(op, l)
			dl, sl, s2l := l, l, l
			if op.has(vDstX) {
				dl = V128
			}
			if op.has(vSrcX) {
				sl = V128
			}
			if op.has(vSrc2X) {
				s2l = V128
			}
			for k, t := range vecTriples(16) {
				d, s1, s2 := t[0], t[1], t[2]
				imm := vecImm(op, k, true)
				switch {
				case op.has(vMemOnly):
				case op.has(vUnary) && op.has(vImm):
					add(feat, func(a *Asm) { a.VUnImm(op, l, d, s2, imm) }, "%s $%d, %s, %s", name, imm, vn(sl, s2), vn(dl, d))
				case op.has(vUnary):
					add(feat, func(a *Asm) { a.VUn(op, l, d, s2) }, "%s %s, %s", name, vn(sl, s2), vn(dl, d))
				case op.has(vImm):
					add(feat, func(a *Asm) { a.VImm(op, l, d, s1, s2, imm) }, "%s $%d, %s, %s, %s", name, imm, vn(s2l, s2), vn(l, s1), vn(l, d))
				default:
					add(feat, func(a *Asm) { a.V(op, l, d, s1, s2) }, "%s %s, %s, %s", name, vn(s2l, s2), vn(l, s1), vn(l, d))
				}
			}
			if op.has(vRegOnly) {
				continue
			}
			mname := name
			if op.has(vDstX) {
				mname += map[VecLen]string{V128: "x", V256: "y"}[l]
			}
			for k, m := range memsFor(int(op)+int(l), 5) {
				d := XReg((int(op) + k*5) % 16)
				s1 := XReg((int(op)*3 + k) % 16)
				imm := vecImm(op, k, true)
				switch {
				case op.has(vUnary) && op.has(vImm):
					add(feat, func(a *Asm) { a.VUnLoadImm(op, l, d, m, imm) }, "%s $%d, %s, %s", mname, imm, mn(m), vn(dl, d))
				case op.has(vUnary):
					add(feat, func(a *Asm) { a.VUnLoad(op, l, d, m) }, "%s %s, %s", mname, mn(m), vn(dl, d))
				case op.has(vImm):
					add(feat, func(a *Asm) { a.VLoadImm(op, l, d, s1, m, imm) }, "%s $%d, %s, %s, %s", mname, imm, mn(m), vn(l, s1), vn(l, d))
				default:
					add(feat, func(a *Asm) { a.VLoad(op, l, d, s1, m) }, "%s %s, %s, %s", mname, mn(m), vn(l, s1), vn(l, d))
				}
				if f.st != 0 {
					add(feat, func(a *Asm) { a.VStore(op, l, m, d) }, "%s %s, %s", name, vn(l, d), mn(m))
				}
			}
		}
	}
	shiftNames := []string{"vpsllw", "vpslld", "vpsllq", "vpsrlw", "vpsrld", "vpsrlq", "vpsraw", "vpsrad", "vpslldq", "vpsrldq"}
	for op := VecShift(0); op < vecShiftEnd; op++ {
		for _, l := range []VecLen{V128, V256} {
			feat := fs(cpu.X86AVX)
			if l == V256 {
				feat = fs(cpu.X86AVX2)
			}
			for _, p := range vecPairs(16) {
				d, s := p[0], p[1]
				n := uint8(int(d)*3 + int(op))
				add(feat, func(a *Asm) { a.VShiftImm(op, l, d, s, n) }, "%s $%d, %s, %s", shiftNames[op], n, vn(l, s), vn(l, d))
			}
		}
	}
	for op := BlendvOp(0); op < blendvEnd; op++ {
		for _, l := range []VecLen{V128, V256} {
			feat := fs(cpu.X86AVX)
			if l == V256 && op == PBLENDVB {
				feat = fs(cpu.X86AVX2)
			}
			for _, t := range vecTriples(16) {
				d, s1, s2 := t[0], t[1], t[2]
				mk := (d + s2 + 5) % 16
				add(feat, func(a *Asm) { a.VBlendv(op, l, d, s1, s2, mk) }, "v%s %s, %s, %s, %s", blendvForms[op].name, vn(l, mk), vn(l, s2), vn(l, s1), vn(l, d))
			}
		}
	}
	for _, p := range vecPairs(16) {
		d, s := p[0], p[1]
		h := uint8(d % 2)
		add(fs(cpu.X86AVX2), func(a *Asm) { a.VExtracti128(d, s, h) }, "vextracti128 $%d, %s, %s", h, vn(V256, s), vn(V128, d))
	}
	for k, m := range memsFor(3, 12) {
		x := XReg((k*7 + 3) % 16)
		h := uint8(k % 2)
		add(fs(cpu.X86AVX2), func(a *Asm) { a.VExtracti128Store(m, x, h) }, "vextracti128 $%d, %s, %s", h, vn(V256, x), mn(m))
	}
	for _, l := range []VecLen{V128, V256} {
		for i, p := range vecPairs(16) {
			d, s := p[0], p[1]
			rc := uint8(i % 8)
			add(fs(cpu.X86F16C), func(a *Asm) { a.Vcvtps2ph(l, d, s, rc) }, "vcvtps2ph $%d, %s, %s", rc, vn(l, s), xn(d))
		}
		for k, m := range memsFor(int(l), 6) {
			x := XReg((k*5 + 1) % 16)
			rc := uint8(k % 5)
			add(fs(cpu.X86F16C), func(a *Asm) { a.Vcvtps2phStore(l, m, x, rc) }, "vcvtps2ph $%d, %s, %s", rc, vn(l, x), mn(m))
		}
	}
	laneNames := []string{"b", "w", "d", "q"}
	for i, w := range []Width{W8, W16, W32, W64} {
		gw := W32
		if w == W64 {
			gw = W64
		}
		lanes := pextrForms[i].lanes
		for r := RAX; r <= R15; r++ {
			x := XReg((int(r)*5 + 2) % 16)
			y := XReg((int(r)*3 + 9) % 16)
			lane := uint8(int(r)) % lanes
			add(fs(cpu.X86AVX), func(a *Asm) { a.VPextr(w, r, x, lane) }, "vpextr%s $%d, %s, %s", laneNames[i], lane, xn(x), rn(gw, r))
			add(fs(cpu.X86AVX), func(a *Asm) { a.VPinsr(w, x, y, r, lane) }, "vpinsr%s $%d, %s, %s, %s", laneNames[i], lane, rn(gw, r), xn(y), xn(x))
		}
	}
	for op := MovmskOp(0); op < movmskEnd; op++ {
		for _, l := range []VecLen{V128, V256} {
			feat := fs(cpu.X86AVX)
			if l == V256 && op == PMOVMSKB {
				feat = fs(cpu.X86AVX2)
			}
			for r := RAX; r <= R15; r++ {
				x := XReg((int(r)*7 + int(op)) % 16)
				add(feat, func(a *Asm) { a.VMovmsk(op, l, r, x) }, "v%s %s, %s", movmskForms[op].name, vn(l, x), rn(W32, r))
			}
		}
	}
	add(fs(cpu.X86AVX), func(a *Asm) { a.Vzeroupper() }, "vzeroupper")
	return cs
}

// allVecCases is the vector golden corpus.
func allVecCases() []vcase {
	cs := legacyVecCases()
	cs = append(cs, vexVecCases()...)
	cs = append(cs, evexCases()...)
	return cs
}

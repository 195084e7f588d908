package amd64asm

import (
	"fmt"
	"strings"

	"github.com/ferryvm/ferry/internal/cpu"
)

// tcase is one encoded instruction: how to emit it, its AT&T text as
// llvm-mc reads it, and the feature it must record.
type tcase struct {
	att  string
	emit func(a *Asm)
	feat cpu.Feature // 0: none
}

var (
	names64 = [16]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}
	names32 = [16]string{"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"}
	names16 = [16]string{"ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"}
	names8  = [16]string{"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"}
	aluName = [8]string{"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"}
	ccName  = [16]string{"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"}
	widths  = []Width{W32, W64}
)

func rn(w Width, r Reg) string {
	switch w {
	case W8:
		return "%" + names8[r]
	case W16:
		return "%" + names16[r]
	case W32:
		return "%" + names32[r]
	}
	return "%" + names64[r]
}

func xn(x XReg) string { return fmt.Sprintf("%%xmm%d", x) }

func sfx(w Width) string {
	switch w {
	case W8:
		return "b"
	case W16:
		return "w"
	case W32:
		return "l"
	}
	return "q"
}

func hexs(v int64) string {
	if v < 0 {
		return fmt.Sprintf("-0x%x", -v)
	}
	return fmt.Sprintf("0x%x", v)
}

func mn(m Mem) string {
	var b strings.Builder
	if m.Disp != 0 {
		b.WriteString(hexs(int64(m.Disp)))
	}
	b.WriteString("(%" + names64[m.Base])
	if m.Scale != 0 {
		fmt.Fprintf(&b, ",%%%s,%d", names64[m.Index], m.Scale)
	}
	b.WriteString(")")
	return b.String()
}

// regPairs covers every register as each operand, against partners that
// exercise REX.R/REX.B and the RSP/RBP/R12/R13 encodings.
func regPairs() [][2]Reg {
	var ps [][2]Reg
	for r := RAX; r <= R15; r++ {
		for _, s := range []Reg{RAX, RSP, R12, R15} {
			ps = append(ps, [2]Reg{r, s})
		}
	}
	for _, d := range []Reg{RBP, R13, RDX, R9} {
		for s := RAX; s <= R15; s++ {
			ps = append(ps, [2]Reg{d, s})
		}
	}
	return ps
}

func xPairs() [][2]XReg {
	var ps [][2]XReg
	for x := X0; x <= X15; x++ {
		ps = append(ps, [2]XReg{x, X0}, [2]XReg{x, X15}, [2]XReg{X7, x}, [2]XReg{X8, x})
	}
	return ps
}

// mems covers every base with no, 8-bit and 32-bit displacements, and
// indexed forms with every scale, R12/R13/RBP as index, RSP/RBP/R12/R13
// as base.
func mems() []Mem {
	var ms []Mem
	for b := RAX; b <= R15; b++ {
		ms = append(ms, M(b, 0), M(b, 0x10), M(b, -0x1000))
	}
	scales := []uint8{1, 2, 4, 8}
	i := 0
	for _, b := range []Reg{RAX, RSP, RBP, R12, R13, R15} {
		for _, x := range []Reg{RCX, RBP, R12, R13, R15} {
			disp := []int32{0, 0x7f, -0x80, 0x12345}[i%4]
			ms = append(ms, MI(b, x, scales[i%4], disp))
			i++
		}
	}
	return ms
}

// allCases builds the golden corpus: every form over the register and
// addressing matrix.
func allCases() []tcase {
	var cs []tcase
	add := func(feat cpu.Feature, emit func(a *Asm), format string, args ...any) {
		cs = append(cs, tcase{att: fmt.Sprintf(format, args...), emit: emit, feat: feat})
	}
	ms := mems()
	regAt := func(i int) Reg { return Reg((i*7 + 3) % 16) }
	imms := []int32{0, 1, -1, 0x7f, -0x80, 0x80, 0x1234, -0x12345678, 0x7fffffff}
	for _, w := range widths {
		for _, p := range regPairs() {
			d, s := p[0], p[1]
			for op := ADD; op <= CMP; op++ {
				add(0, func(a *Asm) { a.ALU(op, w, d, s) }, "%s%s %s, %s", aluName[op], sfx(w), rn(w, s), rn(w, d))
			}
			add(0, func(a *Asm) { a.Test(w, d, s) }, "test%s %s, %s", sfx(w), rn(w, s), rn(w, d))
			add(0, func(a *Asm) { a.Mov(w, d, s) }, "mov%s %s, %s", sfx(w), rn(w, s), rn(w, d))
			add(0, func(a *Asm) { a.Imul(w, d, s) }, "imul%s %s, %s", sfx(w), rn(w, s), rn(w, d))
			add(0, func(a *Asm) { a.Bsr(w, d, s) }, "bsr%s %s, %s", sfx(w), rn(w, s), rn(w, d))
			add(0, func(a *Asm) { a.Bsf(w, d, s) }, "bsf%s %s, %s", sfx(w), rn(w, s), rn(w, d))
			add(cpu.X86LZCNT, func(a *Asm) { a.Lzcnt(w, d, s) }, "lzcnt%s %s, %s", sfx(w), rn(w, s), rn(w, d))
			add(cpu.X86BMI1, func(a *Asm) { a.Tzcnt(w, d, s) }, "tzcnt%s %s, %s", sfx(w), rn(w, s), rn(w, d))
			add(cpu.X86POPCNT, func(a *Asm) { a.Popcnt(w, d, s) }, "popcnt%s %s, %s", sfx(w), rn(w, s), rn(w, d))
			c := Reg((int(d) + int(s) + 1) % 16)
			add(cpu.X86BMI1, func(a *Asm) { a.Andn(w, d, s, c) }, "andn%s %s, %s, %s", sfx(w), rn(w, c), rn(w, s), rn(w, d))
			add(cpu.X86BMI2, func(a *Asm) { a.Shlx(w, d, s, c) }, "shlx%s %s, %s, %s", sfx(w), rn(w, c), rn(w, s), rn(w, d))
			add(cpu.X86BMI2, func(a *Asm) { a.Shrx(w, d, s, c) }, "shrx%s %s, %s, %s", sfx(w), rn(w, c), rn(w, s), rn(w, d))
			add(cpu.X86BMI2, func(a *Asm) { a.Sarx(w, d, s, c) }, "sarx%s %s, %s, %s", sfx(w), rn(w, c), rn(w, s), rn(w, d))
			add(cpu.X86BMI2, func(a *Asm) { a.Rorx(w, d, s, 7) }, "rorx%s $7, %s, %s", sfx(w), rn(w, s), rn(w, d))
			cc := Cond((int(d)*3 + int(s)) % 16)
			add(0, func(a *Asm) { a.Cmov(cc, w, d, s) }, "cmov%s%s %s, %s", ccName[cc], sfx(w), rn(w, s), rn(w, d))
			imm := imms[(int(d)+int(s))%len(imms)]
			add(0, func(a *Asm) { a.ImulImm(w, d, s, imm) }, "imul%s $%s, %s, %s", sfx(w), hexs(int64(imm)), rn(w, s), rn(w, d))
			add(0, func(a *Asm) { a.Movzx(w, W8, d, s) }, "movzb%s %s, %s", sfx(w), rn(W8, s), rn(w, d))
			add(0, func(a *Asm) { a.Movzx(w, W16, d, s) }, "movzw%s %s, %s", sfx(w), rn(W16, s), rn(w, d))
			add(0, func(a *Asm) { a.Movsx(w, W8, d, s) }, "movsb%s %s, %s", sfx(w), rn(W8, s), rn(w, d))
			add(0, func(a *Asm) { a.Movsx(w, W16, d, s) }, "movsw%s %s, %s", sfx(w), rn(W16, s), rn(w, d))
			if w == W64 {
				add(0, func(a *Asm) { a.Movsx(W64, W32, d, s) }, "movslq %s, %s", rn(W32, s), rn(W64, d))
			}
		}
		for r := RAX; r <= R15; r++ {
			for i, imm := range imms {
				op := ALUOp(i % 8)
				add(0, func(a *Asm) { a.ALUImm(op, w, r, imm) }, "%s%s $%s, %s", aluName[op], sfx(w), hexs(int64(imm)), rn(w, r))
			}
			imm := imms[int(r)%len(imms)]
			add(0, func(a *Asm) { a.TestImm(w, r, imm) }, "test%s $%s, %s", sfx(w), hexs(int64(imm)), rn(w, r))
			for _, sh := range []struct {
				op   ShiftOp
				name string
			}{{ROL, "rol"}, {ROR, "ror"}, {SHL, "shl"}, {SHR, "shr"}, {SAR, "sar"}} {
				add(0, func(a *Asm) { a.ShiftCL(sh.op, w, r) }, "%s%s %%cl, %s", sh.name, sfx(w), rn(w, r))
				for _, n := range []uint8{1, 5, uint8(w)*8 - 1} {
					add(0, func(a *Asm) { a.ShiftImm(sh.op, w, r, n) }, "%s%s $%d, %s", sh.name, sfx(w), n, rn(w, r))
				}
			}
			add(0, func(a *Asm) { a.Div(w, r) }, "div%s %s", sfx(w), rn(w, r))
			add(0, func(a *Asm) { a.Idiv(w, r) }, "idiv%s %s", sfx(w), rn(w, r))
			add(0, func(a *Asm) { a.Neg(w, r) }, "neg%s %s", sfx(w), rn(w, r))
			add(0, func(a *Asm) { a.Not(w, r) }, "not%s %s", sfx(w), rn(w, r))
			add(0, func(a *Asm) { a.Bswap(w, r) }, "bswap%s %s", sfx(w), rn(w, r))
		}
		for i, m := range ms {
			r := regAt(i)
			op := ALUOp(i % 8)
			add(0, func(a *Asm) { a.ALULoad(op, w, r, m) }, "%s%s %s, %s", aluName[op], sfx(w), mn(m), rn(w, r))
			imm := imms[i%len(imms)]
			add(0, func(a *Asm) { a.ALUMemImm(op, w, m, imm) }, "%s%s $%s, %s", aluName[op], sfx(w), hexs(int64(imm)), mn(m))
			add(0, func(a *Asm) { a.ALUStore(op, w, m, r) }, "%s%s %s, %s", aluName[op], sfx(w), rn(w, r), mn(m))
			add(0, func(a *Asm) { a.Load(w, r, m) }, "mov%s %s, %s", sfx(w), mn(m), rn(w, r))
			add(0, func(a *Asm) { a.Lea(w, r, m) }, "lea%s %s, %s", sfx(w), mn(m), rn(w, r))
			add(0, func(a *Asm) { a.ImulLoad(w, r, m) }, "imul%s %s, %s", sfx(w), mn(m), rn(w, r))
			add(0, func(a *Asm) { a.MovzxLoad(w, W8, r, m) }, "movzb%s %s, %s", sfx(w), mn(m), rn(w, r))
			add(0, func(a *Asm) { a.MovzxLoad(w, W16, r, m) }, "movzw%s %s, %s", sfx(w), mn(m), rn(w, r))
			add(0, func(a *Asm) { a.MovsxLoad(w, W8, r, m) }, "movsb%s %s, %s", sfx(w), mn(m), rn(w, r))
			add(0, func(a *Asm) { a.MovsxLoad(w, W16, r, m) }, "movsw%s %s, %s", sfx(w), mn(m), rn(w, r))
		}
	}
	for i, m := range ms {
		r := regAt(i)
		x := XReg((i*5 + 1) % 16)
		for _, w := range []Width{W8, W16, W32, W64} {
			add(0, func(a *Asm) { a.Store(w, m, r) }, "mov%s %s, %s", sfx(w), rn(w, r), mn(m))
		}
		add(0, func(a *Asm) { a.StoreImm(W8, m, -5) }, "movb $0xfb, %s", mn(m))
		add(0, func(a *Asm) { a.StoreImm(W16, m, 0x1234) }, "movw $0x1234, %s", mn(m))
		add(0, func(a *Asm) { a.StoreImm(W32, m, -0x12345678) }, "movl $-0x12345678, %s", mn(m))
		add(0, func(a *Asm) { a.StoreImm(W64, m, 7) }, "movq $7, %s", mn(m))
		add(0, func(a *Asm) { a.MovsxLoad(W64, W32, r, m) }, "movslq %s, %s", mn(m), rn(W64, r))
		add(0, func(a *Asm) { a.JmpMem(m) }, "jmpq *%s", mn(m))
		add(0, func(a *Asm) { a.CallMem(m) }, "callq *%s", mn(m))
		for op := ADDSS; op < sseEnd; op++ {
			add(cpu.X86SSE2, func(a *Asm) { a.SSELoad(op, x, m) }, "%s %s, %s", strings.ToLower(sseName(op)), mn(m), xn(x))
		}
		add(cpu.X86SSE2, func(a *Asm) { a.MovssStore(m, x) }, "movss %s, %s", xn(x), mn(m))
		add(cpu.X86SSE2, func(a *Asm) { a.MovsdStore(m, x) }, "movsd %s, %s", xn(x), mn(m))
	}
	for r := RAX; r <= R15; r++ {
		add(0, func(a *Asm) { a.Setcc(Cond(r), r) }, "set%s %s", ccName[r], rn(W8, r))
		add(0, func(a *Asm) { a.Setcc(CondE, r) }, "sete %s", rn(W8, r))
		add(0, func(a *Asm) { a.JmpReg(r) }, "jmpq *%s", rn(W64, r))
		add(0, func(a *Asm) { a.CallReg(r) }, "callq *%s", rn(W64, r))
		add(0, func(a *Asm) { l := a.NewLabel(); a.Bind(l); a.LeaLabel(r, l) }, "leaq -0x7(%%rip), %s", rn(W64, r))
		add(0, func(a *Asm) { a.Push(r) }, "pushq %s", rn(W64, r))
		add(0, func(a *Asm) { a.Pop(r) }, "popq %s", rn(W64, r))
		add(0, func(a *Asm) { a.MovImm32(r, 0xdeadbeef) }, "movl $-0x21524111, %s", rn(W32, r))
		add(0, func(a *Asm) { a.MovImm64(r, -2) }, "movq $-0x2, %s", rn(W64, r))
		add(0, func(a *Asm) { a.MovImm64(r, 0x7fffffff) }, "movq $0x7fffffff, %s", rn(W64, r))
		add(0, func(a *Asm) { a.MovImm64(r, 0x123456789abcdef0) }, "movabsq $0x123456789abcdef0, %s", rn(W64, r))
		add(0, func(a *Asm) { a.MovImm64(r, -0x80000001) }, "movabsq $-0x80000001, %s", rn(W64, r))
		x := XReg((int(r)*3 + 2) % 16)
		for _, w := range widths {
			add(cpu.X86SSE2, func(a *Asm) { a.MovToX(w, x, r) }, "mov%s %s, %s", map[Width]string{W32: "d", W64: "q"}[w], rn(w, r), xn(x))
			add(cpu.X86SSE2, func(a *Asm) { a.MovFromX(w, r, x) }, "mov%s %s, %s", map[Width]string{W32: "d", W64: "q"}[w], xn(x), rn(w, r))
			add(cpu.X86SSE2, func(a *Asm) { a.Cvtsi2ss(w, x, r) }, "cvtsi2ss%s %s, %s", sfx(w), rn(w, r), xn(x))
			add(cpu.X86SSE2, func(a *Asm) { a.Cvtsi2sd(w, x, r) }, "cvtsi2sd%s %s, %s", sfx(w), rn(w, r), xn(x))
			add(cpu.X86SSE2, func(a *Asm) { a.Cvttss2si(w, r, x) }, "cvttss2si %s, %s", xn(x), rn(w, r))
			add(cpu.X86SSE2, func(a *Asm) { a.Cvttsd2si(w, r, x) }, "cvttsd2si %s, %s", xn(x), rn(w, r))
		}
	}
	for _, p := range xPairs() {
		d, s := p[0], p[1]
		for op := ADDSS; op < sseEnd; op++ {
			add(cpu.X86SSE2, func(a *Asm) { a.SSE(op, d, s) }, "%s %s, %s", strings.ToLower(sseName(op)), xn(s), xn(d))
		}
		pred := CmpPred((int(d)*5 + int(s)) % 8)
		add(cpu.X86SSE2, func(a *Asm) { a.Cmpss(d, s, pred) }, "cmpss $%d, %s, %s", pred, xn(s), xn(d))
		add(cpu.X86SSE2, func(a *Asm) { a.Cmpsd(d, s, pred) }, "cmpsd $%d, %s, %s", pred, xn(s), xn(d))
		mode := RoundMode(8 + (int(d)+int(s))%4)
		add(cpu.X86SSE41, func(a *Asm) { a.Roundss(d, s, mode) }, "roundss $%d, %s, %s", mode, xn(s), xn(d))
		add(cpu.X86SSE41, func(a *Asm) { a.Roundsd(d, s, mode) }, "roundsd $%d, %s, %s", mode, xn(s), xn(d))
	}
	add(0, func(a *Asm) { a.Cdq() }, "cltd")
	add(0, func(a *Asm) { a.Cqo() }, "cqto")
	add(0, func(a *Asm) { a.Ret() }, "retq")
	add(0, func(a *Asm) { a.Ud2() }, "ud2")
	add(0, func(a *Asm) { a.RepMovsb() }, "rep movsb (%%rsi), %%es:(%%rdi)")
	add(0, func(a *Asm) { a.RepStosb() }, "rep stosb %%al, %%es:(%%rdi)")
	return cs
}

func sseName(op SSEOp) string {
	return [...]string{"ADDSS", "ADDSD", "SUBSS", "SUBSD", "MULSS", "MULSD", "DIVSS", "DIVSD",
		"SQRTSS", "SQRTSD", "MINSS", "MINSD", "MAXSS", "MAXSD", "UCOMISS", "UCOMISD",
		"CVTSS2SD", "CVTSD2SS", "ANDPS", "ANDPD", "ANDNPS", "ANDNPD", "ORPS", "ORPD",
		"XORPS", "XORPD", "MOVSS", "MOVSD", "MOVAPS"}[op]
}

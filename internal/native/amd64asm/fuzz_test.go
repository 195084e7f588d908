package amd64asm

import (
	"encoding/binary"
	"errors"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// fuzzForms calls every encoder method with raw fuzzer bytes as operands,
// including out-of-range registers, widths, scales and conditions.
var fuzzForms = []func(a *Asm, o []byte, imm int32, m Mem){
	func(a *Asm, o []byte, imm int32, m Mem) { a.ALU(ALUOp(o[0]), Width(o[1]), Reg(o[2]), Reg(o[3])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.ALUImm(ALUOp(o[0]), Width(o[1]), Reg(o[2]), imm) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.ALULoad(ALUOp(o[0]), Width(o[1]), Reg(o[2]), m) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.ALUStore(ALUOp(o[0]), Width(o[1]), m, Reg(o[2])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.ALUMemImm(ALUOp(o[0]), Width(o[1]), m, imm) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.RepMovsb() },
	func(a *Asm, o []byte, imm int32, m Mem) { a.RepStosb() },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Test(Width(o[1]), Reg(o[2]), Reg(o[3])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.TestImm(Width(o[1]), Reg(o[2]), imm) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Mov(Width(o[1]), Reg(o[2]), Reg(o[3])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.MovImm32(Reg(o[2]), uint32(imm)) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.MovImm64(Reg(o[2]), int64(imm)<<(o[0]%40)) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Load(Width(o[1]), Reg(o[2]), m) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Store(Width(o[1]), m, Reg(o[2])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.StoreImm(Width(o[1]), m, imm) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Movzx(Width(o[1]), Width(o[0]), Reg(o[2]), Reg(o[3])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.MovzxLoad(Width(o[1]), Width(o[0]), Reg(o[2]), m) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Movsx(Width(o[1]), Width(o[0]), Reg(o[2]), Reg(o[3])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.MovsxLoad(Width(o[1]), Width(o[0]), Reg(o[2]), m) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Lea(Width(o[1]), Reg(o[2]), m) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.ShiftCL(ShiftOp(o[0]), Width(o[1]), Reg(o[2])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.ShiftImm(ShiftOp(o[0]), Width(o[1]), Reg(o[2]), o[3]) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Imul(Width(o[1]), Reg(o[2]), Reg(o[3])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.ImulLoad(Width(o[1]), Reg(o[2]), m) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.ImulImm(Width(o[1]), Reg(o[2]), Reg(o[3]), imm) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Not(Width(o[1]), Reg(o[2])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Neg(Width(o[1]), Reg(o[2])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Div(Width(o[1]), Reg(o[2])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Idiv(Width(o[1]), Reg(o[2])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Cdq() },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Cqo() },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Setcc(Cond(o[0]), Reg(o[2])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Cmov(Cond(o[0]), Width(o[1]), Reg(o[2]), Reg(o[3])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.JmpReg(Reg(o[2])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.CallReg(Reg(o[2])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.JmpMem(m) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.CallMem(m) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Ret() },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Ud2() },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Push(Reg(o[2])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Pop(Reg(o[2])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Bswap(Width(o[1]), Reg(o[2])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Bsr(Width(o[1]), Reg(o[2]), Reg(o[3])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Bsf(Width(o[1]), Reg(o[2]), Reg(o[3])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Lzcnt(Width(o[1]), Reg(o[2]), Reg(o[3])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Tzcnt(Width(o[1]), Reg(o[2]), Reg(o[3])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Popcnt(Width(o[1]), Reg(o[2]), Reg(o[3])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Andn(Width(o[1]), Reg(o[2]), Reg(o[3]), Reg(o[0])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Shlx(Width(o[1]), Reg(o[2]), Reg(o[3]), Reg(o[0])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Shrx(Width(o[1]), Reg(o[2]), Reg(o[3]), Reg(o[0])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Sarx(Width(o[1]), Reg(o[2]), Reg(o[3]), Reg(o[0])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Rorx(Width(o[1]), Reg(o[2]), Reg(o[3]), o[0]) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.SSE(SSEOp(o[0]), XReg(o[2]), XReg(o[3])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.SSELoad(SSEOp(o[0]), XReg(o[2]), m) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.MovssStore(m, XReg(o[2])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.MovsdStore(m, XReg(o[2])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.MovToX(Width(o[1]), XReg(o[2]), Reg(o[3])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.MovFromX(Width(o[1]), Reg(o[2]), XReg(o[3])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Cvtsi2ss(Width(o[1]), XReg(o[2]), Reg(o[3])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Cvtsi2sd(Width(o[1]), XReg(o[2]), Reg(o[3])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Cvttss2si(Width(o[1]), Reg(o[2]), XReg(o[3])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Cvttsd2si(Width(o[1]), Reg(o[2]), XReg(o[3])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Cmpss(XReg(o[2]), XReg(o[3]), CmpPred(o[0])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Cmpsd(XReg(o[2]), XReg(o[3]), CmpPred(o[0])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Roundss(XReg(o[2]), XReg(o[3]), RoundMode(o[0])) },
	func(a *Asm, o []byte, imm int32, m Mem) { a.Roundsd(XReg(o[2]), XReg(o[3]), RoundMode(o[0])) },
}

// FuzzEncode runs random sequences of (form, operands) and labels: no
// input panics; an accepted instruction decodes with x86asm to exactly
// its own bytes; a rejected one is an ErrInvalid and encoding stops.
func FuzzEncode(f *testing.F) {
	f.Add([]byte{0, 0, 4, 1, 2, 0, 0, 0, 0, 4, 5, 4, 0x10, 0, 0, 0})
	f.Add([]byte{9, 0, 8, 3, 255, 1, 2, 3, 4, 12, 13, 8, 0x80, 0, 0, 0, 200, 1})
	f.Add([]byte{49, 3, 4, 15, 15, 0, 0, 0, 0, 5, 12, 2, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Asm
		labels := []Label{a.NewLabel(), a.NewLabel()}
		a.Bind(labels[0])
		for len(data) >= 16 {
			rec := data[:16]
			data = data[16:]
			start := a.Offset()
			imm := int32(binary.LittleEndian.Uint32(rec[5:9]))
			m := Mem{Base: Reg(rec[9]), Index: Reg(rec[10]), Scale: rec[11], Disp: int32(binary.LittleEndian.Uint32(rec[12:16]))}
			// Keep operands mostly valid so that most records encode.
			o := rec[1:5]
			if rec[0]&0x80 == 0 {
				o = []byte{rec[1] % 16, []byte{4, 8}[rec[2]%2], rec[3] % 16, rec[4] % 16}
				m.Base %= 16
				m.Index %= 16
				m.Scale = []uint8{0, 1, 2, 4, 8}[m.Scale%5]
				if m.Index == RSP {
					m.Index = RBP
				}
			}
			switch k := int(rec[0]&0x7f) % (len(fuzzForms) + 3); k {
			case len(fuzzForms) + 2:
				a.LeaLabel(Reg(o[2]), labels[o[3]%2])
			case len(fuzzForms):
				a.Jcc(Cond(o[0]), labels[o[2]%2])
			case len(fuzzForms) + 1:
				a.Jmp(labels[o[2]%2])
			default:
				fuzzForms[k](&a, o, imm, m)
			}
			if a.Err() != nil {
				break
			}
			if code := a.Bytes()[start:]; len(code) > 0 {
				inst, err := x86asm.Decode(code, 64)
				if err != nil || inst.Len != len(code) {
					t.Fatalf("record % x encoded % x, which x86asm reads as %v (%d bytes), %v", rec, code, inst, inst.Len, err)
				}
			}
		}
		a.Bind(labels[1])
		code, err := a.Finish()
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("error %v does not wrap ErrInvalid", err)
		}
		if err == nil && len(code) != a.Offset() {
			t.Fatalf("Finish returned %d bytes of %d", len(code), a.Offset())
		}
	})
}

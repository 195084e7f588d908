package amd64asm

import "encoding/binary"

// ALUOp is a two-operand integer operation sharing the 00-3F opcode block;
// its value is the ModRM reg field of the immediate forms (80-83 /op).
type ALUOp uint8

// ALU operations.
const (
	ADD ALUOp = 0
	OR  ALUOp = 1
	ADC ALUOp = 2
	SBB ALUOp = 3
	AND ALUOp = 4
	SUB ALUOp = 5
	XOR ALUOp = 6
	CMP ALUOp = 7
)

// ShiftOp is a shift or rotate; its value is the ModRM reg field of the
// C1/D1/D3 group.
type ShiftOp uint8

// Shifts and rotates.
const (
	ROL ShiftOp = 0
	ROR ShiftOp = 1
	SHL ShiftOp = 4
	SHR ShiftOp = 5
	SAR ShiftOp = 7
)

// Cond is a condition code as encoded in Jcc, SETcc and CMOVcc.
type Cond uint8

// Condition codes. After CMP x, y: B/AE/BE/A are the unsigned x<y, x>=y,
// x<=y, x>y and L/GE/LE/G the signed ones. After UCOMISS/SD, P is set
// when either operand is NaN.
const (
	CondO  Cond = 0x0
	CondNO Cond = 0x1
	CondB  Cond = 0x2
	CondAE Cond = 0x3
	CondE  Cond = 0x4
	CondNE Cond = 0x5
	CondBE Cond = 0x6
	CondA  Cond = 0x7
	CondS  Cond = 0x8
	CondNS Cond = 0x9
	CondP  Cond = 0xA
	CondNP Cond = 0xB
	CondL  Cond = 0xC
	CondGE Cond = 0xD
	CondLE Cond = 0xE
	CondG  Cond = 0xF
)

func (a *Asm) aluOK(op ALUOp) bool {
	if op > CMP {
		a.fail("ALU operation %d", op)
		return false
	}
	return true
}

func (a *Asm) condOK(cc Cond) bool {
	if cc > CondG {
		a.fail("condition code %d", cc)
		return false
	}
	return true
}

// ALU emits op dst, src (dst = dst op src; CMP only sets flags).
func (a *Asm) ALU(op ALUOp, w Width, dst, src Reg) {
	if wide, ok := a.width64(w); ok && a.aluOK(op) {
		a.rr(0, wide, false, op1(byte(op)<<3|1), byte(src), byte(dst))
	}
}

// ALUImm emits op dst, imm, with imm sign-extended to w. It picks the
// imm8 form when the value fits and the short accumulator form for RAX.
func (a *Asm) ALUImm(op ALUOp, w Width, dst Reg, imm int32) {
	wide, ok := a.width64(w)
	if !ok || !a.aluOK(op) || !a.regOK(byte(dst)) {
		return
	}
	switch {
	case fits8(imm):
		if a.rr(0, wide, false, op1(0x83), byte(op), byte(dst)) {
			a.imm8(int8(imm))
		}
	case dst == RAX:
		if wide {
			a.buf = append(a.buf, 0x48)
		}
		a.buf = append(a.buf, byte(op)<<3|5)
		a.imm32(imm)
	default:
		if a.rr(0, wide, false, op1(0x81), byte(op), byte(dst)) {
			a.imm32(imm)
		}
	}
}

// ALULoad emits op dst, [m].
func (a *Asm) ALULoad(op ALUOp, w Width, dst Reg, m Mem) {
	if wide, ok := a.width64(w); ok && a.aluOK(op) {
		a.rm(0, wide, false, op1(byte(op)<<3|3), byte(dst), m)
	}
}

// ALUStore emits op [m], src.
func (a *Asm) ALUStore(op ALUOp, w Width, m Mem, src Reg) {
	if wide, ok := a.width64(w); ok && a.aluOK(op) {
		a.rm(0, wide, false, op1(byte(op)<<3|1), byte(src), m)
	}
}

// ALUMemImm emits op [m], imm with imm sign-extended to w (for example a
// budget counter decremented in memory).
func (a *Asm) ALUMemImm(op ALUOp, w Width, m Mem, imm int32) {
	wide, ok := a.width64(w)
	if !ok || !a.aluOK(op) {
		return
	}
	if fits8(imm) {
		if a.rm(0, wide, false, op1(0x83), byte(op), m) {
			a.imm8(int8(imm))
		}
		return
	}
	if a.rm(0, wide, false, op1(0x81), byte(op), m) {
		a.imm32(imm)
	}
}

// Test emits TEST x, y (flags of x AND y).
func (a *Asm) Test(w Width, x, y Reg) {
	if wide, ok := a.width64(w); ok {
		a.rr(0, wide, false, op1(0x85), byte(y), byte(x))
	}
}

// TestImm emits TEST r, imm.
func (a *Asm) TestImm(w Width, r Reg, imm int32) {
	wide, ok := a.width64(w)
	if !ok || !a.regOK(byte(r)) || a.err != nil {
		return
	}
	if r == RAX {
		if wide {
			a.buf = append(a.buf, 0x48)
		}
		a.buf = append(a.buf, 0xA9)
		a.imm32(imm)
		return
	}
	if a.rr(0, wide, false, op1(0xF7), 0, byte(r)) {
		a.imm32(imm)
	}
}

// Mov emits MOV dst, src. A 32-bit move zeroes the upper half of dst.
func (a *Asm) Mov(w Width, dst, src Reg) {
	if wide, ok := a.width64(w); ok {
		a.rr(0, wide, false, op1(0x89), byte(src), byte(dst))
	}
}

// MovImm32 emits MOV r32, imm, which zero-extends into the 64-bit register.
func (a *Asm) MovImm32(dst Reg, imm uint32) {
	if a.err != nil || !a.regOK(byte(dst)) {
		return
	}
	if dst >= R8 {
		a.buf = append(a.buf, 0x41)
	}
	a.buf = append(a.buf, 0xB8|byte(dst)&7)
	a.imm32(int32(imm))
}

// MovImm64 loads a 64-bit constant: the sign-extended imm32 form (7
// bytes) when it fits, MOVABS (10 bytes) otherwise. Use MovImm32 for
// values below 2^32 that do not fit in int32.
func (a *Asm) MovImm64(dst Reg, imm int64) {
	if a.err != nil || !a.regOK(byte(dst)) {
		return
	}
	if imm >= -1<<31 && imm < 1<<31 {
		if a.rr(0, true, false, op1(0xC7), 0, byte(dst)) {
			a.imm32(int32(imm))
		}
		return
	}
	a.buf = append(a.buf, 0x48|byte(dst)>>3, 0xB8|byte(dst)&7)
	a.buf = binary.LittleEndian.AppendUint64(a.buf, uint64(imm))
}

// Load emits MOV dst, [m] (32 or 64 bits; narrower loads are MovzxLoad
// and MovsxLoad).
func (a *Asm) Load(w Width, dst Reg, m Mem) {
	if wide, ok := a.width64(w); ok {
		a.rm(0, wide, false, op1(0x8B), byte(dst), m)
	}
}

// Store emits MOV [m], src storing the low w bytes of src.
func (a *Asm) Store(w Width, m Mem, src Reg) {
	switch w {
	case W8:
		a.rm(0, false, byteRex(byte(src)), op1(0x88), byte(src), m)
	case W16:
		a.rm(0x66, false, false, op1(0x89), byte(src), m)
	case W32, W64:
		a.rm(0, w == W64, false, op1(0x89), byte(src), m)
	default:
		a.fail("store width %d", w)
	}
}

// StoreImm emits MOV [m], imm storing w bytes (for W64, imm is
// sign-extended).
func (a *Asm) StoreImm(w Width, m Mem, imm int32) {
	switch w {
	case W8:
		if imm < -128 || imm > 255 {
			a.fail("8-bit store of %d", imm)
		} else if a.rm(0, false, false, op1(0xC6), 0, m) {
			a.imm8(int8(imm))
		}
	case W16:
		if imm < -1<<15 || imm >= 1<<16 {
			a.fail("16-bit store of %d", imm)
		} else if a.rm(0x66, false, false, op1(0xC7), 0, m) {
			a.imm16(int16(imm))
		}
	case W32, W64:
		if a.rm(0, w == W64, false, op1(0xC7), 0, m) {
			a.imm32(imm)
		}
	default:
		a.fail("store width %d", w)
	}
}

// extOp picks the opcode of a zero- or sign-extension from `from` bytes
// into a w-byte register; MOVSXD is the 32-to-64 sign extension.
func (a *Asm) extOp(signed bool, w, from Width) (opc, bool, bool) {
	wide, ok := a.width64(w)
	if !ok {
		return opc{}, false, false
	}
	switch {
	case from == W8 && !signed:
		return op2(0x0F, 0xB6), wide, true
	case from == W16 && !signed:
		return op2(0x0F, 0xB7), wide, true
	case from == W8:
		return op2(0x0F, 0xBE), wide, true
	case from == W16:
		return op2(0x0F, 0xBF), wide, true
	case from == W32 && signed && wide:
		return op1(0x63), true, true
	}
	a.fail("extension from %d to %d bytes (signed %v)", from, w, signed)
	return opc{}, false, false
}

// Movzx emits MOVZX dst, src, zero-extending the low `from` bytes (W8 or
// W16) of src. For 32 to 64 bits use Mov(W32, ...).
func (a *Asm) Movzx(w, from Width, dst, src Reg) {
	if o, wide, ok := a.extOp(false, w, from); ok {
		a.rr(0, wide, from == W8 && byteRex(byte(src)), o, byte(dst), byte(src))
	}
}

// MovzxLoad emits MOVZX dst, [m] of `from` bytes (W8 or W16).
func (a *Asm) MovzxLoad(w, from Width, dst Reg, m Mem) {
	if o, wide, ok := a.extOp(false, w, from); ok {
		a.rm(0, wide, false, o, byte(dst), m)
	}
}

// Movsx emits MOVSX/MOVSXD dst, src, sign-extending the low `from` bytes
// (W8, W16, or W32 into W64) of src.
func (a *Asm) Movsx(w, from Width, dst, src Reg) {
	if o, wide, ok := a.extOp(true, w, from); ok {
		a.rr(0, wide, from == W8 && byteRex(byte(src)), o, byte(dst), byte(src))
	}
}

// MovsxLoad emits MOVSX/MOVSXD dst, [m] of `from` bytes.
func (a *Asm) MovsxLoad(w, from Width, dst Reg, m Mem) {
	if o, wide, ok := a.extOp(true, w, from); ok {
		a.rm(0, wide, false, o, byte(dst), m)
	}
}

// Lea emits LEA dst, [m].
func (a *Asm) Lea(w Width, dst Reg, m Mem) {
	if wide, ok := a.width64(w); ok {
		a.rm(0, wide, false, op1(0x8D), byte(dst), m)
	}
}

func (a *Asm) shiftOK(op ShiftOp) bool {
	switch op {
	case ROL, ROR, SHL, SHR, SAR:
		return true
	}
	a.fail("shift operation %d", op)
	return false
}

// ShiftCL emits op dst, CL (the count is masked by the CPU to 5 or 6 bits).
func (a *Asm) ShiftCL(op ShiftOp, w Width, dst Reg) {
	if wide, ok := a.width64(w); ok && a.shiftOK(op) {
		a.rr(0, wide, false, op1(0xD3), byte(op), byte(dst))
	}
}

// ShiftImm emits op dst, imm; imm must be below the operand width in bits.
func (a *Asm) ShiftImm(op ShiftOp, w Width, dst Reg, imm uint8) {
	wide, ok := a.width64(w)
	if !ok || !a.shiftOK(op) {
		return
	}
	if int(imm) >= int(w)*8 {
		a.fail("shift count %d for %d-bit operand", imm, w*8)
		return
	}
	if imm == 1 {
		a.rr(0, wide, false, op1(0xD1), byte(op), byte(dst))
		return
	}
	if a.rr(0, wide, false, op1(0xC1), byte(op), byte(dst)) {
		a.imm8(int8(imm))
	}
}

// Imul emits IMUL dst, src (dst *= src, low half).
func (a *Asm) Imul(w Width, dst, src Reg) {
	if wide, ok := a.width64(w); ok {
		a.rr(0, wide, false, op2(0x0F, 0xAF), byte(dst), byte(src))
	}
}

// ImulLoad emits IMUL dst, [m].
func (a *Asm) ImulLoad(w Width, dst Reg, m Mem) {
	if wide, ok := a.width64(w); ok {
		a.rm(0, wide, false, op2(0x0F, 0xAF), byte(dst), m)
	}
}

// ImulImm emits IMUL dst, src, imm.
func (a *Asm) ImulImm(w Width, dst, src Reg, imm int32) {
	wide, ok := a.width64(w)
	if !ok {
		return
	}
	if fits8(imm) {
		if a.rr(0, wide, false, op1(0x6B), byte(dst), byte(src)) {
			a.imm8(int8(imm))
		}
		return
	}
	if a.rr(0, wide, false, op1(0x69), byte(dst), byte(src)) {
		a.imm32(imm)
	}
}

func (a *Asm) group3(w Width, ext byte, r Reg) {
	if wide, ok := a.width64(w); ok {
		a.rr(0, wide, false, op1(0xF7), ext, byte(r))
	}
}

// Not emits NOT r.
func (a *Asm) Not(w Width, r Reg) { a.group3(w, 2, r) }

// Neg emits NEG r.
func (a *Asm) Neg(w Width, r Reg) { a.group3(w, 3, r) }

// Div emits DIV src: unsigned RDX:RAX / src, quotient in RAX, remainder
// in RDX. It faults on a zero divisor, so callers check first.
func (a *Asm) Div(w Width, src Reg) { a.group3(w, 6, src) }

// Idiv emits IDIV src (signed; also faults on MinInt / -1).
func (a *Asm) Idiv(w Width, src Reg) { a.group3(w, 7, src) }

// Cdq emits CDQ (sign-extend EAX into EDX), the setup for a 32-bit IDIV.
func (a *Asm) Cdq() {
	if a.err == nil {
		a.buf = append(a.buf, 0x99)
	}
}

// Cqo emits CQO (sign-extend RAX into RDX), the setup for a 64-bit IDIV.
func (a *Asm) Cqo() {
	if a.err == nil {
		a.buf = append(a.buf, 0x48, 0x99)
	}
}

// Setcc emits SETcc dst, writing 0 or 1 to the low byte of dst only.
func (a *Asm) Setcc(cc Cond, dst Reg) {
	if a.condOK(cc) {
		a.rr(0, false, byteRex(byte(dst)), op2(0x0F, 0x90|byte(cc)), 0, byte(dst))
	}
}

// Cmov emits CMOVcc dst, src.
func (a *Asm) Cmov(cc Cond, w Width, dst, src Reg) {
	if wide, ok := a.width64(w); ok && a.condOK(cc) {
		a.rr(0, wide, false, op2(0x0F, 0x40|byte(cc)), byte(dst), byte(src))
	}
}

// branch emits a branch to l: the rel8 form when l is already bound
// (a backward branch) and near enough, otherwise the rel32 form with a
// fixup patched by Finish. Forward branches are always rel32, so no
// relaxation pass is needed and offsets recorded before Finish stay valid.
func (a *Asm) branch(short byte, long opc, l Label) {
	if a.err != nil || !a.validLabel(l) {
		return
	}
	if to := a.labels[l]; to >= 0 && short != 0 {
		if d := int(to) - (len(a.buf) + 2); d >= -128 && d <= 127 {
			a.buf = append(a.buf, short, byte(int8(d)))
			return
		}
	}
	a.emitOp(long)
	a.fixups = append(a.fixups, fixup{at: int32(len(a.buf)), label: l, base: -1})
	a.buf = append(a.buf, 0, 0, 0, 0)
}

// Jmp emits JMP l.
func (a *Asm) Jmp(l Label) { a.branch(0xEB, op1(0xE9), l) }

// Jcc emits Jcc l.
func (a *Asm) Jcc(cc Cond, l Label) {
	if a.condOK(cc) {
		a.branch(0x70|byte(cc), op2(0x0F, 0x80|byte(cc)), l)
	}
}

// Call emits CALL l (always rel32).
func (a *Asm) Call(l Label) { a.branch(0, op1(0xE8), l) }

// JmpReg emits JMP r (indirect).
func (a *Asm) JmpReg(r Reg) { a.rr(0, false, false, op1(0xFF), 4, byte(r)) }

// CallReg emits CALL r (indirect).
func (a *Asm) CallReg(r Reg) { a.rr(0, false, false, op1(0xFF), 2, byte(r)) }

// JmpMem emits JMP [m] (indirect through memory, e.g. a dispatch table).
func (a *Asm) JmpMem(m Mem) { a.rm(0, false, false, op1(0xFF), 4, m) }

// CallMem emits CALL [m].
func (a *Asm) CallMem(m Mem) { a.rm(0, false, false, op1(0xFF), 2, m) }

// Ret emits RET.
func (a *Asm) Ret() {
	if a.err == nil {
		a.buf = append(a.buf, 0xC3)
	}
}

// Ud2 emits UD2, a guaranteed invalid instruction for unreachable code.
func (a *Asm) Ud2() {
	if a.err == nil {
		a.buf = append(a.buf, 0x0F, 0x0B)
	}
}

// RepMovsb emits REP MOVSB: copy RCX bytes from [RSI] to [RDI], forward.
// It runs on every amd64 CPU; the erms feature only says it is fast, so
// the compiler consults the mask to choose it, but the form needs nothing.
func (a *Asm) RepMovsb() {
	if a.err == nil {
		a.buf = append(a.buf, 0xF3, 0xA4)
	}
}

// RepStosb emits REP STOSB: store AL into RCX bytes from [RDI] (see
// RepMovsb about erms).
func (a *Asm) RepStosb() {
	if a.err == nil {
		a.buf = append(a.buf, 0xF3, 0xAA)
	}
}

// nops are the recommended multi-byte NOPs (Intel SDM vol. 2, NOP), one
// instruction of each length 1-9.
var nops = [10][]byte{
	1: {0x90},
	2: {0x66, 0x90},
	3: {0x0F, 0x1F, 0x00},
	4: {0x0F, 0x1F, 0x40, 0x00},
	5: {0x0F, 0x1F, 0x44, 0x00, 0x00},
	6: {0x66, 0x0F, 0x1F, 0x44, 0x00, 0x00},
	7: {0x0F, 0x1F, 0x80, 0x00, 0x00, 0x00, 0x00},
	8: {0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
	9: {0x66, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
}

// Nop emits n bytes of padding in as few NOP instructions as possible, so
// a padded loop header costs few decode slots when it is fallen into.
func (a *Asm) Nop(n int) {
	if a.err != nil {
		return
	}
	if n < 0 || n > 4096 {
		a.fail("padding of %d bytes, want 0-4096", n)
		return
	}
	for n > 0 {
		k := min(n, 9)
		a.buf = append(a.buf, nops[k]...)
		n -= k
	}
}

// Align pads with NOPs to the next multiple of n (a power of two up to
// 4096), typically before a loop header.
func (a *Asm) Align(n int) {
	if n <= 0 || n > 4096 || n&(n-1) != 0 {
		a.fail("alignment %d is not a power of two up to 4096", n)
		return
	}
	a.Nop((n - len(a.buf)%n) % n)
}

func (a *Asm) pushPop(op byte, r Reg) {
	if a.err != nil || !a.regOK(byte(r)) {
		return
	}
	if r >= R8 {
		a.buf = append(a.buf, 0x41)
	}
	a.buf = append(a.buf, op|byte(r)&7)
}

// Push emits PUSH r (64-bit).
func (a *Asm) Push(r Reg) { a.pushPop(0x50, r) }

// Pop emits POP r (64-bit).
func (a *Asm) Pop(r Reg) { a.pushPop(0x58, r) }

// Bswap emits BSWAP r.
func (a *Asm) Bswap(w Width, r Reg) {
	wide, ok := a.width64(w)
	if !ok || a.err != nil || !a.regOK(byte(r)) {
		return
	}
	rex := byte(0x40) | byte(r)>>3
	if wide {
		rex |= 8
	}
	if rex != 0x40 {
		a.buf = append(a.buf, rex)
	}
	a.buf = append(a.buf, 0x0F, 0xC8|byte(r)&7)
}

// Bsr emits BSR dst, src (dst undefined and ZF set when src is 0).
func (a *Asm) Bsr(w Width, dst, src Reg) {
	if wide, ok := a.width64(w); ok {
		a.rr(0, wide, false, op2(0x0F, 0xBD), byte(dst), byte(src))
	}
}

// Bsf emits BSF dst, src.
func (a *Asm) Bsf(w Width, dst, src Reg) {
	if wide, ok := a.width64(w); ok {
		a.rr(0, wide, false, op2(0x0F, 0xBC), byte(dst), byte(src))
	}
}

// Lzcnt emits LZCNT dst, src. It needs the lzcnt feature: without it the
// same bytes silently execute as BSR and give different results, so the
// compiler must gate on the mask, never on a fault.
func (a *Asm) Lzcnt(w Width, dst, src Reg) {
	if wide, ok := a.width64(w); ok && a.rr(0xF3, wide, false, op2(0x0F, 0xBD), byte(dst), byte(src)) {
		a.need(featLZCNT)
	}
}

// Tzcnt emits TZCNT dst, src (bmi1; executes as BSF without it).
func (a *Asm) Tzcnt(w Width, dst, src Reg) {
	if wide, ok := a.width64(w); ok && a.rr(0xF3, wide, false, op2(0x0F, 0xBC), byte(dst), byte(src)) {
		a.need(featBMI1)
	}
}

// Popcnt emits POPCNT dst, src (popcnt).
func (a *Asm) Popcnt(w Width, dst, src Reg) {
	if wide, ok := a.width64(w); ok && a.rr(0xF3, wide, false, op2(0x0F, 0xB8), byte(dst), byte(src)) {
		a.need(featPOPCNT)
	}
}

// Andn emits ANDN dst, x, y: dst = ^x & y (bmi1).
func (a *Asm) Andn(w Width, dst, x, y Reg) {
	if wide, ok := a.width64(w); ok && a.vexRR(0, 2, wide, 0xF2, byte(dst), byte(x), byte(y)) {
		a.need(featBMI1)
	}
}

// Shlx emits SHLX dst, src, count (bmi2): shifts without touching flags
// or needing the count in CL.
func (a *Asm) Shlx(w Width, dst, src, count Reg) {
	if wide, ok := a.width64(w); ok && a.vexRR(1, 2, wide, 0xF7, byte(dst), byte(count), byte(src)) {
		a.need(featBMI2)
	}
}

// Shrx emits SHRX dst, src, count (bmi2).
func (a *Asm) Shrx(w Width, dst, src, count Reg) {
	if wide, ok := a.width64(w); ok && a.vexRR(3, 2, wide, 0xF7, byte(dst), byte(count), byte(src)) {
		a.need(featBMI2)
	}
}

// Sarx emits SARX dst, src, count (bmi2).
func (a *Asm) Sarx(w Width, dst, src, count Reg) {
	if wide, ok := a.width64(w); ok && a.vexRR(2, 2, wide, 0xF7, byte(dst), byte(count), byte(src)) {
		a.need(featBMI2)
	}
}

// Rorx emits RORX dst, src, imm (bmi2): rotate right without flags.
func (a *Asm) Rorx(w Width, dst, src Reg, imm uint8) {
	wide, ok := a.width64(w)
	if !ok {
		return
	}
	if int(imm) >= int(w)*8 {
		a.fail("rotate count %d for %d-bit operand", imm, w*8)
		return
	}
	if a.vexRR(3, 3, wide, 0xF0, byte(dst), 0, byte(src)) {
		a.imm8(int8(imm))
		a.need(featBMI2)
	}
}

package jit

import (
	"math"

	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/native"
	. "github.com/ferryvm/ferry/internal/native/amd64asm"
	"github.com/ferryvm/ferry/internal/wasm"
)

// The integer operations in opcode order, from clz: the offset of an op
// from its type's clz is its kind; the immediate forms start at add.
const (
	kClz = iota
	kCtz
	kPopcnt
	kAdd
	kSub
	kMul
	kDivS
	kDivU
	kRemS
	kRemU
	kAnd
	kOr
	kXor
	kShl
	kShrS
	kShrU
	kRotl
	kRotr
)

// cmpCond is the condition of each comparison in opcode order (eq ne
// lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u), after CMP lhs, rhs.
var cmpCond = [10]Cond{CondE, CondNE, CondL, CondB, CondG, CondA, CondLE, CondBE, CondGE, CondAE}

var aluOf = [...]ALUOp{kAdd: ADD, kSub: SUB, kAnd: AND, kOr: OR, kXor: XOR}

var shiftOf = [...]ShiftOp{kShl: SHL, kShrS: SAR, kShrU: SHR, kRotl: ROL, kRotr: ROR}

// rhs is the right operand of a binary op: a slot or a constant.
type rhs struct {
	slot  uint32
	imm   uint64
	isImm bool
}

func slotRHS(s uint32) rhs { return rhs{slot: s} }
func immRHS(v uint64) rhs  { return rhs{imm: v, isImm: true} }
func bits(w Width) uint64  { return uint64(w) * 8 }
func fitsI32(v int64) bool { return v >= math.MinInt32 && v <= math.MaxInt32 }
func (r rhs) value(w Width) int64 {
	if w == W32 {
		return int64(int32(uint32(r.imm)))
	}
	return int64(r.imm)
}

// instr compiles one IR instruction.
func (c *compiler) instr(in ir.Instr) error {
	a := c.a
	op := in.Op
	switch {
	case op == ir.Op(wasm.OpI32Eqz) || op == ir.Op(wasm.OpI64Eqz):
		w := W32
		if op == ir.Op(wasm.OpI64Eqz) {
			w = W64
		}
		r := c.srcReg(w, in.B)
		a.Test(w, r, r)
		c.setcc(CondE, in.A)
		return nil
	case op >= ir.Op(wasm.OpI32Eq) && op <= ir.Op(wasm.OpI32GeU):
		c.compare(W32, int(op-ir.Op(wasm.OpI32Eq)), in.A, in.B, slotRHS(in.C))
		return nil
	case op >= ir.Op(wasm.OpI64Eq) && op <= ir.Op(wasm.OpI64GeU):
		c.compare(W64, int(op-ir.Op(wasm.OpI64Eq)), in.A, in.B, slotRHS(in.C))
		return nil
	case op >= ir.I32EqI && op <= ir.I32GeUI:
		c.compare(W32, int(op-ir.I32EqI), in.A, in.B, immRHS(in.Imm))
		return nil
	case op >= ir.I64EqI && op <= ir.I64GeUI:
		c.compare(W64, int(op-ir.I64EqI), in.A, in.B, immRHS(in.Imm))
		return nil
	case op >= ir.Op(wasm.OpI32Clz) && op <= ir.Op(wasm.OpI32Popcnt):
		c.unaryBits(op, W32, int(op-ir.Op(wasm.OpI32Clz)), in.A, in.B)
		return nil
	case op >= ir.Op(wasm.OpI64Clz) && op <= ir.Op(wasm.OpI64Popcnt):
		c.unaryBits(op, W64, int(op-ir.Op(wasm.OpI64Clz)), in.A, in.B)
		return nil
	case op >= ir.Op(wasm.OpI32Add) && op <= ir.Op(wasm.OpI32Rotr):
		c.binary(W32, int(op-ir.Op(wasm.OpI32Clz)), in.A, in.B, slotRHS(in.C))
		return nil
	case op >= ir.Op(wasm.OpI64Add) && op <= ir.Op(wasm.OpI64Rotr):
		c.binary(W64, int(op-ir.Op(wasm.OpI64Clz)), in.A, in.B, slotRHS(in.C))
		return nil
	case op >= ir.I32AddI && op <= ir.I32RotrI:
		c.binary(W32, kAdd+int(op-ir.I32AddI), in.A, in.B, immRHS(in.Imm))
		return nil
	case op >= ir.I64AddI && op <= ir.I64RotrI:
		c.binary(W64, kAdd+int(op-ir.I64AddI), in.A, in.B, immRHS(in.Imm))
		return nil
	case op >= ir.BrI32Eq && op <= ir.BrI32GeU:
		if err := c.target(in.A); err != nil {
			return err
		}
		c.aluSlot(CMP, W32, c.srcReg(W32, in.B), in.C)
		c.branchIf(cmpCond[op-ir.BrI32Eq], in.A)
		return nil
	case op >= ir.BrI32EqI && op <= ir.BrI32GeUI:
		if err := c.target(in.A); err != nil {
			return err
		}
		a.ALUImm(CMP, W32, c.srcReg(W32, in.B), int32(uint32(in.Imm)))
		c.branchIf(cmpCond[op-ir.BrI32EqI], in.A)
		return nil
	case op >= ir.I32Load && op <= ir.I64Load32U:
		return c.load(in)
	case op >= ir.I32Store && op <= ir.I64Store32, op >= ir.I32StoreI && op <= ir.I64StoreI:
		return c.store(in)
	}

	switch op {
	case ir.Poll:
		// A loop's poll stub is reached only by the interpreter's armed
		// back-edges; compiled back-edges poll themselves and exit with
		// the same id, so the stub compiles to nothing.
		if c.loopStub[c.cur] {
			return nil
		}
		after := a.NewLabel()
		p := c.newPoll(in.A, after)
		c.poll(p)
		a.Bind(after)
		if int(in.A) < len(c.contLbl) {
			c.contLbl[in.A] = p.cont
		}
	case ir.Unreachable:
		c.trapHere(TrapUnreachable)
	case ir.Br:
		if err := c.target(in.A); err != nil {
			return err
		}
		c.jumpTo(in.A)
	case ir.BrCopy:
		if err := c.target(in.A); err != nil {
			return err
		}
		if err := c.copySlots(in.C, in.B, uint32(in.Imm)); err != nil {
			return err
		}
		c.jumpTo(in.A)
	case ir.BrIf, ir.BrIfNot:
		if err := c.target(in.A); err != nil {
			return err
		}
		r := c.srcReg(W32, in.B)
		a.Test(W32, r, r)
		cc := CondNE
		if op == ir.BrIfNot {
			cc = CondE
		}
		c.branchIf(cc, in.A)
	case ir.BrIfCopy:
		if err := c.target(in.A); err != nil {
			return err
		}
		skip := a.NewLabel()
		r := c.srcReg(W32, in.B)
		a.Test(W32, r, r)
		a.Jcc(CondE, skip)
		if err := c.copySlots(uint32(in.Imm), in.C, uint32(in.Imm>>32)); err != nil {
			return err
		}
		c.jumpTo(in.A)
		a.Bind(skip)
	case ir.BrTable:
		return c.brTable(in)
	case ir.Return:
		if err := c.returnCopy(in.B, in.C); err != nil {
			return err
		}
		c.retToNativeCaller()
		a.StoreImm(W32, M(regBlock, native.OffExit), int32(native.ExitReturn))
		c.leave()
	case ir.Call:
		return c.call(in)
	case ir.CallIndirect:
		c.exitHere(native.ExitCall, c.cur, uint32(in.Imm>>32))
	case ir.MemoryCopy:
		c.memoryCopy(in.B)
	case ir.MemoryFill:
		c.memoryFill(in.B)
	case ir.MemoryGrow, ir.MemoryInit, ir.DataDrop,
		ir.TableGet, ir.TableSet, ir.TableSize, ir.TableGrow, ir.TableFill, ir.TableCopy,
		ir.TableInit, ir.ElemDrop, ir.RefFunc:
		// v1 leaves these to Go: each is rare in hot code, and most need
		// the store (tables, data segments, memory growth).
		c.exitHere(native.ExitInterp, c.cur, NoPause)
	case ir.Const:
		if h, ok := c.homes.gprOf(in.A); ok {
			if in.Imm <= math.MaxUint32 {
				a.MovImm32(h, uint32(in.Imm)) // zero-extends, two bytes shorter
			} else {
				a.MovImm64(h, int64(in.Imm))
			}
		} else if x, ok := c.homes.xmmOf(in.A); ok {
			if in.Imm == 0 {
				a.SSE(XORPS, x, x)
			} else {
				a.MovImm64(RAX, int64(in.Imm))
				a.MovToX(W64, x, RAX)
			}
		} else if v := int64(in.Imm); fitsI32(v) {
			a.StoreImm(W64, slot(in.A), int32(v))
		} else {
			a.MovImm64(RAX, v)
			c.storeRAX(in.A)
		}
	case ir.Mov:
		xd, okd := c.homes.xmmOf(in.A)
		xs, oks := c.homes.xmmOf(in.B)
		if okd && oks {
			a.SSE(MOVAPS, xd, xs)
			break
		}
		if h, ok := c.homes.gprOf(in.A); ok {
			c.readGPR(W64, h, in.B)
			break
		}
		c.readGPR(W64, RAX, in.B)
		c.writeGPR(in.A, RAX)
	case ir.Select:
		c.readGPR(W64, RAX, in.B)
		c.readGPR(W64, RCX, in.C)
		cond := c.srcRegNotRAX(W32, uint32(in.Imm), RDX)
		a.Test(W32, cond, cond)
		a.Cmov(CondE, W64, RAX, RCX)
		c.writeGPR(in.A, RAX)
	case ir.GlobalGet:
		if in.B >= maxSlots {
			return c.fail("global %d out of range", in.B)
		}
		a.Load(W64, RAX, M(regBlock, native.OffGlobals))
		a.Load(W64, RAX, M(RAX, int32(in.B)*8))
		a.Load(W64, RAX, M(RAX, 0))
		c.writeGPR(in.A, RAX)
	case ir.GlobalSet:
		if in.A >= maxSlots {
			return c.fail("global %d out of range", in.A)
		}
		a.Load(W64, RAX, M(regBlock, native.OffGlobals))
		a.Load(W64, RAX, M(RAX, int32(in.A)*8))
		c.readGPR(W64, RCX, in.B)
		a.Store(W64, M(RAX, 0), RCX)
	case ir.MemorySize:
		a.Load(W64, RAX, M(regBlock, native.OffMemLen))
		a.ShiftImm(SHR, W64, RAX, 16)
		c.writeGPR(in.A, RAX)
	case ir.Op(wasm.OpI32WrapI64), ir.Op(wasm.OpI64ExtendI32U):
		if h, ok := c.homes.gprOf(in.A); ok {
			// In place too: a wrap's source is 64 bits wide.
			c.a.Mov(W32, h, c.srcReg(W32, in.B))
			break
		}
		c.readGPR(W32, RAX, in.B)
		c.writeGPR(in.A, RAX)
	case ir.Op(wasm.OpI64ExtendI32S), ir.Op(wasm.OpI64Extend32S):
		c.signExtend(W64, W32, in.A, in.B)
	case ir.Op(wasm.OpI32Extend8S):
		c.signExtend(W32, W8, in.A, in.B)
	case ir.Op(wasm.OpI32Extend16S):
		c.signExtend(W32, W16, in.A, in.B)
	case ir.Op(wasm.OpI64Extend8S):
		c.signExtend(W64, W8, in.A, in.B)
	case ir.Op(wasm.OpI64Extend16S):
		c.signExtend(W64, W16, in.A, in.B)
	default:
		if ok, err := c.simd(&in); ok { // v128 (simd.go); such functions have no homes
			return err
		}
		if !emitFloatHomes(a, c.feats, &in, c.homes, c.trap) {
			return c.fail("op %#x is not compiled", uint16(op))
		}
		if l, needs, ok := floatLowering(op, c.feats); ok {
			c.selected(op, l, needs...)
		}
	}
	return nil
}

// setcc stores the condition as 0 or 1 in slot dst.
func (c *compiler) setcc(cc Cond, dst uint32) {
	c.cached = -1
	c.a.Setcc(cc, RAX)
	c.a.Movzx(W32, W8, RAX, RAX)
	c.writeGPR(dst, RAX)
}

// signExtend sign-extends the low from bytes of slot src to w bytes
// into slot dst.
func (c *compiler) signExtend(w, from Width, dst, src uint32) {
	t := RAX
	if h, ok := c.homes.gprOf(dst); ok {
		t = h
	}
	if h, ok := c.homes.gprOf(src); ok {
		c.a.Movsx(w, from, t, h)
	} else {
		c.a.MovsxLoad(w, from, t, c.memIn(src))
	}
	if t == RAX {
		c.cached = -1
		c.writeGPR(dst, RAX)
	}
}

// srcRegNotRAX returns a register holding slot s for a read: its home, or
// scratch loaded with it.
func (c *compiler) srcRegNotRAX(w Width, s uint32, scratch Reg) Reg {
	if h, ok := c.homes.gprOf(s); ok {
		return h
	}
	c.readGPR(w, scratch, s)
	return scratch
}

// aluRHS applies op to dst and the right operand.
func (c *compiler) aluRHS(op ALUOp, w Width, dst Reg, r rhs) {
	switch v := r.value(w); {
	case !r.isImm:
		c.aluSlot(op, w, dst, r.slot)
	case fitsI32(v):
		c.a.ALUImm(op, w, dst, int32(v))
	default:
		c.a.MovImm64(RCX, v)
		c.a.ALU(op, w, dst, RCX)
	}
}

func (c *compiler) compare(w Width, k int, dst, lhs uint32, r rhs) {
	c.aluRHS(CMP, w, c.srcReg(w, lhs), r)
	c.setcc(cmpCond[k], dst)
}

// loadRHS puts the right operand in RCX.
func (c *compiler) loadRHS(w Width, r rhs) {
	switch {
	case !r.isImm:
		c.readGPR(w, RCX, r.slot)
	case w == W32:
		c.a.MovImm32(RCX, uint32(r.imm))
	default:
		c.a.MovImm64(RCX, int64(r.imm))
	}
}

// binary compiles the integer binary op of kind k; a 32-bit result is
// written zero-extended, since every 32-bit operation clears the upper
// half of its destination register. A result whose slot has a home is
// computed in the home, unless the right operand is that slot too.
func (c *compiler) binary(w Width, k int, dst, lhs uint32, r rhs) {
	a := c.a
	switch k {
	case kAdd, kMul, kAnd, kOr, kXor:
		// Commutative: take as the left the operand the result's home or
		// RAX already holds.
		if !r.isImm && (c.cached == int64(r.slot) || r.slot == dst && c.homes.has(dst)) {
			lhs, r.slot = r.slot, lhs
		}
	}
	if k == kDivS || k == kDivU || k == kRemS || k == kRemU {
		c.divide(w, k, lhs, r)
		if k == kRemS || k == kRemU {
			c.writeGPR(dst, RDX)
		} else {
			c.writeGPR(dst, RAX)
		}
		return
	}
	t := RAX
	if h, ok := c.homes.gprOf(dst); ok && (r.isImm || r.slot != dst) {
		t = h
	}
	switch k {
	case kAdd, kSub, kAnd, kOr, kXor:
		c.readGPR(w, t, lhs)
		c.aluRHS(aluOf[k], w, t, r)
	case kMul:
		c.readGPR(w, t, lhs)
		switch v := r.value(w); {
		case !r.isImm:
			if h, ok := c.homes.gprOf(r.slot); ok {
				a.Imul(w, t, h)
			} else {
				a.ImulLoad(w, t, c.memIn(r.slot))
			}
		case fitsI32(v):
			a.ImulImm(w, t, t, int32(v))
		default:
			a.MovImm64(RCX, v)
			a.Imul(w, t, RCX)
		}
	case kShl, kShrS, kShrU, kRotl, kRotr:
		if r.isImm {
			c.readGPR(w, t, lhs)
			// The hardware masks a count the same way WebAssembly does;
			// the encoder wants it in range, and 0 is no shift at all.
			if n := uint8(r.imm & (bits(w) - 1)); n != 0 {
				a.ShiftImm(shiftOf[k], w, t, n)
			}
		} else {
			c.readGPR(W32, RCX, r.slot)
			c.readGPR(w, t, lhs)
			a.ShiftCL(shiftOf[k], w, t)
		}
	}
	c.writeGPR(dst, t)
}

// divide leaves the quotient in RAX and the remainder in RDX, trapping as
// WebAssembly does: division by zero, and INT_MIN / -1 for div_s only
// (rem_s of INT_MIN by -1 is 0, which IDIV would fault on).
func (c *compiler) divide(w Width, k int, lhs uint32, r rhs) {
	a := c.a
	c.readGPR(w, RAX, lhs)
	c.loadRHS(w, r)
	if r.isImm && r.value(w) == 0 {
		c.trapHere(TrapIntegerDivideByZero)
		return
	}
	if !r.isImm {
		a.Test(w, RCX, RCX)
		a.Jcc(CondE, c.trap(TrapIntegerDivideByZero))
	}
	if k == kDivU || k == kRemU {
		a.ALU(XOR, W32, RDX, RDX)
		a.Div(w, RCX)
		return
	}
	done := a.NewLabel()
	if !r.isImm || r.value(w) == -1 {
		do := a.NewLabel()
		a.ALUImm(CMP, w, RCX, -1)
		a.Jcc(CondNE, do)
		if k == kRemS {
			a.ALU(XOR, W32, RDX, RDX)
			a.Jmp(done)
		} else {
			if w == W32 {
				a.ALUImm(CMP, W32, RAX, math.MinInt32)
			} else {
				a.MovImm64(RDX, math.MinInt64)
				a.ALU(CMP, W64, RAX, RDX)
			}
			a.Jcc(CondE, c.trap(TrapIntegerOverflow))
		}
		a.Bind(do)
	}
	if w == W32 {
		a.Cdq()
	} else {
		a.Cqo()
	}
	a.Idiv(w, RCX)
	a.Bind(done)
}

// unaryBits compiles clz, ctz and popcnt, with LZCNT, TZCNT and POPCNT
// only when the features have them: without their CPUID bit LZCNT and
// TZCNT do not fault but run as BSR and BSF, a silent wrong result.
func (c *compiler) unaryBits(op ir.Op, w Width, k int, dst, src uint32) {
	a := c.a
	c.readGPR(w, RAX, src)
	top := int32(bits(w) - 1)
	switch k {
	case kClz:
		if c.feats.Has(cpu.X86LZCNT) {
			c.selected(op, "lzcnt", cpu.X86LZCNT)
			a.Lzcnt(w, RAX, RAX)
			break
		}
		// bsr gives the index of the highest set bit (ZF on zero);
		// clz = top - index = top ^ index, and zero maps 2*top+1 to
		// top+1.
		c.selected(op, "bsr+cmov")
		a.Bsr(w, RAX, RAX)
		a.MovImm32(RCX, uint32(2*top+1))
		a.Cmov(CondE, w, RAX, RCX)
		a.ALUImm(XOR, w, RAX, top)
	case kCtz:
		if c.feats.Has(cpu.X86BMI1) {
			c.selected(op, "tzcnt", cpu.X86BMI1)
			a.Tzcnt(w, RAX, RAX)
			break
		}
		c.selected(op, "bsf+cmov")
		a.Bsf(w, RAX, RAX)
		a.MovImm32(RCX, uint32(top+1))
		a.Cmov(CondE, w, RAX, RCX)
	case kPopcnt:
		if c.feats.Has(cpu.X86POPCNT) {
			c.selected(op, "popcnt", cpu.X86POPCNT)
			a.Popcnt(w, RAX, RAX)
			break
		}
		c.selected(op, "swar")
		c.popcntSWAR(w)
	}
	c.writeGPR(dst, RAX)
}

// popcntSWAR counts the bits of RAX in RAX with the classic parallel sum
// (bit pairs, nibbles, bytes, then a multiply that adds the bytes).
func (c *compiler) popcntSWAR(w Width) {
	a := c.a
	mask := func(r Reg, m uint64) {
		if w == W32 {
			a.ALUImm(AND, W32, r, int32(uint32(m)))
			return
		}
		a.MovImm64(RDX, int64(m))
		a.ALU(AND, W64, r, RDX)
	}
	a.Mov(w, RCX, RAX)
	a.ShiftImm(SHR, w, RCX, 1)
	mask(RCX, 0x5555555555555555)
	a.ALU(SUB, w, RAX, RCX)
	a.Mov(w, RCX, RAX)
	a.ShiftImm(SHR, w, RCX, 2)
	mask(RAX, 0x3333333333333333)
	mask(RCX, 0x3333333333333333)
	a.ALU(ADD, w, RAX, RCX)
	a.Mov(w, RCX, RAX)
	a.ShiftImm(SHR, w, RCX, 4)
	a.ALU(ADD, w, RAX, RCX)
	mask(RAX, 0x0F0F0F0F0F0F0F0F)
	if w == W32 {
		a.ImulImm(W32, RAX, RAX, 0x01010101)
		a.ShiftImm(SHR, W32, RAX, 24)
	} else {
		a.MovImm64(RDX, 0x0101010101010101)
		a.Imul(W64, RAX, RDX)
		a.ShiftImm(SHR, W64, RAX, 56)
	}
}

// address bounds-checks an n-byte access at slot addr + off and returns
// its memory operand. The address is the slot's home (an i32 home has
// its upper half clear) or RAX; RDX holds the access's end.
func (c *compiler) address(addr uint32, off uint64, n int32) (Mem, error) {
	a := c.a
	if off > math.MaxUint32 {
		return Mem{}, c.fail("memory offset %d beyond 32 bits", off)
	}
	base := c.srcReg(W32, addr)
	end := int64(off) + int64(n)
	if fitsI32(end) {
		a.Lea(W64, RDX, M(base, int32(end)))
	} else {
		a.MovImm64(RDX, end)
		a.ALU(ADD, W64, RDX, base)
	}
	a.ALULoad(CMP, W64, RDX, M(regBlock, native.OffMemLen))
	a.Jcc(CondA, c.trap(TrapMemoryOutOfBounds))
	if fitsI32(int64(off)) {
		return MI(regMem, base, 1, int32(off)), nil
	}
	c.cached = -1
	a.Lea(W64, RAX, M(RDX, -n))
	return MI(regMem, RAX, 1, 0), nil
}

func (c *compiler) load(in ir.Instr) error {
	a := c.a
	var n int32
	switch in.Op {
	case ir.I32Load8S, ir.I32Load8U, ir.I64Load8S, ir.I64Load8U:
		n = 1
	case ir.I32Load16S, ir.I32Load16U, ir.I64Load16S, ir.I64Load16U:
		n = 2
	case ir.I32Load, ir.F32Load, ir.I64Load32S, ir.I64Load32U:
		n = 4
	default:
		n = 8
	}
	m, err := c.address(in.B, in.Imm, n)
	if err != nil {
		return err
	}
	if x, ok := c.homes.xmmOf(in.A); ok && (in.Op == ir.F32Load || in.Op == ir.F64Load) {
		// MOVSS from memory clears bits 32-127: the f32 home invariant.
		a.SSELoad(pick(in.Op == ir.F64Load, MOVSS, MOVSD), x, m)
		return nil
	}
	t := RAX
	if h, ok := c.homes.gprOf(in.A); ok {
		t = h
	}
	switch in.Op {
	case ir.I32Load, ir.F32Load, ir.I64Load32U:
		a.Load(W32, t, m)
	case ir.I64Load, ir.F64Load:
		a.Load(W64, t, m)
	case ir.I32Load8S:
		a.MovsxLoad(W32, W8, t, m)
	case ir.I64Load8S:
		a.MovsxLoad(W64, W8, t, m)
	case ir.I32Load8U, ir.I64Load8U:
		a.MovzxLoad(W32, W8, t, m)
	case ir.I32Load16S:
		a.MovsxLoad(W32, W16, t, m)
	case ir.I64Load16S:
		a.MovsxLoad(W64, W16, t, m)
	case ir.I32Load16U, ir.I64Load16U:
		a.MovzxLoad(W32, W16, t, m)
	case ir.I64Load32S:
		a.MovsxLoad(W64, W32, t, m)
	}
	if t == RAX {
		c.cached = -1
		c.writeGPR(in.A, RAX)
	}
	return nil
}

func (c *compiler) store(in ir.Instr) error {
	a := c.a
	var w Width
	switch in.Op {
	case ir.I32Store8, ir.I64Store8, ir.I32Store8I:
		w = W8
	case ir.I32Store16, ir.I64Store16, ir.I32Store16I:
		w = W16
	case ir.I32Store, ir.F32Store, ir.I64Store32, ir.I32StoreI:
		w = W32
	default:
		w = W64
	}
	m, err := c.address(in.A, in.Imm, int32(w))
	if err != nil {
		return err
	}
	switch in.Op {
	case ir.I32Store8I:
		a.StoreImm(W8, m, int32(uint8(in.C)))
	case ir.I32Store16I:
		a.StoreImm(W16, m, int32(uint16(in.C)))
	case ir.I32StoreI, ir.I64StoreI:
		// The i64 form's constant is sign-extended from 32 bits, as the
		// 64-bit MOV with an imm32 does.
		a.StoreImm(w, m, int32(in.C))
	default:
		if h, ok := c.homes.gprOf(in.B); ok {
			a.Store(w, m, h)
		} else if x, ok := c.homes.xmmOf(in.B); ok && (w == W32 || w == W64) {
			if w == W32 {
				a.MovssStore(m, x)
			} else {
				a.MovsdStore(m, x)
			}
		} else {
			c.readGPR(W64, RCX, in.B)
			a.Store(w, m, RCX)
		}
	}
	return nil
}

// brTable dispatches through a table of label differences; a target that
// copies slots or goes backward (and so polls) gets a block of its own.
func (c *compiler) brTable(in ir.Instr) error {
	a := c.a
	tg := c.f.BrTargets
	if in.C == 0 || uint64(in.B)+uint64(in.C) > uint64(len(tg)) {
		return c.fail("br_table targets %d+%d out of range", in.B, in.C)
	}
	t := jumpTable{l: a.NewLabel(), entries: make([]Label, in.C)}
	for i := range t.entries {
		d := tg[in.B+uint32(i)]
		if err := c.target(d.PC); err != nil {
			return err
		}
		if (d.N == 0 || d.Src == d.Dst) && d.PC > c.cur {
			t.entries[i] = c.labels[d.PC]
			continue
		}
		b := edgeBlock{l: a.NewLabel(), at: c.cur, t: d}
		c.blocks = append(c.blocks, b)
		t.entries[i] = b.l
	}
	c.tables = append(c.tables, t)
	c.cached = -1
	c.readGPR(W32, RAX, in.A)
	a.MovImm32(RCX, in.C-1)
	a.ALU(CMP, W64, RAX, RCX)
	a.Cmov(CondA, W64, RAX, RCX)
	a.LeaLabel(RCX, t.l)
	a.MovsxLoad(W64, W32, RDX, MI(RCX, RAX, 4, 0))
	a.ALU(ADD, W64, RDX, RCX)
	a.JmpReg(RDX)
	return nil
}

// bulkCheck traps unless [start, start+RCX) lies in memory; start is
// RSI or RDI holding a zero-extended address.
func (c *compiler) bulkCheck(start Reg) {
	c.a.Lea(W64, RAX, MI(start, RCX, 1, 0))
	c.a.ALULoad(CMP, W64, RAX, M(regBlock, native.OffMemLen))
	c.a.Jcc(CondA, c.trap(TrapMemoryOutOfBounds))
}

// memoryFill is memory.fill (d, val, n at slots b..b+2) with REP STOSB,
// after the same check as the interpreter's: d+n beyond memory traps,
// even for n = 0.
func (c *compiler) memoryFill(b uint32) {
	a := c.a
	c.selected(ir.MemoryFill, "rep stosb")
	// The operands go through their slots: a home may be RDI itself.
	c.spillHome(b)
	c.spillHome(b + 1)
	c.spillHome(b + 2)
	c.saveHomesIn(RDI)
	c.cached = -1
	a.Load(W32, RDI, slot(b))
	a.Load(W32, RCX, slot(b+2))
	c.bulkCheck(RDI)
	a.Load(W32, RAX, slot(b+1))
	a.Lea(W64, RDI, MI(regMem, RDI, 1, 0))
	a.RepStosb()
	c.restoreHomesIn(RDI)
}

// memoryCopy is memory.copy (d, s, n at slots b..b+2) with memmove
// semantics: REP MOVSB forward unless the destination overlaps the source
// from above, which copies backward in 8-byte then 1-byte steps (the
// direction flag stays clear, as the trampoline's contract requires).
func (c *compiler) memoryCopy(b uint32) {
	a := c.a
	c.selected(ir.MemoryCopy, "rep movsb")
	// The operands go through their slots: a home may be RSI or RDI.
	c.spillHome(b)
	c.spillHome(b + 1)
	c.spillHome(b + 2)
	c.saveHomesIn(RSI, RDI)
	c.cached = -1
	a.Load(W32, RDI, slot(b))
	a.Load(W32, RSI, slot(b+1))
	a.Load(W32, RCX, slot(b+2))
	c.bulkCheck(RSI)
	c.bulkCheck(RDI)
	a.Lea(W64, RSI, MI(regMem, RSI, 1, 0))
	a.Lea(W64, RDI, MI(regMem, RDI, 1, 0))
	fwd, done := a.NewLabel(), a.NewLabel()
	a.ALU(CMP, W64, RDI, RSI)
	a.Jcc(CondBE, fwd)
	a.Lea(W64, RAX, MI(RSI, RCX, 1, 0))
	a.ALU(CMP, W64, RDI, RAX)
	a.Jcc(CondAE, fwd)
	words, bytes := a.NewLabel(), a.NewLabel()
	a.Bind(words)
	a.ALUImm(CMP, W64, RCX, 8)
	a.Jcc(CondB, bytes)
	a.ALUImm(SUB, W64, RCX, 8)
	a.Load(W64, RAX, MI(RSI, RCX, 1, 0))
	a.Store(W64, MI(RDI, RCX, 1, 0), RAX)
	a.Jmp(words)
	a.Bind(bytes)
	a.Test(W64, RCX, RCX)
	a.Jcc(CondE, done)
	a.ALUImm(SUB, W64, RCX, 1)
	a.MovzxLoad(W32, W8, RAX, MI(RSI, RCX, 1, 0))
	a.Store(W8, MI(RDI, RCX, 1, 0), RAX)
	a.Jmp(bytes)
	a.Bind(fwd)
	a.RepMovsb()
	a.Bind(done)
	c.restoreHomesIn(RSI, RDI)
}

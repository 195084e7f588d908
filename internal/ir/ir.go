// Package ir is the form a validated function body is lowered to once and
// every tier then reads: a register-style IR whose operands are
// frame-relative value-stack slots (docs/interpreter.md). The interpreter
// (internal/interp) produces and runs it; the compiler (internal/jit)
// translates it to machine code in the same frame layout, so that a frame
// of either tier is the same frame at every pause point.
package ir

import (
	"github.com/ferryvm/ferry/internal/v128"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Op is an IR operation kind. The numeric operations that take their
// operands from slots reuse the WebAssembly opcode value (0x45..0xC4), so the
// lowering of plain arithmetic is a table-free conversion; the saturating
// truncations (0xFC 0..7) are mapped to 0xC5..0xCC; every other kind is
// defined below. The numbering is dense so the Go compiler turns the
// execution switch into a jump table.
type Op uint16

// Instr is one IR instruction. Operand fields hold frame-relative slot
// indices (slot 0 is the frame's first parameter), IR indices (branch
// targets) or immediates, as documented per Op kind. Slot indices are always
// below the function's frameSlots, which the call sequence reserves, so the
// loop does not check them.
type Instr struct {
	Op      Op
	A, B, C uint32
	Imm     uint64
}

// Numeric operations, one per WebAssembly opcode, with the opcode's value:
//
//	unary  (eqz, clz, ctz, popcnt, abs, neg, ceil ... conversions,
//	        reinterpretations, sign extensions):  a = dst, b = src
//	binary (arith, compare):                     a = dst, b = lhs, c = rhs
//
// Stack effect in WebAssembly terms is the opcode's; in slots, dst is the
// home slot of the first operand (or a local, when a following local.set was
// fused). The trapping ones (div, rem, trunc) trap at the instruction's Wasm
// offset.
const (
	SatBase Op = 0xC5 // i32.trunc_sat_f32_s .. i64.trunc_sat_f64_u: a = dst, b = src
)

// Non-numeric operations.
const (
	// Poll is a pause point that polls the instance's interrupt word:
	// function entries (code[0]) and loop stubs (after the function's
	// code, see arm.go). a = pause point id.
	Poll Op = 0xD0 + iota
	// Unreachable traps with api.ErrUnreachable.
	Unreachable
	// Br jumps: a = target IR index.
	Br
	// BrCopy copies imm slots from slot b to slot c, then jumps to a.
	// (Branch values move from the top of the stack to the label's slots.)
	BrCopy
	// BrIf jumps to a when slot b (i32) is non-zero.
	BrIf
	// BrIfNot jumps to a when slot b (i32) is zero (if, br_if of eqz).
	BrIfNot
	// BrIfCopy: when slot b is non-zero, copies imm>>32 slots from slot c
	// to slot uint32(imm), then jumps to a.
	BrIfCopy
	// BrTable: a = index slot; the targets are brTargets[b : b+c], the
	// last one being the default.
	BrTable
	// Return copies c slots from slot b to slot 0 (the results land where
	// the arguments were) and pops the frame.
	Return
	// Call calls function a of the instance; its arguments sit at slot b,
	// which becomes the callee's slot 0 and receives the results.
	// c = pause point id of the call.
	Call
	// CallIndirect: a = type index, b = table index, c = argument slot,
	// imm = slot of the table index operand | pause point id << 32.
	CallIndirect
	// Const: slot a = imm.
	Const
	// Mov: slot a = slot b.
	Mov
	// Mov2: slots a, a+1 = slots b, b+1 (v128).
	Mov2
	// Select: slot a = slot imm != 0 ? slot b : slot c.
	Select
	// Select2 is Select for v128 (two slots each).
	Select2
	// GlobalGet: slot a = global b; GlobalSet: global a = slot b.
	GlobalGet
	GlobalSet
	// GlobalGet2 / GlobalSet2: the v128 forms (two slots).
	GlobalGet2
	GlobalSet2
	// Loads: a = dst, b = address slot, imm = memarg offset. Effective
	// address uint64(uint32(slot b)) + imm; out of bounds traps.
	I32Load
	I64Load
	F32Load
	F64Load
	I32Load8S
	I32Load8U
	I32Load16S
	I32Load16U
	I64Load8S
	I64Load8U
	I64Load16S
	I64Load16U
	I64Load32S
	I64Load32U
	// Stores: a = address slot, b = value slot, imm = memarg offset.
	I32Store
	I64Store
	F32Store
	F64Store
	I32Store8
	I32Store16
	I64Store8
	I64Store16
	I64Store32
	// MemorySize: slot a = pages. MemoryGrow: slot a = grow(slot b).
	MemorySize
	MemoryGrow
	// Bulk memory; operands are in consecutive slots from b:
	// memory.init (d, s, n) with a = data index; memory.copy (d, s, n);
	// memory.fill (d, val, n). DataDrop: a = data index.
	MemoryInit
	MemoryCopy
	MemoryFill
	DataDrop
	// Tables: TableGet slot a = table b [slot c]; TableSet table a
	// [slot b] = slot c; TableSize slot a = size of table b;
	// TableGrow table a, operands (init, n) at slot b, result at slot b;
	// TableFill table a, operands (i, val, n) at b; TableCopy dst table
	// a, src table b, operands (d, s, n) at c; TableInit element a, table
	// b, operands (d, s, n) at c; ElemDrop element a.
	TableGet
	TableSet
	TableSize
	TableGrow
	TableFill
	TableCopy
	TableInit
	ElemDrop
	// RefFunc: slot a = funcref of function b.
	RefFunc

	// Immediate forms of the integer binary operations: a = dst,
	// b = lhs slot, imm = the constant rhs. Same order as the opcodes.
	I32EqI
	I32NeI
	I32LtSI
	I32LtUI
	I32GtSI
	I32GtUI
	I32LeSI
	I32LeUI
	I32GeSI
	I32GeUI
	I32AddI
	I32SubI
	I32MulI
	I32DivSI
	I32DivUI
	I32RemSI
	I32RemUI
	I32AndI
	I32OrI
	I32XorI
	I32ShlI
	I32ShrSI
	I32ShrUI
	I32RotlI
	I32RotrI
	I64EqI
	I64NeI
	I64LtSI
	I64LtUI
	I64GtSI
	I64GtUI
	I64LeSI
	I64LeUI
	I64GeSI
	I64GeUI
	I64AddI
	I64SubI
	I64MulI
	I64DivSI
	I64DivUI
	I64RemSI
	I64RemUI
	I64AndI
	I64OrI
	I64XorI
	I64ShlI
	I64ShrSI
	I64ShrUI
	I64RotlI
	I64RotrI

	// Compare-and-branch (an i32 comparison fused with br_if or if):
	// jump to a when (slot b OP slot c); the ...I forms compare with imm.
	BrI32Eq
	BrI32Ne
	BrI32LtS
	BrI32LtU
	BrI32GtS
	BrI32GtU
	BrI32LeS
	BrI32LeU
	BrI32GeS
	BrI32GeU
	BrI32EqI
	BrI32NeI
	BrI32LtSI
	BrI32LtUI
	BrI32GtSI
	BrI32GtUI
	BrI32LeSI
	BrI32LeUI
	BrI32GeSI
	BrI32GeUI

	// Stores of a constant: a = address slot, c = the value (i64: sign-
	// extended from 32 bits), imm = memarg offset.
	I32StoreI
	I32Store8I
	I32Store16I
	I64StoreI

	// Loop back-edges, armed (arm.go). A loop's pause point is an
	// out-of-line stub after the function's code (Poll, then Br to
	// the body), so entering a loop costs nothing. Unarmed, a back-edge is
	// the plain branch Op to the loop's body; armed, it is one of these,
	// which go to the stub instead when the interrupt word is set.
	// Operands as for Br, BrIf, BrIfNot and BrI32<cmp>[I], plus the
	// stub's IR index in the field those leave free (setStubField).
	BrBack
	BrIfBack
	BrIfNotBack
	BrI32EqBack
	BrI32NeBack
	BrI32LtSBack
	BrI32LtUBack
	BrI32GtSBack
	BrI32GtUBack
	BrI32LeSBack
	BrI32LeUBack
	BrI32GeSBack
	BrI32GeUBack
	BrI32EqIBack
	BrI32NeIBack
	BrI32LtSIBack
	BrI32LtUIBack
	BrI32GtSIBack
	BrI32GtUIBack
	BrI32LeSIBack
	BrI32LeUIBack
	BrI32GeSIBack
	BrI32GeUIBack

	// SIMD (simd_lower.go, docs/simd.md). s is the sub-opcode (the Wasm
	// opcode - 0x200), the index into the v128.Table the loop calls
	// through; vector operands and results are slot pairs (low half first).
	V128Unary     // a = dst, b = src, c = s
	V128Binary    // a = dst, b = lhs, c = rhs, imm = s
	V128Bitselect // a = dst, b = x, c = y, imm = mask slot
	V128Shuffle   // a = dst, b = x, c = y, imm = index of the mask in funcCode.vconsts
	V128Shift     // a = dst, b = vector, c = count slot (i32), imm = s
	V128ShiftI    // a = dst, b = vector, c = the count (a constant), imm = s
	V128Test      // a = dst (i32), b = src, c = s
	V128Splat     // a = dst, b = scalar slot, c = s
	V128Extract   // a = dst (scalar), b = src, c = s, imm = lane
	V128Replace   // a = dst, b = vector, c = scalar slot, imm = s | lane<<8
	// SIMD memory: effective address uint64(uint32(slot b or a)) + offset;
	// the access of n bytes traps when out of bounds.
	V128Load      // v128.load: a = dst, b = address slot, imm = offset
	V128LoadX     // other loads: a = dst, b = address slot, c = s, imm = offset | n<<32
	V128LoadLane  // a = dst, b = address slot, c = vector, imm = offset | n<<32 | lane<<40 | s<<48
	V128Store     // v128.store: a = address slot, b = value, imm = offset
	V128StoreLane // a = address slot, b = vector, c = s, imm = offset | n<<32 | lane<<40
	// Relaxed SIMD (simd_relaxed.go): r = opcode - 0x300 indexes Builtins.relaxed.
	V128Relaxed // a = dst, b = x, c = y, imm = z slot | r<<32 (unused operands repeat x)

	Count
)

// ImmOp returns the immediate form of an integer binary opcode, if any.
func ImmOp(w wasm.Opcode) (Op, bool) {
	switch {
	case w >= wasm.OpI32Eq && w <= wasm.OpI32GeU:
		return I32EqI + Op(w-wasm.OpI32Eq), true
	case w >= wasm.OpI32Add && w <= wasm.OpI32Rotr:
		return I32AddI + Op(w-wasm.OpI32Add), true
	case w >= wasm.OpI64Eq && w <= wasm.OpI64GeU:
		return I64EqI + Op(w-wasm.OpI64Eq), true
	case w >= wasm.OpI64Add && w <= wasm.OpI64Rotr:
		return I64AddI + Op(w-wasm.OpI64Add), true
	}
	return 0, false
}

// BranchOp returns the compare-and-branch form of an i32 comparison (plain
// or immediate form), negated if asked (for `if`, which branches when the
// condition is false).
func BranchOp(o Op, negate bool) (Op, bool) {
	var idx int
	var imm bool
	switch {
	case o >= Op(wasm.OpI32Eq) && o <= Op(wasm.OpI32GeU):
		idx = int(o - Op(wasm.OpI32Eq))
	case o >= I32EqI && o <= I32GeUI:
		idx, imm = int(o-I32EqI), true
	default:
		return 0, false
	}
	if negate {
		// eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u
		idx = [10]int{1, 0, 8, 9, 6, 7, 4, 5, 2, 3}[idx]
	}
	if imm {
		return BrI32EqI + Op(idx), true
	}
	return BrI32Eq + Op(idx), true
}

// BackOp returns the back-edge form of a branch Op, if it has one.
func BackOp(o Op) (Op, bool) {
	switch {
	case o == Br:
		return BrBack, true
	case o == BrIf:
		return BrIfBack, true
	case o == BrIfNot:
		return BrIfNotBack, true
	case o >= BrI32Eq && o <= BrI32GeUI:
		return BrI32EqBack + (o - BrI32Eq), true
	}
	return 0, false
}

// SetStubField stores a loop's poll stub index in the field a back-edge
// Op's operands leave free: b for br, c for br_if and the compare-with-
// immediate forms, imm for the two-slot compares.
func SetStubField(in *Instr, stub uint32) {
	switch o := in.Op; {
	case o == Br:
		in.B = stub
	case o == BrIf || o == BrIfNot || (o >= BrI32EqI && o <= BrI32GeUI):
		in.C = stub
	default: // BrI32Eq ... BrI32GeU
		in.Imm = uint64(stub)
	}
}

// BrTarget is one br_table destination: copy n slots from src to dst, then
// jump to pc.
type BrTarget struct {
	PC, Src, Dst, N uint32
}

// Func is a lowered function body, what every tier reads. Its code is
// fixed once lowered, except for the interpreter's arming rewrites of
// loop back-edges (their Back forms, see internal/interp arm.go), which a
// reader must treat as the plain branch they stand for.
type Func struct {
	Index      uint32 // function index in the module
	Sig        *wasm.FuncType
	Locals     []wasm.ValType // parameters then declared locals
	LocalSlots uint32         // slots taken by the locals
	ParamSlots uint32
	FrameSlots uint32 // locals plus the deepest operand stack
	Code       []Instr
	EntryPoll  bool     // Code[0] is the function-entry Poll
	LoopPolls  []uint32 // each loop's poll stub (its Poll), by loop index
	// Offsets[i] is the Wasm offset (from BodyStart) of the instruction
	// that Code[i] came from: traps and stack traces read it.
	Offsets   []uint32
	BrTargets []BrTarget
	// PauseIR maps a pause point's id to the instruction that implements
	// it (Poll, Call, CallIndirect).
	PauseIR   []uint32
	BodyStart uint32
	// VConsts are 128-bit immediates (i8x16.shuffle masks) the IR refers
	// to by index.
	VConsts []v128.V128
}

// PauseAt returns the id of the pause point that IR index pc implements.
// Every such instruction carries its pause point's id, so no table is
// searched.
func (f *Func) PauseAt(pc uint32) (uint32, bool) {
	if int(pc) >= len(f.Code) {
		return 0, false
	}
	in := &f.Code[pc]
	var id uint32
	switch in.Op {
	case Poll:
		id = in.A
	case Call:
		id = in.C
	case CallIndirect:
		id = uint32(in.Imm >> 32)
	default:
		return 0, false
	}
	if int(id) >= len(f.PauseIR) || f.PauseIR[id] != pc {
		return 0, false
	}
	return id, true
}

// Package interp is Ferry's portable interpreter: it lowers validated
// WebAssembly function bodies to a register-style IR whose operands are
// frame-relative value-stack slots, and runs that IR in a non-recursive loop
// that can stop at any pause point and export its frames in WebAssembly terms.
// docs/interpreter.md explains the design.
package interp

import (
	"github.com/ferryvm/ferry/internal/pause"
	"github.com/ferryvm/ferry/internal/v128"
	"github.com/ferryvm/ferry/internal/wasm"
)

// op is an IR operation kind. The numeric operations that take their
// operands from slots reuse the WebAssembly opcode value (0x45..0xC4), so the
// lowering of plain arithmetic is a table-free conversion; the saturating
// truncations (0xFC 0..7) are mapped to 0xC5..0xCC; every other kind is
// defined below. The numbering is dense so the Go compiler turns the
// execution switch into a jump table.
type op uint16

// instr is one IR instruction. Operand fields hold frame-relative slot
// indices (slot 0 is the frame's first parameter), IR indices (branch
// targets) or immediates, as documented per op kind. Slot indices are always
// below the function's frameSlots, which the call sequence reserves, so the
// loop does not check them.
type instr struct {
	op      op
	a, b, c uint32
	imm     uint64
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
	opSatBase op = 0xC5 // i32.trunc_sat_f32_s .. i64.trunc_sat_f64_u: a = dst, b = src
)

// Non-numeric operations.
const (
	// opPoll is a pause point that polls the instance's interrupt word:
	// function entries (code[0]) and loop stubs (after the function's
	// code, see arm.go). a = pause point id.
	opPoll op = 0xD0 + iota
	// opUnreachable traps with api.ErrUnreachable.
	opUnreachable
	// opBr jumps: a = target IR index.
	opBr
	// opBrCopy copies imm slots from slot b to slot c, then jumps to a.
	// (Branch values move from the top of the stack to the label's slots.)
	opBrCopy
	// opBrIf jumps to a when slot b (i32) is non-zero.
	opBrIf
	// opBrIfNot jumps to a when slot b (i32) is zero (if, br_if of eqz).
	opBrIfNot
	// opBrIfCopy: when slot b is non-zero, copies imm>>32 slots from slot c
	// to slot uint32(imm), then jumps to a.
	opBrIfCopy
	// opBrTable: a = index slot; the targets are brTargets[b : b+c], the
	// last one being the default.
	opBrTable
	// opReturn copies c slots from slot b to slot 0 (the results land where
	// the arguments were) and pops the frame.
	opReturn
	// opCall calls function a of the instance; its arguments sit at slot b,
	// which becomes the callee's slot 0 and receives the results.
	// c = pause point id of the call.
	opCall
	// opCallIndirect: a = type index, b = table index, c = argument slot,
	// imm = slot of the table index operand | pause point id << 32.
	opCallIndirect
	// opConst: slot a = imm.
	opConst
	// opMov: slot a = slot b.
	opMov
	// opMov2: slots a, a+1 = slots b, b+1 (v128).
	opMov2
	// opSelect: slot a = slot imm != 0 ? slot b : slot c.
	opSelect
	// opSelect2 is opSelect for v128 (two slots each).
	opSelect2
	// opGlobalGet: slot a = global b; opGlobalSet: global a = slot b.
	opGlobalGet
	opGlobalSet
	// opGlobalGet2 / opGlobalSet2: the v128 forms (two slots).
	opGlobalGet2
	opGlobalSet2
	// Loads: a = dst, b = address slot, imm = memarg offset. Effective
	// address uint64(uint32(slot b)) + imm; out of bounds traps.
	opI32Load
	opI64Load
	opF32Load
	opF64Load
	opI32Load8S
	opI32Load8U
	opI32Load16S
	opI32Load16U
	opI64Load8S
	opI64Load8U
	opI64Load16S
	opI64Load16U
	opI64Load32S
	opI64Load32U
	// Stores: a = address slot, b = value slot, imm = memarg offset.
	opI32Store
	opI64Store
	opF32Store
	opF64Store
	opI32Store8
	opI32Store16
	opI64Store8
	opI64Store16
	opI64Store32
	// opMemorySize: slot a = pages. opMemoryGrow: slot a = grow(slot b).
	opMemorySize
	opMemoryGrow
	// Bulk memory; operands are in consecutive slots from b:
	// memory.init (d, s, n) with a = data index; memory.copy (d, s, n);
	// memory.fill (d, val, n). opDataDrop: a = data index.
	opMemoryInit
	opMemoryCopy
	opMemoryFill
	opDataDrop
	// Tables: opTableGet slot a = table b [slot c]; opTableSet table a
	// [slot b] = slot c; opTableSize slot a = size of table b;
	// opTableGrow table a, operands (init, n) at slot b, result at slot b;
	// opTableFill table a, operands (i, val, n) at b; opTableCopy dst table
	// a, src table b, operands (d, s, n) at c; opTableInit element a, table
	// b, operands (d, s, n) at c; opElemDrop element a.
	opTableGet
	opTableSet
	opTableSize
	opTableGrow
	opTableFill
	opTableCopy
	opTableInit
	opElemDrop
	// opRefFunc: slot a = funcref of function b.
	opRefFunc

	// Immediate forms of the integer binary operations: a = dst,
	// b = lhs slot, imm = the constant rhs. Same order as the opcodes.
	opI32EqI
	opI32NeI
	opI32LtSI
	opI32LtUI
	opI32GtSI
	opI32GtUI
	opI32LeSI
	opI32LeUI
	opI32GeSI
	opI32GeUI
	opI32AddI
	opI32SubI
	opI32MulI
	opI32DivSI
	opI32DivUI
	opI32RemSI
	opI32RemUI
	opI32AndI
	opI32OrI
	opI32XorI
	opI32ShlI
	opI32ShrSI
	opI32ShrUI
	opI32RotlI
	opI32RotrI
	opI64EqI
	opI64NeI
	opI64LtSI
	opI64LtUI
	opI64GtSI
	opI64GtUI
	opI64LeSI
	opI64LeUI
	opI64GeSI
	opI64GeUI
	opI64AddI
	opI64SubI
	opI64MulI
	opI64DivSI
	opI64DivUI
	opI64RemSI
	opI64RemUI
	opI64AndI
	opI64OrI
	opI64XorI
	opI64ShlI
	opI64ShrSI
	opI64ShrUI
	opI64RotlI
	opI64RotrI

	// Compare-and-branch (an i32 comparison fused with br_if or if):
	// jump to a when (slot b OP slot c); the ...I forms compare with imm.
	opBrI32Eq
	opBrI32Ne
	opBrI32LtS
	opBrI32LtU
	opBrI32GtS
	opBrI32GtU
	opBrI32LeS
	opBrI32LeU
	opBrI32GeS
	opBrI32GeU
	opBrI32EqI
	opBrI32NeI
	opBrI32LtSI
	opBrI32LtUI
	opBrI32GtSI
	opBrI32GtUI
	opBrI32LeSI
	opBrI32LeUI
	opBrI32GeSI
	opBrI32GeUI

	// Stores of a constant: a = address slot, c = the value (i64: sign-
	// extended from 32 bits), imm = memarg offset.
	opI32StoreI
	opI32Store8I
	opI32Store16I
	opI64StoreI

	// Loop back-edges, armed (arm.go). A loop's pause point is an
	// out-of-line stub after the function's code (opPoll, then opBr to
	// the body), so entering a loop costs nothing. Unarmed, a back-edge is
	// the plain branch op to the loop's body; armed, it is one of these,
	// which go to the stub instead when the interrupt word is set.
	// Operands as for opBr, opBrIf, opBrIfNot and opBrI32<cmp>[I], plus the
	// stub's IR index in the field those leave free (setStubField).
	opBrBack
	opBrIfBack
	opBrIfNotBack
	opBrI32EqBack
	opBrI32NeBack
	opBrI32LtSBack
	opBrI32LtUBack
	opBrI32GtSBack
	opBrI32GtUBack
	opBrI32LeSBack
	opBrI32LeUBack
	opBrI32GeSBack
	opBrI32GeUBack
	opBrI32EqIBack
	opBrI32NeIBack
	opBrI32LtSIBack
	opBrI32LtUIBack
	opBrI32GtSIBack
	opBrI32GtUIBack
	opBrI32LeSIBack
	opBrI32LeUIBack
	opBrI32GeSIBack
	opBrI32GeUIBack

	// SIMD (simd_lower.go, docs/simd.md). s is the sub-opcode (the Wasm
	// opcode - 0x200), the index into the v128.Table the loop calls
	// through; vector operands and results are slot pairs (low half first).
	opV128Unary     // a = dst, b = src, c = s
	opV128Binary    // a = dst, b = lhs, c = rhs, imm = s
	opV128Bitselect // a = dst, b = x, c = y, imm = mask slot
	opV128Shuffle   // a = dst, b = x, c = y, imm = index of the mask in funcCode.vconsts
	opV128Shift     // a = dst, b = vector, c = count slot (i32), imm = s
	opV128ShiftI    // a = dst, b = vector, c = the count (a constant), imm = s
	opV128Test      // a = dst (i32), b = src, c = s
	opV128Splat     // a = dst, b = scalar slot, c = s
	opV128Extract   // a = dst (scalar), b = src, c = s, imm = lane
	opV128Replace   // a = dst, b = vector, c = scalar slot, imm = s | lane<<8
	// SIMD memory: effective address uint64(uint32(slot b or a)) + offset;
	// the access of n bytes traps when out of bounds.
	opV128Load      // v128.load: a = dst, b = address slot, imm = offset
	opV128LoadX     // other loads: a = dst, b = address slot, c = s, imm = offset | n<<32
	opV128LoadLane  // a = dst, b = address slot, c = vector, imm = offset | n<<32 | lane<<40 | s<<48
	opV128Store     // v128.store: a = address slot, b = value, imm = offset
	opV128StoreLane // a = address slot, b = vector, c = s, imm = offset | n<<32 | lane<<40
	// Relaxed SIMD (simd_relaxed.go): r = opcode - 0x300 indexes Builtins.relaxed.
	opV128Relaxed // a = dst, b = x, c = y, imm = z slot | r<<32 (unused operands repeat x)

	opCount
)

// immOp returns the immediate form of an integer binary opcode, if any.
func immOp(w wasm.Opcode) (op, bool) {
	switch {
	case w >= wasm.OpI32Eq && w <= wasm.OpI32GeU:
		return opI32EqI + op(w-wasm.OpI32Eq), true
	case w >= wasm.OpI32Add && w <= wasm.OpI32Rotr:
		return opI32AddI + op(w-wasm.OpI32Add), true
	case w >= wasm.OpI64Eq && w <= wasm.OpI64GeU:
		return opI64EqI + op(w-wasm.OpI64Eq), true
	case w >= wasm.OpI64Add && w <= wasm.OpI64Rotr:
		return opI64AddI + op(w-wasm.OpI64Add), true
	}
	return 0, false
}

// branchOp returns the compare-and-branch form of an i32 comparison (plain
// or immediate form), negated if asked (for `if`, which branches when the
// condition is false).
func branchOp(o op, negate bool) (op, bool) {
	var idx int
	var imm bool
	switch {
	case o >= op(wasm.OpI32Eq) && o <= op(wasm.OpI32GeU):
		idx = int(o - op(wasm.OpI32Eq))
	case o >= opI32EqI && o <= opI32GeUI:
		idx, imm = int(o-opI32EqI), true
	default:
		return 0, false
	}
	if negate {
		// eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u
		idx = [10]int{1, 0, 8, 9, 6, 7, 4, 5, 2, 3}[idx]
	}
	if imm {
		return opBrI32EqI + op(idx), true
	}
	return opBrI32Eq + op(idx), true
}

// backOp returns the back-edge form of a branch op, if it has one.
func backOp(o op) (op, bool) {
	switch {
	case o == opBr:
		return opBrBack, true
	case o == opBrIf:
		return opBrIfBack, true
	case o == opBrIfNot:
		return opBrIfNotBack, true
	case o >= opBrI32Eq && o <= opBrI32GeUI:
		return opBrI32EqBack + (o - opBrI32Eq), true
	}
	return 0, false
}

// setStubField stores a loop's poll stub index in the field a back-edge
// op's operands leave free: b for br, c for br_if and the compare-with-
// immediate forms, imm for the two-slot compares.
func setStubField(in *instr, stub uint32) {
	switch o := in.op; {
	case o == opBr:
		in.b = stub
	case o == opBrIf || o == opBrIfNot || (o >= opBrI32EqI && o <= opBrI32GeUI):
		in.c = stub
	default: // opBrI32Eq ... opBrI32GeU
		in.imm = uint64(stub)
	}
}

// brTarget is one br_table destination: copy n slots from src to dst, then
// jump to pc.
type brTarget struct {
	pc, src, dst, n uint32
}

// funcCode is a lowered function body; it is what Compiled.Code returns and
// the store keeps in store.Function.Code (a store.Code).
type funcCode struct {
	index      uint32 // function index in the module
	sig        *wasm.FuncType
	locals     []wasm.ValType // parameters then declared locals
	localSlots uint32         // slots taken by the locals
	paramSlots uint32
	frameSlots uint32 // locals plus the deepest operand stack
	code       []instr
	entryPoll  bool // code[0] is the function-entry opPoll
	// start is where a call begins: 1 (past the entry opPoll) while the
	// code is unarmed, 0 while armed or without an entry poll (arm.go).
	start     uint32
	backEdges []backEdge // the rewrites arming makes
	loopPolls []uint32   // each loop's poll stub (its opPoll), by loop index
	owner     *Compiled
	// offsets[i] is the Wasm offset (from BodyStart) of the instruction that
	// code[i] came from: traps and stack traces read it, the loop never does.
	offsets   []uint32
	brTargets []brTarget
	// pauses is the function's tier-neutral pause-point table, and
	// pauseIR the interpreter's own map from a pause point's id to the
	// instruction that implements it (opPoll, opCall, opCallIndirect).
	pauses    pause.Func
	pauseIR   []uint32
	bodyStart uint32
	// vconsts are 128-bit immediates (i8x16.shuffle masks) the IR refers
	// to by index.
	vconsts []v128.V128
}

// pauseAt returns the id of the pause point that IR index pc implements.
// Every such instruction carries its pause point's id, so no table is
// searched.
func (f *funcCode) pauseAt(pc uint32) (uint32, bool) {
	if int(pc) >= len(f.code) {
		return 0, false
	}
	in := &f.code[pc]
	var id uint32
	switch in.op {
	case opPoll:
		id = in.a
	case opCall:
		id = in.c
	case opCallIndirect:
		id = uint32(in.imm >> 32)
	default:
		return 0, false
	}
	if int(id) >= len(f.pauseIR) || f.pauseIR[id] != pc {
		return 0, false
	}
	return id, true
}

// Pauses makes funcCode a store.Code: the table every tier shares.
func (f *funcCode) Pauses() *pause.Func { return &f.pauses }

package validate

import "github.com/ferryvm/ferry/internal/wasm"

// Visitor receives a function's code as validation proves it correct, so that
// an execution tier can lower it in the same pass ("validate once, then
// lower"). The validator calls, per defined function:
//
//	BeginFunc, then Instr for every instruction in order, then EndFunc.
//
// Instr is called after the instruction has been checked and before its
// effect is applied: stack is the operand stack's types before it executes,
// bottom first, excluding locals. When reachable is false the instruction is
// in dead code (after br, br_table, return or unreachable, up to the end or
// else of the enclosing block); stack then holds only the types below the
// polymorphic base, and the instruction need not be lowered, although
// block, loop, if, else and end still arrive so that nesting can be tracked.
// The slices passed are only valid during the call.
type Visitor interface {
	BeginFunc(m *wasm.Module, funcIndex uint32, sig *wasm.FuncType, locals []wasm.ValType) error
	Instr(in *wasm.Instr, stack []wasm.ValType, reachable bool) error
	EndFunc() error
}

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
//
// Precisely, as this validator implements it:
//
//   - Every instruction arrives, each once, in body order, the function's
//     final end included; in.Pos is its offset within Func.Body.
//   - reachable is false for every instruction after an unreachable, br,
//     br_table or return up to the end (or else) of the block containing it,
//     and for everything inside blocks opened there. The else and end that
//     close such a branch arrive with reachable false too: it describes the
//     end of the branch they close, not whether the code after them runs
//     (that code is reachable again when the block is a branch target or
//     the if's other arm is live; the visitor tracks labels itself).
//   - The instruction that makes code dead (br, br_table, return,
//     unreachable) arrives with reachable true and its full stack.
//   - In reachable code every entry of stack is a concrete value type.
//   - In unreachable code stack is the operand stack as it was when the
//     outermost enclosing dead region began, cut at that block's entry
//     height: the types that enclosing live code holds below the dead
//     region, bottom first. It never contains the algorithm's unknown type,
//     and the values dead code pushes or pops are not shown.
//   - locals passed to BeginFunc are the declared locals (Func.Locals),
//     parameters excluded; sig gives the parameters.
//   - After the first error (the validator's or the visitor's) no further
//     call is made, and EndFunc is not called for that function.
type Visitor interface {
	BeginFunc(m *wasm.Module, funcIndex uint32, sig *wasm.FuncType, locals []wasm.ValType) error
	Instr(in *wasm.Instr, stack []wasm.ValType, reachable bool) error
	EndFunc() error
}

package interp

import (
	"unsafe"

	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/store"
)

// execSIMDRare executes one v128 instruction the compiled tier left to Go
// (native.ExitInterp): the ones it has no native lowering for under the
// runtime's features, and the relaxed-SIMD ones, whose results are the
// callsite table's decisions. It runs the interpreter's own
// implementation (execSIMD, through this machine's builtins), so both
// tiers agree bit for bit by construction, NaN payloads and relaxed
// choices included. pc is one past the instruction, where a trap (an
// out-of-bounds v128 load or store) leaves the frame, as in the loop.
func (m *machine) execSIMDRare(fr *frame, pc uint32, in *ir.Instr, fp unsafe.Pointer, inst *store.Instance) {
	var buf []byte
	if len(inst.Memories) > 0 {
		buf = inst.Memories[0].Buf
	}
	m.execSIMD(fr, pc, in, fp, buf)
}

// isSIMDOp reports whether op is one of the v128 instructions execSIMD
// executes.
func isSIMDOp(op ir.Op) bool { return op >= ir.V128Unary && op <= ir.V128Relaxed }

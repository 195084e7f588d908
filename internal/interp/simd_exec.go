package interp

import (
	"encoding/binary"
	"unsafe"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/v128"
	"github.com/ferryvm/ferry/internal/wasm"
)

// vget reads the v128 in slots i, i+1 of the frame at fp.
func vget(fp unsafe.Pointer, i uint32) v128.V128 {
	return v128.V128{Lo: *sl(fp, i), Hi: *sl(fp, i+1)}
}

// vset writes v to slots i, i+1.
func vset(fp unsafe.Pointer, i uint32, v v128.V128) {
	*sl(fp, i), *sl(fp, i+1) = v.Lo, v.Hi
}

var (
	subBitselect = v128.Sub(wasm.OpV128Bitselect)
	subShuffle   = v128.Sub(wasm.OpI8x16Shuffle)
)

// execSIMD executes one SIMD instruction (see simd_lower.go for the
// operands). pc is the loop's pc (one past in), for traps. The shapes
// that have builtins (unary, binary, ternary, test, relaxed) are called
// through the runtime's table (m.builtins); the others are portable code
// the same in every runtime.
func (m *machine) execSIMD(fr *frame, pc uint32, in *ir.Instr, fp unsafe.Pointer, buf []byte) {
	switch in.Op {
	case ir.V128Unary:
		vset(fp, in.A, m.builtins.unary[uint8(in.C)](vget(fp, in.B)))
	case ir.V128Relaxed:
		vset(fp, in.A, m.builtins.relaxed[in.Imm>>32](vget(fp, in.B), vget(fp, in.C), vget(fp, uint32(in.Imm))))
	case ir.V128Binary:
		vset(fp, in.A, m.builtins.binary[uint8(in.Imm)](vget(fp, in.B), vget(fp, in.C)))
	case ir.V128Bitselect:
		vset(fp, in.A, m.builtins.ternary[subBitselect](vget(fp, in.B), vget(fp, in.C), vget(fp, uint32(in.Imm))))
	case ir.V128Shuffle:
		vset(fp, in.A, m.builtins.ternary[subShuffle](vget(fp, in.B), vget(fp, in.C), fr.code.VConsts[in.Imm]))
	case ir.V128Shift:
		vset(fp, in.A, simd.Shift[uint8(in.Imm)](vget(fp, in.B), uint32(*sl(fp, in.C))))
	case ir.V128ShiftI:
		vset(fp, in.A, simd.Shift[uint8(in.Imm)](vget(fp, in.B), in.C))
	case ir.V128Test:
		*sl(fp, in.A) = uint64(m.builtins.test[uint8(in.C)](vget(fp, in.B)))
	case ir.V128Splat:
		vset(fp, in.A, simd.Splat[uint8(in.C)](*sl(fp, in.B)))
	case ir.V128Extract:
		*sl(fp, in.A) = simd.Extract[uint8(in.C)](vget(fp, in.B), uint32(in.Imm))
	case ir.V128Replace:
		vset(fp, in.A, simd.Replace[uint8(in.Imm)](vget(fp, in.B), uint32(in.Imm>>8), *sl(fp, in.C)))
	case ir.V128Load:
		ea := uint64(uint32(*sl(fp, in.B))) + in.Imm
		if ea+16 > uint64(len(buf)) {
			m.trap(fr, pc, api.ErrOutOfBoundsMemory)
		}
		*sl(fp, in.A), *sl(fp, in.A+1) = binary.LittleEndian.Uint64(buf[ea:]), binary.LittleEndian.Uint64(buf[ea+8:])
	case ir.V128LoadX:
		ea, n := uint64(uint32(*sl(fp, in.B)))+uint64(uint32(in.Imm)), in.Imm>>32
		if ea+n > uint64(len(buf)) {
			m.trap(fr, pc, api.ErrOutOfBoundsMemory)
		}
		vset(fp, in.A, simd.Load[uint8(in.C)](buf[ea:ea+n]))
	case ir.V128LoadLane:
		ea, n := uint64(uint32(*sl(fp, in.B)))+uint64(uint32(in.Imm)), uint64(uint8(in.Imm>>32))
		if ea+n > uint64(len(buf)) {
			m.trap(fr, pc, api.ErrOutOfBoundsMemory)
		}
		vset(fp, in.A, simd.LoadLane[uint8(in.Imm>>48)](vget(fp, in.C), uint32(uint8(in.Imm>>40)), buf[ea:ea+n]))
	case ir.V128Store:
		ea := uint64(uint32(*sl(fp, in.A))) + in.Imm
		if ea+16 > uint64(len(buf)) {
			m.trap(fr, pc, api.ErrOutOfBoundsMemory)
		}
		binary.LittleEndian.PutUint64(buf[ea:], *sl(fp, in.B))
		binary.LittleEndian.PutUint64(buf[ea+8:], *sl(fp, in.B+1))
	case ir.V128StoreLane:
		ea, n := uint64(uint32(*sl(fp, in.A)))+uint64(uint32(in.Imm)), uint64(uint8(in.Imm>>32))
		if ea+n > uint64(len(buf)) {
			m.trap(fr, pc, api.ErrOutOfBoundsMemory)
		}
		simd.StoreLane[uint8(in.C)](vget(fp, in.B), uint32(uint8(in.Imm>>40)), buf[ea:ea+n])
	}
}

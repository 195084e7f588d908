package interp

import (
	"encoding/binary"
	"unsafe"

	"github.com/ferryvm/ferry/api"
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
func (m *machine) execSIMD(fr *frame, pc uint32, in *instr, fp unsafe.Pointer, buf []byte) {
	switch in.op {
	case opV128Unary:
		vset(fp, in.a, m.builtins.unary[uint8(in.c)](vget(fp, in.b)))
	case opV128Relaxed:
		vset(fp, in.a, m.builtins.relaxed[in.imm>>32](vget(fp, in.b), vget(fp, in.c), vget(fp, uint32(in.imm))))
	case opV128Binary:
		vset(fp, in.a, m.builtins.binary[uint8(in.imm)](vget(fp, in.b), vget(fp, in.c)))
	case opV128Bitselect:
		vset(fp, in.a, m.builtins.ternary[subBitselect](vget(fp, in.b), vget(fp, in.c), vget(fp, uint32(in.imm))))
	case opV128Shuffle:
		vset(fp, in.a, m.builtins.ternary[subShuffle](vget(fp, in.b), vget(fp, in.c), fr.code.vconsts[in.imm]))
	case opV128Shift:
		vset(fp, in.a, simd.Shift[uint8(in.imm)](vget(fp, in.b), uint32(*sl(fp, in.c))))
	case opV128ShiftI:
		vset(fp, in.a, simd.Shift[uint8(in.imm)](vget(fp, in.b), in.c))
	case opV128Test:
		*sl(fp, in.a) = uint64(m.builtins.test[uint8(in.c)](vget(fp, in.b)))
	case opV128Splat:
		vset(fp, in.a, simd.Splat[uint8(in.c)](*sl(fp, in.b)))
	case opV128Extract:
		*sl(fp, in.a) = simd.Extract[uint8(in.c)](vget(fp, in.b), uint32(in.imm))
	case opV128Replace:
		vset(fp, in.a, simd.Replace[uint8(in.imm)](vget(fp, in.b), uint32(in.imm>>8), *sl(fp, in.c)))
	case opV128Load:
		ea := uint64(uint32(*sl(fp, in.b))) + in.imm
		if ea+16 > uint64(len(buf)) {
			m.trap(fr, pc, api.ErrOutOfBoundsMemory)
		}
		*sl(fp, in.a), *sl(fp, in.a+1) = binary.LittleEndian.Uint64(buf[ea:]), binary.LittleEndian.Uint64(buf[ea+8:])
	case opV128LoadX:
		ea, n := uint64(uint32(*sl(fp, in.b)))+uint64(uint32(in.imm)), in.imm>>32
		if ea+n > uint64(len(buf)) {
			m.trap(fr, pc, api.ErrOutOfBoundsMemory)
		}
		vset(fp, in.a, simd.Load[uint8(in.c)](buf[ea:ea+n]))
	case opV128LoadLane:
		ea, n := uint64(uint32(*sl(fp, in.b)))+uint64(uint32(in.imm)), uint64(uint8(in.imm>>32))
		if ea+n > uint64(len(buf)) {
			m.trap(fr, pc, api.ErrOutOfBoundsMemory)
		}
		vset(fp, in.a, simd.LoadLane[uint8(in.imm>>48)](vget(fp, in.c), uint32(uint8(in.imm>>40)), buf[ea:ea+n]))
	case opV128Store:
		ea := uint64(uint32(*sl(fp, in.a))) + in.imm
		if ea+16 > uint64(len(buf)) {
			m.trap(fr, pc, api.ErrOutOfBoundsMemory)
		}
		binary.LittleEndian.PutUint64(buf[ea:], *sl(fp, in.b))
		binary.LittleEndian.PutUint64(buf[ea+8:], *sl(fp, in.b+1))
	case opV128StoreLane:
		ea, n := uint64(uint32(*sl(fp, in.a)))+uint64(uint32(in.imm)), uint64(uint8(in.imm>>32))
		if ea+n > uint64(len(buf)) {
			m.trap(fr, pc, api.ErrOutOfBoundsMemory)
		}
		simd.StoreLane[uint8(in.c)](vget(fp, in.b), uint32(uint8(in.imm>>40)), buf[ea:ea+n])
	}
}

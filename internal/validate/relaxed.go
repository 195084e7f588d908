package validate

import "github.com/ferryvm/ferry/internal/wasm"

// buildRelaxedSigs types the relaxed-SIMD instructions (0xFD 0x100..0x113):
// the truncations are unary, madd/nmadd, laneselect and dot_add ternary,
// the others binary; all on v128.
func buildRelaxedSigs(set func(wasm.Opcode, wasm.ValType, ...wasm.ValType)) {
	for op := wasm.OpRelaxedFirst; op <= wasm.OpRelaxedLast; op++ {
		switch op {
		case wasm.OpI32x4RelaxedTruncF32x4S, wasm.OpI32x4RelaxedTruncF32x4U,
			wasm.OpI32x4RelaxedTruncF64x2SZero, wasm.OpI32x4RelaxedTruncF64x2UZero:
			set(op, v128, v128)
		case wasm.OpF32x4RelaxedMadd, wasm.OpF32x4RelaxedNmadd, wasm.OpF64x2RelaxedMadd, wasm.OpF64x2RelaxedNmadd,
			wasm.OpI8x16RelaxedLaneselect, wasm.OpI16x8RelaxedLaneselect, wasm.OpI32x4RelaxedLaneselect,
			wasm.OpI64x2RelaxedLaneselect, wasm.OpI32x4RelaxedDotI8x16I7x16AddS:
			set(op, v128, v128, v128, v128)
		default:
			set(op, v128, v128, v128)
		}
	}
}

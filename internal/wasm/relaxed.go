package wasm

// Relaxed-SIMD opcodes (Wasm 3.0, the relaxed-simd proposal): 0xFD with
// sub-opcodes 0x100..0x113, so 0x300..0x313 here. Their results may differ
// between implementations within the limits the proposal sets; Ferry fixes
// each choice once per run (internal/builtins, semantic builtins).
const (
	OpI8x16RelaxedSwizzle           Opcode = 0x300
	OpI32x4RelaxedTruncF32x4S       Opcode = 0x301
	OpI32x4RelaxedTruncF32x4U       Opcode = 0x302
	OpI32x4RelaxedTruncF64x2SZero   Opcode = 0x303
	OpI32x4RelaxedTruncF64x2UZero   Opcode = 0x304
	OpF32x4RelaxedMadd              Opcode = 0x305
	OpF32x4RelaxedNmadd             Opcode = 0x306
	OpF64x2RelaxedMadd              Opcode = 0x307
	OpF64x2RelaxedNmadd             Opcode = 0x308
	OpI8x16RelaxedLaneselect        Opcode = 0x309
	OpI16x8RelaxedLaneselect        Opcode = 0x30A
	OpI32x4RelaxedLaneselect        Opcode = 0x30B
	OpI64x2RelaxedLaneselect        Opcode = 0x30C
	OpF32x4RelaxedMin               Opcode = 0x30D
	OpF32x4RelaxedMax               Opcode = 0x30E
	OpF64x2RelaxedMin               Opcode = 0x30F
	OpF64x2RelaxedMax               Opcode = 0x310
	OpI16x8RelaxedQ15mulrS          Opcode = 0x311
	OpI16x8RelaxedDotI8x16I7x16S    Opcode = 0x312
	OpI32x4RelaxedDotI8x16I7x16AddS Opcode = 0x313
	OpRelaxedFirst                         = OpI8x16RelaxedSwizzle
	OpRelaxedLast                          = OpI32x4RelaxedDotI8x16I7x16AddS
	NumRelaxed                             = int(OpRelaxedLast-OpRelaxedFirst) + 1
)

// IsRelaxed reports whether op is a relaxed-SIMD instruction.
func (op Opcode) IsRelaxed() bool { return op >= OpRelaxedFirst && op <= OpRelaxedLast }

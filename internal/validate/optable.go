package validate

import "github.com/ferryvm/ferry/internal/wasm"

// opSig is the typing of an instruction whose effect on the operand stack is
// fixed: it pops in[:nin] (the last on top) and pushes out unless out is 0.
// Most numeric, memory and vector instructions are of this kind, so one table
// lookup replaces a switch case each.
type opSig struct {
	in  [3]wasm.ValType
	nin uint8
	out wasm.ValType
	// align is 1 + the natural alignment exponent for instructions with a
	// memarg (0: no memarg); they also need memory 0.
	align uint8
	// lanes is the lane count bounding a lane immediate (0: none). The
	// immediate is Instr.B for load/store lane forms, Instr.A otherwise.
	lanes uint8
}

const (
	i32  = wasm.I32
	i64  = wasm.I64
	f32  = wasm.F32
	f64  = wasm.F64
	v128 = wasm.V128
)

// opSigs is indexed by Opcode; entries with nin == 0 and out == 0 and
// align == 0 are not simple and are typed by the switch in func.go.
var opSigs = buildOpSigs()

func buildOpSigs() *[wasm.NumOpcodes]opSig {
	var t [wasm.NumOpcodes]opSig
	set := func(op wasm.Opcode, out wasm.ValType, in ...wasm.ValType) {
		s := opSig{out: out, nin: uint8(len(in))}
		copy(s.in[:], in)
		t[op] = s
	}
	span := func(lo, hi wasm.Opcode, out wasm.ValType, in ...wasm.ValType) {
		for op := lo; op <= hi; op++ {
			set(op, out, in...)
		}
	}
	mem := func(op wasm.Opcode, alignExp uint8, out wasm.ValType, in ...wasm.ValType) {
		set(op, out, in...)
		t[op].align = alignExp + 1
	}

	// Constants.
	set(wasm.OpI32Const, i32)
	set(wasm.OpI64Const, i64)
	set(wasm.OpF32Const, f32)
	set(wasm.OpF64Const, f64)

	// Comparisons, unary and binary numeric operators (spec 3.3.1).
	set(wasm.OpI32Eqz, i32, i32)
	span(0x46, 0x4F, i32, i32, i32)
	set(wasm.OpI64Eqz, i32, i64)
	span(0x51, 0x5A, i32, i64, i64)
	span(0x5B, 0x60, i32, f32, f32)
	span(0x61, 0x66, i32, f64, f64)
	span(0x67, 0x69, i32, i32)
	span(0x6A, 0x78, i32, i32, i32)
	span(0x79, 0x7B, i64, i64)
	span(0x7C, 0x8A, i64, i64, i64)
	span(0x8B, 0x91, f32, f32)
	span(0x92, 0x98, f32, f32, f32)
	span(0x99, 0x9F, f64, f64)
	span(0xA0, 0xA6, f64, f64, f64)

	// Conversions, in opcode order 0xA7..0xBF: result, operand.
	conv := [...][2]wasm.ValType{
		{i32, i64},                                     // i32.wrap_i64
		{i32, f32}, {i32, f32}, {i32, f64}, {i32, f64}, // i32.trunc_*
		{i64, i32}, {i64, i32}, // i64.extend_i32_*
		{i64, f32}, {i64, f32}, {i64, f64}, {i64, f64}, // i64.trunc_*
		{f32, i32}, {f32, i32}, {f32, i64}, {f32, i64}, {f32, f64}, // f32.convert_*, demote
		{f64, i32}, {f64, i32}, {f64, i64}, {f64, i64}, {f64, f32}, // f64.convert_*, promote
		{i32, f32}, {i64, f64}, {f32, i32}, {f64, i64}, // reinterpret
	}
	for i, c := range conv {
		set(wasm.Opcode(0xA7+i), c[0], c[1])
	}
	span(0xC0, 0xC1, i32, i32) // i32.extend8_s, extend16_s
	span(0xC2, 0xC4, i64, i64) // i64.extend*_s
	sat := [...][2]wasm.ValType{
		{i32, f32}, {i32, f32}, {i32, f64}, {i32, f64},
		{i64, f32}, {i64, f32}, {i64, f64}, {i64, f64},
	}
	for i, c := range sat {
		set(wasm.Opcode(0x100+i), c[0], c[1])
	}

	// Loads and stores (spec 3.3.7): natural alignment exponent.
	mem(wasm.OpI32Load, 2, i32, i32)
	mem(wasm.OpI64Load, 3, i64, i32)
	mem(wasm.OpF32Load, 2, f32, i32)
	mem(wasm.OpF64Load, 3, f64, i32)
	mem(wasm.OpI32Load8S, 0, i32, i32)
	mem(wasm.OpI32Load8U, 0, i32, i32)
	mem(wasm.OpI32Load16S, 1, i32, i32)
	mem(wasm.OpI32Load16U, 1, i32, i32)
	mem(wasm.OpI64Load8S, 0, i64, i32)
	mem(wasm.OpI64Load8U, 0, i64, i32)
	mem(wasm.OpI64Load16S, 1, i64, i32)
	mem(wasm.OpI64Load16U, 1, i64, i32)
	mem(wasm.OpI64Load32S, 2, i64, i32)
	mem(wasm.OpI64Load32U, 2, i64, i32)
	mem(wasm.OpI32Store, 2, 0, i32, i32)
	mem(wasm.OpI64Store, 3, 0, i32, i64)
	mem(wasm.OpF32Store, 2, 0, i32, f32)
	mem(wasm.OpF64Store, 3, 0, i32, f64)
	mem(wasm.OpI32Store8, 0, 0, i32, i32)
	mem(wasm.OpI32Store16, 1, 0, i32, i32)
	mem(wasm.OpI64Store8, 0, 0, i32, i64)
	mem(wasm.OpI64Store16, 1, 0, i32, i64)
	mem(wasm.OpI64Store32, 2, 0, i32, i64)

	buildSIMDSigs(&t, set, span, mem)
	buildRelaxedSigs(set)
	return &t
}

// buildSIMDSigs fills the vector instructions (spec 3.3.3 and 3.3.7). By
// default every SIMD opcode from 0x23 on is a binary v128 operator; the
// exceptions are listed.
func buildSIMDSigs(t *[wasm.NumOpcodes]opSig,
	set func(wasm.Opcode, wasm.ValType, ...wasm.ValType),
	span func(wasm.Opcode, wasm.Opcode, wasm.ValType, ...wasm.ValType),
	mem func(wasm.Opcode, uint8, wasm.ValType, ...wasm.ValType)) {
	const s = 0x200
	mem(s+0x00, 4, v128, i32) // v128.load
	span(s+0x01, s+0x06, v128, i32)
	for op := wasm.Opcode(s + 0x01); op <= s+0x06; op++ {
		t[op].align = 3 + 1 // load8x8 etc. read 64 bits
	}
	mem(s+0x07, 0, v128, i32) // load8_splat
	mem(s+0x08, 1, v128, i32)
	mem(s+0x09, 2, v128, i32)
	mem(s+0x0A, 3, v128, i32)
	mem(s+0x0B, 4, 0, i32, v128)  // v128.store
	set(s+0x0C, v128)             // v128.const
	set(s+0x0D, v128, v128, v128) // i8x16.shuffle; lanes checked in func.go
	set(s+0x0E, v128, v128, v128) // swizzle
	set(s+0x0F, v128, i32)        // splats
	set(s+0x10, v128, i32)
	set(s+0x11, v128, i32)
	set(s+0x12, v128, i64)
	set(s+0x13, v128, f32)
	set(s+0x14, v128, f64)
	lane := func(op wasm.Opcode, n uint8, out wasm.ValType, in ...wasm.ValType) {
		set(op, out, in...)
		t[op].lanes = n
	}
	lane(s+0x15, 16, i32, v128)
	lane(s+0x16, 16, i32, v128)
	lane(s+0x17, 16, v128, v128, i32)
	lane(s+0x18, 8, i32, v128)
	lane(s+0x19, 8, i32, v128)
	lane(s+0x1A, 8, v128, v128, i32)
	lane(s+0x1B, 4, i32, v128)
	lane(s+0x1C, 4, v128, v128, i32)
	lane(s+0x1D, 2, i64, v128)
	lane(s+0x1E, 2, v128, v128, i64)
	lane(s+0x1F, 4, f32, v128)
	lane(s+0x20, 4, v128, v128, f32)
	lane(s+0x21, 2, f64, v128)
	lane(s+0x22, 2, v128, v128, f64)

	// Default: binary v128 operators (comparisons, bitwise, arithmetic).
	for op := wasm.Opcode(s + 0x23); op <= s+0xFF; op++ {
		if op.Known() {
			set(op, v128, v128, v128)
		}
	}
	unary := []wasm.Opcode{
		0x4D,       // v128.not
		0x5E, 0x5F, // f32x4.demote_f64x2_zero, f64x2.promote_low_f32x4
		0x60, 0x61, 0x62, // i8x16.abs, neg, popcnt
		0x67, 0x68, 0x69, 0x6A, // f32x4.ceil, floor, trunc, nearest
		0x74, 0x75, 0x7A, 0x94, // f64x2.ceil, floor, trunc, nearest
		0x7C, 0x7D, 0x7E, 0x7F, // extadd_pairwise
		0x80, 0x81, // i16x8.abs, neg
		0x87, 0x88, 0x89, 0x8A, // i16x8.extend_*
		0xA0, 0xA1, // i32x4.abs, neg
		0xA7, 0xA8, 0xA9, 0xAA, // i32x4.extend_*
		0xC0, 0xC1, // i64x2.abs, neg
		0xC7, 0xC8, 0xC9, 0xCA, // i64x2.extend_*
		0xE0, 0xE1, 0xE3, // f32x4.abs, neg, sqrt
		0xEC, 0xED, 0xEF, // f64x2.abs, neg, sqrt
		0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF, // conversions
	}
	for _, op := range unary {
		set(s+op, v128, v128)
	}
	for _, op := range []wasm.Opcode{0x53, 0x63, 0x64, 0x83, 0x84, 0xA3, 0xA4, 0xC3, 0xC4} {
		set(s+op, i32, v128) // any_true, all_true, bitmask
	}
	for _, op := range []wasm.Opcode{0x6B, 0x6C, 0x6D, 0x8B, 0x8C, 0x8D, 0xAB, 0xAC, 0xAD, 0xCB, 0xCC, 0xCD} {
		set(s+op, v128, v128, i32) // shifts
	}
	set(s+0x52, v128, v128, v128, v128) // v128.bitselect
	for i, n := range [4]uint8{16, 8, 4, 2} {
		ld, st := wasm.Opcode(s+0x54+i), wasm.Opcode(s+0x58+i)
		mem(ld, uint8(i), v128, i32, v128)
		mem(st, uint8(i), 0, i32, v128)
		t[ld].lanes, t[st].lanes = n, n
	}
	mem(s+0x5C, 2, v128, i32) // v128.load32_zero
	mem(s+0x5D, 3, v128, i32) // v128.load64_zero
}

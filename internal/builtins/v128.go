package builtins

import (
	"github.com/ferryvm/ferry/internal/v128"
	"github.com/ferryvm/ferry/internal/wasm"
)

// V128Op is a SIMD instruction with CPU-specific implementations: exactly
// one of the builtin fields is set, by the instruction's kind.
type V128Op struct {
	Op      wasm.Opcode
	Unary   *Builtin[v128.UnaryFunc]
	Binary  *Builtin[v128.BinaryFunc]
	Ternary *Builtin[v128.TernaryFunc] // shuffle: the 16-byte mask as z, each index < 32
	Test    *Builtin[v128.TestFunc]
}

// Descriptor returns the op's builtin.
func (o V128Op) Descriptor() Descriptor {
	switch {
	case o.Unary != nil:
		return o.Unary
	case o.Binary != nil:
		return o.Binary
	case o.Ternary != nil:
		return o.Ternary
	}
	return o.Test
}

// V128 lists the SIMD instructions that have CPU-specific implementations
// on some architecture; on others they hold the portable one only.
var V128 = []V128Op{
	{Op: wasm.OpI8x16Swizzle, Binary: binaryOp("i8x16.swizzle", wasm.OpI8x16Swizzle, v128.Swizzle)},
	{Op: wasm.OpI8x16Shuffle, Ternary: ternaryOp("i8x16.shuffle", wasm.OpI8x16Shuffle, v128.Shuffle)},
	{Op: wasm.OpF32x4Ceil, Unary: unaryOp("f32x4.ceil", wasm.OpF32x4Ceil, v128.F32x4Ceil)},
	{Op: wasm.OpF32x4Floor, Unary: unaryOp("f32x4.floor", wasm.OpF32x4Floor, v128.F32x4Floor)},
	{Op: wasm.OpF32x4Trunc, Unary: unaryOp("f32x4.trunc", wasm.OpF32x4Trunc, v128.F32x4Trunc)},
	{Op: wasm.OpF32x4Nearest, Unary: unaryOp("f32x4.nearest", wasm.OpF32x4Nearest, v128.F32x4Nearest)},
	{Op: wasm.OpF64x2Ceil, Unary: unaryOp("f64x2.ceil", wasm.OpF64x2Ceil, v128.F64x2Ceil)},
	{Op: wasm.OpF64x2Floor, Unary: unaryOp("f64x2.floor", wasm.OpF64x2Floor, v128.F64x2Floor)},
	{Op: wasm.OpF64x2Trunc, Unary: unaryOp("f64x2.trunc", wasm.OpF64x2Trunc, v128.F64x2Trunc)},
	{Op: wasm.OpF64x2Nearest, Unary: unaryOp("f64x2.nearest", wasm.OpF64x2Nearest, v128.F64x2Nearest)},
	{Op: wasm.OpI8x16Popcnt, Unary: unaryOp("i8x16.popcnt", wasm.OpI8x16Popcnt, v128.I8x16Popcnt)},
	{Op: wasm.OpI8x16NarrowI16x8S, Binary: binaryOp("i8x16.narrow_i16x8_s", wasm.OpI8x16NarrowI16x8S, v128.I8x16NarrowI16x8S)},
	{Op: wasm.OpI8x16NarrowI16x8U, Binary: binaryOp("i8x16.narrow_i16x8_u", wasm.OpI8x16NarrowI16x8U, v128.I8x16NarrowI16x8U)},
	{Op: wasm.OpI16x8NarrowI32x4S, Binary: binaryOp("i16x8.narrow_i32x4_s", wasm.OpI16x8NarrowI32x4S, v128.I16x8NarrowI32x4S)},
	{Op: wasm.OpI16x8NarrowI32x4U, Binary: binaryOp("i16x8.narrow_i32x4_u", wasm.OpI16x8NarrowI32x4U, v128.I16x8NarrowI32x4U)},
	{Op: wasm.OpI16x8Q15mulrSatS, Binary: binaryOp("i16x8.q15mulr_sat_s", wasm.OpI16x8Q15mulrSatS, v128.I16x8Q15mulrSatS)},
	{Op: wasm.OpI32x4DotI16x8S, Binary: binaryOp("i32x4.dot_i16x8_s", wasm.OpI32x4DotI16x8S, v128.I32x4DotI16x8S)},
	{Op: wasm.OpI8x16Bitmask, Test: testOp("i8x16.bitmask", wasm.OpI8x16Bitmask, v128.I8x16Bitmask)},
}

func unaryOp(name string, op wasm.Opcode, ref v128.UnaryFunc) *Builtin[v128.UnaryFunc] {
	return &Builtin[v128.UnaryFunc]{Name: name, Impls: append(archUnary[op], Impl[v128.UnaryFunc]{Name: "portable", Fn: ref}), Trampoline: UnaryTrampoline}
}

func binaryOp(name string, op wasm.Opcode, ref v128.BinaryFunc) *Builtin[v128.BinaryFunc] {
	return &Builtin[v128.BinaryFunc]{Name: name, Impls: append(archBinary[op], Impl[v128.BinaryFunc]{Name: "portable", Fn: ref}), Trampoline: BinaryTrampoline}
}

func ternaryOp(name string, op wasm.Opcode, ref v128.TernaryFunc) *Builtin[v128.TernaryFunc] {
	return &Builtin[v128.TernaryFunc]{Name: name, Impls: append(archTernary[op], Impl[v128.TernaryFunc]{Name: "portable", Fn: ref}), Trampoline: TernaryTrampoline}
}

func testOp(name string, op wasm.Opcode, ref v128.TestFunc) *Builtin[v128.TestFunc] {
	return &Builtin[v128.TestFunc]{Name: name, Impls: append(archTest[op], Impl[v128.TestFunc]{Name: "portable", Fn: ref}), Trampoline: TestTrampoline}
}

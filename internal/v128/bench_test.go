package v128

import (
	"testing"

	"github.com/ferryvm/ferry/internal/wasm"
)

var sink V128

// BenchmarkTable calls a few representative entries through the table, the
// way the interpreter does.
func BenchmarkTable(b *testing.B) {
	tb := Portable()
	x, y := V128{0x0102030405060708, 0x1112131415161718}, V128{0x3F8000003F800000, 0x7FC0000080000000}
	for _, op := range []wasm.Opcode{wasm.OpI8x16Add, wasm.OpI8x16AddSatS, wasm.OpI16x8Mul, wasm.OpI32x4Add,
		wasm.OpI32x4DotI16x8S, wasm.OpF32x4Add, wasm.OpF32x4Min, wasm.OpF64x2Mul, wasm.OpI8x16Swizzle, wasm.OpI8x16NarrowI16x8S} {
		f := tb.Binary[Sub(op)]
		b.Run(op.String(), func(b *testing.B) {
			for range b.N {
				x = f(x, y)
			}
			sink = x
		})
	}
	for _, op := range []wasm.Opcode{wasm.OpF32x4Nearest, wasm.OpI8x16Popcnt, wasm.OpI32x4TruncSatF32x4S} {
		f := tb.Unary[Sub(op)]
		b.Run(op.String(), func(b *testing.B) {
			for range b.N {
				x = f(x)
			}
			sink = x
		})
	}
}

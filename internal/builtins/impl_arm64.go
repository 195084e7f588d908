package builtins

import (
	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/v128"
	"github.com/ferryvm/ferry/internal/wasm"
)

// The arm64 implementations. No arm64 hardware was available to measure
// on (qemu-user timings say nothing), so:
//
//   - memory.fill has a NEON kernel (64-byte stores, one overlapping store
//     at the end) that is tested everywhere qemu runs but ranked after
//     the portable fill until a benchmark on real hardware shows it wins;
//   - memory.copy stays Go's memmove (LDP/STP loops, already what a NEON
//     copy would do);
//   - the zero scan, CRC-32C and the v128 kernels replace loops of Go code
//     by one to four instructions, and are preferred.
var (
	asimd = cpu.NewSet(cpu.ARM64ASIMD)

	archFill = []Impl[FillFunc]{
		{Name: "go", Fn: FillPortable}, // the portable function, ranked first: see above
		{Name: "neon", Needs: asimd, Fn: fillNEON},
	}
	archCopy   []Impl[CopyFunc]
	archIsZero = []Impl[IsZeroFunc]{
		{Name: "neon", Needs: asimd, Fn: isZeroNEON},
	}
	archCRC32C = []Impl[CRC32CFunc]{
		{Name: "crc32", Needs: cpu.NewSet(cpu.ARM64CRC32), Fn: crc32cARM64},
	}
	archUnary = map[wasm.Opcode][]Impl[v128.UnaryFunc]{
		wasm.OpF32x4Ceil:    {{Name: "neon", Needs: asimd, Fn: f32x4CeilNEON}},
		wasm.OpF32x4Floor:   {{Name: "neon", Needs: asimd, Fn: f32x4FloorNEON}},
		wasm.OpF32x4Trunc:   {{Name: "neon", Needs: asimd, Fn: f32x4TruncNEON}},
		wasm.OpF32x4Nearest: {{Name: "neon", Needs: asimd, Fn: f32x4NearestNEON}},
		wasm.OpF64x2Ceil:    {{Name: "neon", Needs: asimd, Fn: f64x2CeilNEON}},
		wasm.OpF64x2Floor:   {{Name: "neon", Needs: asimd, Fn: f64x2FloorNEON}},
		wasm.OpF64x2Trunc:   {{Name: "neon", Needs: asimd, Fn: f64x2TruncNEON}},
		wasm.OpF64x2Nearest: {{Name: "neon", Needs: asimd, Fn: f64x2NearestNEON}},
		wasm.OpI8x16Popcnt:  {{Name: "neon", Needs: asimd, Fn: i8x16PopcntNEON}},
	}
	archBinary = map[wasm.Opcode][]Impl[v128.BinaryFunc]{
		wasm.OpI8x16Swizzle:      {{Name: "neon", Needs: asimd, Fn: swizzleNEON}},
		wasm.OpI8x16NarrowI16x8S: {{Name: "neon", Needs: asimd, Fn: i8x16NarrowNEON}},
		wasm.OpI8x16NarrowI16x8U: {{Name: "neon", Needs: asimd, Fn: u8x16NarrowNEON}},
		wasm.OpI16x8NarrowI32x4S: {{Name: "neon", Needs: asimd, Fn: i16x8NarrowNEON}},
		wasm.OpI16x8NarrowI32x4U: {{Name: "neon", Needs: asimd, Fn: u16x8NarrowNEON}},
		wasm.OpI16x8Q15mulrSatS:  {{Name: "neon", Needs: asimd, Fn: q15mulrNEON}},
		wasm.OpI32x4DotI16x8S:    {{Name: "neon", Needs: asimd, Fn: i32x4DotNEON}},
	}
	archTernary = map[wasm.Opcode][]Impl[v128.TernaryFunc]{
		wasm.OpI8x16Shuffle: {{Name: "neon", Needs: asimd, Fn: shuffleNEON}},
	}
	archTest map[wasm.Opcode][]Impl[v128.TestFunc]
)

//go:noescape
func fillNEONasm(p *byte, n int, v byte)

//go:noescape
func isZeroNEONasm(p *byte, n int) bool

//go:noescape
func crc32cARM64asm(crc uint32, p *byte, n int) uint32

func fillNEON(dst []byte, v byte) {
	if len(dst) < 64 {
		FillLoop(dst, v)
		return
	}
	fillNEONasm(&dst[0], len(dst), v)
}

func isZeroNEON(p []byte) bool {
	n := len(p) &^ 63
	if n > 0 && !isZeroNEONasm(&p[0], n) {
		return false
	}
	return IsZeroPortable(p[n:])
}

func crc32cARM64(crc uint32, p []byte) uint32 {
	if len(p) == 0 {
		return crc
	}
	return crc32cARM64asm(crc, &p[0], len(p))
}

func swizzleNEON(x, s v128.V128) v128.V128
func shuffleNEON(x, y, m v128.V128) v128.V128
func i8x16PopcntNEON(x v128.V128) v128.V128
func f32x4CeilNEON(x v128.V128) v128.V128
func f32x4FloorNEON(x v128.V128) v128.V128
func f32x4TruncNEON(x v128.V128) v128.V128
func f32x4NearestNEON(x v128.V128) v128.V128
func f64x2CeilNEON(x v128.V128) v128.V128
func f64x2FloorNEON(x v128.V128) v128.V128
func f64x2TruncNEON(x v128.V128) v128.V128
func f64x2NearestNEON(x v128.V128) v128.V128
func i8x16NarrowNEON(x, y v128.V128) v128.V128
func u8x16NarrowNEON(x, y v128.V128) v128.V128
func i16x8NarrowNEON(x, y v128.V128) v128.V128
func u16x8NarrowNEON(x, y v128.V128) v128.V128
func q15mulrNEON(x, y v128.V128) v128.V128
func i32x4DotNEON(x, y v128.V128) v128.V128

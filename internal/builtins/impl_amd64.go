package builtins

import (
	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/v128"
	"github.com/ferryvm/ferry/internal/wasm"
)

// The amd64 implementations, preferred first within each builtin. The
// order is measured, not assumed (docs/cpu-features.md has the numbers):
//
//   - memory.fill: the AVX2 loop beats the portable fill (clear, or one
//     byte then doubling copies) 2-9x from 16 B to 64 KiB and ties it
//     beyond; REP STOSB (erms) beats the portable fill up to 4 KiB and
//     ties from 64 KiB, but never beats AVX2 (within noise at 256 KiB and
//     1 MiB), so AVX2 comes first and ERMS serves ERMS CPUs without AVX2.
//   - memory.copy: Go's memmove already uses AVX and REP MOVSB where they
//     pay, and neither of our kernels beats it, so "go" (the portable function) is first and
//     "erms" is listed (and tested) but never selected.
var (
	archFill = []Impl[FillFunc]{
		{Name: "avx2", Needs: cpu.NewSet(cpu.X86AVX2), Fn: fillAVX2},
		{Name: "erms", Needs: cpu.NewSet(cpu.X86ERMS), Fn: fillERMS},
	}
	archCopy = []Impl[CopyFunc]{
		{Name: "go", Fn: CopyPortable}, // the portable function (Go's memmove), ranked first
		{Name: "erms", Needs: cpu.NewSet(cpu.X86ERMS), Fn: copyERMS},
	}
	archIsZero = []Impl[IsZeroFunc]{
		{Name: "avx2", Needs: cpu.NewSet(cpu.X86AVX2), Fn: isZeroAVX2},
		{Name: "sse2", Needs: cpu.NewSet(cpu.X86SSE2), Fn: isZeroSSE2},
	}
	archCRC32C = []Impl[CRC32CFunc]{
		{Name: "sse42", Needs: cpu.NewSet(cpu.X86SSE42), Fn: crc32cSSE42},
	}

	sse41 = cpu.NewSet(cpu.X86SSE41)
	ssse3 = cpu.NewSet(cpu.X86SSSE3)

	archUnary = map[wasm.Opcode][]Impl[v128.UnaryFunc]{
		wasm.OpF32x4Ceil:    {{Name: "sse41", Needs: sse41, Fn: f32x4CeilSSE41}},
		wasm.OpF32x4Floor:   {{Name: "sse41", Needs: sse41, Fn: f32x4FloorSSE41}},
		wasm.OpF32x4Trunc:   {{Name: "sse41", Needs: sse41, Fn: f32x4TruncSSE41}},
		wasm.OpF32x4Nearest: {{Name: "sse41", Needs: sse41, Fn: f32x4NearestSSE41}},
		wasm.OpF64x2Ceil:    {{Name: "sse41", Needs: sse41, Fn: f64x2CeilSSE41}},
		wasm.OpF64x2Floor:   {{Name: "sse41", Needs: sse41, Fn: f64x2FloorSSE41}},
		wasm.OpF64x2Trunc:   {{Name: "sse41", Needs: sse41, Fn: f64x2TruncSSE41}},
		wasm.OpF64x2Nearest: {{Name: "sse41", Needs: sse41, Fn: f64x2NearestSSE41}},
		wasm.OpI8x16Popcnt:  {{Name: "ssse3", Needs: ssse3, Fn: i8x16PopcntSSSE3}},
	}
	sse2       = cpu.NewSet(cpu.X86SSE2)
	archBinary = map[wasm.Opcode][]Impl[v128.BinaryFunc]{
		wasm.OpI8x16Swizzle:      {{Name: "ssse3", Needs: ssse3, Fn: swizzleSSSE3}},
		wasm.OpI8x16NarrowI16x8S: {{Name: "sse2", Needs: sse2, Fn: i8x16NarrowSSE2}},
		wasm.OpI8x16NarrowI16x8U: {{Name: "sse2", Needs: sse2, Fn: u8x16NarrowSSE2}},
		wasm.OpI16x8NarrowI32x4S: {{Name: "sse2", Needs: sse2, Fn: i16x8NarrowSSE2}},
		wasm.OpI16x8NarrowI32x4U: {{Name: "sse41", Needs: sse41, Fn: u16x8NarrowSSE41}},
		wasm.OpI16x8Q15mulrSatS:  {{Name: "ssse3", Needs: ssse3, Fn: q15mulrSSSE3}},
		wasm.OpI32x4DotI16x8S:    {{Name: "sse2", Needs: sse2, Fn: i32x4DotSSE2}},
	}
	archTernary = map[wasm.Opcode][]Impl[v128.TernaryFunc]{
		wasm.OpI8x16Shuffle: {{Name: "ssse3", Needs: ssse3, Fn: shuffleSSSE3}},
	}
	archTest = map[wasm.Opcode][]Impl[v128.TestFunc]{
		wasm.OpI8x16Bitmask: {{Name: "sse2", Needs: sse2, Fn: i8x16BitmaskSSE2}},
	}
)

//go:noescape
func fillAVX2asm(p *byte, n int, v byte)

//go:noescape
func fillERMSasm(p *byte, n int, v byte)

//go:noescape
func copyERMSasm(dst, src *byte, n int)

//go:noescape
func isZeroSSE2asm(p *byte, n int) bool

//go:noescape
func isZeroAVX2asm(p *byte, n int) bool

//go:noescape
func crc32cSSE42asm(crc uint32, p *byte, n int) uint32

func fillAVX2(dst []byte, v byte) {
	if len(dst) < 32 {
		FillLoop(dst, v)
		return
	}
	fillAVX2asm(&dst[0], len(dst), v)
}

func fillERMS(dst []byte, v byte) {
	if len(dst) == 0 {
		return
	}
	fillERMSasm(&dst[0], len(dst), v)
}

func copyERMS(dst, src []byte) {
	src = src[:len(dst)]
	if len(dst) == 0 {
		return
	}
	if overlapsForward(dst, src) {
		// REP MOVSB backwards (STD) is slow on every core; memmove is not.
		copy(dst, src)
		return
	}
	copyERMSasm(&dst[0], &src[0], len(dst))
}

func isZeroSSE2(p []byte) bool {
	n := len(p) &^ 63
	if n > 0 && !isZeroSSE2asm(&p[0], n) {
		return false
	}
	return IsZeroPortable(p[n:])
}

func isZeroAVX2(p []byte) bool {
	n := len(p) &^ 127
	if n > 0 && !isZeroAVX2asm(&p[0], n) {
		return false
	}
	return IsZeroPortable(p[n:])
}

func crc32cSSE42(crc uint32, p []byte) uint32 {
	if len(p) == 0 {
		return crc
	}
	return crc32cSSE42asm(crc, &p[0], len(p))
}

func swizzleSSSE3(x, s v128.V128) v128.V128
func shuffleSSSE3(x, y, m v128.V128) v128.V128
func i8x16PopcntSSSE3(x v128.V128) v128.V128
func i8x16BitmaskSSE2(x v128.V128) uint32
func f32x4CeilSSE41(x v128.V128) v128.V128
func f32x4FloorSSE41(x v128.V128) v128.V128
func f32x4TruncSSE41(x v128.V128) v128.V128
func f32x4NearestSSE41(x v128.V128) v128.V128
func f64x2CeilSSE41(x v128.V128) v128.V128
func f64x2FloorSSE41(x v128.V128) v128.V128
func f64x2TruncSSE41(x v128.V128) v128.V128
func f64x2NearestSSE41(x v128.V128) v128.V128
func i8x16NarrowSSE2(x, y v128.V128) v128.V128
func u8x16NarrowSSE2(x, y v128.V128) v128.V128
func i16x8NarrowSSE2(x, y v128.V128) v128.V128
func u16x8NarrowSSE41(x, y v128.V128) v128.V128
func q15mulrSSSE3(x, y v128.V128) v128.V128
func i32x4DotSSE2(x, y v128.V128) v128.V128

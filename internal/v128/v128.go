// Package v128 is Ferry's portable reference implementation of the
// fixed-width SIMD instructions of WebAssembly 2.0 (the 0xFD opcodes).
//
// Every operation is a plain Go function over V128, the two 64-bit
// value-stack slots a v128 occupies (low half first, lanes little-endian:
// lane 0 of any shape is the least significant bits of Lo). The functions
// have a few uniform signatures (Unary, Binary, Ternary, Shift, Test, Splat,
// ExtractLane, ReplaceLane, Load, LoadLane, StoreLane) and are collected in
// a Table indexed by sub-opcode, so a tier reaches them through the table and
// a CPU-specific implementation can replace an entry without touching the
// caller. This package is what runs on any CPU, and the reference the
// CPU-specific kernels are tested against.
//
// Floating-point results follow the WebAssembly rules per lane, with one
// choice made deterministic: whenever an arithmetic operation (add, sub,
// mul, div, sqrt, min, max, ceil, floor, trunc, nearest, demote, promote)
// yields a NaN, the lane is the positive canonical NaN (0x7FC00000 /
// 0x7FF8000000000000). The specification allows any arithmetic NaN there
// (and requires a canonical one when every NaN operand is canonical); a
// canonical NaN satisfies both, and fixing it makes the result independent
// of the host's NaN propagation, so results are bit-identical on every CPU.
// Bit operations (abs, neg, pmin, pmax, bitselect, lane moves) never
// create NaNs and keep payloads exactly. docs/simd.md has the details.
package v128

import (
	"encoding/binary"
	"math"
)

// V128 is a 128-bit vector: Lo holds bytes 0..7 (lane 0 first), Hi bytes 8..15.
type V128 struct{ Lo, Hi uint64 }

// FromBytes reads a vector from 16 little-endian bytes.
func FromBytes(b []byte) V128 {
	_ = b[15]
	return V128{binary.LittleEndian.Uint64(b[0:8]), binary.LittleEndian.Uint64(b[8:16])}
}

// PutBytes writes v to b[0:16], little-endian.
func (v V128) PutBytes(b []byte) {
	_ = b[15]
	binary.LittleEndian.PutUint64(b[0:8], v.Lo)
	binary.LittleEndian.PutUint64(b[8:16], v.Hi)
}

// Bytes returns the 16 bytes of v (byte i is lane i of i8x16).
func (v V128) Bytes() (b [16]byte) {
	v.PutBytes(b[:])
	return
}

// Canonical NaNs (positive sign, only the quiet bit of the payload set).
const (
	CanonicalNaN32 uint32 = 0x7FC00000
	CanonicalNaN64 uint64 = 0x7FF8000000000000
)

// Lane views. The conversions are straight-line so they compile to a few
// shifts and stay cheap enough to inline.

func u8s(v V128) (a [16]uint8) {
	binary.LittleEndian.PutUint64(a[0:8], v.Lo)
	binary.LittleEndian.PutUint64(a[8:16], v.Hi)
	return
}

func fromU8(a [16]uint8) V128 {
	return V128{binary.LittleEndian.Uint64(a[0:8]), binary.LittleEndian.Uint64(a[8:16])}
}

func u16s(v V128) [8]uint16 {
	return [8]uint16{
		uint16(v.Lo), uint16(v.Lo >> 16), uint16(v.Lo >> 32), uint16(v.Lo >> 48),
		uint16(v.Hi), uint16(v.Hi >> 16), uint16(v.Hi >> 32), uint16(v.Hi >> 48),
	}
}

func fromU16(a [8]uint16) V128 {
	return V128{
		uint64(a[0]) | uint64(a[1])<<16 | uint64(a[2])<<32 | uint64(a[3])<<48,
		uint64(a[4]) | uint64(a[5])<<16 | uint64(a[6])<<32 | uint64(a[7])<<48,
	}
}

func u32s(v V128) [4]uint32 {
	return [4]uint32{uint32(v.Lo), uint32(v.Lo >> 32), uint32(v.Hi), uint32(v.Hi >> 32)}
}

func fromU32(a [4]uint32) V128 {
	return V128{uint64(a[0]) | uint64(a[1])<<32, uint64(a[2]) | uint64(a[3])<<32}
}

func f32s(v V128) [4]float32 {
	return [4]float32{
		math.Float32frombits(uint32(v.Lo)), math.Float32frombits(uint32(v.Lo >> 32)),
		math.Float32frombits(uint32(v.Hi)), math.Float32frombits(uint32(v.Hi >> 32)),
	}
}

// fromF32 packs four float32 results, replacing any NaN by the canonical NaN
// (see the package comment). Only arithmetic results go through it.
func fromF32(a [4]float32) V128 {
	var u [4]uint32
	for i, f := range a {
		if f != f {
			u[i] = CanonicalNaN32
		} else {
			u[i] = math.Float32bits(f)
		}
	}
	return fromU32(u)
}

func f64s(v V128) [2]float64 {
	return [2]float64{math.Float64frombits(v.Lo), math.Float64frombits(v.Hi)}
}

func fromF64(a [2]float64) V128 {
	return V128{canon64(a[0]), canon64(a[1])}
}

func canon64(f float64) uint64 {
	if f != f {
		return CanonicalNaN64
	}
	return math.Float64bits(f)
}

func mask(b bool) uint64 {
	if b {
		return ^uint64(0)
	}
	return 0
}

// Saturation of a wider intermediate to a lane type.
func satS8(x int32) uint8 { return uint8(int8(max(-128, min(127, x)))) }
func satU8(x int32) uint8 { return uint8(max(0, min(255, x))) }
func satS16(x int32) uint16 {
	return uint16(int16(max(-32768, min(32767, x))))
}
func satU16(x int32) uint16 { return uint16(max(0, min(65535, x))) }

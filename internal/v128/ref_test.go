package v128

// Independent per-lane reference computations for the property tests. They
// are written from the specification's scalar definitions with different
// means than the implementation (math/big, bytes, explicit bit tests), so a
// shared mistake is unlikely.

import (
	"encoding/binary"
	"math"
	"math/big"
)

// lanes splits v into n-byte lanes as unsigned values.
func lanes(v V128, n int) []uint64 {
	b := v.Bytes()
	out := make([]uint64, 16/n)
	for i := range out {
		var x uint64
		for j := n - 1; j >= 0; j-- {
			x = x<<8 | uint64(b[i*n+j])
		}
		out[i] = x
	}
	return out
}

// join packs lanes of n bytes (only the low 8n bits of each are used).
func join(ls []uint64, n int) V128 {
	var b [16]byte
	for i, x := range ls {
		for j := 0; j < n; j++ {
			b[i*n+j] = byte(x >> (8 * j))
		}
	}
	return FromBytes(b[:])
}

// signed reads an n-byte lane as a signed value.
func signed(x uint64, n int) int64 {
	sh := 64 - 8*n
	return int64(x<<sh) >> sh
}

func clamp(x, lo, hi int64) int64 {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

// Floats as (bits, width) pairs.

func isNaNBits(x uint64, n int) bool {
	if n == 4 {
		return x&0x7F800000 == 0x7F800000 && x&0x007FFFFF != 0
	}
	return x&0x7FF0000000000000 == 0x7FF0000000000000 && x&0x000FFFFFFFFFFFFF != 0
}

func canonical(n int) uint64 {
	if n == 4 {
		return 0x7FC00000
	}
	return 0x7FF8000000000000
}

// toBig converts a non-NaN float lane to an exact big.Float (±0 and ±inf kept).
func toBig(x uint64, n int) *big.Float {
	var f float64
	if n == 4 {
		f = float64(math.Float32frombits(uint32(x)))
	} else {
		f = math.Float64frombits(x)
	}
	return new(big.Float).SetFloat64(f)
}

func negBits(x uint64, n int) bool { return x>>(8*n-1)&1 == 1 }

// refMin is the spec's fmin: NaN if either is, -0 for equal zeros of
// different sign, else the smaller.
func refMin(x, y uint64, n int) uint64 {
	if isNaNBits(x, n) || isNaNBits(y, n) {
		return canonical(n)
	}
	switch toBig(x, n).Cmp(toBig(y, n)) {
	case -1:
		return x
	case 1:
		return y
	}
	if negBits(x, n) {
		return x
	}
	return y
}

func refMax(x, y uint64, n int) uint64 {
	if isNaNBits(x, n) || isNaNBits(y, n) {
		return canonical(n)
	}
	switch toBig(x, n).Cmp(toBig(y, n)) {
	case 1:
		return x
	case -1:
		return y
	}
	if negBits(x, n) {
		return y
	}
	return x
}

// flt is the spec's "less than" on floats: false when either is NaN.
func flt(x, y uint64, n int) bool {
	if isNaNBits(x, n) || isNaNBits(y, n) {
		return false
	}
	return toBig(x, n).Cmp(toBig(y, n)) < 0
}

func refPmin(x, y uint64, n int) uint64 {
	if flt(y, x, n) {
		return y
	}
	return x
}

func refPmax(x, y uint64, n int) uint64 {
	if flt(x, y, n) {
		return y
	}
	return x
}

// refNearest rounds to the nearest integer, ties to even, with big.Int
// arithmetic on the exact value; zero results keep the operand's sign.
func refNearest(x uint64, n int) uint64 {
	if isNaNBits(x, n) {
		return canonical(n)
	}
	f := toBig(x, n)
	if f.IsInf() {
		return x
	}
	neg := negBits(x, n)
	a := new(big.Float).Abs(f)
	i, _ := a.Int(nil) // truncation of |x|
	frac := new(big.Float).Sub(a, new(big.Float).SetInt(i))
	switch frac.Cmp(big.NewFloat(0.5)) {
	case 1:
		i.Add(i, big.NewInt(1))
	case 0:
		if i.Bit(0) == 1 {
			i.Add(i, big.NewInt(1))
		}
	}
	r := new(big.Float).SetInt(i)
	if neg {
		r.Neg(r)
	}
	v, _ := r.Float64()
	if neg && v == 0 {
		v = math.Copysign(0, -1)
	}
	if n == 4 {
		return uint64(math.Float32bits(float32(v)))
	}
	return math.Float64bits(v)
}

// refTruncSat truncates toward zero and clamps to [lo, hi]; NaN gives 0.
func refTruncSat(x uint64, n int, lo, hi int64) uint64 {
	if isNaNBits(x, n) {
		return 0
	}
	f := toBig(x, n)
	if f.IsInf() {
		if f.Sign() < 0 {
			return uint64(lo)
		}
		return uint64(hi)
	}
	i, _ := f.Int(nil) // truncates toward zero
	if i.Cmp(big.NewInt(lo)) < 0 {
		return uint64(lo)
	}
	if i.Cmp(big.NewInt(hi)) > 0 {
		return uint64(hi)
	}
	return uint64(i.Int64())
}

// refQ15 is sat16(floor((a*b + 2^14) / 2^15)) computed with big.Int.
func refQ15(a, b int64) int64 {
	p := big.NewInt(a * b)
	p.Add(p, big.NewInt(1<<14))
	q := new(big.Int)
	q.Div(p, big.NewInt(1<<15)) // Euclidean: floor for a positive divisor
	return clamp(q.Int64(), -32768, 32767)
}

func popcount8(x byte) uint64 {
	var c uint64
	for x != 0 {
		c += uint64(x & 1)
		x >>= 1
	}
	return c
}

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// refConvert rounds an integer to float32 (ties to even) with big.Float at
// 24 bits of precision; integers never need subnormals.
func refConvert(x int64) uint64 {
	f := new(big.Float).SetPrec(24).SetMode(big.ToNearestEven).SetInt64(x)
	v, _ := f.Float32()
	return uint64(math.Float32bits(v))
}

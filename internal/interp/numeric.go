package interp

import (
	"math"

	"github.com/ferryvm/ferry/api"
)

// Float helpers with WebAssembly semantics. Go's float arithmetic is IEEE
// binary32/binary64 with round-to-nearest-even, as Wasm requires; only the
// operations below differ from Go's library in NaN or signed-zero handling.

func f32(x uint64) float32  { return math.Float32frombits(uint32(x)) }
func f64(x uint64) float64  { return math.Float64frombits(x) }
func pf32(v float32) uint64 { return uint64(math.Float32bits(v)) }
func pf64(v float64) uint64 { return math.Float64bits(v) }
func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// fmin and fmax: NaN in, NaN out (quieted by an arithmetic operation so a
// signalling input never escapes), and -0 < +0.
func fmin64(x, y float64) float64 {
	if x != x || y != y {
		return x + y
	}
	if x == y { // equal, possibly zeros of different sign
		return math.Float64frombits(math.Float64bits(x) | math.Float64bits(y))
	}
	if x < y {
		return x
	}
	return y
}

func fmax64(x, y float64) float64 {
	if x != x || y != y {
		return x + y
	}
	if x == y {
		return math.Float64frombits(math.Float64bits(x) & math.Float64bits(y))
	}
	if x > y {
		return x
	}
	return y
}

func fmin32(x, y float32) float32 {
	if x != x || y != y {
		return x + y
	}
	if x == y {
		return math.Float32frombits(math.Float32bits(x) | math.Float32bits(y))
	}
	if x < y {
		return x
	}
	return y
}

func fmax32(x, y float32) float32 {
	if x != x || y != y {
		return x + y
	}
	if x == y {
		return math.Float32frombits(math.Float32bits(x) & math.Float32bits(y))
	}
	if x > y {
		return x
	}
	return y
}

// round applies a float64 rounding function, quieting NaNs. float32 values
// convert to float64 and back exactly, and an integral result is always
// representable, so the f32 forms reuse it.
func round(f func(float64) float64, x float64) float64 {
	if x != x {
		return x + x
	}
	return f(x)
}

func round32(f func(float64) float64, x float32) float32 {
	if x != x {
		return x + x
	}
	return float32(f(float64(x)))
}

// Truncations to integers: NaN is an invalid conversion, out of range an
// overflow. x is the float64 value of the operand (exact for f32).
func truncS32(x float64) (uint64, error) {
	if x != x {
		return 0, api.ErrInvalidConversion
	}
	t := math.Trunc(x)
	if t < -2147483648 || t >= 2147483648 {
		return 0, api.ErrIntegerOverflow
	}
	return uint64(uint32(int32(t))), nil
}

func truncU32(x float64) (uint64, error) {
	if x != x {
		return 0, api.ErrInvalidConversion
	}
	t := math.Trunc(x)
	if t < 0 || t >= 4294967296 {
		return 0, api.ErrIntegerOverflow
	}
	return uint64(uint32(t)), nil
}

func truncS64(x float64) (uint64, error) {
	if x != x {
		return 0, api.ErrInvalidConversion
	}
	t := math.Trunc(x)
	if t < -9223372036854775808 || t >= 9223372036854775808 {
		return 0, api.ErrIntegerOverflow
	}
	return uint64(int64(t)), nil
}

func truncU64(x float64) (uint64, error) {
	if x != x {
		return 0, api.ErrInvalidConversion
	}
	t := math.Trunc(x)
	if t < 0 || t >= 18446744073709551616 {
		return 0, api.ErrIntegerOverflow
	}
	return uint64(t), nil
}

// Saturating truncations: NaN gives 0, out of range the nearest bound.
func satS32(x float64) uint64 {
	switch {
	case x != x:
		return 0
	case x <= -2147483648:
		return uint64(uint32(0x80000000))
	case x >= 2147483647:
		return 0x7fffffff
	}
	return uint64(uint32(int32(x)))
}

func satU32(x float64) uint64 {
	switch {
	case x != x || x <= 0:
		return 0
	case x >= 4294967295:
		return 0xffffffff
	}
	return uint64(uint32(x))
}

func satS64(x float64) uint64 {
	switch {
	case x != x:
		return 0
	case x <= -9223372036854775808:
		return 1 << 63
	case x >= 9223372036854775807:
		return 1<<63 - 1
	}
	return uint64(int64(x))
}

func satU64(x float64) uint64 {
	switch {
	case x != x || x <= 0:
		return 0
	case x >= 18446744073709551615:
		return math.MaxUint64
	}
	return uint64(x)
}

// u64ToF32 converts with a single rounding. Go's conversion is correct on
// the common ports, but doing it explicitly keeps the result independent of
// the port: values below 2^53 convert exactly to float64 first; larger ones
// are halved with the lost bit kept sticky.
func u64ToF32(x uint64) float32 {
	if x < 1<<53 {
		return float32(int64(x))
	}
	return float32(int64(x>>1|x&1)) * 2
}

func u64ToF64(x uint64) float64 {
	if int64(x) >= 0 {
		return float64(int64(x))
	}
	return float64(int64(x>>1|x&1)) * 2
}

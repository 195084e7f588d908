package v128

// Floating-point lane operations. Arithmetic results pass through fromF32 /
// fromF64, which make any NaN lane canonical (see the package comment).

import "math"

// Sign-bit operations: exact on every input, NaN payloads included.

func F32x4Abs(x V128) V128 { return V128{x.Lo &^ 0x8000000080000000, x.Hi &^ 0x8000000080000000} }
func F32x4Neg(x V128) V128 { return V128{x.Lo ^ 0x8000000080000000, x.Hi ^ 0x8000000080000000} }
func F64x2Abs(x V128) V128 { return V128{x.Lo &^ (1 << 63), x.Hi &^ (1 << 63)} }
func F64x2Neg(x V128) V128 { return V128{x.Lo ^ (1 << 63), x.Hi ^ (1 << 63)} }

// fmin and fmax: a NaN operand gives NaN; -0 is below +0.
func fmin[F float32 | float64](x, y F) F {
	switch {
	case x != x || y != y:
		return F(math.NaN())
	case x < y:
		return x
	case y < x:
		return y
	case x == 0 && math.Signbit(float64(x)):
		return x // equal zeros: -0 wins
	}
	return y
}

func fmax[F float32 | float64](x, y F) F {
	switch {
	case x != x || y != y:
		return F(math.NaN())
	case x > y:
		return x
	case y > x:
		return y
	case x == 0 && !math.Signbit(float64(x)):
		return x // equal zeros: +0 wins
	}
	return y
}

// Rounding to an integral value; float32 values round-trip through float64
// exactly, and an integral result is representable in float32 again.
// math.RoundToEven is the spec's nearest (ties to even, sign of zero kept).

func F32x4Add(x, y V128) V128 {
	a, b := f32s(x), f32s(y)
	for i := range a {
		a[i] = a[i] + b[i]
	}
	return fromF32(a)
}

func F32x4Sub(x, y V128) V128 {
	a, b := f32s(x), f32s(y)
	for i := range a {
		a[i] = a[i] - b[i]
	}
	return fromF32(a)
}

func F32x4Mul(x, y V128) V128 {
	a, b := f32s(x), f32s(y)
	for i := range a {
		a[i] = a[i] * b[i]
	}
	return fromF32(a)
}

func F32x4Div(x, y V128) V128 {
	a, b := f32s(x), f32s(y)
	for i := range a {
		a[i] = a[i] / b[i]
	}
	return fromF32(a)
}

func F32x4Min(x, y V128) V128 {
	a, b := f32s(x), f32s(y)
	for i := range a {
		a[i] = fmin(a[i], b[i])
	}
	return fromF32(a)
}

func F32x4Max(x, y V128) V128 {
	a, b := f32s(x), f32s(y)
	for i := range a {
		a[i] = fmax(a[i], b[i])
	}
	return fromF32(a)
}

func F32x4Sqrt(x V128) V128 {
	a := f32s(x)
	for i := range a {
		a[i] = float32(math.Sqrt(float64(a[i])))
	}
	return fromF32(a)
}

func F32x4Ceil(x V128) V128 {
	a := f32s(x)
	for i := range a {
		a[i] = float32(math.Ceil(float64(a[i])))
	}
	return fromF32(a)
}

func F32x4Floor(x V128) V128 {
	a := f32s(x)
	for i := range a {
		a[i] = float32(math.Floor(float64(a[i])))
	}
	return fromF32(a)
}

func F32x4Trunc(x V128) V128 {
	a := f32s(x)
	for i := range a {
		a[i] = float32(math.Trunc(float64(a[i])))
	}
	return fromF32(a)
}

func F32x4Nearest(x V128) V128 {
	a := f32s(x)
	for i := range a {
		a[i] = float32(math.RoundToEven(float64(a[i])))
	}
	return fromF32(a)
}

// F32x4Pmin is the pseudo-minimum y < x ? y : x, a selection that returns one
// operand's bits unchanged (NaN payloads and zero signs included).
func F32x4Pmin(x, y V128) V128 {
	a, b := f32s(x), f32s(y)
	r := u32s(x)
	for i, yb := range u32s(y) {
		if b[i] < a[i] {
			r[i] = yb
		}
	}
	return fromU32(r)
}

// F32x4Pmax is the pseudo-maximum x < y ? y : x.
func F32x4Pmax(x, y V128) V128 {
	a, b := f32s(x), f32s(y)
	r := u32s(x)
	for i, yb := range u32s(y) {
		if a[i] < b[i] {
			r[i] = yb
		}
	}
	return fromU32(r)
}

// F32x4 comparisons: all ones where the IEEE comparison holds (never for a NaN,
// except ne).

func F32x4Eq(x, y V128) V128 {
	a, b := f32s(x), f32s(y)
	var r [4]uint32
	for i := range r {
		if a[i] == b[i] {
			r[i] = ^uint32(0)
		}
	}
	return fromU32(r)
}

func F32x4Ne(x, y V128) V128 {
	a, b := f32s(x), f32s(y)
	var r [4]uint32
	for i := range r {
		if a[i] != b[i] {
			r[i] = ^uint32(0)
		}
	}
	return fromU32(r)
}

func F32x4Lt(x, y V128) V128 {
	a, b := f32s(x), f32s(y)
	var r [4]uint32
	for i := range r {
		if a[i] < b[i] {
			r[i] = ^uint32(0)
		}
	}
	return fromU32(r)
}

func F32x4Gt(x, y V128) V128 {
	a, b := f32s(x), f32s(y)
	var r [4]uint32
	for i := range r {
		if a[i] > b[i] {
			r[i] = ^uint32(0)
		}
	}
	return fromU32(r)
}

func F32x4Le(x, y V128) V128 {
	a, b := f32s(x), f32s(y)
	var r [4]uint32
	for i := range r {
		if a[i] <= b[i] {
			r[i] = ^uint32(0)
		}
	}
	return fromU32(r)
}

func F32x4Ge(x, y V128) V128 {
	a, b := f32s(x), f32s(y)
	var r [4]uint32
	for i := range r {
		if a[i] >= b[i] {
			r[i] = ^uint32(0)
		}
	}
	return fromU32(r)
}

func F64x2Add(x, y V128) V128 {
	a, b := f64s(x), f64s(y)
	for i := range a {
		a[i] = a[i] + b[i]
	}
	return fromF64(a)
}

func F64x2Sub(x, y V128) V128 {
	a, b := f64s(x), f64s(y)
	for i := range a {
		a[i] = a[i] - b[i]
	}
	return fromF64(a)
}

func F64x2Mul(x, y V128) V128 {
	a, b := f64s(x), f64s(y)
	for i := range a {
		a[i] = a[i] * b[i]
	}
	return fromF64(a)
}

func F64x2Div(x, y V128) V128 {
	a, b := f64s(x), f64s(y)
	for i := range a {
		a[i] = a[i] / b[i]
	}
	return fromF64(a)
}

func F64x2Min(x, y V128) V128 {
	a, b := f64s(x), f64s(y)
	for i := range a {
		a[i] = fmin(a[i], b[i])
	}
	return fromF64(a)
}

func F64x2Max(x, y V128) V128 {
	a, b := f64s(x), f64s(y)
	for i := range a {
		a[i] = fmax(a[i], b[i])
	}
	return fromF64(a)
}

func F64x2Sqrt(x V128) V128 {
	a := f64s(x)
	for i := range a {
		a[i] = math.Sqrt(a[i])
	}
	return fromF64(a)
}

func F64x2Ceil(x V128) V128 {
	a := f64s(x)
	for i := range a {
		a[i] = math.Ceil(a[i])
	}
	return fromF64(a)
}

func F64x2Floor(x V128) V128 {
	a := f64s(x)
	for i := range a {
		a[i] = math.Floor(a[i])
	}
	return fromF64(a)
}

func F64x2Trunc(x V128) V128 {
	a := f64s(x)
	for i := range a {
		a[i] = math.Trunc(a[i])
	}
	return fromF64(a)
}

func F64x2Nearest(x V128) V128 {
	a := f64s(x)
	for i := range a {
		a[i] = math.RoundToEven(a[i])
	}
	return fromF64(a)
}

func F64x2Pmin(x, y V128) V128 {
	if math.Float64frombits(y.Lo) < math.Float64frombits(x.Lo) {
		x.Lo = y.Lo
	}
	if math.Float64frombits(y.Hi) < math.Float64frombits(x.Hi) {
		x.Hi = y.Hi
	}
	return x
}

func F64x2Pmax(x, y V128) V128 {
	if math.Float64frombits(x.Lo) < math.Float64frombits(y.Lo) {
		x.Lo = y.Lo
	}
	if math.Float64frombits(x.Hi) < math.Float64frombits(y.Hi) {
		x.Hi = y.Hi
	}
	return x
}

// F64x2 comparisons: all ones where the IEEE comparison holds (never for a NaN,
// except ne).

func F64x2Eq(x, y V128) V128 {
	a, b := f64s(x), f64s(y)
	return V128{mask(a[0] == b[0]), mask(a[1] == b[1])}
}

func F64x2Ne(x, y V128) V128 {
	a, b := f64s(x), f64s(y)
	return V128{mask(a[0] != b[0]), mask(a[1] != b[1])}
}

func F64x2Lt(x, y V128) V128 {
	a, b := f64s(x), f64s(y)
	return V128{mask(a[0] < b[0]), mask(a[1] < b[1])}
}

func F64x2Gt(x, y V128) V128 {
	a, b := f64s(x), f64s(y)
	return V128{mask(a[0] > b[0]), mask(a[1] > b[1])}
}

func F64x2Le(x, y V128) V128 {
	a, b := f64s(x), f64s(y)
	return V128{mask(a[0] <= b[0]), mask(a[1] <= b[1])}
}

func F64x2Ge(x, y V128) V128 {
	a, b := f64s(x), f64s(y)
	return V128{mask(a[0] >= b[0]), mask(a[1] >= b[1])}
}

// Conversions.

// satI32 and satU32 truncate toward zero, saturating; NaN gives 0. The
// argument is exact (every f32 and f64 is a float64).
func satI32(f float64) uint32 {
	switch {
	case f != f:
		return 0
	case f <= math.MinInt32:
		return 0x80000000
	case f >= math.MaxInt32:
		return 0x7FFFFFFF
	}
	return uint32(int32(f))
}

func satU32(f float64) uint32 {
	switch {
	case f != f || f <= 0:
		return 0
	case f >= math.MaxUint32:
		return 0xFFFFFFFF
	}
	return uint32(f)
}

func I32x4TruncSatF32x4S(x V128) V128 {
	a := f32s(x)
	var r [4]uint32
	for i := range r {
		r[i] = satI32(float64(a[i]))
	}
	return fromU32(r)
}

func I32x4TruncSatF32x4U(x V128) V128 {
	a := f32s(x)
	var r [4]uint32
	for i := range r {
		r[i] = satU32(float64(a[i]))
	}
	return fromU32(r)
}

// I32x4TruncSatF64x2SZero converts the two f64 lanes into lanes 0 and 1;
// lanes 2 and 3 are 0.
func I32x4TruncSatF64x2SZero(x V128) V128 {
	a := f64s(x)
	return V128{uint64(satI32(a[0])) | uint64(satI32(a[1]))<<32, 0}
}

func I32x4TruncSatF64x2UZero(x V128) V128 {
	a := f64s(x)
	return V128{uint64(satU32(a[0])) | uint64(satU32(a[1]))<<32, 0}
}

// F32x4ConvertI32x4S rounds to nearest, ties to even. An int32 or uint32 is
// exact as a float64, so the one conversion to float32 is the only rounding
// whatever the port.
func F32x4ConvertI32x4S(x V128) V128 {
	a := u32s(x)
	var r [4]float32
	for i := range r {
		r[i] = float32(float64(int32(a[i])))
	}
	return fromF32(r)
}

func F32x4ConvertI32x4U(x V128) V128 {
	a := u32s(x)
	var r [4]float32
	for i := range r {
		r[i] = float32(float64(a[i]))
	}
	return fromF32(r)
}

// F64x2ConvertLowI32x4S converts lanes 0 and 1 exactly.
func F64x2ConvertLowI32x4S(x V128) V128 {
	return V128{math.Float64bits(float64(int32(x.Lo))), math.Float64bits(float64(int32(x.Lo >> 32)))}
}

func F64x2ConvertLowI32x4U(x V128) V128 {
	return V128{math.Float64bits(float64(uint32(x.Lo))), math.Float64bits(float64(uint32(x.Lo >> 32)))}
}

// F32x4DemoteF64x2Zero rounds the two f64 lanes to f32 lanes 0 and 1; lanes 2
// and 3 are 0.
func F32x4DemoteF64x2Zero(x V128) V128 {
	a := f64s(x)
	return fromF32([4]float32{float32(a[0]), float32(a[1]), 0, 0})
}

// F64x2PromoteLowF32x4 widens f32 lanes 0 and 1 exactly.
func F64x2PromoteLowF32x4(x V128) V128 {
	a := f32s(x)
	return fromF64([2]float64{float64(a[0]), float64(a[1])})
}

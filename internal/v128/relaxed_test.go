package v128

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

// exactFMA32 is a*b+c rounded once to float32, through math/big (exact
// with 1200 bits: the sum spans at most 2^-298 .. 2^256).
func exactFMA32(a, b, c float32) float32 {
	if math.IsInf(float64(a), 0) || math.IsInf(float64(b), 0) || math.IsInf(float64(c), 0) || a != a || b != b || c != c {
		return float32(float64(a)*float64(b) + float64(c))
	}
	x := new(big.Float).SetPrec(1200).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetFloat64(float64(c)))
	f, _ := x.Float32()
	if f == 0 {
		// big.Float has no signed zero for an exact zero sum: IEEE gives
		// +0 except for -0 + -0.
		return float32(float64(a)*float64(b) + float64(c))
	}
	return f
}

func TestFMA32Exact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	rnd := func() float32 {
		switch r.IntN(4) {
		case 0:
			return math.Float32frombits(r.Uint32())
		case 1: // near 1, so products and sums interact closely
			return math.Float32frombits(0x3f800000 | r.Uint32()&0x7fffff ^ r.Uint32()&0x80000000)
		case 2: // tiny (subnormal results)
			return math.Float32frombits(r.Uint32() & 0x80ffffff)
		}
		return float32(r.NormFloat64())
	}
	check := func(a, b, c float32) {
		got, want := fma32(a, b, c), exactFMA32(a, b, c)
		if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("fma32(%x, %x, %x) = %x, want %x", math.Float32bits(a), math.Float32bits(b), math.Float32bits(c),
				math.Float32bits(got), math.Float32bits(want))
		}
	}
	for i := 0; i < 300000; i++ {
		a, b := rnd(), rnd()
		c := rnd()
		if i%2 == 0 {
			// c cancels most of a*b: the hard cases (ties after the first
			// rounding, double-rounding traps).
			p := float32(a * b)
			c = -math.Float32frombits(math.Float32bits(p) + uint32(r.IntN(5)) - 2)
			if i%4 == 0 {
				c = -p + math.Float32frombits(math.Float32bits(p)&0x7f800000-(r.Uint32()%40)<<23)
			}
		}
		check(a, b, c)
	}
	// The relaxed_madd_nmadd.wast cases.
	check(0x1.000004p+0, 0x1.0002p+0, -0x1.000204p+0)
	check(math.MaxFloat32, 2, -math.MaxFloat32)
}

// The cases of relaxed_dot_product.wast (which wabt 1.0.32 cannot
// convert): each choice gives one of the listed results.
func TestRelaxedDotProductSpecCases(t *testing.T) {
	i8 := func(l ...int8) V128 {
		var a [16]uint8
		for i, v := range l {
			a[i] = uint8(v)
		}
		return fromU8(a)
	}
	i16 := func(l ...int32) V128 {
		var a [8]uint16
		for i, v := range l {
			a[i] = uint16(v)
		}
		return fromU16(a)
	}
	i32 := func(l ...int32) V128 {
		var a [4]uint32
		for i, v := range l {
			a[i] = uint32(v)
		}
		return fromU32(a)
	}
	seq := i8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
	dots := []struct {
		x, y   V128
		either []V128
	}{
		{seq, seq, []V128{i16(1, 13, 41, 85, 145, 221, 313, 421)}},
		{i8(-128, -128, 127, 127), i8(127, 127, 127, 127), []V128{i16(-32512, 32258)}},
		{i8(-128, -128), i8(-127, -127), []V128{i16(-32768), i16(32512), i16(33024)}},
	}
	adds := []struct {
		x, y, z V128
		either  []V128
	}{
		{seq, seq, i32(0, 1, 2, 3), []V128{i32(14, 127, 368, 737)}},
		{i8(-128, -128, -128, -128, 127, 127, 127, 127), i8(127, 127, 127, 127, 127, 127, 127, 127), i32(1, 2, 3, 4), []V128{i32(-65023, 64518, 3, 4)}},
		{i8(-128, -128, -128, -128), i8(-127, -127, -127, -127), i32(1, 2, 3, 4),
			[]V128{i32(-66047, 2, 3, 4), i32(-65535, 2, 3, 4), i32(65025, 2, 3, 4), i32(66049, 2, 3, 4)}},
	}
	for name, dot := range map[string]BinaryFunc{"x86": I16x8RelaxedDotX86, "arm": I16x8RelaxedDotArm} {
		for i, c := range dots {
			if got := dot(c.x, c.y); !slices.Contains(c.either, got) {
				t.Errorf("%s dot case %d: %x, want one of %x", name, i, got, c.either)
			}
			// Deterministic: the _cmp functions of the script.
			if dot(c.x, c.y) != dot(c.x, c.y) {
				t.Errorf("%s dot case %d not deterministic", name, i)
			}
		}
	}
	for name, add := range map[string]TernaryFunc{"x86": I32x4RelaxedDotAddX86, "arm": I32x4RelaxedDotAddArm} {
		for i, c := range adds {
			if got := add(c.x, c.y, c.z); !slices.Contains(c.either, got) {
				t.Errorf("%s dot_add case %d: %x, want one of %x", name, i, got, c.either)
			}
		}
	}
	// The two choices really differ where b is not a 7-bit value.
	if I16x8RelaxedDotX86(dots[2].x, dots[2].y) == I16x8RelaxedDotArm(dots[2].x, dots[2].y) {
		t.Error("x86 and Arm dot agree outside the 7-bit range")
	}
}

// Where a relaxed instruction is deterministic, both choices agree with
// its Wasm 2.0 sibling.
func TestRelaxedDeterministicPart(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 20000; i++ {
		x, y := V128{r.Uint64(), r.Uint64()}, V128{r.Uint64(), r.Uint64()}
		idx := V128{y.Lo & 0x0f0f0f0f0f0f0f0f, y.Hi & 0x0f0f0f0f0f0f0f0f}
		if RelaxedSwizzleX86(x, idx) != Swizzle(x, idx) {
			t.Fatal("swizzle in range")
		}
		ones := V128{mask(r.IntN(2) == 0), mask(r.IntN(2) == 0)}
		for _, f := range []TernaryFunc{I8x16RelaxedLaneselectX86, I16x8RelaxedLaneselectX86, I32x4RelaxedLaneselectX86, I64x2RelaxedLaneselectX86} {
			if f(x, y, ones) != Bitselect(x, y, ones) {
				t.Fatal("laneselect with an all-ones/all-zeros mask")
			}
		}
		// Finite, distinct, nonzero lanes: min/max agree.
		fx := fromF32([4]float32{float32(r.NormFloat64()), float32(r.NormFloat64()), 1, -3})
		fy := fromF32([4]float32{float32(r.NormFloat64()), float32(r.NormFloat64()), 2, -4})
		if F32x4RelaxedMinX86(fx, fy) != F32x4Min(fx, fy) || F32x4RelaxedMaxX86(fx, fy) != F32x4Max(fx, fy) {
			t.Fatal("min/max on ordinary lanes")
		}
		// q15mulr agrees except at -32768 * -32768.
		a, b := u16s(x), u16s(y)
		if !slices.Contains(a[:], 0x8000) || !slices.Contains(b[:], 0x8000) {
			if I16x8RelaxedQ15mulrX86(x, y) != I16x8Q15mulrSatS(x, y) {
				t.Fatal("q15mulr")
			}
		}
		// In-range truncations agree with trunc_sat.
		ft := fromF32([4]float32{float32(r.NormFloat64() * 1e6), float32(r.NormFloat64() * 1e8), 2147483520, -2147483648})
		if I32x4RelaxedTruncF32x4SX86(ft) != I32x4TruncSatF32x4S(ft) {
			t.Fatal("trunc_s in range")
		}
		fu := fromF32([4]float32{float32(math.Abs(r.NormFloat64() * 1e8)), 0, 4294967040, 0.5})
		if I32x4RelaxedTruncF32x4UX86(fu) != I32x4TruncSatF32x4U(fu) {
			t.Fatal("trunc_u in range")
		}
	}
	// The choices on the non-deterministic part.
	nan := V128{Lo: 0x4f000000_7fc00000, Hi: 0x7f800000_cf000001}
	if got := I32x4RelaxedTruncF32x4SX86(nan); got != (V128{0x80000000_80000000, 0x80000000_80000000}) {
		t.Errorf("x86 trunc_s %x", got)
	}
	if got := RelaxedSwizzleX86(V128{0x0706050403020100, 0x0f0e0d0c0b0a0908}, V128{0x80_7f_10_11, 0}); got != (V128{Lo: 0x000f0001}) {
		t.Errorf("x86 swizzle %x", got)
	}
	if got := I16x8RelaxedQ15mulrX86(V128{Lo: 0x8000}, V128{Lo: 0x8000}); got.Lo != 0x8000 {
		t.Errorf("x86 q15mulr(-32768, -32768) = %x", got.Lo)
	}
}

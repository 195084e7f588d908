package v128

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ferryvm/ferry/internal/wasm"
)

// Interesting lane values per lane width in bytes: NaNs with payloads and
// both signs (quiet and signalling), ±0, ±inf, integer extremes, halves
// (for nearest), and values at the edges of the conversion ranges.
var edges = map[int][]uint64{
	1: {0, 1, 0x7F, 0x80, 0x81, 0xFF, 0xFE},
	2: {0, 1, 0x7FFF, 0x8000, 0x8001, 0xFFFF, 0x00FF, 0xFF80, 0x7F, 0x80, 0x4000, 0xC000},
	4: {
		0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7FC00001, 0x7F800001,
		0xFFA00005, 0x00000001, 0x80000001, 0x7F7FFFFF, 0xFF7FFFFF,
		f32b(0.5), f32b(-0.5), f32b(1.5), f32b(2.5),
		f32b(-2.5), f32b(-1.5), f32b(0.49999997),
		f32b(2147483648), f32b(-2147483648), f32b(2147483520),
		f32b(4294967296), f32b(4294967040), f32b(-1),
		f32b(8388607.5), f32b(8388608.5), f32b(16777216),
		0x7FFFFFFF, 0x7FFF, 0xFFFF8000, 0xFFFFFFFF, 1, 0x00010001,
	},
	8: {
		0, 1 << 63, 0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000, 0xFFF8000000000000,
		0x7FF8000000000001, 0x7FF0000000000001, 0xFFF4000000000000, 1, 1<<63 | 1,
		math.Float64bits(0.5), math.Float64bits(-0.5), math.Float64bits(2.5), math.Float64bits(-3.5),
		math.Float64bits(0.49999999999999994), math.Float64bits(4503599627370495.5),
		math.Float64bits(2147483647.9), math.Float64bits(2147483648), math.Float64bits(-2147483648.9),
		math.Float64bits(-2147483649), math.Float64bits(4294967295.5), math.Float64bits(4294967296),
		math.Float64bits(-0.9), math.Float64bits(3.4028235677973366e38), math.Float64bits(1e-40),
		math.Float64bits(1.401298464324817e-45), math.Float64bits(7.006492321624085e-46),
		math.MaxInt64, 0x8000000080000000, 0x7FFFFFFF7FFFFFFF,
	},
}

// randV128 returns a vector whose lanes (of a randomly chosen width) are
// edge values or random bits.
func randV128(r *rand.Rand) V128 {
	n := []int{1, 2, 4, 8}[r.IntN(4)]
	var ls []uint64
	for range 16 / n {
		if r.IntN(3) > 0 {
			e := edges[n]
			ls = append(ls, e[r.IntN(len(e))])
		} else {
			ls = append(ls, r.Uint64())
		}
	}
	return join(ls, n)
}

// perLane builds a binary reference from a per-lane function on n-byte lanes.
func perLane(n int, f func(x, y uint64) uint64) func(x, y V128) V128 {
	return func(x, y V128) V128 {
		a, b := lanes(x, n), lanes(y, n)
		for i := range a {
			a[i] = f(a[i], b[i])
		}
		return join(a, n)
	}
}

func unary(f func(V128) V128) func(x, y V128) V128 { return func(x, _ V128) V128 { return f(x) } }

// property is one operation checked against its reference.
type property struct {
	name      string
	got, want func(x, y V128) V128
}

func extRef(from int, signedIn bool, half int, mul bool) func(x, y V128) V128 {
	return func(x, y V128) V128 {
		a, b := lanes(x, from), lanes(y, from)
		k := len(a) / 2
		out := make([]uint64, k)
		for i := range out {
			ai, bi := a[half*k+i], b[half*k+i]
			var p int64
			if signedIn {
				p = signed(ai, from) * signed(bi, from)
			} else {
				p = int64(ai * bi)
			}
			if !mul {
				panic("extRef: mul only")
			}
			out[i] = uint64(p)
		}
		return join(out, 2*from)
	}
}

func pairwiseRef(from int, signedIn bool) func(x, y V128) V128 {
	return func(x, _ V128) V128 {
		a := lanes(x, from)
		out := make([]uint64, len(a)/2)
		for i := range out {
			if signedIn {
				out[i] = uint64(signed(a[2*i], from) + signed(a[2*i+1], from))
			} else {
				out[i] = a[2*i] + a[2*i+1]
			}
		}
		return join(out, 2*from)
	}
}

func narrowRef(from int, lo, hi int64) func(x, y V128) V128 {
	return func(x, y V128) V128 {
		var out []uint64
		for _, v := range append(lanes(x, from), lanes(y, from)...) {
			out = append(out, uint64(clamp(signed(v, from), lo, hi)))
		}
		return join(out, from/2)
	}
}

func truncSatRef(n int, lo, hi int64, zero bool) func(x, y V128) V128 {
	return func(x, _ V128) V128 {
		var out []uint64
		for _, v := range lanes(x, n) {
			out = append(out, refTruncSat(v, n, lo, hi))
		}
		for zero && len(out) < 4 {
			out = append(out, 0)
		}
		return join(out, 4)
	}
}

// test32 turns an i32-valued operation into a vector one for comparison.
func test32(f func(V128) uint32) func(x, y V128) V128 {
	return func(x, _ V128) V128 { return V128{Lo: uint64(f(x))} }
}

func bitmaskRef(n int) func(x, y V128) V128 {
	return func(x, _ V128) V128 {
		var m uint64
		for i, v := range lanes(x, n) {
			if signed(v, n) < 0 {
				m |= 1 << i
			}
		}
		return V128{Lo: m}
	}
}

func allTrueRef(n int) func(x, y V128) V128 {
	return func(x, _ V128) V128 {
		for _, v := range lanes(x, n) {
			if v == 0 {
				return V128{}
			}
		}
		return V128{Lo: 1}
	}
}

var properties = []property{
	{"f32x4.min", F32x4Min, perLane(4, func(x, y uint64) uint64 { return refMin(x, y, 4) })},
	{"f32x4.max", F32x4Max, perLane(4, func(x, y uint64) uint64 { return refMax(x, y, 4) })},
	{"f64x2.min", F64x2Min, perLane(8, func(x, y uint64) uint64 { return refMin(x, y, 8) })},
	{"f64x2.max", F64x2Max, perLane(8, func(x, y uint64) uint64 { return refMax(x, y, 8) })},
	{"f32x4.pmin", F32x4Pmin, perLane(4, func(x, y uint64) uint64 { return refPmin(x, y, 4) })},
	{"f32x4.pmax", F32x4Pmax, perLane(4, func(x, y uint64) uint64 { return refPmax(x, y, 4) })},
	{"f64x2.pmin", F64x2Pmin, perLane(8, func(x, y uint64) uint64 { return refPmin(x, y, 8) })},
	{"f64x2.pmax", F64x2Pmax, perLane(8, func(x, y uint64) uint64 { return refPmax(x, y, 8) })},
	{"f32x4.nearest", unary(F32x4Nearest), perLane(4, func(x, _ uint64) uint64 { return refNearest(x, 4) })},
	{"f64x2.nearest", unary(F64x2Nearest), perLane(8, func(x, _ uint64) uint64 { return refNearest(x, 8) })},
	{"i32x4.trunc_sat_f32x4_s", unary(I32x4TruncSatF32x4S), truncSatRef(4, math.MinInt32, math.MaxInt32, false)},
	{"i32x4.trunc_sat_f32x4_u", unary(I32x4TruncSatF32x4U), truncSatRef(4, 0, math.MaxUint32, false)},
	{"i32x4.trunc_sat_f64x2_s_zero", unary(I32x4TruncSatF64x2SZero), truncSatRef(8, math.MinInt32, math.MaxInt32, true)},
	{"i32x4.trunc_sat_f64x2_u_zero", unary(I32x4TruncSatF64x2UZero), truncSatRef(8, 0, math.MaxUint32, true)},
	{"f32x4.convert_i32x4_s", unary(F32x4ConvertI32x4S), perLane(4, func(x, _ uint64) uint64 { return refConvert(signed(x, 4)) })},
	{"f32x4.convert_i32x4_u", unary(F32x4ConvertI32x4U), perLane(4, func(x, _ uint64) uint64 { return refConvert(int64(x)) })},
	{"f64x2.convert_low_i32x4_s", unary(F64x2ConvertLowI32x4S), func(x, _ V128) V128 {
		a := lanes(x, 4)
		return V128{math.Float64bits(float64(signed(a[0], 4))), math.Float64bits(float64(signed(a[1], 4)))}
	}},
	{"f64x2.convert_low_i32x4_u", unary(F64x2ConvertLowI32x4U), func(x, _ V128) V128 {
		a := lanes(x, 4)
		return V128{math.Float64bits(float64(a[0])), math.Float64bits(float64(a[1]))}
	}},
	{"i8x16.narrow_i16x8_s", I8x16NarrowI16x8S, narrowRef(2, -128, 127)},
	{"i8x16.narrow_i16x8_u", I8x16NarrowI16x8U, narrowRef(2, 0, 255)},
	{"i16x8.narrow_i32x4_s", I16x8NarrowI32x4S, narrowRef(4, -32768, 32767)},
	{"i16x8.narrow_i32x4_u", I16x8NarrowI32x4U, narrowRef(4, 0, 65535)},
	{"i16x8.q15mulr_sat_s", I16x8Q15mulrSatS, perLane(2, func(x, y uint64) uint64 { return uint64(refQ15(signed(x, 2), signed(y, 2))) })},
	{"i32x4.dot_i16x8_s", I32x4DotI16x8S, func(x, y V128) V128 {
		a, b := lanes(x, 2), lanes(y, 2)
		out := make([]uint64, 4)
		for i := range out {
			out[i] = uint64(signed(a[2*i], 2)*signed(b[2*i], 2) + signed(a[2*i+1], 2)*signed(b[2*i+1], 2))
		}
		return join(out, 4)
	}},
	{"i8x16.swizzle", Swizzle, func(x, y V128) V128 {
		a, s := x.Bytes(), y.Bytes()
		var r [16]byte
		for i := range r {
			if int(s[i]) < len(a) {
				r[i] = a[s[i]]
			}
		}
		return FromBytes(r[:])
	}},
	{"i16x8.extmul_low_i8x16_s", I16x8ExtmulLowI8x16S, extRef(1, true, 0, true)},
	{"i16x8.extmul_high_i8x16_s", I16x8ExtmulHighI8x16S, extRef(1, true, 1, true)},
	{"i16x8.extmul_low_i8x16_u", I16x8ExtmulLowI8x16U, extRef(1, false, 0, true)},
	{"i16x8.extmul_high_i8x16_u", I16x8ExtmulHighI8x16U, extRef(1, false, 1, true)},
	{"i32x4.extmul_low_i16x8_s", I32x4ExtmulLowI16x8S, extRef(2, true, 0, true)},
	{"i32x4.extmul_high_i16x8_s", I32x4ExtmulHighI16x8S, extRef(2, true, 1, true)},
	{"i32x4.extmul_low_i16x8_u", I32x4ExtmulLowI16x8U, extRef(2, false, 0, true)},
	{"i32x4.extmul_high_i16x8_u", I32x4ExtmulHighI16x8U, extRef(2, false, 1, true)},
	{"i64x2.extmul_low_i32x4_s", I64x2ExtmulLowI32x4S, extRef(4, true, 0, true)},
	{"i64x2.extmul_high_i32x4_s", I64x2ExtmulHighI32x4S, extRef(4, true, 1, true)},
	{"i64x2.extmul_low_i32x4_u", I64x2ExtmulLowI32x4U, extRef(4, false, 0, true)},
	{"i64x2.extmul_high_i32x4_u", I64x2ExtmulHighI32x4U, extRef(4, false, 1, true)},
	{"i16x8.extadd_pairwise_i8x16_s", unary(I16x8ExtaddPairwiseI8x16S), pairwiseRef(1, true)},
	{"i16x8.extadd_pairwise_i8x16_u", unary(I16x8ExtaddPairwiseI8x16U), pairwiseRef(1, false)},
	{"i32x4.extadd_pairwise_i16x8_s", unary(I32x4ExtaddPairwiseI16x8S), pairwiseRef(2, true)},
	{"i32x4.extadd_pairwise_i16x8_u", unary(I32x4ExtaddPairwiseI16x8U), pairwiseRef(2, false)},
	{"i8x16.popcnt", unary(I8x16Popcnt), perLane(1, func(x, _ uint64) uint64 { return popcount8(byte(x)) })},
	{"i8x16.bitmask", test32(I8x16Bitmask), bitmaskRef(1)},
	{"i16x8.bitmask", test32(I16x8Bitmask), bitmaskRef(2)},
	{"i32x4.bitmask", test32(I32x4Bitmask), bitmaskRef(4)},
	{"i64x2.bitmask", test32(I64x2Bitmask), bitmaskRef(8)},
	{"i8x16.all_true", test32(I8x16AllTrue), allTrueRef(1)},
	{"i16x8.all_true", test32(I16x8AllTrue), allTrueRef(2)},
	{"i32x4.all_true", test32(I32x4AllTrue), allTrueRef(4)},
	{"i64x2.all_true", test32(I64x2AllTrue), allTrueRef(8)},
	{"v128.any_true", test32(AnyTrue), func(x, _ V128) V128 {
		for _, b := range x.Bytes() {
			if b != 0 {
				return V128{Lo: 1}
			}
		}
		return V128{}
	}},
}

// shuffleProperty checks shuffle with the mask taken from y's bytes modulo 32.
func shuffleCheck(x, y, m V128) (got, want V128) {
	var mb [16]byte
	for i, b := range m.Bytes() {
		mb[i] = b % 32
	}
	mask := FromBytes(mb[:])
	got = Shuffle(x, y, mask)
	xb, yb := x.Bytes(), y.Bytes()
	ab := append(xb[:], yb[:]...)
	var r [16]byte
	for i := range r {
		r[i] = ab[mb[i]]
	}
	return got, FromBytes(r[:])
}

func checkAll(t *testing.T, x, y, z V128) {
	t.Helper()
	for _, p := range append(properties[:len(properties):len(properties)], intProps...) {
		if got, want := p.got(x, y), p.want(x, y); got != want {
			t.Fatalf("%s(%#016x:%016x, %#016x:%016x) = %#016x:%016x, want %#016x:%016x",
				p.name, x.Hi, x.Lo, y.Hi, y.Lo, got.Hi, got.Lo, want.Hi, want.Lo)
		}
	}
	if got, want := shuffleCheck(x, y, z); got != want {
		t.Fatalf("i8x16.shuffle(%x, %x, %x) = %x, want %x", x, y, z, got, want)
	}
}

func TestProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for range n {
		checkAll(t, randV128(r), randV128(r), randV128(r))
	}
	// Every pair of edge lanes, splatted, for each lane width.
	for w, es := range edges {
		for _, a := range es {
			for _, b := range es {
				x := join([]uint64{a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a}[:16/w], w)
				y := join([]uint64{b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b}[:16/w], w)
				checkAll(t, x, y, x)
			}
		}
	}
}

func FuzzProperties(f *testing.F) {
	f.Add(uint64(0x7FC0000180000000), uint64(0xFF8000007F800000), uint64(0x8000800080008000), uint64(0x7FFF7FFF7FFF7FFF))
	f.Add(uint64(0x3F0000003FC00000), uint64(0x4020000040200000), uint64(0x0F0E0D0C0B0A0908), uint64(0x1011FF7F20202020))
	f.Fuzz(func(t *testing.T, a, b, c, d uint64) {
		checkAll(t, V128{a, b}, V128{c, d}, V128{b ^ c, a ^ d})
	})
}

// TestTable checks that every SIMD opcode of WebAssembly 2.0 has exactly one
// implementation of the right shape, and memory forms a size.
func TestTable(t *testing.T) {
	tb := Portable()
	n := 0
	for op := wasm.Opcode(0x200); op <= 0x2FF; op++ {
		k := tb.KindOf(op)
		if !op.Known() {
			if k != KindNone {
				t.Errorf("%#x: unknown opcode has kind %d", int(op), k)
			}
			continue
		}
		n++
		s := Sub(op)
		var have int
		for _, ok := range []bool{tb.Unary[s] != nil, tb.Binary[s] != nil, tb.Ternary[s] != nil, tb.Shift[s] != nil,
			tb.Test[s] != nil, tb.Splat[s] != nil, tb.Extract[s] != nil, tb.Replace[s] != nil, tb.Load[s] != nil,
			tb.LoadLane[s] != nil, tb.Store[s] != nil, tb.StoreLane[s] != nil} {
			if ok {
				have++
			}
		}
		switch {
		case k == KindNone:
			t.Errorf("%v: no kind", op)
		case k == KindConst && have != 0, k != KindConst && have != 1:
			t.Errorf("%v: %d implementations", op, have)
		}
		mem := k == KindLoad || k == KindLoadLane || k == KindStore || k == KindStoreLane
		if mem != (tb.Size(op) != 0) {
			t.Errorf("%v: kind %d, size %d", op, k, tb.Size(op))
		}
	}
	if n != 236 {
		t.Errorf("%d SIMD opcodes, want 236", n)
	}
}

func ExampleTable() {
	tb := Portable()
	x := I32x4Splat(7)
	y := tb.Binary[Sub(wasm.OpI32x4Mul)](x, x)
	fmt.Println(tb.Extract[Sub(wasm.OpI32x4ExtractLane)](y, 3))
	// Output: 49
}

func f32b(f float32) uint64 { return uint64(math.Float32bits(f)) }

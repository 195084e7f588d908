package v128

import "math"

// Relaxed SIMD (Wasm 3.0). Each relaxed instruction may give one of a few
// results where its deterministic sibling is exactly specified; Ferry offers
// each observable behaviour as a separate exact function, named by the
// hardware whose instruction has it:
//
//   - "X86": what the SSE/AVX instruction an x86-64 compiler would use
//     gives (PSHUFB, CVTTPS2DQ, BLENDV*, MINPS/MAXPS, PMULHRSW, PMADDUBSW);
//   - "Arm": what the NEON instruction gives (TBL, FCVTZS/FCVTZU, BSL,
//     FMIN/FMAX, SQRDMULH, SMULL+ADDP/SDOT); these mostly coincide with the
//     deterministic Wasm 2.0 instruction.
//   - madd/nmadd are Fused (one rounding, as FMA/FMLA) or Unfused (the
//     product rounded, then the sum).
//
// The choice between them is a semantic decision of the callsite table
// (internal/builtins): made once, kept across a checkpoint and restore, and
// honoured on any CPU, since every function here is portable Go.

// RelaxedSwizzleX86 is PSHUFB: an index byte with its top bit set gives 0,
// any other selects lane index&15.
func RelaxedSwizzleX86(x, s V128) V128 {
	a, idx := u8s(x), u8s(s)
	var r [16]uint8
	for i, j := range idx {
		if j&0x80 == 0 {
			r[i] = a[j&15]
		}
	}
	return fromU8(r)
}

// I32x4RelaxedTruncF32x4SX86 is CVTTPS2DQ: NaN and out-of-range lanes give
// INT32_MIN.
func I32x4RelaxedTruncF32x4SX86(x V128) V128 {
	f := f32s(x)
	var r [4]uint32
	for i, v := range f {
		r[i] = truncS32X86(float64(v))
	}
	return fromU32(r)
}

// I32x4RelaxedTruncF32x4UX86 gives 0xFFFFFFFF for NaN and out-of-range
// lanes (VCVTTPS2UDQ).
func I32x4RelaxedTruncF32x4UX86(x V128) V128 {
	f := f32s(x)
	var r [4]uint32
	for i, v := range f {
		r[i] = truncU32X86(float64(v))
	}
	return fromU32(r)
}

// I32x4RelaxedTruncF64x2SZeroX86 is CVTTPD2DQ (upper lanes zero).
func I32x4RelaxedTruncF64x2SZeroX86(x V128) V128 {
	f := f64s(x)
	return fromU32([4]uint32{truncS32X86(f[0]), truncS32X86(f[1])})
}

// I32x4RelaxedTruncF64x2UZeroX86 is VCVTTPD2UDQ (upper lanes zero).
func I32x4RelaxedTruncF64x2UZeroX86(x V128) V128 {
	f := f64s(x)
	return fromU32([4]uint32{truncU32X86(f[0]), truncU32X86(f[1])})
}

func truncS32X86(f float64) uint32 {
	if !(f > -2147483649 && f < 2147483648) { // NaN fails both
		return 0x80000000
	}
	return uint32(int32(f))
}

func truncU32X86(f float64) uint32 {
	if !(f > -1 && f < 4294967296) {
		return 0xFFFFFFFF
	}
	return uint32(int64(f))
}

// fma32 is a*b+c rounded once to float32. The product is exact in float64;
// the sum is rounded to odd in float64 (TwoSum gives the exact error),
// which a final rounding to float32 turns into the correctly rounded
// result (53 >= 24+2 bits; Boldo & Melquiond).
func fma32(a, b, c float32) float32 {
	p := float64(float64(a) * float64(b))
	z := float64(c)
	s := p + z
	if math.IsInf(s, 0) || s != s {
		return float32(s)
	}
	bb := s - p
	e := (p - (s - bb)) + (z - bb)
	if e != 0 && math.Float64bits(s)&1 == 0 {
		s = math.Nextafter(s, math.Copysign(math.Inf(1), e))
	}
	return float32(s)
}

// softFMA is math.FMA called through a function value: Go's software
// implementation, never the FMA instruction.
var softFMA = math.FMA

// F32x4RelaxedMaddFused is a*b+c with one rounding per lane.
func F32x4RelaxedMaddFused(x, y, z V128) V128 {
	a, b, c := f32s(x), f32s(y), f32s(z)
	for i := range a {
		a[i] = fma32(a[i], b[i], c[i])
	}
	return fromF32(a)
}

// F32x4RelaxedMaddUnfused rounds the product, then the sum.
func F32x4RelaxedMaddUnfused(x, y, z V128) V128 {
	a, b, c := f32s(x), f32s(y), f32s(z)
	for i := range a {
		p := float32(a[i] * b[i])
		a[i] = float32(p + c[i])
	}
	return fromF32(a)
}

// F32x4RelaxedNmaddFused is -(a*b)+c with one rounding per lane.
func F32x4RelaxedNmaddFused(x, y, z V128) V128 {
	return F32x4RelaxedMaddFused(F32x4Neg(x), y, z)
}

// F32x4RelaxedNmaddUnfused is -(a*b) rounded, then +c rounded.
func F32x4RelaxedNmaddUnfused(x, y, z V128) V128 {
	return F32x4RelaxedMaddUnfused(F32x4Neg(x), y, z)
}

// F64x2RelaxedMaddFused is a*b+c with one rounding per lane (math.FMA:
// the FMA instruction where Go's runtime finds one, else Go's exact
// software version: the same bits).
func F64x2RelaxedMaddFused(x, y, z V128) V128 {
	a, b, c := f64s(x), f64s(y), f64s(z)
	return fromF64([2]float64{math.FMA(a[0], b[0], c[0]), math.FMA(a[1], b[1], c[1])})
}

// F64x2RelaxedMaddFusedSoft is F64x2RelaxedMaddFused computed in software
// only.
func F64x2RelaxedMaddFusedSoft(x, y, z V128) V128 {
	a, b, c := f64s(x), f64s(y), f64s(z)
	return fromF64([2]float64{softFMA(a[0], b[0], c[0]), softFMA(a[1], b[1], c[1])})
}

// F64x2RelaxedMaddUnfused rounds the product, then the sum.
func F64x2RelaxedMaddUnfused(x, y, z V128) V128 {
	a, b, c := f64s(x), f64s(y), f64s(z)
	for i := range a {
		p := float64(a[i] * b[i])
		a[i] = float64(p + c[i])
	}
	return fromF64(a)
}

// F64x2RelaxedNmaddFused is -(a*b)+c with one rounding per lane.
func F64x2RelaxedNmaddFused(x, y, z V128) V128 {
	return F64x2RelaxedMaddFused(F64x2Neg(x), y, z)
}

// F64x2RelaxedNmaddFusedSoft is F64x2RelaxedNmaddFused in software only.
func F64x2RelaxedNmaddFusedSoft(x, y, z V128) V128 {
	return F64x2RelaxedMaddFusedSoft(F64x2Neg(x), y, z)
}

// F64x2RelaxedNmaddUnfused is -(a*b) rounded, then +c rounded.
func F64x2RelaxedNmaddUnfused(x, y, z V128) V128 {
	return F64x2RelaxedMaddUnfused(F64x2Neg(x), y, z)
}

// Laneselect by the top bit of each mask lane (BLENDV*): the x86 choice.
// The Arm choice is Bitselect (BSL). Both agree when every mask lane is
// all ones or all zeros.

// I8x16RelaxedLaneselectX86 is PBLENDVB.
func I8x16RelaxedLaneselectX86(x, y, m V128) V128 {
	const top = 0x8080808080808080
	return Bitselect(x, y, V128{(m.Lo & top >> 7) * 0xFF, (m.Hi & top >> 7) * 0xFF})
}

// I16x8RelaxedLaneselectX86 selects whole 16-bit lanes by their top bit.
func I16x8RelaxedLaneselectX86(x, y, m V128) V128 {
	const top = 0x8000800080008000
	return Bitselect(x, y, V128{(m.Lo & top >> 15) * 0xFFFF, (m.Hi & top >> 15) * 0xFFFF})
}

// I32x4RelaxedLaneselectX86 is BLENDVPS.
func I32x4RelaxedLaneselectX86(x, y, m V128) V128 {
	const top = 0x8000000080000000
	return Bitselect(x, y, V128{(m.Lo & top >> 31) * 0xFFFFFFFF, (m.Hi & top >> 31) * 0xFFFFFFFF})
}

// I64x2RelaxedLaneselectX86 is BLENDVPD.
func I64x2RelaxedLaneselectX86(x, y, m V128) V128 {
	return Bitselect(x, y, V128{uint64(int64(m.Lo) >> 63), uint64(int64(m.Hi) >> 63)})
}

// MINPS/MAXPS and MINPD/MAXPD: a < b ? a : b (a > b ? a : b), so a NaN in
// either operand, or two zeros, give b unchanged. The Arm choice is the
// Wasm 2.0 min/max (FMIN/FMAX with the default NaN).

// F32x4RelaxedMinX86 is MINPS.
func F32x4RelaxedMinX86(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	for i := range a {
		if !(math.Float32frombits(a[i]) < math.Float32frombits(b[i])) {
			a[i] = b[i]
		}
	}
	return fromU32(a)
}

// F32x4RelaxedMaxX86 is MAXPS.
func F32x4RelaxedMaxX86(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	for i := range a {
		if !(math.Float32frombits(a[i]) > math.Float32frombits(b[i])) {
			a[i] = b[i]
		}
	}
	return fromU32(a)
}

// F64x2RelaxedMinX86 is MINPD.
func F64x2RelaxedMinX86(x, y V128) V128 {
	if !(math.Float64frombits(x.Lo) < math.Float64frombits(y.Lo)) {
		x.Lo = y.Lo
	}
	if !(math.Float64frombits(x.Hi) < math.Float64frombits(y.Hi)) {
		x.Hi = y.Hi
	}
	return x
}

// F64x2RelaxedMaxX86 is MAXPD.
func F64x2RelaxedMaxX86(x, y V128) V128 {
	if !(math.Float64frombits(x.Lo) > math.Float64frombits(y.Lo)) {
		x.Lo = y.Lo
	}
	if !(math.Float64frombits(x.Hi) > math.Float64frombits(y.Hi)) {
		x.Hi = y.Hi
	}
	return x
}

// I16x8RelaxedQ15mulrX86 is PMULHRSW: (a*b + 0x4000) >> 15 without
// saturation, so -32768 * -32768 gives -32768. The Arm choice (SQRDMULH)
// is I16x8Q15mulrSatS.
func I16x8RelaxedQ15mulrX86(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		a[i] = uint16((int32(int16(a[i]))*int32(int16(b[i])) + 0x4000) >> 15)
	}
	return fromU16(a)
}

// I16x8RelaxedDotArm treats both operands as signed and wraps the pair
// sums to 16 bits (SMULL + ADDP).
func I16x8RelaxedDotArm(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	var r [8]uint16
	for i := range r {
		r[i] = uint16(int32(int8(a[2*i]))*int32(int8(b[2*i])) + int32(int8(a[2*i+1]))*int32(int8(b[2*i+1])))
	}
	return fromU16(r)
}

// I16x8RelaxedDotX86 is PMADDUBSW with the second operand as the unsigned
// one: pair sums saturated to 16 bits.
func I16x8RelaxedDotX86(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	var r [8]uint16
	for i := range r {
		r[i] = satS16(int32(int8(a[2*i]))*int32(b[2*i]) + int32(int8(a[2*i+1]))*int32(b[2*i+1]))
	}
	return fromU16(r)
}

// I32x4RelaxedDotAddArm sums four signed products exactly into each 32-bit
// lane and adds c, wrapping (SDOT).
func I32x4RelaxedDotAddArm(x, y, z V128) V128 {
	a, b, c := u8s(x), u8s(y), u32s(z)
	for i := range c {
		s := int32(0)
		for j := 4 * i; j < 4*i+4; j++ {
			s += int32(int8(a[j])) * int32(int8(b[j]))
		}
		c[i] += uint32(s)
	}
	return fromU32(c)
}

// I32x4RelaxedDotAddX86 is PMADDUBSW (second operand unsigned, pair sums
// saturated to 16 bits), PMADDWD by ones and PADDD.
func I32x4RelaxedDotAddX86(x, y, z V128) V128 {
	d := u16s(I16x8RelaxedDotX86(x, y))
	c := u32s(z)
	for i := range c {
		c[i] += uint32(int32(int16(d[2*i])) + int32(int16(d[2*i+1])))
	}
	return fromU32(c)
}

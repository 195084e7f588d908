package v128

// Lane-shape changes: narrow, extend, extmul, extadd_pairwise, splat, extract
// and replace lane.

// I8x16NarrowI16x8S packs the signed 16-bit lanes of x (low half) and y (high
// half) into 8-bit lanes, saturating as signed.
func I8x16NarrowI16x8S(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	var r [16]uint8
	for i := range 8 {
		r[i] = satS8(int32(int16(a[i])))
		r[i+8] = satS8(int32(int16(b[i])))
	}
	return fromU8(r)
}

// I8x16NarrowI16x8U is I8x16NarrowI16x8S with unsigned saturation of the
// (still signed) inputs.
func I8x16NarrowI16x8U(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	var r [16]uint8
	for i := range 8 {
		r[i] = satU8(int32(int16(a[i])))
		r[i+8] = satU8(int32(int16(b[i])))
	}
	return fromU8(r)
}

func I16x8NarrowI32x4S(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	var r [8]uint16
	for i := range 4 {
		r[i] = satS16(int32(a[i]))
		r[i+4] = satS16(int32(b[i]))
	}
	return fromU16(r)
}

func I16x8NarrowI32x4U(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	var r [8]uint16
	for i := range 4 {
		r[i] = satU16(int32(a[i]))
		r[i+4] = satU16(int32(b[i]))
	}
	return fromU16(r)
}

func I16x8ExtendLowI8x16S(x V128) V128 {
	a := u8s(x)
	var r [8]uint16
	for i := range r {
		r[i] = uint16(int16(int8(a[i+0])))
	}
	return fromU16(r)
}

func I16x8ExtmulLowI8x16S(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	var r [8]uint16
	for i := range r {
		r[i] = uint16(int16(int8(a[i+0]))) * uint16(int16(int8(b[i+0])))
	}
	return fromU16(r)
}

func I16x8ExtendLowI8x16U(x V128) V128 {
	a := u8s(x)
	var r [8]uint16
	for i := range r {
		r[i] = uint16(a[i+0])
	}
	return fromU16(r)
}

func I16x8ExtmulLowI8x16U(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	var r [8]uint16
	for i := range r {
		r[i] = uint16(a[i+0]) * uint16(b[i+0])
	}
	return fromU16(r)
}

func I16x8ExtendHighI8x16S(x V128) V128 {
	a := u8s(x)
	var r [8]uint16
	for i := range r {
		r[i] = uint16(int16(int8(a[i+8])))
	}
	return fromU16(r)
}

func I16x8ExtmulHighI8x16S(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	var r [8]uint16
	for i := range r {
		r[i] = uint16(int16(int8(a[i+8]))) * uint16(int16(int8(b[i+8])))
	}
	return fromU16(r)
}

func I16x8ExtendHighI8x16U(x V128) V128 {
	a := u8s(x)
	var r [8]uint16
	for i := range r {
		r[i] = uint16(a[i+8])
	}
	return fromU16(r)
}

func I16x8ExtmulHighI8x16U(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	var r [8]uint16
	for i := range r {
		r[i] = uint16(a[i+8]) * uint16(b[i+8])
	}
	return fromU16(r)
}

func I16x8ExtaddPairwiseI8x16S(x V128) V128 {
	a := u8s(x)
	var r [8]uint16
	for i := range r {
		r[i] = uint16(int16(int8(a[2*i]))) + uint16(int16(int8(a[2*i+1])))
	}
	return fromU16(r)
}

func I16x8ExtaddPairwiseI8x16U(x V128) V128 {
	a := u8s(x)
	var r [8]uint16
	for i := range r {
		r[i] = uint16(a[2*i]) + uint16(a[2*i+1])
	}
	return fromU16(r)
}

func I32x4ExtendLowI16x8S(x V128) V128 {
	a := u16s(x)
	var r [4]uint32
	for i := range r {
		r[i] = uint32(int32(int16(a[i+0])))
	}
	return fromU32(r)
}

func I32x4ExtmulLowI16x8S(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	var r [4]uint32
	for i := range r {
		r[i] = uint32(int32(int16(a[i+0]))) * uint32(int32(int16(b[i+0])))
	}
	return fromU32(r)
}

func I32x4ExtendLowI16x8U(x V128) V128 {
	a := u16s(x)
	var r [4]uint32
	for i := range r {
		r[i] = uint32(a[i+0])
	}
	return fromU32(r)
}

func I32x4ExtmulLowI16x8U(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	var r [4]uint32
	for i := range r {
		r[i] = uint32(a[i+0]) * uint32(b[i+0])
	}
	return fromU32(r)
}

func I32x4ExtendHighI16x8S(x V128) V128 {
	a := u16s(x)
	var r [4]uint32
	for i := range r {
		r[i] = uint32(int32(int16(a[i+4])))
	}
	return fromU32(r)
}

func I32x4ExtmulHighI16x8S(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	var r [4]uint32
	for i := range r {
		r[i] = uint32(int32(int16(a[i+4]))) * uint32(int32(int16(b[i+4])))
	}
	return fromU32(r)
}

func I32x4ExtendHighI16x8U(x V128) V128 {
	a := u16s(x)
	var r [4]uint32
	for i := range r {
		r[i] = uint32(a[i+4])
	}
	return fromU32(r)
}

func I32x4ExtmulHighI16x8U(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	var r [4]uint32
	for i := range r {
		r[i] = uint32(a[i+4]) * uint32(b[i+4])
	}
	return fromU32(r)
}

func I32x4ExtaddPairwiseI16x8S(x V128) V128 {
	a := u16s(x)
	var r [4]uint32
	for i := range r {
		r[i] = uint32(int32(int16(a[2*i]))) + uint32(int32(int16(a[2*i+1])))
	}
	return fromU32(r)
}

func I32x4ExtaddPairwiseI16x8U(x V128) V128 {
	a := u16s(x)
	var r [4]uint32
	for i := range r {
		r[i] = uint32(a[2*i]) + uint32(a[2*i+1])
	}
	return fromU32(r)
}

func I64x2ExtendLowI32x4S(x V128) V128 {
	a := u32s(x)
	return V128{uint64(int64(int32(a[0]))), uint64(int64(int32(a[1])))}
}

func I64x2ExtmulLowI32x4S(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	return V128{uint64(int64(int32(a[0]))) * uint64(int64(int32(b[0]))), uint64(int64(int32(a[1]))) * uint64(int64(int32(b[1])))}
}

func I64x2ExtendLowI32x4U(x V128) V128 {
	a := u32s(x)
	return V128{uint64(a[0]), uint64(a[1])}
}

func I64x2ExtmulLowI32x4U(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	return V128{uint64(a[0]) * uint64(b[0]), uint64(a[1]) * uint64(b[1])}
}

func I64x2ExtendHighI32x4S(x V128) V128 {
	a := u32s(x)
	return V128{uint64(int64(int32(a[2]))), uint64(int64(int32(a[3])))}
}

func I64x2ExtmulHighI32x4S(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	return V128{uint64(int64(int32(a[2]))) * uint64(int64(int32(b[2]))), uint64(int64(int32(a[3]))) * uint64(int64(int32(b[3])))}
}

func I64x2ExtendHighI32x4U(x V128) V128 {
	a := u32s(x)
	return V128{uint64(a[2]), uint64(a[3])}
}

func I64x2ExtmulHighI32x4U(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	return V128{uint64(a[2]) * uint64(b[2]), uint64(a[3]) * uint64(b[3])}
}

// Splats take the scalar as its value-stack slot holds it (i32 and f32
// zero-extended; only the lane's low bits are used).

func I8x16Splat(x uint64) V128 {
	v := uint64(uint8(x)) * 0x0101010101010101
	return V128{v, v}
}

func I16x8Splat(x uint64) V128 {
	v := uint64(uint16(x)) * 0x0001000100010001
	return V128{v, v}
}

func I32x4Splat(x uint64) V128 {
	v := uint64(uint32(x)) * 0x0000000100000001
	return V128{v, v}
}

func I64x2Splat(x uint64) V128 { return V128{x, x} }

// Lane extraction returns the scalar as a value-stack slot holds it: i32 and
// f32 zero-extended to 64 bits (the _s forms sign-extend to 32 bits first).
// The lane index is below the lane count (validation proves it); it is
// masked anyway so a bad index cannot read elsewhere.

func I8x16ExtractLaneS(x V128, lane uint32) uint64 {
	return uint64(uint32(int32(int8(byteLane(x, lane)))))
}

func I8x16ExtractLaneU(x V128, lane uint32) uint64 { return uint64(byteLane(x, lane)) }

func byteLane(x V128, lane uint32) uint8 {
	lane &= 15
	if lane < 8 {
		return uint8(x.Lo >> (8 * lane))
	}
	return uint8(x.Hi >> (8 * (lane - 8)))
}

func I16x8ExtractLaneS(x V128, lane uint32) uint64 {
	return uint64(uint32(int32(int16(u16s(x)[lane&7]))))
}

func I16x8ExtractLaneU(x V128, lane uint32) uint64 { return uint64(u16s(x)[lane&7]) }

// I32x4ExtractLane serves f32x4.extract_lane too (the slot holds the bits).
func I32x4ExtractLane(x V128, lane uint32) uint64 { return uint64(u32s(x)[lane&3]) }

// I64x2ExtractLane serves f64x2.extract_lane too.
func I64x2ExtractLane(x V128, lane uint32) uint64 {
	if lane&1 == 0 {
		return x.Lo
	}
	return x.Hi
}

func I8x16ReplaceLane(x V128, lane uint32, v uint64) V128 {
	a := u8s(x)
	a[lane&15] = uint8(v)
	return fromU8(a)
}

func I16x8ReplaceLane(x V128, lane uint32, v uint64) V128 {
	a := u16s(x)
	a[lane&7] = uint16(v)
	return fromU16(a)
}

// I32x4ReplaceLane serves f32x4.replace_lane too.
func I32x4ReplaceLane(x V128, lane uint32, v uint64) V128 {
	a := u32s(x)
	a[lane&3] = uint32(v)
	return fromU32(a)
}

// I64x2ReplaceLane serves f64x2.replace_lane too.
func I64x2ReplaceLane(x V128, lane uint32, v uint64) V128 {
	if lane&1 == 0 {
		x.Lo = v
	} else {
		x.Hi = v
	}
	return x
}

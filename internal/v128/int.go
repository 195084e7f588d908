package v128

// Integer lane operations. Each is written out per lane shape: convert to an
// array of lanes, one loop, convert back.

import "math/bits"

// Bitwise operations.

func Not(x V128) V128       { return V128{^x.Lo, ^x.Hi} }
func And(x, y V128) V128    { return V128{x.Lo & y.Lo, x.Hi & y.Hi} }
func AndNot(x, y V128) V128 { return V128{x.Lo &^ y.Lo, x.Hi &^ y.Hi} }
func Or(x, y V128) V128     { return V128{x.Lo | y.Lo, x.Hi | y.Hi} }
func Xor(x, y V128) V128    { return V128{x.Lo ^ y.Lo, x.Hi ^ y.Hi} }

// Bitselect takes the bits of x where c is 1 and of y where it is 0.
func Bitselect(x, y, c V128) V128 {
	return V128{x.Lo&c.Lo | y.Lo&^c.Lo, x.Hi&c.Hi | y.Hi&^c.Hi}
}

// AnyTrue is 1 when any bit is set.
func AnyTrue(x V128) uint32 {
	if x.Lo|x.Hi != 0 {
		return 1
	}
	return 0
}

// I8x16 comparisons: all ones in a lane where the comparison holds.

func I8x16Eq(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	for i := range a {
		if a[i] == b[i] {
			a[i] = ^uint8(0)
		} else {
			a[i] = 0
		}
	}
	return fromU8(a)
}

func I8x16Ne(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	for i := range a {
		if a[i] != b[i] {
			a[i] = ^uint8(0)
		} else {
			a[i] = 0
		}
	}
	return fromU8(a)
}

func I8x16LtS(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	for i := range a {
		if int8(a[i]) < int8(b[i]) {
			a[i] = ^uint8(0)
		} else {
			a[i] = 0
		}
	}
	return fromU8(a)
}

func I8x16LtU(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	for i := range a {
		if a[i] < b[i] {
			a[i] = ^uint8(0)
		} else {
			a[i] = 0
		}
	}
	return fromU8(a)
}

func I8x16GtS(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	for i := range a {
		if int8(a[i]) > int8(b[i]) {
			a[i] = ^uint8(0)
		} else {
			a[i] = 0
		}
	}
	return fromU8(a)
}

func I8x16GtU(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	for i := range a {
		if a[i] > b[i] {
			a[i] = ^uint8(0)
		} else {
			a[i] = 0
		}
	}
	return fromU8(a)
}

func I8x16LeS(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	for i := range a {
		if int8(a[i]) <= int8(b[i]) {
			a[i] = ^uint8(0)
		} else {
			a[i] = 0
		}
	}
	return fromU8(a)
}

func I8x16LeU(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	for i := range a {
		if a[i] <= b[i] {
			a[i] = ^uint8(0)
		} else {
			a[i] = 0
		}
	}
	return fromU8(a)
}

func I8x16GeS(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	for i := range a {
		if int8(a[i]) >= int8(b[i]) {
			a[i] = ^uint8(0)
		} else {
			a[i] = 0
		}
	}
	return fromU8(a)
}

func I8x16GeU(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	for i := range a {
		if a[i] >= b[i] {
			a[i] = ^uint8(0)
		} else {
			a[i] = 0
		}
	}
	return fromU8(a)
}

// I8x16Add adds lanes without carries crossing lanes: the low bits of each
// lane are added with the top bits cleared, then the top bits are xored in.
func I8x16Add(x, y V128) V128 {
	const h = 0x8080808080808080
	return V128{(x.Lo&^h + y.Lo&^h) ^ (x.Lo^y.Lo)&h, (x.Hi&^h + y.Hi&^h) ^ (x.Hi^y.Hi)&h}
}

// I8x16Sub subtracts lanes without borrows crossing lanes (the top bit of each
// lane of x is set so the lane below never borrows from it, then corrected).
func I8x16Sub(x, y V128) V128 {
	const h = 0x8080808080808080
	return V128{(x.Lo | h - y.Lo&^h) ^ (x.Lo^^y.Lo)&h, (x.Hi | h - y.Hi&^h) ^ (x.Hi^^y.Hi)&h}
}

func I8x16MinS(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	for i := range a {
		a[i] = uint8(min(int8(a[i]), int8(b[i])))
	}
	return fromU8(a)
}

func I8x16MinU(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	for i := range a {
		a[i] = min(a[i], b[i])
	}
	return fromU8(a)
}

func I8x16MaxS(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	for i := range a {
		a[i] = uint8(max(int8(a[i]), int8(b[i])))
	}
	return fromU8(a)
}

func I8x16MaxU(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	for i := range a {
		a[i] = max(a[i], b[i])
	}
	return fromU8(a)
}

// I8x16Abs is the absolute value, wrapping: abs(INT_MIN) = INT_MIN.
func I8x16Abs(x V128) V128 {
	a := u8s(x)
	for i := range a {
		if int8(a[i]) < 0 {
			a[i] = -a[i]
		}
	}
	return fromU8(a)
}

func I8x16Neg(x V128) V128 {
	a := u8s(x)
	for i := range a {
		a[i] = -a[i]
	}
	return fromU8(a)
}

func I8x16AddSatS(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	for i := range a {
		a[i] = satS8(int32(int8(a[i])) + int32(int8(b[i])))
	}
	return fromU8(a)
}

func I8x16AddSatU(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	for i := range a {
		a[i] = satU8(int32(a[i]) + int32(b[i]))
	}
	return fromU8(a)
}

func I8x16SubSatS(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	for i := range a {
		a[i] = satS8(int32(int8(a[i])) - int32(int8(b[i])))
	}
	return fromU8(a)
}

func I8x16SubSatU(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	for i := range a {
		a[i] = satU8(int32(a[i]) - int32(b[i]))
	}
	return fromU8(a)
}

// I8x16AvgrU is the rounding average (a + b + 1) / 2.
func I8x16AvgrU(x, y V128) V128 {
	a, b := u8s(x), u8s(y)
	for i := range a {
		a[i] = uint8((int32(a[i]) + int32(b[i]) + 1) >> 1)
	}
	return fromU8(a)
}

// I8x16 shifts: the count is taken modulo the lane width.

func I8x16Shl(x V128, n uint32) V128 {
	n &= 7
	m := uint64(0xff<<n&0xff) * 0x0101010101010101 // the bits that stay in each lane
	return V128{x.Lo << n & m, x.Hi << n & m}
}

func I8x16ShrS(x V128, n uint32) V128 {
	a := u8s(x)
	n &= 7
	for i := range a {
		a[i] = uint8(int8(a[i]) >> n)
	}
	return fromU8(a)
}

func I8x16ShrU(x V128, n uint32) V128 {
	n &= 7
	m := uint64(0xff>>n) * 0x0101010101010101
	return V128{x.Lo >> n & m, x.Hi >> n & m}
}

// I8x16AllTrue is 1 when every lane is non-zero.
func I8x16AllTrue(x V128) uint32 {
	for _, l := range u8s(x) {
		if l == 0 {
			return 0
		}
	}
	return 1
}

// I8x16Bitmask gathers the top bit of each lane, lane i into bit i.
func I8x16Bitmask(x V128) uint32 {
	var m uint32
	for i, l := range u8s(x) {
		m |= uint32(l>>7) << i
	}
	return m
}

// I16x8 comparisons: all ones in a lane where the comparison holds.

func I16x8Eq(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		if a[i] == b[i] {
			a[i] = ^uint16(0)
		} else {
			a[i] = 0
		}
	}
	return fromU16(a)
}

func I16x8Ne(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		if a[i] != b[i] {
			a[i] = ^uint16(0)
		} else {
			a[i] = 0
		}
	}
	return fromU16(a)
}

func I16x8LtS(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		if int16(a[i]) < int16(b[i]) {
			a[i] = ^uint16(0)
		} else {
			a[i] = 0
		}
	}
	return fromU16(a)
}

func I16x8LtU(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		if a[i] < b[i] {
			a[i] = ^uint16(0)
		} else {
			a[i] = 0
		}
	}
	return fromU16(a)
}

func I16x8GtS(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		if int16(a[i]) > int16(b[i]) {
			a[i] = ^uint16(0)
		} else {
			a[i] = 0
		}
	}
	return fromU16(a)
}

func I16x8GtU(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		if a[i] > b[i] {
			a[i] = ^uint16(0)
		} else {
			a[i] = 0
		}
	}
	return fromU16(a)
}

func I16x8LeS(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		if int16(a[i]) <= int16(b[i]) {
			a[i] = ^uint16(0)
		} else {
			a[i] = 0
		}
	}
	return fromU16(a)
}

func I16x8LeU(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		if a[i] <= b[i] {
			a[i] = ^uint16(0)
		} else {
			a[i] = 0
		}
	}
	return fromU16(a)
}

func I16x8GeS(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		if int16(a[i]) >= int16(b[i]) {
			a[i] = ^uint16(0)
		} else {
			a[i] = 0
		}
	}
	return fromU16(a)
}

func I16x8GeU(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		if a[i] >= b[i] {
			a[i] = ^uint16(0)
		} else {
			a[i] = 0
		}
	}
	return fromU16(a)
}

// I16x8Add adds lanes without carries crossing lanes: the low bits of each
// lane are added with the top bits cleared, then the top bits are xored in.
func I16x8Add(x, y V128) V128 {
	const h = 0x8000800080008000
	return V128{(x.Lo&^h + y.Lo&^h) ^ (x.Lo^y.Lo)&h, (x.Hi&^h + y.Hi&^h) ^ (x.Hi^y.Hi)&h}
}

// I16x8Sub subtracts lanes without borrows crossing lanes (the top bit of each
// lane of x is set so the lane below never borrows from it, then corrected).
func I16x8Sub(x, y V128) V128 {
	const h = 0x8000800080008000
	return V128{(x.Lo | h - y.Lo&^h) ^ (x.Lo^^y.Lo)&h, (x.Hi | h - y.Hi&^h) ^ (x.Hi^^y.Hi)&h}
}

func I16x8MinS(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		a[i] = uint16(min(int16(a[i]), int16(b[i])))
	}
	return fromU16(a)
}

func I16x8MinU(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		a[i] = min(a[i], b[i])
	}
	return fromU16(a)
}

func I16x8MaxS(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		a[i] = uint16(max(int16(a[i]), int16(b[i])))
	}
	return fromU16(a)
}

func I16x8MaxU(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		a[i] = max(a[i], b[i])
	}
	return fromU16(a)
}

// I16x8Abs is the absolute value, wrapping: abs(INT_MIN) = INT_MIN.
func I16x8Abs(x V128) V128 {
	a := u16s(x)
	for i := range a {
		if int16(a[i]) < 0 {
			a[i] = -a[i]
		}
	}
	return fromU16(a)
}

func I16x8Neg(x V128) V128 {
	a := u16s(x)
	for i := range a {
		a[i] = -a[i]
	}
	return fromU16(a)
}

func I16x8AddSatS(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		a[i] = satS16(int32(int16(a[i])) + int32(int16(b[i])))
	}
	return fromU16(a)
}

func I16x8AddSatU(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		a[i] = satU16(int32(a[i]) + int32(b[i]))
	}
	return fromU16(a)
}

func I16x8SubSatS(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		a[i] = satS16(int32(int16(a[i])) - int32(int16(b[i])))
	}
	return fromU16(a)
}

func I16x8SubSatU(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		a[i] = satU16(int32(a[i]) - int32(b[i]))
	}
	return fromU16(a)
}

// I16x8AvgrU is the rounding average (a + b + 1) / 2.
func I16x8AvgrU(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		a[i] = uint16((int32(a[i]) + int32(b[i]) + 1) >> 1)
	}
	return fromU16(a)
}

func I16x8Mul(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		a[i] *= b[i]
	}
	return fromU16(a)
}

// I16x8 shifts: the count is taken modulo the lane width.

func I16x8Shl(x V128, n uint32) V128 {
	n &= 15
	m := uint64(0xffff<<n&0xffff) * 0x0001000100010001 // the bits that stay in each lane
	return V128{x.Lo << n & m, x.Hi << n & m}
}

func I16x8ShrS(x V128, n uint32) V128 {
	a := u16s(x)
	n &= 15
	for i := range a {
		a[i] = uint16(int16(a[i]) >> n)
	}
	return fromU16(a)
}

func I16x8ShrU(x V128, n uint32) V128 {
	n &= 15
	m := uint64(0xffff>>n) * 0x0001000100010001
	return V128{x.Lo >> n & m, x.Hi >> n & m}
}

// I16x8AllTrue is 1 when every lane is non-zero.
func I16x8AllTrue(x V128) uint32 {
	for _, l := range u16s(x) {
		if l == 0 {
			return 0
		}
	}
	return 1
}

// I16x8Bitmask gathers the top bit of each lane, lane i into bit i.
func I16x8Bitmask(x V128) uint32 {
	var m uint32
	for i, l := range u16s(x) {
		m |= uint32(l>>15) << i
	}
	return m
}

// I32x4 comparisons: all ones in a lane where the comparison holds.

func I32x4Eq(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	for i := range a {
		if a[i] == b[i] {
			a[i] = ^uint32(0)
		} else {
			a[i] = 0
		}
	}
	return fromU32(a)
}

func I32x4Ne(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	for i := range a {
		if a[i] != b[i] {
			a[i] = ^uint32(0)
		} else {
			a[i] = 0
		}
	}
	return fromU32(a)
}

func I32x4LtS(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	for i := range a {
		if int32(a[i]) < int32(b[i]) {
			a[i] = ^uint32(0)
		} else {
			a[i] = 0
		}
	}
	return fromU32(a)
}

func I32x4LtU(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	for i := range a {
		if a[i] < b[i] {
			a[i] = ^uint32(0)
		} else {
			a[i] = 0
		}
	}
	return fromU32(a)
}

func I32x4GtS(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	for i := range a {
		if int32(a[i]) > int32(b[i]) {
			a[i] = ^uint32(0)
		} else {
			a[i] = 0
		}
	}
	return fromU32(a)
}

func I32x4GtU(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	for i := range a {
		if a[i] > b[i] {
			a[i] = ^uint32(0)
		} else {
			a[i] = 0
		}
	}
	return fromU32(a)
}

func I32x4LeS(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	for i := range a {
		if int32(a[i]) <= int32(b[i]) {
			a[i] = ^uint32(0)
		} else {
			a[i] = 0
		}
	}
	return fromU32(a)
}

func I32x4LeU(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	for i := range a {
		if a[i] <= b[i] {
			a[i] = ^uint32(0)
		} else {
			a[i] = 0
		}
	}
	return fromU32(a)
}

func I32x4GeS(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	for i := range a {
		if int32(a[i]) >= int32(b[i]) {
			a[i] = ^uint32(0)
		} else {
			a[i] = 0
		}
	}
	return fromU32(a)
}

func I32x4GeU(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	for i := range a {
		if a[i] >= b[i] {
			a[i] = ^uint32(0)
		} else {
			a[i] = 0
		}
	}
	return fromU32(a)
}

// I32x4Add adds lanes without carries crossing lanes: the low bits of each
// lane are added with the top bits cleared, then the top bits are xored in.
func I32x4Add(x, y V128) V128 {
	const h = 0x8000000080000000
	return V128{(x.Lo&^h + y.Lo&^h) ^ (x.Lo^y.Lo)&h, (x.Hi&^h + y.Hi&^h) ^ (x.Hi^y.Hi)&h}
}

// I32x4Sub subtracts lanes without borrows crossing lanes (the top bit of each
// lane of x is set so the lane below never borrows from it, then corrected).
func I32x4Sub(x, y V128) V128 {
	const h = 0x8000000080000000
	return V128{(x.Lo | h - y.Lo&^h) ^ (x.Lo^^y.Lo)&h, (x.Hi | h - y.Hi&^h) ^ (x.Hi^^y.Hi)&h}
}

func I32x4MinS(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	for i := range a {
		a[i] = uint32(min(int32(a[i]), int32(b[i])))
	}
	return fromU32(a)
}

func I32x4MinU(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	for i := range a {
		a[i] = min(a[i], b[i])
	}
	return fromU32(a)
}

func I32x4MaxS(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	for i := range a {
		a[i] = uint32(max(int32(a[i]), int32(b[i])))
	}
	return fromU32(a)
}

func I32x4MaxU(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	for i := range a {
		a[i] = max(a[i], b[i])
	}
	return fromU32(a)
}

// I32x4Abs is the absolute value, wrapping: abs(INT_MIN) = INT_MIN.
func I32x4Abs(x V128) V128 {
	a := u32s(x)
	for i := range a {
		if int32(a[i]) < 0 {
			a[i] = -a[i]
		}
	}
	return fromU32(a)
}

func I32x4Neg(x V128) V128 {
	a := u32s(x)
	for i := range a {
		a[i] = -a[i]
	}
	return fromU32(a)
}

func I32x4Mul(x, y V128) V128 {
	a, b := u32s(x), u32s(y)
	for i := range a {
		a[i] *= b[i]
	}
	return fromU32(a)
}

// I32x4 shifts: the count is taken modulo the lane width.

func I32x4Shl(x V128, n uint32) V128 {
	n &= 31
	m := uint64(0xffffffff<<n&0xffffffff) * 0x0000000100000001 // the bits that stay in each lane
	return V128{x.Lo << n & m, x.Hi << n & m}
}

func I32x4ShrS(x V128, n uint32) V128 {
	a := u32s(x)
	n &= 31
	for i := range a {
		a[i] = uint32(int32(a[i]) >> n)
	}
	return fromU32(a)
}

func I32x4ShrU(x V128, n uint32) V128 {
	n &= 31
	m := uint64(0xffffffff>>n) * 0x0000000100000001
	return V128{x.Lo >> n & m, x.Hi >> n & m}
}

// I32x4AllTrue is 1 when every lane is non-zero.
func I32x4AllTrue(x V128) uint32 {
	for _, l := range u32s(x) {
		if l == 0 {
			return 0
		}
	}
	return 1
}

// I32x4Bitmask gathers the top bit of each lane, lane i into bit i.
func I32x4Bitmask(x V128) uint32 {
	var m uint32
	for i, l := range u32s(x) {
		m |= uint32(l>>31) << i
	}
	return m
}

// I8x16Popcnt counts the set bits of each byte.
func I8x16Popcnt(x V128) V128 {
	a := u8s(x)
	for i := range a {
		a[i] = uint8(bits.OnesCount8(a[i]))
	}
	return fromU8(a)
}

// I16x8Q15mulrSatS is the rounding, saturating Q15 product
// sat16((a*b + 0x4000) >> 15); only -32768 * -32768 saturates.
func I16x8Q15mulrSatS(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	for i := range a {
		a[i] = satS16((int32(int16(a[i]))*int32(int16(b[i])) + 0x4000) >> 15)
	}
	return fromU16(a)
}

// I32x4DotI16x8S sums the products of adjacent signed 16-bit lanes into 32-bit
// lanes, wrapping (only -32768*-32768*2 = 2^31 wraps).
func I32x4DotI16x8S(x, y V128) V128 {
	a, b := u16s(x), u16s(y)
	var r [4]uint32
	for i := range r {
		p0 := int32(int16(a[2*i])) * int32(int16(b[2*i]))
		p1 := int32(int16(a[2*i+1])) * int32(int16(b[2*i+1]))
		r[i] = uint32(p0) + uint32(p1)
	}
	return fromU32(r)
}

// i64x2: two lanes, written out.

func I64x2Add(x, y V128) V128 { return V128{x.Lo + y.Lo, x.Hi + y.Hi} }
func I64x2Sub(x, y V128) V128 { return V128{x.Lo - y.Lo, x.Hi - y.Hi} }
func I64x2Mul(x, y V128) V128 { return V128{x.Lo * y.Lo, x.Hi * y.Hi} }
func I64x2Neg(x V128) V128    { return V128{-x.Lo, -x.Hi} }
func I64x2Abs(x V128) V128    { return V128{abs64(x.Lo), abs64(x.Hi)} }

func abs64(x uint64) uint64 {
	if int64(x) < 0 {
		return -x
	}
	return x
}

func I64x2Eq(x, y V128) V128 { return V128{mask(x.Lo == y.Lo), mask(x.Hi == y.Hi)} }
func I64x2Ne(x, y V128) V128 { return V128{mask(x.Lo != y.Lo), mask(x.Hi != y.Hi)} }
func I64x2LtS(x, y V128) V128 {
	return V128{mask(int64(x.Lo) < int64(y.Lo)), mask(int64(x.Hi) < int64(y.Hi))}
}
func I64x2GtS(x, y V128) V128 {
	return V128{mask(int64(x.Lo) > int64(y.Lo)), mask(int64(x.Hi) > int64(y.Hi))}
}
func I64x2LeS(x, y V128) V128 {
	return V128{mask(int64(x.Lo) <= int64(y.Lo)), mask(int64(x.Hi) <= int64(y.Hi))}
}
func I64x2GeS(x, y V128) V128 {
	return V128{mask(int64(x.Lo) >= int64(y.Lo)), mask(int64(x.Hi) >= int64(y.Hi))}
}

func I64x2Shl(x V128, n uint32) V128 { n &= 63; return V128{x.Lo << n, x.Hi << n} }
func I64x2ShrS(x V128, n uint32) V128 {
	n &= 63
	return V128{uint64(int64(x.Lo) >> n), uint64(int64(x.Hi) >> n)}
}
func I64x2ShrU(x V128, n uint32) V128 { n &= 63; return V128{x.Lo >> n, x.Hi >> n} }

func I64x2AllTrue(x V128) uint32 {
	if x.Lo != 0 && x.Hi != 0 {
		return 1
	}
	return 0
}

func I64x2Bitmask(x V128) uint32 { return uint32(x.Lo>>63) | uint32(x.Hi>>63)<<1 }

// Swizzle selects bytes of x by the indices in s; an index of 16 or more
// gives 0.
func Swizzle(x, s V128) V128 {
	a, idx := u8s(x), u8s(s)
	var r [16]uint8
	for i, j := range idx {
		if j < 16 {
			r[i] = a[j]
		}
	}
	return fromU8(r)
}

// Shuffle selects bytes of the 32-byte concatenation x:y by the indices in
// m (validation guarantees each is below 32; the index is masked anyway).
func Shuffle(x, y, m V128) V128 {
	var ab [32]uint8
	x.PutBytes(ab[0:16])
	y.PutBytes(ab[16:32])
	idx := u8s(m)
	var r [16]uint8
	for i, j := range idx {
		r[i] = ab[j&31]
	}
	return fromU8(r)
}

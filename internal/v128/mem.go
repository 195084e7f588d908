package v128

import "encoding/binary"

// Memory forms. A tier checks bounds and passes the accessed bytes: a
// loader gets exactly the LoadSize bytes at the effective address, a lane
// store gets the lane's bytes to write.

// Load is v128.load: 16 bytes.
func Load(b []byte) V128 { return FromBytes(b) }

// Store is v128.store.
func Store(v V128, b []byte) { v.PutBytes(b) }

// Extending loads read 8 bytes as half-width lanes and widen them.

func Load8x8S(b []byte) V128  { return I16x8ExtendLowI8x16S(V128{Lo: binary.LittleEndian.Uint64(b)}) }
func Load8x8U(b []byte) V128  { return I16x8ExtendLowI8x16U(V128{Lo: binary.LittleEndian.Uint64(b)}) }
func Load16x4S(b []byte) V128 { return I32x4ExtendLowI16x8S(V128{Lo: binary.LittleEndian.Uint64(b)}) }
func Load16x4U(b []byte) V128 { return I32x4ExtendLowI16x8U(V128{Lo: binary.LittleEndian.Uint64(b)}) }
func Load32x2S(b []byte) V128 { return I64x2ExtendLowI32x4S(V128{Lo: binary.LittleEndian.Uint64(b)}) }
func Load32x2U(b []byte) V128 { return I64x2ExtendLowI32x4U(V128{Lo: binary.LittleEndian.Uint64(b)}) }

// Splat loads read one lane and copy it to every lane.

func Load8Splat(b []byte) V128  { return I8x16Splat(uint64(b[0])) }
func Load16Splat(b []byte) V128 { return I16x8Splat(uint64(binary.LittleEndian.Uint16(b))) }
func Load32Splat(b []byte) V128 { return I32x4Splat(uint64(binary.LittleEndian.Uint32(b))) }
func Load64Splat(b []byte) V128 { return I64x2Splat(binary.LittleEndian.Uint64(b)) }

// Zero loads fill lane 0 and clear the rest.

func Load32Zero(b []byte) V128 { return V128{Lo: uint64(binary.LittleEndian.Uint32(b))} }
func Load64Zero(b []byte) V128 { return V128{Lo: binary.LittleEndian.Uint64(b)} }

// Lane loads replace one lane of v by the bytes read.

func Load8Lane(v V128, lane uint32, b []byte) V128 {
	return I8x16ReplaceLane(v, lane, uint64(b[0]))
}

func Load16Lane(v V128, lane uint32, b []byte) V128 {
	return I16x8ReplaceLane(v, lane, uint64(binary.LittleEndian.Uint16(b)))
}

func Load32Lane(v V128, lane uint32, b []byte) V128 {
	return I32x4ReplaceLane(v, lane, uint64(binary.LittleEndian.Uint32(b)))
}

func Load64Lane(v V128, lane uint32, b []byte) V128 {
	return I64x2ReplaceLane(v, lane, binary.LittleEndian.Uint64(b))
}

// Lane stores write one lane of v to b.

func Store8Lane(v V128, lane uint32, b []byte) { b[0] = uint8(I8x16ExtractLaneU(v, lane)) }

func Store16Lane(v V128, lane uint32, b []byte) {
	binary.LittleEndian.PutUint16(b, uint16(I16x8ExtractLaneU(v, lane)))
}

func Store32Lane(v V128, lane uint32, b []byte) {
	binary.LittleEndian.PutUint32(b, uint32(I32x4ExtractLane(v, lane)))
}

func Store64Lane(v V128, lane uint32, b []byte) {
	binary.LittleEndian.PutUint64(b, I64x2ExtractLane(v, lane))
}

package builtins

import "encoding/binary"

// CRC32CFunc updates a CRC-32C (Castagnoli) checksum with p, as
// hash/crc32.Update(crc, crc32.MakeTable(crc32.Castagnoli), p) does.
type CRC32CFunc func(crc uint32, p []byte) uint32

// CRC32C is the checksum of checkpoint sections.
var CRC32C = &Builtin[CRC32CFunc]{
	Name:       "crc32c",
	Impls:      append(archCRC32C, Impl[CRC32CFunc]{Name: "portable", Fn: CRC32CPortable}),
	Trampoline: crc32cTrampoline,
}

// castagnoli is the reversed CRC-32C polynomial.
const castagnoli = 0x82f63b78

// crcTables are the slicing-by-8 tables: crcTables[0] the byte-at-a-time
// table, crcTables[k][b] the CRC of b followed by k zero bytes.
var crcTables = func() *[8][256]uint32 {
	t := new([8][256]uint32)
	for i := range 256 {
		c := uint32(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ castagnoli
			} else {
				c >>= 1
			}
		}
		t[0][i] = c
	}
	for i := range 256 {
		c := t[0][i]
		for k := 1; k < 8; k++ {
			c = t[0][c&0xff] ^ c>>8
			t[k][i] = c
		}
	}
	return t
}()

// CRC32CPortable is the reference: slicing-by-8.
func CRC32CPortable(crc uint32, p []byte) uint32 {
	t := crcTables
	crc = ^crc
	for len(p) >= 8 {
		lo := binary.LittleEndian.Uint32(p) ^ crc
		hi := binary.LittleEndian.Uint32(p[4:])
		crc = t[7][lo&0xff] ^ t[6][lo>>8&0xff] ^ t[5][lo>>16&0xff] ^ t[4][lo>>24] ^
			t[3][hi&0xff] ^ t[2][hi>>8&0xff] ^ t[1][hi>>16&0xff] ^ t[0][hi>>24]
		p = p[8:]
	}
	for _, b := range p {
		crc = t[0][byte(crc)^b] ^ crc>>8
	}
	return ^crc
}

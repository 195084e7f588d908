package builtins

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/ferryvm/ferry/internal/v128"
)

// FuzzV128 feeds three vectors from the fuzzer to every V128 op.
func FuzzV128(f *testing.F) {
	f.Add(make([]byte, 48))
	f.Add(bytes.Repeat([]byte{0xff, 0x7f, 0xc0, 0x00}, 12))
	f.Add([]byte("\x00\x00\xc0\x7f\x01\x00\x80\x7f\x00\x00\x00\x80\x00\x00\x00\x3f" +
		"\x00\x00\x00\x00\x00\x00\xf8\x7f\x00\x00\x00\x00\x00\x00\xe0\x3f" +
		"\x00\x01\x02\x03\x10\x11\x12\x13\x1f\x0f\x20\x80\xff\x07\x08\x09"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var buf [48]byte
		copy(buf[:], b)
		var xs []v128.V128
		for i := 0; i < 48; i += 16 {
			xs = append(xs, v128.V128{Lo: binary.LittleEndian.Uint64(buf[i:]), Hi: binary.LittleEndian.Uint64(buf[i+8:])})
		}
		checkV128(t, xs)
	})
}

// FuzzMemory checks fill, copy, the zero scan and CRC-32C on fuzzer data
// at a fuzzer-chosen offset, length and value.
func FuzzMemory(f *testing.F) {
	f.Add([]byte("hello, world"), uint16(3), uint16(5), byte(0x61), int8(2))
	f.Add(make([]byte, 4200), uint16(0), uint16(4096), byte(0), int8(-5))
	f.Fuzz(func(t *testing.T, data []byte, off, n uint16, v byte, shift int8) {
		if int(off)+int(n) > len(data) {
			return
		}
		seg := data[off : int(off)+int(n)]
		want := CRC32CPortable(0, seg)
		for _, im := range runnable(CRC32C) {
			if got := im.Fn(0, seg); got != want {
				t.Fatalf("crc32c/%s = %#x, want %#x", im.Name, got, want)
			}
		}
		zero := IsZeroPortable(seg)
		for _, im := range runnable(PageIsZero) {
			if im.Fn(seg) != zero {
				t.Fatalf("page.iszero/%s != %v", im.Name, zero)
			}
		}
		for _, im := range runnable(MemoryFill) {
			a, b := bytes.Clone(data), bytes.Clone(data)
			FillPortable(a[off:int(off)+int(n)], v)
			im.Fn(b[off:int(off)+int(n)], v)
			if !bytes.Equal(a, b) {
				t.Fatalf("memory.fill/%s differs", im.Name)
			}
		}
		d := int(off) + int(shift)
		if d < 0 || d+int(n) > len(data) {
			return
		}
		for _, im := range runnable(MemoryCopy) {
			a, b := bytes.Clone(data), bytes.Clone(data)
			CopyPortable(a[d:d+int(n)], a[off:int(off)+int(n)])
			im.Fn(b[d:d+int(n)], b[off:int(off)+int(n)])
			if !bytes.Equal(a, b) {
				t.Fatalf("memory.copy/%s differs", im.Name)
			}
		}
	})
}

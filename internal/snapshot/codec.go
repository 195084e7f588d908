package snapshot

import (
	"encoding/binary"
	"fmt"
	"math"
)

// encoder appends the primitive encodings of docs/snapshot-format.md
// ("Encodings") to a byte slice.
type encoder struct{ b []byte }

func (e *encoder) u8(v uint8)     { e.b = append(e.b, v) }
func (e *encoder) u32(v uint32)   { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64)   { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *encoder) uv(v uint64)    { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) sv(v int64)     { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) str(s string)   { e.uv(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) fixed(b []byte) { e.b = append(e.b, b...) }
func (e *encoder) strs(s []string) {
	e.uv(uint64(len(s)))
	for _, x := range s {
		e.str(x)
	}
}
func (e *encoder) boolean(v bool) {
	if v {
		e.u8(1)
	} else {
		e.u8(0)
	}
}

// decoder reads what encoder wrote. Its error is sticky: after the first
// failure every read returns zero values, so decoding code checks err once
// at the end. No read allocates more than the input can justify.
type decoder struct {
	b    []byte
	off  int
	err  error
	what string // section being decoded, for messages
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s section at byte %d: %s", ErrCorrupt, d.what, d.off, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) need(n int) bool {
	if d.err != nil {
		return false
	}
	if n < 0 || len(d.b)-d.off < n {
		d.fail("truncated: need %d bytes, %d left", n, len(d.b)-d.off)
		return false
	}
	return true
}

func (d *decoder) u8() uint8 {
	if !d.need(1) {
		return 0
	}
	v := d.b[d.off]
	d.off++
	return v
}

func (d *decoder) u32() uint32 {
	if !d.need(4) {
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v
}

func (d *decoder) u64() uint64 {
	if !d.need(8) {
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v
}

func (d *decoder) uv() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad unsigned varint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) sv() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad signed varint")
		return 0
	}
	d.off += n
	return v
}

// u32v reads an unsigned varint that must fit in 32 bits.
func (d *decoder) u32v(what string) uint32 {
	v := d.uv()
	if v > math.MaxUint32 {
		d.fail("%s %d does not fit in 32 bits", what, v)
		return 0
	}
	return uint32(v)
}

// count reads an element count, at most max and at most the number of
// bytes left divided by minSize (every element takes at least minSize
// bytes), so a forged count cannot make the reader allocate.
func (d *decoder) count(what string, max uint64, minSize int) int {
	n := d.uv()
	if d.err != nil {
		return 0
	}
	if n > max {
		d.fail("%s count %d exceeds the limit %d", what, n, max)
		return 0
	}
	if minSize > 0 && n > uint64(len(d.b)-d.off)/uint64(minSize) {
		d.fail("%s count %d exceeds the remaining data", what, n)
		return 0
	}
	return int(n)
}

func (d *decoder) boolean() bool {
	switch d.u8() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("boolean is neither 0 nor 1")
	return false
}

func (d *decoder) bytes(what string, max uint64) []byte {
	n := d.count(what+" length", max, 1)
	if !d.need(n) {
		return nil
	}
	out := append([]byte(nil), d.b[d.off:d.off+n]...)
	d.off += n
	return out
}

func (d *decoder) str(what string) string { return string(d.bytes(what, MaxString)) }

func (d *decoder) strs(what string, max uint64) []string {
	n := d.count(what, max, 1)
	if d.err != nil {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str(what)
	}
	return out
}

func (d *decoder) fixed(n int) []byte {
	if !d.need(n) {
		return nil
	}
	out := d.b[d.off : d.off+n]
	d.off += n
	return out
}

// end checks that the whole payload was consumed. Trailing bytes are an
// error: a newer minor version adds sections, never fields.
func (d *decoder) end() error {
	if d.err == nil && d.off != len(d.b) {
		d.fail("%d unexpected trailing bytes", len(d.b)-d.off)
	}
	return d.err
}

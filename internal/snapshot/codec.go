package snapshot

import (
	"encoding/binary"
	"fmt"
	"io"
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

// decoder reads what encoder wrote, from a payload in memory (b) or from
// a stream of size bytes (r), a compressed section decompressing as it is
// decoded: then memory grows with what the decoding has accepted, never
// with what a forged length or a zstd bomb claims. Its error is sticky:
// after the first failure every read returns zero values, so decoding
// code checks err once at the end. No read allocates more than the input
// can justify.
type decoder struct {
	b    []byte
	r    byteStream // nil when decoding b
	size int        // bytes r holds
	off  int
	err  error
	what string // section being decoded, for messages
	tmp  [8]byte
}

type byteStream interface {
	io.Reader
	io.ByteReader
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s section at byte %d: %s", ErrCorrupt, d.what, d.off, fmt.Sprintf(format, args...))
	}
}

// left is the number of payload bytes not yet decoded.
func (d *decoder) left() int {
	if d.r != nil {
		return d.size - d.off
	}
	return len(d.b) - d.off
}

func (d *decoder) need(n int) bool {
	if d.err != nil {
		return false
	}
	if n < 0 || d.left() < n {
		d.fail("truncated: need %d bytes, %d left", n, d.left())
		return false
	}
	return true
}

// read returns the next n bytes, which the caller must have checked with
// need: a slice of b, or of into (when it is large enough) or of a new
// buffer filled from r.
func (d *decoder) read(n int, into []byte) []byte {
	if d.r == nil {
		out := d.b[d.off : d.off+n]
		d.off += n
		return out
	}
	if n > len(into) {
		into = make([]byte, n)
	}
	out := into[:n]
	if _, err := io.ReadFull(d.r, out); err != nil {
		d.fail("decompressing: %v", err)
		return nil
	}
	d.off += n
	return out
}

func (d *decoder) u8() uint8 {
	if !d.need(1) {
		return 0
	}
	if d.r == nil {
		v := d.b[d.off]
		d.off++
		return v
	}
	v, err := d.r.ReadByte()
	if err != nil {
		d.fail("decompressing: %v", err)
		return 0
	}
	d.off++
	return v
}

func (d *decoder) u32() uint32 {
	if !d.need(4) {
		return 0
	}
	if b := d.read(4, d.tmp[:]); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if !d.need(8) {
		return 0
	}
	if b := d.read(8, d.tmp[:]); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// varint reads the bytes of one varint (at most binary.MaxVarintLen64)
// into d.tmp-sized scratch and returns them.
func (d *decoder) varint(buf *[binary.MaxVarintLen64]byte) []byte {
	if d.err != nil {
		return nil
	}
	if d.r == nil {
		n := min(len(d.b)-d.off, binary.MaxVarintLen64)
		copy(buf[:], d.b[d.off:d.off+n])
		return buf[:n]
	}
	for i := range buf {
		if d.left() <= i {
			return buf[:i]
		}
		c, err := d.r.ReadByte()
		if err != nil {
			d.fail("decompressing: %v", err)
			return nil
		}
		buf[i] = c
		if c < 0x80 {
			return buf[:i+1]
		}
	}
	return buf[:]
}

// consumed advances past the n bytes of a varint that varint returned
// (in stream mode they are already read).
func (d *decoder) consumed(n, got int) {
	if d.r == nil {
		d.off += n
		return
	}
	d.off += got
}

func (d *decoder) uv() uint64 {
	var buf [binary.MaxVarintLen64]byte
	b := d.varint(&buf)
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(b)
	if n <= 0 {
		d.fail("bad unsigned varint")
		return 0
	}
	d.consumed(n, len(b))
	return v
}

func (d *decoder) sv() int64 {
	var buf [binary.MaxVarintLen64]byte
	b := d.varint(&buf)
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(b)
	if n <= 0 {
		d.fail("bad signed varint")
		return 0
	}
	d.consumed(n, len(b))
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
	if minSize > 0 && n > uint64(d.left())/uint64(minSize) {
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
	if d.r == nil {
		return append([]byte(nil), d.read(n, nil)...)
	}
	return d.read(n, nil)
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
	return d.read(n, nil)
}

// end checks that the whole payload was consumed and, from a stream, that
// it held exactly its size. Trailing bytes are an error: a newer minor
// version adds sections, never fields.
func (d *decoder) end() error {
	if d.err == nil && d.left() != 0 {
		d.fail("%d unexpected trailing bytes", d.left())
	}
	if d.err == nil && d.r != nil {
		if _, err := d.r.ReadByte(); err != io.EOF {
			d.fail("decompressed to more than %d bytes (%v)", d.size, err)
		}
	}
	return d.err
}

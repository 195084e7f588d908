package wasi

import (
	"encoding/binary"

	"github.com/ferryvm/ferry/api"
)

// guestMem wraps the caller's linear memory. Every access is bounds checked
// through api.Memory; a failed access yields ErrnoFault, never a host panic.
// A guest without a memory gets ErrnoFault on any access.
type guestMem struct{ m api.Memory }

func (g guestMem) read(off, n uint32) ([]byte, Errno) {
	if g.m == nil {
		return nil, ErrnoFault
	}
	b, ok := g.m.Read(uint64(off), uint64(n))
	if !ok {
		return nil, ErrnoFault
	}
	return b, ErrnoSuccess
}

func (g guestMem) write(off uint32, b []byte) Errno {
	if g.m == nil || !g.m.Write(uint64(off), b) {
		return ErrnoFault
	}
	return ErrnoSuccess
}

func (g guestMem) putU32(off, v uint32) Errno {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return g.write(off, b[:])
}

func (g guestMem) putU64(off uint32, v uint64) Errno {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return g.write(off, b[:])
}

// str reads a guest string (not NUL terminated).
func (g guestMem) str(off, n uint32) (string, Errno) {
	b, e := g.read(off, n)
	if e != 0 {
		return "", e
	}
	return string(b), 0
}

// iovecs reads an array of n (buf, len) pairs and returns slices aliasing
// guest memory. Every vector is bounds checked before any data moves, so a
// bad vector fails the whole call with ErrnoFault and nothing is transferred.
func (g guestMem) iovecs(off, n uint32) ([][]byte, Errno) {
	if uint64(n)*sizeIovec > 1<<32 {
		return nil, ErrnoFault
	}
	raw, e := g.read(off, n*sizeIovec)
	if e != 0 {
		return nil, e
	}
	raw = append([]byte(nil), raw...) // the vectors may overlap their own table
	out := make([][]byte, 0, n)
	for i := uint32(0); i < n; i++ {
		p := binary.LittleEndian.Uint32(raw[i*8:])
		l := binary.LittleEndian.Uint32(raw[i*8+4:])
		b, e := g.read(p, l)
		if e != 0 {
			return nil, e
		}
		out = append(out, b)
	}
	return out, 0
}

func le16(b []byte, v uint16) { binary.LittleEndian.PutUint16(b, v) }
func le32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }
func le64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }

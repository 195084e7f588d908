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

// MaxPathBytes bounds a path (or symlink target) a guest passes: Linux's
// PATH_MAX, NUL included, and ErrnoNametoolong beyond as there. The host
// copies a path and splits it into components, so a guest's length would
// otherwise size that work, up to 4 GiB.
const MaxPathBytes = 4096

// str reads a guest path (not NUL terminated).
func (g guestMem) str(off, n uint32) (string, Errno) {
	if n >= MaxPathBytes {
		return "", ErrnoNametoolong
	}
	b, e := g.read(off, n)
	if e != 0 {
		return "", e
	}
	return string(b), 0
}

// MaxIovecs is the most vectors one fd_read, fd_write, fd_pread,
// fd_pwrite, sock_recv or sock_send takes: Linux's IOV_MAX, and like
// readv(2) a call with more fails with ErrnoInval. Without it the host
// would allocate a slice header per vector for a count the guest picks
// (2^26 empty vectors made 2 GB and a minute inside one host call).
const MaxIovecs = 1024

// MaxIOBytes is the most one vectored call transfers: Linux's MAX_RW_COUNT
// (INT_MAX rounded down to a page).
const MaxIOBytes = 0x7ffff000

// iovecs reads an array of n (buf, len) pairs and returns slices aliasing
// guest memory. Every vector is bounds checked before any data moves, so a
// bad vector fails the whole call with ErrnoFault and nothing is transferred.
func (g guestMem) iovecs(off, n uint32) ([][]byte, Errno) {
	if n > MaxIovecs {
		return nil, ErrnoInval
	}
	raw, e := g.read(off, n*sizeIovec)
	if e != 0 {
		return nil, e
	}
	raw = append([]byte(nil), raw...) // the vectors may overlap their own table
	out := make([][]byte, 0, n)
	var total uint64
	for i := uint32(0); i < n; i++ {
		p := binary.LittleEndian.Uint32(raw[i*8:])
		l := binary.LittleEndian.Uint32(raw[i*8+4:])
		b, e := g.read(p, l)
		if e != 0 {
			return nil, e
		}
		// Like Linux, transfer at most MaxIOBytes in one call (a short
		// transfer): vectors may alias one another, so 1024 of them over
		// a 4 GiB memory would otherwise ask for 4 TiB.
		b = b[:min(uint64(len(b)), MaxIOBytes-total)]
		total += uint64(len(b))
		out = append(out, b)
	}
	return out, 0
}

func le16(b []byte, v uint16) { binary.LittleEndian.PutUint16(b, v) }
func le32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }
func le64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }

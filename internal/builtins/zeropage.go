package builtins

import "encoding/binary"

// IsZeroFunc reports whether every byte of p is zero.
type IsZeroFunc func(p []byte) bool

// PageSize is the page a checkpoint writer scans (4 KiB); the kernels are
// fastest on multiples of it but accept any length.
const PageSize = 4096

// PageIsZero is the checkpoint writer's zero-page scan.
var PageIsZero = &Builtin[IsZeroFunc]{
	Name:       "page.iszero",
	Impls:      append(archIsZero, Impl[IsZeroFunc]{Name: "portable", Fn: IsZeroPortable}),
	Trampoline: isZeroTrampoline,
}

// IsZeroPortable is the reference: eight bytes at a time, ORed over 64.
func IsZeroPortable(p []byte) bool {
	for len(p) >= 64 {
		v := binary.LittleEndian.Uint64(p[0:]) | binary.LittleEndian.Uint64(p[8:]) |
			binary.LittleEndian.Uint64(p[16:]) | binary.LittleEndian.Uint64(p[24:]) |
			binary.LittleEndian.Uint64(p[32:]) | binary.LittleEndian.Uint64(p[40:]) |
			binary.LittleEndian.Uint64(p[48:]) | binary.LittleEndian.Uint64(p[56:])
		if v != 0 {
			return false
		}
		p = p[64:]
	}
	for _, b := range p {
		if b != 0 {
			return false
		}
	}
	return true
}

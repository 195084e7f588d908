package builtins

import "unsafe"

// FillFunc sets every byte of dst to v (memory.fill).
type FillFunc func(dst []byte, v byte)

// CopyFunc copies src to dst, len(dst) == len(src), which may overlap in
// either direction (memory.copy: memmove semantics).
type CopyFunc func(dst, src []byte)

// MemoryFill is the builtin behind memory.fill.
var MemoryFill = &Builtin[FillFunc]{
	Name:       "memory.fill",
	Impls:      append(archFill, Impl[FillFunc]{Name: "portable", Fn: FillPortable}),
	Trampoline: fillTrampoline,
}

// MemoryCopy is the builtin behind memory.copy.
var MemoryCopy = &Builtin[CopyFunc]{
	Name:       "memory.copy",
	Impls:      append(archCopy, Impl[CopyFunc]{Name: "portable", Fn: CopyPortable}),
	Trampoline: copyTrampoline,
}

// FillPortable is the reference memory.fill: clear for zero (Go's memclr),
// otherwise one byte then doubling copies (Go's memmove), which beats a
// byte loop from a few dozen bytes on.
func FillPortable(dst []byte, v byte) {
	if len(dst) == 0 {
		return
	}
	if v == 0 {
		clear(dst)
		return
	}
	if len(dst) < 16 {
		for i := range dst {
			dst[i] = v
		}
		return
	}
	dst[0] = v
	for n := 1; n < len(dst); n *= 2 {
		copy(dst[n:], dst[:n])
	}
}

// FillLoop is the byte loop the interpreter used before the builtin; kept
// for the benchmarks.
func FillLoop(dst []byte, v byte) {
	for i := range dst {
		dst[i] = v
	}
}

// CopyPortable is the reference memory.copy: Go's memmove.
func CopyPortable(dst, src []byte) { copy(dst, src) }

// overlapsForward reports whether copying src to dst front to back would
// overwrite source bytes before reading them (dst starts inside src).
func overlapsForward(dst, src []byte) bool {
	if len(src) == 0 {
		return false
	}
	d, s := uintptr(unsafe.Pointer(&dst[0])), uintptr(unsafe.Pointer(&src[0]))
	return d > s && d < s+uintptr(len(src))
}

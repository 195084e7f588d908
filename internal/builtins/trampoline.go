package builtins

import "github.com/ferryvm/ferry/internal/v128"

// Trampolines, one per signature: an unresolved slot's implementation.

func fillTrampoline(resolve func() FillFunc) FillFunc {
	return func(dst []byte, v byte) { resolve()(dst, v) }
}

func copyTrampoline(resolve func() CopyFunc) CopyFunc {
	return func(dst, src []byte) { resolve()(dst, src) }
}

func isZeroTrampoline(resolve func() IsZeroFunc) IsZeroFunc {
	return func(p []byte) bool { return resolve()(p) }
}

func crc32cTrampoline(resolve func() CRC32CFunc) CRC32CFunc {
	return func(crc uint32, p []byte) uint32 { return resolve()(crc, p) }
}

// UnaryTrampoline is the trampoline of v128 unary builtins.
func UnaryTrampoline(resolve func() v128.UnaryFunc) v128.UnaryFunc {
	return func(x v128.V128) v128.V128 { return resolve()(x) }
}

// BinaryTrampoline is the trampoline of v128 binary builtins.
func BinaryTrampoline(resolve func() v128.BinaryFunc) v128.BinaryFunc {
	return func(x, y v128.V128) v128.V128 { return resolve()(x, y) }
}

// TernaryTrampoline is the trampoline of v128 ternary builtins.
func TernaryTrampoline(resolve func() v128.TernaryFunc) v128.TernaryFunc {
	return func(x, y, z v128.V128) v128.V128 { return resolve()(x, y, z) }
}

// TestTrampoline is the trampoline of v128 test builtins.
func TestTrampoline(resolve func() v128.TestFunc) v128.TestFunc {
	return func(x v128.V128) uint32 { return resolve()(x) }
}

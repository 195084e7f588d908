//go:build !(amd64 && (linux || darwin || freebsd || netbsd || openbsd || dragonfly))

package native

// Elsewhere no unit can be mapped, so nothing below is ever reached with
// code to run; Map reports ErrNotSupported first.

const supported = false

func roundToPage(n int) int { return n }

func mapCode([]byte, int) ([]byte, error) { return nil, ErrNotSupported }

func unmapCode([]byte) error { return ErrNotSupported }

func addrOf([]byte) uintptr { return 0 }

func callNative(*block, uintptr) { panic("native: no unit can exist on this platform") }

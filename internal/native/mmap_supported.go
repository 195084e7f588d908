//go:build amd64 && (linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package native

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

const supported = true

var pageSize = unix.Getpagesize()

// roundToPage returns n rounded up to whole pages, or -1 on overflow.
func roundToPage(n int) int {
	r := (n + pageSize - 1) &^ (pageSize - 1)
	if r < n {
		return -1
	}
	return r
}

// mapCode maps size bytes read-write, copies code in and turns the pages
// read-execute. The mapping is never writable and executable at once: the
// code is complete before any of it can run, and nothing can patch it
// afterwards (a unit is retired by switching dispatch, not by rewriting).
func mapCode(code []byte, size int) ([]byte, error) {
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil, fmt.Errorf("native: mapping %d bytes of code: %w", size, err)
	}
	copy(mem, code)
	if err := unix.Mprotect(mem, unix.PROT_READ|unix.PROT_EXEC); err != nil {
		_ = unix.Munmap(mem)
		return nil, fmt.Errorf("native: making code read-execute: %w", err)
	}
	return mem, nil
}

func unmapCode(mem []byte) error {
	if err := unix.Munmap(mem); err != nil {
		return fmt.Errorf("native: unmapping code: %w", err)
	}
	return nil
}

func addrOf(mem []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(mem))) }

func callNative(b *block, pc uintptr) { enter(b, pc) }

//go:build unix

package store

import (
	"math"
	"syscall"
)

// reserve maps size bytes of anonymous, private, zero-filled memory without
// reserving swap for it (MAP_NORESERVE): the kernel commits a page only when
// it is first touched.
func reserve(size uint64) ([]byte, bool, error) {
	if size > math.MaxInt {
		return nil, false, syscall.ENOMEM
	}
	b, err := syscall.Mmap(-1, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|mapNoReserve)
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

func release(b []byte) { _ = syscall.Munmap(b) }

//go:build !unix

package store

import (
	"errors"
	"math"
)

// reserve falls back to the Go heap where mmap is not available: the whole
// maximum is allocated (zeroed pages are usually committed lazily by the OS).
func reserve(size uint64) ([]byte, bool, error) {
	if size > math.MaxInt {
		return nil, false, errors.New("memory reservation too large")
	}
	return make([]byte, size), false, nil
}

func release([]byte) {}

// Package pagemap reports which pages of a range of this process's address
// space are resident, from /proc/self/pagemap (Linux). A restore uses it to
// learn which pages of memory mapped from a checkpoint the guest has
// touched (docs/snapshot-format.md, "First-touch verification").
//
// An unprivileged process reads the present and swapped bits; the frame
// numbers it is not given are not needed.
package pagemap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

const (
	entrySize   = 8
	presentBit  = 1 << 63
	swappedBit  = 1 << 62
	readEntries = 4096 // entries read at once: 32 KiB, 16 MiB of address space
)

// Reader reads the page map of this process.
type Reader struct {
	f        *os.File
	pageSize uintptr
	buf      []byte
}

// Open opens /proc/self/pagemap.
func Open() (*Reader, error) {
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return nil, fmt.Errorf("pagemap: %w", err)
	}
	return &Reader{f: f, pageSize: uintptr(os.Getpagesize()), buf: make([]byte, readEntries*entrySize)}, nil
}

// Close closes the page map.
func (r *Reader) Close() error { return r.f.Close() }

// Touched calls fn with the index (from addr) of every page of
// [addr, addr+length) that is present or swapped out, that is, that was
// faulted in and not dropped since. addr and length must be page-aligned.
func (r *Reader) Touched(addr, length uintptr, fn func(page uintptr)) error {
	if addr%r.pageSize != 0 || length%r.pageSize != 0 {
		return fmt.Errorf("pagemap: range %#x+%#x is not page-aligned", addr, length)
	}
	first, n := addr/r.pageSize, length/r.pageSize
	for done := uintptr(0); done < n; {
		k := min(n-done, readEntries)
		b := r.buf[:k*entrySize]
		got, err := r.f.ReadAt(b, int64((first+done)*entrySize))
		if got != len(b) {
			if err == nil {
				err = errors.New("short read")
			}
			return fmt.Errorf("pagemap: reading entries of %#x: %w", addr, err)
		}
		for i := uintptr(0); i < k; i++ {
			if binary.LittleEndian.Uint64(b[i*entrySize:])&(presentBit|swappedBit) != 0 {
				fn(done + i)
			}
		}
		done += k
	}
	return nil
}

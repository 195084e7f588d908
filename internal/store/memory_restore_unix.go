//go:build unix

package store

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// zero replaces the first n bytes of the reservation with fresh anonymous
// pages (MAP_FIXED over the old mapping).
func (m *Memory) zero(n uint64) error {
	if !m.mmapped {
		clear(m.reservation[:n])
		return nil
	}
	_, err := unix.MmapPtr(-1, 0, unsafe.Pointer(&m.reservation[0]), uintptr(n),
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_FIXED|mapNoReserve)
	return err
}

func mapFile(res []byte, fd int, fileOff int64, memOff, length uint64) error {
	ps := uint64(os.Getpagesize())
	if memOff%ps != 0 || uint64(fileOff)%ps != 0 || length%ps != 0 {
		return ErrNotMappable
	}
	_, err := unix.MmapPtr(fd, fileOff, unsafe.Pointer(&res[memOff]), uintptr(length),
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_FIXED)
	return err
}

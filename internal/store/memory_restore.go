package store

import (
	"errors"
	"fmt"

	"github.com/ferryvm/ferry/internal/wasm"
)

// ErrNotMappable is returned by MapFile where the memory or the platform
// cannot map a file over memory pages; the caller copies instead.
var ErrNotMappable = errors.New("memory cannot map files")

// Reset makes the memory pages pages long and all zero, as a restore
// needs before it writes or maps a checkpoint's pages. Where the memory is
// an mmap reservation the old pages are replaced by fresh zero pages (the
// kernel drops them; nothing is written), so the cost does not grow with
// the memory size.
func (m *Memory) Reset(pages uint64) error {
	if m.closed.Load() {
		return errors.New("memory is closed")
	}
	if pages > m.Max {
		return fmt.Errorf("%w: %d pages, maximum %d", ErrMemoryLimit, pages, m.Max)
	}
	n := pages * wasm.PageSize
	if old := uint64(len(m.Buf)); old > 0 {
		if err := m.zero(old); err != nil {
			return err
		}
	}
	m.Buf = m.reservation[:n:n]
	m.mapsFile.Store(false)
	return nil
}

// MapFile maps length bytes of the file fd at fileOff copy-on-write
// (MAP_PRIVATE) over the memory at memOff: the guest sees the file's bytes,
// its writes stay private, and pages are read from the file only when
// touched. memOff, fileOff and length must be multiples of the host page
// size and the range must lie within the memory. Where the file shrinks
// while the memory lives, accesses to the pages beyond its end fault
// (SIGBUS): code touching the memory must run under
// debug.SetPanicOnFault and tell the fault apart with MappedFileFault.
func (m *Memory) MapFile(fd int, fileOff int64, memOff, length uint64) error {
	if !m.mmapped || m.closed.Load() {
		return ErrNotMappable
	}
	if memOff > uint64(len(m.Buf)) || length > uint64(len(m.Buf))-memOff {
		return fmt.Errorf("map file: range [%d, +%d) beyond memory size %d", memOff, length, len(m.Buf))
	}
	if length == 0 {
		return nil
	}
	if err := mapFile(m.reservation, fd, fileOff, memOff, length); err != nil {
		return err
	}
	m.mapsFile.Store(true)
	return nil
}

package store

import "github.com/ferryvm/ferry/api"

// MemoryGuard checks memory before a host function reads it. A restore
// that lets a run's effects out once the pages its guest touched are
// verified installs one (docs/snapshot-format.md, "First-touch
// verification"): a host function reads pages the guest never touched (an
// fd_write of a buffer left in the checkpoint), and those must be verified
// before their bytes can leave the process. Neither method may block on
// anything but reading the checkpoint file: host functions call them with
// no context to give up on.
type MemoryGuard interface {
	// Range returns nil once bytes [off, off+n) of memory 0 may be read;
	// an error means they may not, and the guard has stopped the
	// instance.
	Range(off, n uint64) error
	// All returns nil once all of memory 0 may be read.
	All() error
}

// SetMemoryGuard installs g for the memory host functions see (Caller);
// nil removes it.
func (i *Instance) SetMemoryGuard(g MemoryGuard) {
	if g == nil {
		i.intr.memGuard.Store(nil)
		return
	}
	i.intr.memGuard.Store(&g)
}

// guardedMemory is memory 0 as host functions see it under a guard: a
// read the guard refuses fails as an out-of-bounds one does (WASI:
// EFAULT). Writes need no guard: the bytes a host function writes are its
// own, and the rest of a page it writes becomes resident, which the
// restore's next check of the touched pages covers.
type guardedMemory struct {
	m *Memory
	g MemoryGuard
}

func (gm guardedMemory) Size() uint64 { return gm.m.Size() }

func (gm guardedMemory) Bytes() []byte {
	if gm.g.All() != nil {
		return nil
	}
	return gm.m.Bytes()
}

func (gm guardedMemory) Read(offset, n uint64) ([]byte, bool) {
	if size := gm.m.Size(); offset > size || n > size-offset {
		return nil, false
	}
	if gm.g.Range(offset, n) != nil {
		return nil, false
	}
	return gm.m.Read(offset, n)
}

func (gm guardedMemory) Write(offset uint64, b []byte) bool { return gm.m.Write(offset, b) }

func (gm guardedMemory) Grow(deltaPages uint64) (uint64, bool) { return gm.m.Grow(deltaPages) }

var _ api.Memory = guardedMemory{}

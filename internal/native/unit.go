package native

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// Allocator maps code units and bounds the executable memory they take.
// It is safe for concurrent use. Each runtime owns its allocator, so the
// caps of two runtimes in one process never mix.
type Allocator struct {
	limit int

	mu   sync.Mutex
	used int
}

// NewAllocator returns an allocator that maps at most limit bytes of
// code pages at a time (sizes are counted after rounding to pages).
func NewAllocator(limit int) *Allocator { return &Allocator{limit: max(limit, 0)} }

// Used returns the bytes of code pages currently mapped.
func (a *Allocator) Used() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.used
}

// Limit returns the cap given to NewAllocator.
func (a *Allocator) Limit() int { return a.limit }

// Unit is one mapping of generated code, read-execute once it exists.
// Entries into it and Free may race: a unit with code running in it
// refuses to be freed (ErrUnitBusy), and a freed unit refuses entries.
type Unit struct {
	alloc *Allocator
	mem   []byte  // the whole mapping, read-execute; touched only by Map and Free
	base  uintptr // address of mem[0], fixed for the unit's life
	size  int     // bytes of code at the start of mem
	// state counts the entries running in the unit; -1 once freed.
	state atomic.Int64
}

// Map copies code into new pages, mapped read-write while they are
// filled and read-execute afterwards.
func (a *Allocator) Map(code []byte) (*Unit, error) {
	if len(code) == 0 {
		return nil, fmt.Errorf("native: empty code unit")
	}
	if !supported {
		return nil, ErrNotSupported
	}
	size := roundToPage(len(code))
	if size <= 0 {
		return nil, fmt.Errorf("%w: %d bytes of code", ErrCodeLimit, len(code))
	}
	a.mu.Lock()
	if size > a.limit-a.used {
		used := a.used
		a.mu.Unlock()
		return nil, fmt.Errorf("%w: %d bytes mapped, %d more asked, limit %d", ErrCodeLimit, used, size, a.limit)
	}
	a.used += size
	a.mu.Unlock()

	mem, err := mapCode(code, size)
	if err != nil {
		a.release(size)
		return nil, err
	}
	return &Unit{alloc: a, mem: mem, base: addrOf(mem), size: len(code)}, nil
}

func (a *Allocator) release(size int) {
	a.mu.Lock()
	a.used -= size
	a.mu.Unlock()
}

// Len returns the bytes of code in the unit.
func (u *Unit) Len() int { return u.size }

// Addr returns the address of the unit's first byte, or 0 once freed.
// Generated code refers to itself only by relative addresses; Addr is for
// tables that map native PCs back to pause points.
func (u *Unit) Addr() uintptr {
	if u.state.Load() < 0 {
		return 0
	}
	return u.base
}

// Free unmaps the unit. It fails with ErrUnitBusy while code runs in it
// and ErrUnitFreed the second time.
func (u *Unit) Free() error {
	if !u.state.CompareAndSwap(0, -1) {
		if u.state.Load() < 0 {
			return ErrUnitFreed
		}
		return ErrUnitBusy
	}
	size := len(u.mem)
	err := unmapCode(u.mem)
	u.mem = nil
	u.alloc.release(size)
	return err
}

// Enter runs the unit's code from byte offset off on c until it exits.
// off must be an entry the compiler made: the check keeps it inside the
// unit, but cannot know where instructions start. The trampoline loads the context block into RBX, the value-stack base
// into R12 and the linear-memory base into R13 (docs/native.md).
func (u *Unit) Enter(c *Context, off int) (Exit, error) {
	if off < 0 || off >= u.size {
		return Exit{}, fmt.Errorf("%w: offset %d, unit of %d bytes", ErrBadEntry, off, u.size)
	}
	return u.run(c, u.base+uintptr(off))
}

// Continue re-enters the unit at the continuation of c's last exit, which
// must be an exit that continues and lie in this unit.
func (u *Unit) Continue(c *Context) (Exit, error) { return u.run(c, 0) }

// run enters at pc, or at c's continuation when pc is 0. It takes no
// defers: nothing between the claims and their release can panic, and
// this is the path every exit pays for.
func (u *Unit) run(c *Context, pc uintptr) (Exit, error) {
	if !c.running.CompareAndSwap(false, true) {
		return Exit{}, ErrContextBusy
	}
	if pc == 0 {
		pc = c.blk.resume
		if pc < u.base || pc >= u.base+uintptr(u.size) {
			c.running.Store(false)
			return Exit{}, fmt.Errorf("%w: continuation %#x, unit at %#x+%d", ErrBadEntry, pc, u.base, u.size)
		}
	}
	for {
		s := u.state.Load()
		if s < 0 {
			c.running.Store(false)
			return Exit{}, ErrUnitFreed
		}
		if u.state.CompareAndSwap(s, s+1) {
			break
		}
	}
	// The previous continuation is cleared so that an exit that forgets
	// to store its own cannot re-enter at a stale address.
	c.blk.resume = 0
	callNative(&c.blk, pc)
	u.state.Add(-1)
	e := Exit{Kind: ExitKind(c.blk.exit), Arg: c.blk.exitArg, Aux: c.blk.aux}
	if !e.Kind.Continues() {
		c.blk.resume = 0
	}
	c.running.Store(false)
	if e.Kind == ExitNone || e.Kind >= exitKinds {
		return e, fmt.Errorf("%w: kind %d", ErrBadExit, uint32(e.Kind))
	}
	return e, nil
}

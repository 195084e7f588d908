package store

import (
	"context"
	"sync"
	"sync/atomic"
)

// Armer is implemented by lowered code whose pause points are only polled
// while armed (docs/interpreter.md, "Armed pause points"): the execution
// tier then pays nothing for polling until someone sets an interrupt bit.
// Arm and Disarm are counted: code armed twice stays armed until disarmed
// twice. Both may be called from any goroutine while the code runs.
type Armer interface {
	Arm()
	Disarm()
}

// interrupts is the per-instance interrupt state: the word the tiers poll
// and what setting it implies for the store's code.
type interrupts struct {
	mu       sync.Mutex // orders the word's zero/non-zero transitions with arming
	word     atomic.Uint32
	abortErr atomic.Pointer[error]
	// hostGate, when set, runs before every host call made from this
	// instance's code (see SetHostGate).
	hostGate atomic.Pointer[func(context.Context) error]
	// memGuard, when set, checks what host functions read of memory 0
	// (see SetMemoryGuard).
	memGuard atomic.Pointer[MemoryGuard]
	// hook is called when InterruptPause or InterruptAbort is set (see
	// SetInterruptHook).
	hook atomic.Pointer[func(bits uint32)]
}

// InterruptWord is the word the tiers poll at pause points; only its Load
// belongs on a hot path. Change it with SetInterrupt and ClearInterrupt,
// which keep the store's code armed while any bit is set.
func (i *Instance) InterruptWord() *atomic.Uint32 { return &i.intr.word }

// SetInterrupt sets bits of the interrupt word. The first bit set arms the
// code of every instance of the store, so that the running code reaches a
// pause point that polls the word.
func (i *Instance) SetInterrupt(bits uint32) {
	i.intr.mu.Lock()
	old := i.intr.word.Or(bits)
	if old == 0 && bits != 0 {
		i.Store.arm(1)
	}
	i.intr.mu.Unlock()
	if bits&(InterruptPause|InterruptAbort) != 0 {
		if h := i.intr.hook.Load(); h != nil {
			(*h)(bits)
		}
	}
}

// SetInterruptHook installs h, called with the bits being set whenever
// InterruptPause or InterruptAbort is set, and returns a function that
// puts the previous hook back. A tier running the instance's code uses it
// to interrupt a blocking host call when a pause is requested
// (api.ErrPauseRequested) or the instance is aborted (AbortErr).
func (i *Instance) SetInterruptHook(h func(bits uint32)) (restore func()) {
	prev := i.intr.hook.Swap(&h)
	return func() { i.intr.hook.Store(prev) }
}

// ClearInterrupt clears bits of the interrupt word; clearing the last one
// disarms what SetInterrupt armed.
func (i *Instance) ClearInterrupt(bits uint32) {
	i.intr.mu.Lock()
	defer i.intr.mu.Unlock()
	old := i.intr.word.And(^bits)
	if old != 0 && old&^bits == 0 {
		i.Store.arm(-1)
	}
}

// Abort makes the instance's running code stop at its next pause point
// with err (a trap whose kind is err). It is how a restore that finds the
// checkpoint's memory data corrupt while the program already runs stops it.
// The abort stays in force until the instance is closed and its calls
// have returned.
func (i *Instance) Abort(err error) {
	i.intr.abortErr.Store(&err)
	i.SetInterrupt(InterruptAbort)
}

// AbortErr is the error Abort set, or nil.
func (i *Instance) AbortErr() error {
	if p := i.intr.abortErr.Load(); p != nil {
		return *p
	}
	return nil
}

// SetHostGate installs g, which the tiers call with the running call's
// context before every host call made from this instance's code while it
// is installed; a non-nil error from g becomes a trap of that kind and the
// host function is not called.
// SetHostGate(nil) removes it. A restore uses it to hold back every effect
// of a run until the checkpoint's memory data is verified.
func (i *Instance) SetHostGate(g func(context.Context) error) {
	if g == nil {
		i.intr.hostGate.Store(nil)
		return
	}
	i.intr.hostGate.Store(&g)
}

// HostGate returns the installed gate or nil; the tiers call it on every
// host call, so it is one atomic load.
func (i *Instance) HostGate() func(context.Context) error {
	if p := i.intr.hostGate.Load(); p != nil {
		return *p
	}
	return nil
}

// armState is the store's side of arming: how many of its instances have a
// non-zero interrupt word, and the code to arm while that is more than
// zero, with the number of instances using each (code no instance uses
// any more is dropped, so that the store does not keep it alive).
type armState struct {
	mu     sync.Mutex
	n      int
	armers []Armer
	users  map[Armer]int
}

// arm adds d to the number of interrupted instances, arming every
// registered Armer when it becomes positive and disarming them when it
// drops back to zero.
func (s *Store) arm(d int) {
	a := &s.armed
	a.mu.Lock()
	defer a.mu.Unlock()
	was := a.n
	a.n += d
	switch {
	case was == 0 && a.n > 0:
		for _, x := range a.armers {
			x.Arm()
		}
	case was > 0 && a.n == 0:
		for _, x := range a.armers {
			x.Disarm()
		}
	}
}

// addArmer registers the code of a new instance, armed at once if some
// instance of the store is interrupted.
func (s *Store) addArmer(x Armer) {
	a := &s.armed
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.users == nil {
		a.users = map[Armer]int{}
	}
	a.users[x]++
	if a.users[x] > 1 {
		return
	}
	a.armers = append(a.armers, x)
	if a.n > 0 {
		x.Arm()
	}
}

// removeArmer drops one use of x; the last one unregisters it, disarming
// what the store armed.
func (s *Store) removeArmer(x Armer) {
	a := &s.armed
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.users[x]--; a.users[x] > 0 {
		return
	}
	delete(a.users, x)
	for k, y := range a.armers {
		if y == x {
			last := len(a.armers) - 1
			a.armers[k] = a.armers[last]
			a.armers[last] = nil
			a.armers = a.armers[:last]
			break
		}
	}
	if a.n > 0 {
		x.Disarm()
	}
}

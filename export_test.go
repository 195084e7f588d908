package ferry

import (
	"context"
	"syscall"
)

// WithMemoryCheckHook makes the concurrent memory check of a restore run
// hook first, in its goroutine, with the context that Close cancels: tests
// hold the check back with it to see what a restored run does meanwhile.
func WithMemoryCheckHook(c RestoreConfig, hook func(context.Context)) RestoreConfig {
	c.checkHook = hook
	return c
}

// FirstTouchChunks returns the chunks of memory 0 that the first-touch
// check of i has verified so far, and false when i has no such check
// (restored otherwise, or fallen back to waiting for the whole check).
func FirstTouchChunks(i *Instance) (chunks []int, ok bool) {
	if i.check == nil || i.check.touched == nil {
		return nil, false
	}
	t := i.check.touched
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, m := range t.mems {
		if m.k != 0 {
			continue
		}
		for c, v := range m.verified {
			if v {
				chunks = append(chunks, c)
			}
		}
	}
	return chunks, true
}

// RefuseLockOnFault makes restores pin no pages, as a small
// RLIMIT_MEMLOCK without CAP_IPC_LOCK would, until the returned function
// is called.
func RefuseLockOnFault() (restore func()) {
	prev := lockOnFault
	lockOnFault = func(addr, length uintptr) error { return syscall.ENOMEM }
	return func() { lockOnFault = prev }
}

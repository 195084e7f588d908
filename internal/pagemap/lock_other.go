//go:build !linux

package pagemap

import "errors"

var errNoLock = errors.New("pagemap: lock on fault is Linux only")

// LockOnFault is Linux only; elsewhere a restore keeps the wait-for-all
// check.
func LockOnFault(addr, length uintptr) error { return errNoLock }

// Unlock undoes LockOnFault.
func Unlock(addr, length uintptr) error { return errNoLock }

package pagemap

import "golang.org/x/sys/unix"

// LockOnFault pins every page of [addr, addr+length) once it is faulted
// in (mlock2 with MLOCK_ONFAULT), so that a page reported touched stays
// reported: the kernel could otherwise drop a clean page of a file
// mapping, and a page read and dropped would look untouched. It fails
// where RLIMIT_MEMLOCK is too small for the range and the process lacks
// CAP_IPC_LOCK.
func LockOnFault(addr, length uintptr) error {
	if _, _, e := unix.Syscall(unix.SYS_MLOCK2, addr, length, unix.MLOCK_ONFAULT); e != 0 {
		return e
	}
	return nil
}

// Unlock undoes LockOnFault.
func Unlock(addr, length uintptr) error {
	if _, _, e := unix.Syscall(unix.SYS_MUNLOCK, addr, length, 0); e != 0 {
		return e
	}
	return nil
}

//go:build unix

package ferry

import "syscall"

// processAlive reports whether process pid exists (EPERM: it does, but
// belongs to someone else).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

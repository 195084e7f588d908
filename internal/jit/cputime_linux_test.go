package jit

import "syscall"

// threadCPU returns the calling thread's CPU time in nanoseconds: on a
// shared machine it is far less noisy than wall time, since time spent
// preempted does not count.
func threadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

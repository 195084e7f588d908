package wasi

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Clock is the single place every WASI clock is read from, so a restored
// program can have its clocks rebased: the monotonic clock continues from
// the value it had at the checkpoint instead of jumping to the new host's
// uptime, and CPU-time clocks likewise.
type Clock struct {
	mu    sync.Mutex
	start time.Time // host monotonic reference
	// monoBase is the guest monotonic time at start.
	monoBase uint64
	// cpuBase is added to the host's process CPU time.
	cpuBase int64
}

// ClockState is the portable state of a Clock.
type ClockState struct {
	// Monotonic is the guest's monotonic time in nanoseconds.
	Monotonic uint64
	// CPUTime is the guest's process CPU time in nanoseconds.
	CPUTime uint64
}

// NewClock returns a clock whose monotonic time starts at the host's
// reading so that guests see a plausible, increasing value.
func NewClock() *Clock {
	return &Clock{start: time.Now(), monoBase: uint64(hostMonotonic())}
}

func hostMonotonic() int64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return 0
	}
	return ts.Nano()
}

func hostCPU(id int32) int64 {
	var ts unix.Timespec
	if unix.ClockGettime(id, &ts) != nil {
		return 0
	}
	return ts.Nano()
}

// State reports the clocks for a checkpoint.
func (c *Clock) State() ClockState {
	m, _ := c.Now(ClockMonotonic)
	p, _ := c.Now(ClockProcessCPUTime)
	return ClockState{Monotonic: m, CPUTime: p}
}

// Rebase makes the clocks continue from a checkpointed state.
func (c *Clock) Rebase(s ClockState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.start = time.Now()
	c.monoBase = s.Monotonic
	c.cpuBase = int64(s.CPUTime) - hostCPU(unix.CLOCK_PROCESS_CPUTIME_ID)
}

// Now reads clock id in nanoseconds.
func (c *Clock) Now(id uint32) (uint64, Errno) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch id {
	case ClockRealtime:
		return uint64(time.Now().UnixNano()), 0
	case ClockMonotonic:
		return c.monoBase + uint64(time.Since(c.start)), 0
	case ClockProcessCPUTime:
		return uint64(hostCPU(unix.CLOCK_PROCESS_CPUTIME_ID) + c.cpuBase), 0
	case ClockThreadCPUTime:
		// Guest threads are not host threads; the process clock is the
		// honest answer for a single-threaded guest.
		return uint64(hostCPU(unix.CLOCK_PROCESS_CPUTIME_ID) + c.cpuBase), 0
	}
	return 0, ErrnoInval
}

// Resolution reports the resolution of clock id in nanoseconds.
func (c *Clock) Resolution(id uint32) (uint64, Errno) {
	var hid int32
	switch id {
	case ClockRealtime:
		hid = unix.CLOCK_REALTIME
	case ClockMonotonic:
		hid = unix.CLOCK_MONOTONIC
	case ClockProcessCPUTime, ClockThreadCPUTime:
		hid = unix.CLOCK_PROCESS_CPUTIME_ID
	default:
		return 0, ErrnoInval
	}
	var ts unix.Timespec
	if unix.ClockGetres(hid, &ts) != nil || ts.Nano() <= 0 {
		return 1000, 0
	}
	return uint64(ts.Nano()), 0
}

package wasi

import (
	"context"
	"time"

	"golang.org/x/sys/unix"
)

// InterruptedError aborts a blocking host call whose context was cancelled
// (ARCHITECTURE.md §3: blocking calls are interruptible and restartable).
// The call has consumed nothing, so the guest must not see an errno:
// instead the host function panics with this error. When the context's
// cause is api.ErrPauseRequested the engine pauses at the call, which a
// resumed or restored run issues again; otherwise the engine turns it into
// a trap whose chain holds it and the context's cause.
type InterruptedError struct {
	Func string // the WASI function that was waiting
	Err  error  // the context's cause (its error unless a cause was given)
}

func (e *InterruptedError) Error() string {
	return "wasi: " + e.Func + " interrupted: " + e.Err.Error()
}
func (e *InterruptedError) Unwrap() error { return e.Err }

func interrupt(ctx context.Context, fn string) {
	panic(&InterruptedError{Func: fn, Err: context.Cause(ctx)})
}

// waitReady blocks until the host fd is ready for events (POLLIN or
// POLLOUT), in slices short enough to notice cancellation promptly.
func waitReady(ctx context.Context, fn string, fd int, events int16) Errno {
	for {
		if ctx.Err() != nil {
			interrupt(ctx, fn)
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: events}}
		n, err := unix.Poll(pfd, int(pollSlice/time.Millisecond))
		if err == unix.EINTR || n == 0 {
			continue
		}
		if err != nil {
			return ToErrno(err)
		}
		return 0
	}
}

const pollSlice = 50 * time.Millisecond

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
// POLLOUT). When it is not ready at once, a wakeup joins the poll so that
// cancelling ctx (a cancelled call, or a pause request, which cancels the
// host functions' context) ends the wait at once; the poll is also cut in
// slices, which notice cancellation should the wakeup be unavailable.
func waitReady(ctx context.Context, fn string, fd int, events int16) Errno {
	var wake *wakeup
	defer func() { wake.close() }()
	for first := true; ; first = false {
		if ctx.Err() != nil {
			interrupt(ctx, fn)
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: events}}
		timeout := int(pollSlice / time.Millisecond)
		if first {
			timeout = 0
		} else if wake == nil {
			wake = newWakeup(ctx)
		}
		pfd = wake.add(pfd)
		n, err := unix.Poll(pfd, timeout)
		if err == unix.EINTR || n == 0 || (n > 0 && pfd[0].Revents == 0) {
			continue
		}
		if err != nil {
			return ToErrno(err)
		}
		return 0
	}
}

// pollSlice bounds each poll(2) of a blocking wait (a variable for tests).
var pollSlice = 50 * time.Millisecond

// wakeup is a pipe whose read end joins a poll(2) set and whose write end
// a context.AfterFunc writes to, so that the context's cancellation ends
// the poll. A nil *wakeup (the pipe could not be made) adds nothing.
type wakeup struct {
	r, w int
	stop func() bool
	done chan struct{} // closed once the AfterFunc wrote, or will never
}

func newWakeup(ctx context.Context) *wakeup {
	var p [2]int
	if unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK) != nil {
		return nil
	}
	w := &wakeup{r: p[0], w: p[1], done: make(chan struct{})}
	w.stop = context.AfterFunc(ctx, func() {
		unix.Write(w.w, []byte{0})
		close(w.done)
	})
	return w
}

// add appends the wakeup's read end to a poll set.
func (w *wakeup) add(pfd []unix.PollFd) []unix.PollFd {
	if w == nil {
		return pfd
	}
	return append(pfd, unix.PollFd{Fd: int32(w.r), Events: unix.POLLIN})
}

// close releases the pipe, after the AfterFunc is stopped or has written.
func (w *wakeup) close() {
	if w == nil {
		return
	}
	if !w.stop() {
		<-w.done
	}
	unix.Close(w.r)
	unix.Close(w.w)
}

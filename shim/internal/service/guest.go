package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/wasi"
)

// guestState is where a task's guest is in its life.
type guestState int

const (
	guestCreated guestState = iota
	guestRunning
	guestPaused
	guestStopped
)

// pauseTimeout bounds the wait for a running guest to reach a pause
// point; Ferry honours a request within one loop iteration or host call,
// so only a broken guest or engine takes this long.
const pauseTimeout = 30 * time.Second

// repeatPauseRequest is how often pause repeats its request (see pause).
const repeatPauseRequest = 20 * time.Millisecond

// guest is one WebAssembly program running inside the shim, driven
// through Ferry's pause points: Pause stops it at the next one, and a
// paused guest can be written out as a checkpoint, resumed or killed.
type guest struct {
	rt   *ferry.Runtime
	wasi *wasi.Module    // nil for a pod sandbox
	inst *ferry.Instance // nil for a pod sandbox, which runs no program
	// first runs the first leg: the entrypoint's call, or the resume of
	// a restored checkpoint.
	first func(context.Context) error
	// log receives what the guest's stderr does not: the shim's own
	// reports about the guest.
	log io.Writer

	ctx    context.Context
	cancel context.CancelFunc

	mu         sync.Mutex
	state      guestState
	ran        bool          // start was called
	paused     *ferry.Paused // the call stopped at a pause point, while state is guestPaused
	arrived    chan struct{} // closed when the requested pause is reached or the guest stops
	resume     chan struct{} // signalled to continue a paused call
	killed     bool          // stop was called; killStatus is then the exit status
	killStatus uint32
	status     uint32
	exitedAt   time.Time
	exited     chan struct{} // closed when the guest stopped
}

func newGuest(rt *ferry.Runtime, w *wasi.Module, inst *ferry.Instance, first func(context.Context) error, log io.Writer) *guest {
	ctx, cancel := context.WithCancel(context.Background())
	return &guest{rt: rt, wasi: w, inst: inst, first: first, log: log, ctx: ctx, cancel: cancel,
		resume: make(chan struct{}, 1), exited: make(chan struct{})}
}

// start runs the guest in its own goroutine.
func (g *guest) start() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state != guestCreated {
		return errors.New("the task was already started")
	}
	g.state, g.ran = guestRunning, true
	go g.run()
	return nil
}

// run drives the guest's call until it returns, handing every pause to
// whoever requested it and waiting for a resume or a kill.
func (g *guest) run() {
	err := g.first(g.ctx)
	for {
		var p *ferry.Paused
		if !errors.As(err, &p) {
			break
		}
		if !g.holdPaused(p) {
			err = g.ctx.Err()
			break
		}
		_, err = p.Resume(g.ctx, ferry.CallOptions{})
	}
	g.finish(err)
}

// holdPaused keeps the call paused at p until it is resumed (true) or
// killed (false). A pause asked for after the resume but before the call
// continued is served at p at once: the program has not moved.
func (g *guest) holdPaused(p *ferry.Paused) bool {
	for {
		g.mu.Lock()
		g.state, g.paused = guestPaused, p
		if g.arrived != nil {
			close(g.arrived)
			g.arrived = nil
		}
		g.mu.Unlock()
		select {
		case <-g.resume: // unpause set the state
		case <-g.ctx.Done():
			return false
		}
		g.mu.Lock()
		again := g.arrived != nil
		g.mu.Unlock()
		if !again {
			return true
		}
	}
}

// finish records the exit status: the guest's own for proc_exit and a
// return from _start, the one stop was given after a kill, 134 for a trap
// or any other failure (128+SIGABRT, as wasmtime and ferry run).
func (g *guest) finish(err error) {
	g.mu.Lock()
	killed := g.killed
	g.mu.Unlock()
	var exit *wasi.ExitError
	var status uint32
	switch {
	case killed:
	case err == nil:
	case errors.As(err, &exit):
		status = exit.Code
	default:
		// Written before taking the lock: a stderr nobody reads may
		// block, and State must still answer meanwhile.
		fmt.Fprintf(g.log, "ferry: %v\n", err)
		status = 128 + uint32(syscall.SIGABRT)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.status = status
	if g.killed {
		g.status = g.killStatus
	}
	g.state, g.exitedAt = guestStopped, time.Now()
	if g.arrived != nil {
		close(g.arrived)
		g.arrived = nil
	}
	close(g.exited)
}

// pause stops a running guest at its next pause point and returns once
// it is there. wasRunning reports whether it ran, so that a checkpoint
// of a running task can leave it running as it found it.
func (g *guest) pause() (wasRunning bool, err error) {
	g.mu.Lock()
	switch g.state {
	case guestPaused:
		g.mu.Unlock()
		return false, nil
	case guestCreated:
		g.mu.Unlock()
		return false, errors.New("the task is not started")
	case guestStopped:
		g.mu.Unlock()
		return false, errors.New("the task has stopped")
	}
	if g.inst == nil {
		g.mu.Unlock()
		return false, errors.New("a pod sandbox runs no program: nothing to pause or checkpoint")
	}
	if g.arrived == nil {
		g.arrived = make(chan struct{})
	}
	arrived := g.arrived
	g.inst.RequestPause()
	g.mu.Unlock()
	// The request is repeated until it is honoured: a resume clears the
	// instance's pause request as it starts, so one made just after an
	// unpause, before the run loop resumed the call, would be lost.
	// Extra requests are harmless: the next resume clears them.
	tick := time.NewTicker(repeatPauseRequest)
	defer tick.Stop()
	timeout := time.After(pauseTimeout)
	for waiting := true; waiting; {
		select {
		case <-arrived:
			waiting = false
		case <-tick.C:
			g.inst.RequestPause()
		case <-timeout:
			return true, fmt.Errorf("the guest did not reach a pause point within %v", pauseTimeout)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state != guestPaused {
		return true, errors.New("the task stopped before it could pause")
	}
	return true, nil
}

// unpause lets a paused guest continue. It counts as running from here
// on, before the run loop takes the resume: a pause asked for meanwhile
// must wait for a new pause point, not find the old one.
func (g *guest) unpause() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state != guestPaused {
		return errors.New("the task is not paused")
	}
	g.state, g.paused = guestRunning, nil
	g.resume <- struct{}{} // never blocks: one resume per pause, and the loop takes it before pausing again
	return nil
}

// checkpoint writes the guest, paused at a pause point, to path; a
// running guest is paused for it and, unless exit is asked, continues.
// With exit, the guest stops afterwards with status 0, as a program
// that "ferry run" stopped at a checkpoint.
func (g *guest) checkpoint(path string, exit bool) error {
	wasRunning, err := g.pause()
	if err != nil {
		return err
	}
	g.mu.Lock()
	p := g.paused
	g.mu.Unlock()
	if p == nil {
		return errors.New("the task is not paused at a pause point")
	}
	cfg := ferry.NewCheckpointConfig().WithModule(true).WithHostState(g.wasi)
	werr := p.WriteCheckpointFile(path, cfg)
	switch {
	case werr == nil && exit:
		g.stop(0)
	case wasRunning:
		if err := g.unpause(); err != nil && werr == nil {
			return err
		}
	}
	return werr
}

// stop ends the guest with the given exit status. Ferry stops a running
// call at its next pause point, or at once in an interruptible host call;
// a paused one is woken to stop. The first stop's status is the one kept.
func (g *guest) stop(status uint32) {
	g.mu.Lock()
	switch g.state {
	case guestStopped:
		g.mu.Unlock()
		return
	case guestCreated:
		// Never started: it stops here, without running.
		g.killed, g.killStatus = true, status
		g.mu.Unlock()
		g.finish(context.Canceled)
		return
	}
	if !g.killed {
		g.killed, g.killStatus = true, status
	}
	g.mu.Unlock()
	g.cancel()
}

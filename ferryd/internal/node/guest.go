package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
	"github.com/ferryvm/ferry/wasi"
)

// pauseTimeout bounds the wait for a running guest to reach a pause
// point. Ferry honours a request within one loop iteration or at once in
// a blocking host call, so only a broken guest or engine takes this long.
const pauseTimeout = 30 * time.Second

// repeatPauseRequest is how often a pause request is repeated: a resume
// clears the instance's pending request as it starts, so a request made
// between an unpause and the call resuming would otherwise be lost.
const repeatPauseRequest = 10 * time.Millisecond

// errFenced refuses to resume a guest a migration fenced.
var errFenced = errors.New("the instance is fenced by a migration: it runs on the destination, or will once the migration is resolved")

// guest drives one WebAssembly program through Ferry's pause points in a
// goroutine of its own, so that it outlives the request that started it.
type guest struct {
	rt   *ferry.Runtime
	wasi *wasi.Module
	inst *ferry.Instance
	// first runs the first leg: _start, or the resume of a restore.
	first func(context.Context) error

	ctx    context.Context
	cancel context.CancelFunc

	// ops makes one pause-and-resume sequence (a checkpoint, a pre-copy
	// round's pause, a client's pause or resume) at a time: two of them
	// interleaved let one resume the program while the other still read
	// its paused state.
	ops sync.Mutex

	mu      sync.Mutex
	state   string
	paused  *ferry.Paused
	arrived chan struct{} // closed when a requested pause is reached or the guest ends
	resume  chan struct{}
	// fenced keeps a paused guest paused: a migration's destination may
	// run it, so this copy must never run again.
	fenced   bool
	killed   bool
	exitCode *int
	err      error
	exited   chan struct{} // closed when the guest ended
	// onExit is called once, without the lock, when the guest ends.
	onExit func()
	// startedAt is when the first leg began: for a migration's
	// destination, the first instruction after the switch.
	startedAt time.Time
	// image is the memory image a pre-copied instance's memory is mapped
	// from; it stays open while the guest lives.
	image *os.File
}

// closeHost releases what the guest holds of the host once it ended or
// will never run: its WASI files and sockets (a listening socket must
// close for a migrated guest's destination to be the only one
// listening), its runtime, its memory image.
func (g *guest) closeHost() {
	ctx := context.Background()
	if g.wasi != nil {
		g.wasi.Close(ctx)
	}
	g.rt.Close(ctx)
	g.closeImage()
}

// closeImage closes the memory image once the runtime is closed.
func (g *guest) closeImage() {
	if g.image != nil {
		g.image.Close()
		g.image = nil
	}
}

func newGuest(rt *ferry.Runtime, w *wasi.Module, inst *ferry.Instance, first func(context.Context) error) *guest {
	ctx, cancel := context.WithCancel(context.Background())
	return &guest{rt: rt, wasi: w, inst: inst, first: first, ctx: ctx, cancel: cancel,
		state: apiv1.StateCreated, resume: make(chan struct{}, 1), exited: make(chan struct{})}
}

// start runs the guest in its own goroutine.
func (g *guest) start() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state != apiv1.StateCreated {
		return errors.New("the instance was already started")
	}
	g.state, g.startedAt = apiv1.StateRunning, time.Now()
	go g.run()
	return nil
}

// startPaused starts a guest restored paused (a restart's instance that
// was paused at shutdown): it stays at its pause point, as a paused
// instance does, until resumed.
func (g *guest) startPaused() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state != apiv1.StateCreated || g.paused == nil {
		return errors.New("the instance was already started")
	}
	g.state, g.startedAt = apiv1.StatePaused, time.Now()
	p := g.paused
	go func() {
		if !g.holdPaused(p) {
			g.finish(g.ctx.Err())
			return
		}
		g.run()
	}()
	return nil
}

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
// killed (false). A pause asked for between the resume and the call
// continuing is served at p at once: the program has not moved.
func (g *guest) holdPaused(p *ferry.Paused) bool {
	for {
		g.mu.Lock()
		if g.state != apiv1.StateMigrating {
			g.state = apiv1.StatePaused
		}
		g.paused = p
		if g.arrived != nil {
			close(g.arrived)
			g.arrived = nil
		}
		g.mu.Unlock()
		select {
		case <-g.resume:
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

func (g *guest) finish(err error) {
	var exit *wasi.ExitError
	g.mu.Lock()
	switch {
	case g.killed:
		g.state = apiv1.StateExited
	case err == nil:
		g.state, g.exitCode = apiv1.StateExited, new(int)
	case errors.As(err, &exit):
		code := int(exit.Code)
		g.state, g.exitCode = apiv1.StateExited, &code
	default:
		g.state, g.err = apiv1.StateFailed, err
	}
	if g.arrived != nil {
		close(g.arrived)
		g.arrived = nil
	}
	g.paused = nil
	onExit := g.onExit
	g.mu.Unlock()
	close(g.exited)
	if onExit != nil {
		onExit()
	}
}

// status reports the state, exit code and error.
func (g *guest) status() (string, *int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.state, g.exitCode, g.err
}

// pause stops a running guest at its next pause point and returns the
// paused call once it is there; wasRunning says whether it ran.
func (g *guest) pause() (p *ferry.Paused, wasRunning bool, err error) {
	g.mu.Lock()
	switch g.state {
	case apiv1.StatePaused, apiv1.StateMigrating:
		p := g.paused
		g.mu.Unlock()
		return p, false, nil
	case apiv1.StateCreated:
		g.mu.Unlock()
		return nil, false, errors.New("the instance has not started")
	case apiv1.StateExited, apiv1.StateFailed:
		g.mu.Unlock()
		return nil, false, errors.New("the instance has ended")
	}
	if g.arrived == nil {
		g.arrived = make(chan struct{})
	}
	arrived := g.arrived
	g.inst.RequestPause()
	g.mu.Unlock()
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
			return nil, true, fmt.Errorf("the guest did not reach a pause point within %v", pauseTimeout)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.paused == nil {
		return nil, true, errors.New("the instance ended before it could pause")
	}
	return g.paused, true, nil
}

// unpause lets a paused guest continue, unless a migration fenced it.
func (g *guest) unpause() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fenced {
		return errFenced
	}
	if g.state != apiv1.StatePaused {
		// A migrating guest continues only through endMigration, which
		// makes it paused again first.
		return fmt.Errorf("the instance is %s, not paused", g.state)
	}
	g.state, g.paused = apiv1.StateRunning, nil
	g.resume <- struct{}{} // one resume per pause: never blocks
	return nil
}

// beginMigration pauses the guest and marks it migrating, which refuses
// resume requests from clients until the migration decides.
func (g *guest) beginMigration() (p *ferry.Paused, wasRunning bool, err error) {
	g.ops.Lock()
	defer g.ops.Unlock()
	p, wasRunning, err = g.pause()
	if err != nil {
		return nil, wasRunning, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == apiv1.StateMigrating {
		return nil, wasRunning, errors.New("the instance is already migrating")
	}
	if g.paused == nil {
		return nil, wasRunning, errors.New("the instance ended before it could pause")
	}
	g.state = apiv1.StateMigrating
	return g.paused, wasRunning, nil
}

// endMigration undoes beginMigration when the migration failed before
// the switch: the guest continues as it was (running or paused).
func (g *guest) endMigration(resume bool) error {
	g.mu.Lock()
	if g.fenced {
		g.mu.Unlock()
		return errFenced
	}
	if g.state == apiv1.StateMigrating {
		g.state = apiv1.StatePaused
	}
	g.mu.Unlock()
	if resume {
		return g.unpause()
	}
	return nil
}

// fence makes the paused guest unresumable; from here on only the
// migration's outcome decides whether it is deleted or unfenced.
func (g *guest) fence() {
	g.mu.Lock()
	g.fenced = true
	g.mu.Unlock()
}

// unfence lifts a fence when the destination provably never ran the
// guest (it refused, or reports the migration aborted).
func (g *guest) unfence() {
	g.mu.Lock()
	g.fenced = false
	g.mu.Unlock()
}

// stop ends the guest: a running call stops at its next pause point, a
// blocked host call at once, a paused one is woken to stop.
func (g *guest) stop() {
	g.mu.Lock()
	if g.state == apiv1.StateExited || g.state == apiv1.StateFailed {
		g.mu.Unlock()
		return
	}
	g.killed = true
	created := g.state == apiv1.StateCreated
	g.mu.Unlock()
	g.cancel()
	if created {
		g.finish(context.Canceled)
	}
}

// wait waits for the guest to end, at most d.
func (g *guest) wait(d time.Duration) bool {
	select {
	case <-g.exited:
		return true
	case <-time.After(d):
		return false
	}
}

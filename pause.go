package ferry

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/engine"
	"github.com/ferryvm/ferry/internal/pause"
	"github.com/ferryvm/ferry/internal/store"
)

// ErrPaused is wrapped by the error a call returns when it stopped at a
// pause point (see Paused).
var ErrPaused = errors.New("ferry: call paused at a pause point")

// ErrPausedConsumed is wrapped by the error of Resume, WriteCheckpoint,
// WriteCheckpointFile and Capture on a *Paused that was already resumed:
// its frames describe a point the instance has run past, so continuing or
// writing them would pair them with state they no longer match.
var ErrPausedConsumed = errors.New("ferry: paused call already resumed")

// Paused is a call stopped at a pause point: returned as the error of
// Function.Call (errors.As) when a pause was requested (Instance.RequestPause,
// CallOptions.PauseAfter). Resume continues it; WriteCheckpoint writes it
// out so that Runtime.Restore can continue it elsewhere.
//
// A Paused is single-use: it may be written any number of times, then
// resumed once; afterwards every method that would use its frames returns
// an error wrapping ErrPausedConsumed (a new pause returns a new Paused).
type Paused struct {
	rt     *Runtime
	owner  *Instance
	frames []api.Frame
	// checked, when it fits owner's instance, is frames that Restore
	// checked: Resume runs them without checking them again.
	checked engine.Checked
	count   pauseCount
	// resumed is set by the first Resume, whatever its outcome: from then
	// on the instance's state has moved past frames.
	resumed atomic.Bool
	// callsites are the builtin decisions a restore changed.
	callsites []CallsiteChange
}

// pauseCount is the number of pause points polled since the start of the
// run (the one stopped at included), when it is known.
type pauseCount struct {
	n     int64
	known bool
}

func (p *Paused) Error() string {
	if n := len(p.frames); n > 0 {
		f := p.frames[n-1]
		return fmt.Sprintf("%v: %d frames, innermost func %d at %v +0x%x", ErrPaused, n, f.Func, f.Kind, f.Offset)
	}
	return ErrPaused.Error()
}

// Is makes errors.Is(err, ErrPaused) hold.
func (p *Paused) Is(target error) bool { return target == ErrPaused }

// Instance is the paused instance.
func (p *Paused) Instance() *Instance { return p.owner }

// Frames describes the paused frames, outermost first (a copy).
func (p *Paused) Frames() []api.Frame {
	out := make([]api.Frame, len(p.frames))
	for i, f := range p.frames {
		f.Locals = append([]api.Value(nil), f.Locals...)
		f.Stack = append([]api.Value(nil), f.Stack...)
		out[i] = f
	}
	return out
}

// ResultTypes are the result types of the call that was paused (its
// outermost frame's function): what Resume returns when the call ends.
func (p *Paused) ResultTypes() []api.ValueType {
	if len(p.frames) == 0 || int(p.frames[0].Func) >= len(p.owner.inst.Funcs) {
		return nil
	}
	return valueTypes(p.owner.inst.Funcs[p.frames[0].Func].Type.Results)
}

// PauseCount is the number of pause points polled since the start of the
// run, the one it stopped at included, counting on across Resume and
// restores; known is false unless every leg of the run counted them
// (CallOptions.PauseAfter).
func (p *Paused) PauseCount() (n int64, known bool) { return p.count.n, p.count.known }

// CallOptions adjust one call.
type CallOptions struct {
	// PauseAfter, when positive, pauses the call at its PauseAfter-th
	// polled pause point (counted from this call or resume, the first
	// poll of a resume being the pause point it continues from). It is
	// deterministic, which makes it the tool for checkpoint tests and for
	// "checkpoint after N steps"; it costs speed, every poll being counted.
	PauseAfter int64
}

// RequestPause asks the instance's running call to stop at its next pause
// point (within one loop iteration), which makes that call return a
// *Paused. It is safe to call from any goroutine. A request made while no
// call runs stops the next call at its first pause point. Pausing needs
// pause polling (RuntimeConfig.WithPausePolling, on by default). A host
// function blocked meanwhile sees its context cancelled with cause
// api.ErrPauseRequested: WASI's blocking calls then give up, having
// consumed nothing, and the call pauses at that host call, which resuming
// issues again; a host function that ignores its context delays the pause
// until it returns.
func (i *Instance) RequestPause() { i.inst.SetInterrupt(store.InterruptPause) }

// CallWithOptions is Call with per-call options.
func (f *Function) CallWithOptions(ctx context.Context, o CallOptions, params ...uint64) ([]uint64, error) {
	return f.call(ctx, o, params)
}

// Resume continues the paused call on its instance and returns the
// results of the call that was paused, or another *Paused. It consumes p:
// a second Resume returns an error wrapping ErrPausedConsumed. For a call
// restored with VerifyConcurrent, the outcome is returned once the memory
// data is verified; if that fails, the error is the corruption, wrapping
// ErrCheckpointCorrupt, and the run was stopped.
func (p *Paused) Resume(ctx context.Context, o CallOptions) ([]uint64, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	// A failed memory check is reported first: it condemns the instance,
	// not just this Paused.
	if err := p.owner.refused(); err != nil {
		return nil, err
	}
	if !p.resumed.CompareAndSwap(false, true) {
		return nil, fmt.Errorf("ferry: resume: %w", ErrPausedConsumed)
	}
	checked := p.checked
	var frames []api.Frame
	if !checked.For(p.owner.inst) {
		frames = p.frames
	}
	entry, err := p.owner.inst.Enter(ctx)
	if err != nil {
		return nil, fmt.Errorf("ferry: resume: %w", err)
	}
	defer entry.Leave()
	results, err := p.rt.run(ctx, o, func(e engine.Engine) ([]uint64, error) {
		if frames == nil {
			return e.ResumeChecked(ctx, p.owner.inst, checked)
		}
		return e.Resume(ctx, p.owner.inst, frames)
	})
	// The first poll of a resume is the pause point it continues from.
	base := pauseCount{n: p.count.n - 1, known: p.count.known && o.PauseAfter > 0}
	return p.owner.settle(ctx, results, p.owner.paused(err, base))
}

// paused turns the engine's suspension into a *Paused; base is the pause
// count before this leg of the run.
func (i *Instance) paused(err error, base pauseCount) error {
	var s *engine.Suspended
	if !errors.As(err, &s) {
		if errors.Is(err, pause.ErrNotPortable) {
			return fmt.Errorf("%w: %w", ErrNotCheckpointable, err)
		}
		return err
	}
	if s.Instance != i.inst {
		return fmt.Errorf("ferry: a call paused in another instance: %w", err)
	}
	frames := s.Frames
	count := pauseCount{n: base.n + s.Polled, known: base.known && s.Polled > 0}
	return &Paused{rt: i.rt, owner: i, frames: frames, count: count}
}

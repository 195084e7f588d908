package interp

import (
	"context"
	"errors"
	"fmt"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/store"
)

// sample takes the profile sample a Sampler asked for with
// store.InterruptSample: the innermost frame stands at the pause point
// being polled (a function entry, a loop header, or a host call), whose
// function and id are what the profile counts (docs/compiler.md,
// "Tiering"). Clearing the bit disarms the code again, so that the
// interpreter runs unarmed until the next tick.
//
// An interpreted frame at a poll whose function has compiled code by now
// moves into it here: on-stack replacement at the loop header, so that a
// long-running function tiers up without waiting for its next call. The
// frame becomes a compiled one standing past its poll (frameAtPause), and
// the interpreter's loop returns to the driver.
func (m *machine) sample() {
	m.root.ClearInterrupt(store.InterruptSample)
	s := m.e.cfg.Sampler
	if s == nil || len(m.frames) == 0 {
		return
	}
	i := len(m.frames) - 1
	fr := &m.frames[i]
	id, ok := fr.code.PauseAt(fr.pc)
	if !ok {
		return
	}
	kind := fr.code.pauses.Points[id].Kind
	s.Sample(fr.fn, id, kind)
	if fr.tier != frameInterp || m.nctx == nil || fr.code.Code[fr.pc].Op != ir.Poll {
		return // compiled already, no compiled tier, or a host call's poll
	}
	if kind != api.PauseLoop && kind != api.PauseFuncEntry {
		return
	}
	if code := fr.code.native.Load(); code != nil && code.CanEnterAt(id) {
		m.markNative(i, frameAtPause)
		fr.code.owner.tier.osr.Add(1)
	}
}

// errCompileRefused is what CompileHot reports for a function that the
// tier refused before (its error was reported then).
var errCompileRefused = errors.New("interp: the compiled tier refused this function")

// CompileHot compiles fn's body for the engine's compiled tier and
// installs it, so that its next call, and its next sampled loop header,
// run compiled code: what the runtime's compile queue calls for the
// functions the profile finds hot. An error (the compiler refused the
// function, no compiled tier) leaves it interpreted.
func (e *Engine) CompileHot(ctx context.Context, fn *store.Function) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, ok := interpCode(fn)
	if !ok || f.owner == nil || !f.owner.tier.on() {
		return fmt.Errorf("interp: function %d: no compiled tier", fn.Index)
	}
	if !f.compileState.CompareAndSwap(compileNone, compileQueued) {
		if f.compileState.Load() == compileRefused {
			return errCompileRefused
		}
		return nil // compiled, or being compiled by another path
	}
	return f.owner.tier.compile(f)
}

// OSREntries is the number of interpreted frames that sampled polls moved
// into compiled code (on-stack replacement) in this engine and the
// engines Counting derived from it.
func (e *Engine) OSREntries() int64 {
	if e.tier == nil {
		return 0
	}
	return e.tier.osr.Load()
}

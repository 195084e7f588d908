package interp

import (
	"context"
	"fmt"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/engine"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/store"
)

// export describes the machine's frames in the portable form. The
// innermost frame stopped at a pause point's own instruction (a poll, or a
// call to a host function); every other frame stopped at a call, one
// instruction back. The IR index names the pause point's id, and the
// shared table does the rest (pause.Func.Export).
func (m *machine) export() (*Suspended, error) {
	out := make([]api.Frame, len(m.frames))
	refs := engine.RefsOf(m.root)
	for i := range m.frames {
		fr := &m.frames[i]
		c := fr.code
		innermost := i == len(m.frames)-1
		pc := fr.pc
		if !innermost {
			pc--
		}
		id, ok := c.PauseAt(pc)
		if !ok {
			return nil, fmt.Errorf("%w: frame %d (func %d) is not at a pause point (IR %d)", ErrInternal, i, c.Index, pc)
		}
		f, err := c.pauses.Export(id, innermost, m.stack[fr.base:], refs)
		if err != nil {
			return nil, fmt.Errorf("interp: pause: frame %d: %w", i, err)
		}
		out[i] = f
	}
	return &Suspended{Instance: m.root, Frames: out}, nil
}

// Resume rebuilds the frames a Suspended described (outermost first) on
// inst, which must be an instance of the same module (typically a fresh one
// whose memories, tables and globals were restored), and runs them to
// completion. It returns the outermost function's results. Every field of
// frames is checked against the pause-point tables first
// (engine.CheckFrames): a description that does not fit the module is an
// error, never a panic.
func (e *Engine) Resume(ctx context.Context, inst *store.Instance, frames []api.Frame) ([]uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, &api.TrapError{Kind: err}
	}
	checked, err := e.CheckFrames(inst, frames)
	if err != nil {
		return nil, err
	}
	return e.ResumeChecked(ctx, inst, checked)
}

// ResumeChecked is Resume of frames CheckFrames already checked against
// inst: a restore checks once, before any guest code runs, and runs what
// it checked here.
func (e *Engine) ResumeChecked(ctx context.Context, inst *store.Instance, checked engine.Checked) ([]uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, &api.TrapError{Kind: err}
	}
	if !checked.For(inst) {
		return nil, fmt.Errorf("interp: resume: the frames were checked against another instance")
	}
	// Only the interpreter's own code, not the frames, is looked up again:
	// a type assertion per frame, where the check is a search per frame.
	code, err := interpCodes(checked)
	if err != nil {
		return nil, err
	}
	m := e.machine(ctx, inst)
	defer e.release(m)
	points := checked.Points()
	m.load(points, code, checked.Frames())
	m.markLoaded()
	inst.ClearInterrupt(store.InterruptPause)
	if c := engine.PollCounterFrom(ctx); c != nil {
		// The first poll is the pause point this resume continues from,
		// counted already by the leg that stopped there.
		c.Add(-1)
	}
	return m.execute(points[0].Fn.Type.Results, func() {})
}

// CheckFrames checks frames against inst exactly as Resume does, without
// running anything, so that a restore can refuse a checkpoint before any
// guest code runs: engine.CheckFrames, plus what only the interpreter can
// tell, that every function has interpreter code.
func (e *Engine) CheckFrames(inst *store.Instance, frames []api.Frame) (engine.Checked, error) {
	checked, err := engine.CheckFrames(inst, frames, e.cfg.MaxCallDepth)
	if err != nil {
		return engine.Checked{}, fmt.Errorf("interp: %w", err)
	}
	if _, err := interpCodes(checked); err != nil {
		return engine.Checked{}, err
	}
	return checked, nil
}

// interpCodes is the interpreter code of each checked frame's function.
func interpCodes(checked engine.Checked) ([]*funcCode, error) {
	points := checked.Points()
	code := make([]*funcCode, len(points))
	for i := range points {
		c, ok := interpCode(points[i].Fn)
		if !ok {
			return nil, fmt.Errorf("interp: resume: frame %d (func %d): %w", i, checked.Frames()[i].Func, errNotCompiled)
		}
		code[i] = c
	}
	return code, nil
}

// load rebuilds checked frames on the machine: each frame's values go to
// its slots, and its pc to the instruction of its pause point (past the
// call, for a caller frame).
func (m *machine) load(checked []engine.CheckedFrame, code []*funcCode, frames []api.Frame) {
	base := 0
	refs := engine.RefsOf(m.root)
	for i := range checked {
		ck, c := &checked[i], code[i]
		innermost := i == len(checked)-1
		if need := base + int(c.FrameSlots); need > len(m.stack) {
			s := make([]uint64, need+1024)
			copy(s, m.stack)
			m.stack = s
		}
		c.pauses.Load(ck.Pause, innermost, &frames[i], m.stack[base:], refs)
		fr := frame{fn: ck.Fn, code: c, base: base, pc: c.PauseIR[ck.Pause]}
		if !innermost {
			fr.pc++
			call := &c.Code[fr.pc-1]
			if call.Op == ir.Call {
				base += int(call.B)
			} else {
				base += int(call.C)
			}
		}
		m.frames = append(m.frames, fr)
	}
}

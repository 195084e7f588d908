package interp

import (
	"context"
	"fmt"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

// export describes the machine's frames in WebAssembly terms. The innermost
// frame stopped at a pause point's own instruction (a poll, or a call to a
// host function); every other frame stopped at a call, one instruction back.
func (m *machine) export() (*Suspended, error) {
	out := make([]api.Frame, len(m.frames))
	for i := range m.frames {
		fr := &m.frames[i]
		c := fr.code
		innermost := i == len(m.frames)-1
		pc := fr.pc
		if !innermost {
			pc--
		}
		pp := c.pauseAt(pc)
		if pp == nil {
			return nil, fmt.Errorf("%w: frame %d (func %d) is not at a pause point (IR %d)", ErrInternal, i, c.index, pc)
		}
		f := api.Frame{Func: fr.fn.Index, Kind: pp.Kind, Offset: pp.Offset}
		types := pp.Stack
		if innermost && pp.Kind == api.PauseCall {
			// Only a call to a host function stops before calling; its
			// operands stay in this frame so the call can be issued again.
			f.Kind = api.PauseHostCall
			types = append(append([]wasm.ValType{}, pp.Stack...), pp.Operands...)
		}
		s := m.stack[fr.base:]
		f.Locals = readValues(s, c.locals)
		f.Stack = readValues(s[c.localSlots:], types)
		out[i] = f
	}
	return &Suspended{Instance: m.root, Frames: out}, nil
}

func readValues(s []uint64, ts []wasm.ValType) []api.Value {
	out := make([]api.Value, len(ts))
	j := 0
	for i, t := range ts {
		out[i] = api.Value{Type: api.ValueType(t), Lo: s[j]}
		if t == wasm.V128 {
			out[i].Hi = s[j+1]
		}
		j += t.Slots()
	}
	return out
}

// writeValues stores vs into s after checking them against ts.
func writeValues(s []uint64, ts []wasm.ValType, vs []api.Value, what string) error {
	if len(vs) != len(ts) {
		return fmt.Errorf("%s: %d values, want %d", what, len(vs), len(ts))
	}
	j := 0
	for i, t := range ts {
		if vs[i].Type != api.ValueType(t) {
			return fmt.Errorf("%s: value %d has type %v, want %v", what, i, wasm.ValType(vs[i].Type), t)
		}
		v := vs[i].Lo
		if t == wasm.I32 || t == wasm.F32 {
			v = uint64(uint32(v))
		}
		s[j] = v
		if t == wasm.V128 {
			s[j+1] = vs[i].Hi
		}
		j += t.Slots()
	}
	return nil
}

// findPause returns the pause point of c at offset that a frame of kind can
// be stopped at.
func findPause(c *funcCode, offset uint32, kind api.PauseKind) *PausePoint {
	for i := range c.pauses {
		p := &c.pauses[i]
		if p.Offset != offset {
			continue
		}
		switch {
		case p.Kind == kind,
			kind == api.PauseHostCall && p.Kind == api.PauseCall && p.MaybeHost:
			return p
		}
	}
	return nil
}

// Resume rebuilds the frames a Suspended described (outermost first) on
// inst, which must be an instance of the same module (typically a fresh one
// whose memories, tables and globals were restored), and runs them to
// completion. It returns the outermost function's results. Every field of
// frames is checked against the pause-point tables first: a description
// that does not fit the module is an error, never a panic.
func (e *Engine) Resume(ctx context.Context, inst *store.Instance, frames []api.Frame) ([]uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, &api.TrapError{Kind: err}
	}
	m := e.machine(ctx, inst)
	defer e.release(m)
	first, err := m.load(inst, frames)
	if err != nil {
		return nil, err
	}
	inst.ClearInterrupt(store.InterruptPause)
	return m.execute(first.Type.Results, func() {})
}

// CheckFrames checks frames against inst exactly as Resume does, without
// running anything, so that a restore can refuse a checkpoint before any
// guest code runs.
func (e *Engine) CheckFrames(inst *store.Instance, frames []api.Frame) error {
	m := e.machine(context.Background(), inst)
	defer e.release(m)
	_, err := m.load(inst, frames)
	return err
}

// load checks frames and rebuilds them on the machine; it returns the
// outermost frame's function.
func (m *machine) load(inst *store.Instance, frames []api.Frame) (*store.Function, error) {
	e := m.e
	if len(frames) == 0 {
		return nil, fmt.Errorf("interp: resume: no frames")
	}
	if len(frames) > e.cfg.MaxCallDepth {
		return nil, fmt.Errorf("interp: resume: %d frames exceed the call depth limit %d", len(frames), e.cfg.MaxCallDepth)
	}
	base := 0
	var first *store.Function
	for i := range frames {
		f := &frames[i]
		innermost := i == len(frames)-1
		where := fmt.Sprintf("interp: resume: frame %d (func %d)", i, f.Func)
		if uint64(f.Func) >= uint64(len(inst.Funcs)) {
			return nil, fmt.Errorf("%s: no such function", where)
		}
		fn := inst.Funcs[f.Func]
		c, ok := fn.Code.(*funcCode)
		if fn.Host != nil || !ok || fn.Instance != inst {
			return nil, fmt.Errorf("%s: not a function defined by this instance", where)
		}
		if i == 0 {
			first = fn
		} else {
			// The caller's call must be able to reach this function.
			prev := &m.frames[i-1]
			pp := prev.code.pauseAt(prev.pc - 1)
			if pp.Indirect {
				if fn.TypeID != inst.TypeIDs[prev.code.code[pp.IR].a] {
					return nil, fmt.Errorf("%s: signature does not match the caller's call_indirect", where)
				}
			} else if pp.Callee != f.Func {
				return nil, fmt.Errorf("%s: the caller calls func %d", where, pp.Callee)
			}
		}
		if !innermost && f.Kind != api.PauseCall {
			return nil, fmt.Errorf("%s: a caller frame must be at a call, not %v", where, f.Kind)
		}
		pp := findPause(c, f.Offset, f.Kind)
		if pp == nil {
			return nil, fmt.Errorf("%s: no %v pause point at offset 0x%x", where, f.Kind, f.Offset)
		}
		stackTypes := pp.Stack
		if innermost && pp.Kind == api.PauseCall {
			stackTypes = append(append([]wasm.ValType{}, pp.Stack...), pp.Operands...)
		}
		if need := base + int(c.frameSlots); need > len(m.stack) {
			s := make([]uint64, need+1024)
			copy(s, m.stack)
			m.stack = s
		}
		s := m.stack[base:]
		if err := writeValues(s, c.locals, f.Locals, where+": locals"); err != nil {
			return nil, err
		}
		if err := writeValues(s[c.localSlots:], stackTypes, f.Stack, where+": operand stack"); err != nil {
			return nil, err
		}
		fr := frame{fn: fn, code: c, base: base, pc: pp.IR}
		if !innermost {
			fr.pc++
			call := &c.code[pp.IR]
			if call.op == opCall {
				base += int(call.b)
			} else {
				base += int(call.c)
			}
		}
		m.frames = append(m.frames, fr)
	}
	return first, nil
}

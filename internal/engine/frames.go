package engine

import (
	"fmt"
	"sync/atomic"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/pause"
	"github.com/ferryvm/ferry/internal/store"
)

// CheckedFrame is a portable frame that CheckFrames found to fit its
// instance: its function and the id of the pause point it stopped at. A
// tier loads a checked frame without checking it again.
type CheckedFrame struct {
	Fn     *store.Function
	Pauses *pause.Func
	Pause  uint32
}

// Checked is a frame list that CheckFrames found to fit one instance,
// kept so that a restore checks its frames once and its resume runs them
// without a second check (Engine.ResumeChecked). Its fields are
// unexported so that only CheckFrames makes one: holding a Checked is the
// proof that the check ran. It is bound to the instance it was checked
// against; the zero value fits none.
type Checked struct {
	inst   *store.Instance
	frames []api.Frame
	points []CheckedFrame
}

// For reports whether c was checked against inst.
func (c Checked) For(inst *store.Instance) bool { return c.inst != nil && c.inst == inst }

// Frames are the checked frames, outermost first. The caller must not
// change them: the check would no longer hold.
func (c Checked) Frames() []api.Frame { return c.frames }

// Points are what the check found of each frame, outermost first.
func (c Checked) Points() []CheckedFrame { return c.points }

// checkFramesHook, when set by a test (SetCheckFramesHook), is called by
// every CheckFrames: the way to show that a restore checks its frames once.
var checkFramesHook atomic.Pointer[func()]

// SetCheckFramesHook makes CheckFrames call f (nil: nothing) and returns
// the previous hook. For tests only.
func SetCheckFramesHook(f func()) (prev func()) {
	var old *func()
	if f == nil {
		old = checkFramesHook.Swap(nil)
	} else {
		old = checkFramesHook.Swap(&f)
	}
	if old == nil {
		return nil
	}
	return *old
}

// CheckFrames checks portable frames (outermost first) against inst, an
// instance they are to resume on, for every tier alike: each function is
// defined by inst and has code, each frame names a pause point of its
// function, every caller frame is at a call that can reach the next
// frame's function, the values have the pause point's types, and there
// are at most maxDepth frames. A frame description is untrusted input:
// whatever it holds, the answer is an error, never a panic.
func CheckFrames(inst *store.Instance, frames []api.Frame, maxDepth int) (Checked, error) {
	if h := checkFramesHook.Load(); h != nil {
		(*h)()
	}
	if len(frames) == 0 {
		return Checked{}, fmt.Errorf("resume: no frames")
	}
	if len(frames) > maxDepth {
		return Checked{}, fmt.Errorf("resume: %d frames exceed the call depth limit %d", len(frames), maxDepth)
	}
	out := make([]CheckedFrame, len(frames))
	refs := RefsOf(inst)
	for i := range frames {
		f := &frames[i]
		innermost := i == len(frames)-1
		// Formatted only on error: a deep stack has tens of thousands of
		// frames to check, and most checks pass.
		where := func() string { return fmt.Sprintf("resume: frame %d (func %d)", i, f.Func) }
		if uint64(f.Func) >= uint64(len(inst.Funcs)) {
			return Checked{}, fmt.Errorf("%s: no such function", where())
		}
		fn := inst.Funcs[f.Func]
		if fn.Host != nil || fn.Code == nil || fn.Instance != inst {
			return Checked{}, fmt.Errorf("%s: not a function defined by this instance", where())
		}
		pt := fn.Code.Pauses()
		if i > 0 {
			// The caller's call must be able to reach this function.
			prev := &out[i-1]
			pp := &prev.Pauses.Points[prev.Pause]
			if pp.Indirect {
				if uint64(pp.TypeIndex) >= uint64(len(inst.TypeIDs)) || fn.TypeID != inst.TypeIDs[pp.TypeIndex] {
					return Checked{}, fmt.Errorf("%s: signature does not match the caller's call_indirect", where())
				}
			} else if pp.Callee != f.Func {
				return Checked{}, fmt.Errorf("%s: the caller calls func %d", where(), pp.Callee)
			}
		}
		if !innermost && f.Kind != api.PauseCall {
			return Checked{}, fmt.Errorf("%s: a caller frame must be at a call, not %v", where(), f.Kind)
		}
		id, ok := pt.Find(f.Offset, f.Kind)
		if !ok {
			return Checked{}, fmt.Errorf("%s: no %v pause point at offset 0x%x", where(), f.Kind, f.Offset)
		}
		if err := pt.Check(id, innermost, f, refs); err != nil {
			return Checked{}, fmt.Errorf("%s: %w", where(), err)
		}
		out[i] = CheckedFrame{Fn: fn, Pauses: pt, Pause: id}
	}
	return Checked{inst: inst, frames: frames, points: out}, nil
}

// InstanceRefs translates an instance's funcref handles to and from the
// portable form (pause.Refs): the function's index plus one.
type InstanceRefs struct {
	inst  *store.Instance
	index map[uint64]uint64 // handle -> index+1, made on first use
}

// RefsOf is the funcref translation for inst.
func RefsOf(inst *store.Instance) *InstanceRefs { return &InstanceRefs{inst: inst} }

// ToIndex implements pause.Refs. A function imported under two indices
// exports as the lower one, as a checkpoint's tables and globals do.
func (r *InstanceRefs) ToIndex(ref uint64) (uint64, bool) {
	if r.index == nil {
		r.index = make(map[uint64]uint64, len(r.inst.Funcs))
		for k := len(r.inst.Funcs) - 1; k >= 0; k-- {
			r.index[r.inst.Funcs[k].Ref] = uint64(k) + 1
		}
	}
	x, ok := r.index[ref]
	return x, ok
}

// ToRef implements pause.Refs.
func (r *InstanceRefs) ToRef(v uint64) (uint64, bool) {
	if v == 0 || v > uint64(len(r.inst.Funcs)) {
		return 0, false
	}
	return r.inst.Funcs[v-1].Ref, true
}

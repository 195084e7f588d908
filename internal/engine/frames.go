package engine

import (
	"fmt"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/pause"
	"github.com/ferryvm/ferry/internal/store"
)

// Checked is a portable frame that CheckFrames found to fit its instance:
// its function and the id of the pause point it stopped at. A tier loads
// a checked frame without checking it again.
type Checked struct {
	Fn     *store.Function
	Pauses *pause.Func
	Pause  uint32
}

// CheckFrames checks portable frames (outermost first) against inst, an
// instance they are to resume on, for every tier alike: each function is
// defined by inst and has code, each frame names a pause point of its
// function, every caller frame is at a call that can reach the next
// frame's function, the values have the pause point's types, and there
// are at most maxDepth frames. A frame description is untrusted input:
// whatever it holds, the answer is an error, never a panic.
func CheckFrames(inst *store.Instance, frames []api.Frame, maxDepth int) ([]Checked, error) {
	if len(frames) == 0 {
		return nil, fmt.Errorf("resume: no frames")
	}
	if len(frames) > maxDepth {
		return nil, fmt.Errorf("resume: %d frames exceed the call depth limit %d", len(frames), maxDepth)
	}
	out := make([]Checked, len(frames))
	for i := range frames {
		f := &frames[i]
		innermost := i == len(frames)-1
		where := fmt.Sprintf("resume: frame %d (func %d)", i, f.Func)
		if uint64(f.Func) >= uint64(len(inst.Funcs)) {
			return nil, fmt.Errorf("%s: no such function", where)
		}
		fn := inst.Funcs[f.Func]
		if fn.Host != nil || fn.Code == nil || fn.Instance != inst {
			return nil, fmt.Errorf("%s: not a function defined by this instance", where)
		}
		pt := fn.Code.Pauses()
		if i > 0 {
			// The caller's call must be able to reach this function.
			prev := &out[i-1]
			pp := &prev.Pauses.Points[prev.Pause]
			if pp.Indirect {
				if uint64(pp.TypeIndex) >= uint64(len(inst.TypeIDs)) || fn.TypeID != inst.TypeIDs[pp.TypeIndex] {
					return nil, fmt.Errorf("%s: signature does not match the caller's call_indirect", where)
				}
			} else if pp.Callee != f.Func {
				return nil, fmt.Errorf("%s: the caller calls func %d", where, pp.Callee)
			}
		}
		if !innermost && f.Kind != api.PauseCall {
			return nil, fmt.Errorf("%s: a caller frame must be at a call, not %v", where, f.Kind)
		}
		id, ok := pt.Find(f.Offset, f.Kind)
		if !ok {
			return nil, fmt.Errorf("%s: no %v pause point at offset 0x%x", where, f.Kind, f.Offset)
		}
		if err := pt.Check(id, innermost, f, where); err != nil {
			return nil, err
		}
		out[i] = Checked{Fn: fn, Pauses: pt, Pause: id}
	}
	return out, nil
}

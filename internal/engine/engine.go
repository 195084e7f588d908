// Package engine is the seam between the runtime and its execution tiers.
// Every tier (the interpreter today, a compiler next) implements Engine;
// the runtime picks one at construction and never sees a tier's types.
// What every tier shares lives here and in internal/pause: the portable
// frame form a run stops in and resumes from, its checks, and the way a
// recovered panic becomes a trap. docs/engine.md explains the contract.
package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Engine runs WebAssembly code of one tier. Implementations hold no
// per-call state and are safe for concurrent calls.
type Engine interface {
	// Compile validates m and lowers it for this tier.
	Compile(m *wasm.Module) (Module, error)
	// Call runs fn (a Wasm or host function) with args in slot encoding
	// and returns its results in slot encoding. A trap or a cancelled
	// context is a *api.TrapError; a run that stopped at a pause point
	// returns a *Suspended.
	Call(ctx context.Context, fn *store.Function, args []uint64) ([]uint64, error)
	// Resume rebuilds frames (outermost first, as a *Suspended described
	// them) on inst, an instance of the module they were exported from
	// whose state was restored, and runs them to completion, with the
	// outcomes of Call. Frames are untrusted: they are checked first
	// (CheckFrames).
	Resume(ctx context.Context, inst *store.Instance, frames []api.Frame) ([]uint64, error)
	// CheckFrames checks frames against inst exactly as Resume does,
	// without running anything, so that a restore can refuse a checkpoint
	// before any guest code runs; the Checked it returns runs with
	// ResumeChecked, which does not check again.
	CheckFrames(inst *store.Instance, frames []api.Frame) (Checked, error)
	// ResumeChecked is Resume of frames CheckFrames already checked
	// against inst; a Checked made for another instance is an error.
	ResumeChecked(ctx context.Context, inst *store.Instance, checked Checked) ([]uint64, error)
	// Counting returns an engine like this one whose every call or resume
	// stops at its n-th polled pause point, as if a pause had been
	// requested there: a deterministic hook for checkpoint tests.
	Counting(n int64) Engine
}

// Module is a module compiled by a tier.
type Module interface {
	// Code returns one body per defined function, in order, for
	// store.Function.Code.
	Code() []store.Code
}

// ErrSuspended is wrapped by the error a call returns when it stopped at a
// pause point (see Suspended).
var ErrSuspended = errors.New("execution suspended at a pause point")

// Suspended is returned (as an error) by Call and Resume when the run
// stopped at a pause point. Frames describe every frame of the call in the
// portable form, outermost first; Resume continues from them.
type Suspended struct {
	Instance *store.Instance
	Frames   []api.Frame
	// Polled is the number of pause points this call polled, the one it
	// stopped at included, when the engine counts them (Counting; else 0).
	Polled int64
}

func (s *Suspended) Error() string {
	if n := len(s.Frames); n > 0 {
		f := s.Frames[n-1]
		return fmt.Sprintf("%v: %d frames, innermost func %d at %v +0x%x", ErrSuspended, n, f.Func, f.Kind, f.Offset)
	}
	return ErrSuspended.Error()
}

// Is makes errors.Is(err, ErrSuspended) hold.
func (s *Suspended) Is(target error) bool { return target == ErrSuspended }

package jit

import (
	"errors"
	"fmt"

	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/native"
)

// Options configures one compilation. The zero value compiles for the
// amd64 baseline (no optional instruction is used).
type Options struct {
	// Features are the CPU features the code may use: the runtime's
	// effective (possibly masked) features. Every emitted instruction's
	// feature is in this set.
	Features cpu.Set
	// noPolls leaves the budget polls out of function entries and
	// back-edges. Code without polls can be neither paused nor preempted,
	// so it is unexported: only the benchmark that measures what polls
	// cost (BenchmarkPollCost) sets it.
	noPolls bool
}

// WithFeatures returns a copy of o that compiles for the features s.
func (o Options) WithFeatures(s cpu.Set) Options {
	o.Features = s
	return o
}

// NoPause is the argument of an ExitBudget taken at a back-edge of a
// function lowered without polls (no pause id exists there): Go refills
// the budget and continues, but cannot stop the frame at that point.
const NoPause = ^uint32(0)

// Code is one compiled function. Entering it runs the function on the
// frame whose slot index is in the context block (native.Context.SetFrame),
// with its arguments in the frame's first slots, exactly as the
// interpreter would.
type Code struct {
	unit *native.Unit
	// Entry is the native offset at which Go enters the function for a
	// call (the frame set up by Go); a native call enters at CallEntry.
	Entry int
	// Cont[id] is the native offset at which a frame standing at pause
	// point id continues: for the entry poll, after the poll; for a loop's
	// poll, the loop body; for a call, after the call, with the results
	// already in their slots. -1 where the function has no such pause
	// point (an id of another kind, or unreachable code).
	Cont []int32
	// Selections lists the lowerings chosen from the CPU features, for the
	// feature lint and for diagnostics.
	Selections []Selection
	feats      cpu.Set
}

// Selection records how one op was lowered for the features at hand.
type Selection struct {
	Op       ir.Op
	Lowering string  // the instruction or sequence used, e.g. "lzcnt" or "bsr+cmov"
	Needs    cpu.Set // the features that lowering requires (empty for a baseline one)
}

// CallEntry returns the address of the function's native call entry
// (offset 0), the word a dispatch table holds for it: a native caller has
// set the frame and the arguments, the entry clears the other locals and
// runs the function; its Return comes back with RET (docs/compiler.md
// "Calls"). 0 once the code is freed.
func (c *Code) CallEntry() uintptr { return c.unit.Addr() }

// Unit returns the executable memory holding the code.
func (c *Code) Unit() *native.Unit { return c.unit }

// Features returns the union of the CPU features the emitted code uses;
// it is a subset of Options.Features.
func (c *Code) Features() cpu.Set { return c.feats }

// Enter runs the function from its entry on ctx until it exits.
func (c *Code) Enter(ctx *native.Context) (native.Exit, error) {
	return c.unit.Enter(ctx, c.Entry)
}

// EnterAt runs the function on a frame standing at pause point id (an
// interpreter frame at PauseIR[id]) until it exits: on-stack replacement
// at loop headers and re-entry after a deoptimization are this call.
func (c *Code) EnterAt(ctx *native.Context, id uint32) (native.Exit, error) {
	if int(id) >= len(c.Cont) || c.Cont[id] < 0 {
		return native.Exit{}, fmt.Errorf("jit: no continuation for pause point %d", id)
	}
	return c.unit.Enter(ctx, int(c.Cont[id]))
}

// Continue re-enters at the continuation of ctx's last exit (one that
// continues: budget, call, interp).
func (c *Code) Continue(ctx *native.Context) (native.Exit, error) {
	return c.unit.Continue(ctx)
}

// Free unmaps the code; it fails while code runs in it (native.ErrUnitBusy).
func (c *Code) Free() error { return c.unit.Free() }

// ErrUnsupported is wrapped by the error of Supported and Compile when the
// function stays interpreted (pathological size, a corrupt IR).
var ErrUnsupported = errors.New("jit: function not compiled")

// Limits on what one function may be before it stays interpreted: they
// bound compile time and code size (a few dozen bytes per IR instruction)
// on pathological input, and keep every slot displacement a disp32.
const (
	maxIRInstrs  = 1 << 18
	maxSlots     = 1 << 24
	maxCodeBytes = 64 << 20
)

// Supported returns nil when f can be compiled, or an error wrapping
// ErrUnsupported that says why it stays interpreted.
func Supported(f *ir.Func) error {
	if len(f.Code) == 0 {
		return fmt.Errorf("%w: function %d has no code", ErrUnsupported, f.Index)
	}
	if len(f.Code) > maxIRInstrs {
		return fmt.Errorf("%w: function %d has %d IR instructions, more than %d", ErrUnsupported, f.Index, len(f.Code), maxIRInstrs)
	}
	if f.FrameSlots > maxSlots {
		return fmt.Errorf("%w: function %d needs %d slots, more than %d", ErrUnsupported, f.Index, f.FrameSlots, maxSlots)
	}
	return nil
}

package interp

import (
	"sync/atomic"

	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/pause"
)

// funcCode is a lowered function body (the tier-neutral ir.Func) with the
// interpreter's own state; it is what Compiled.Code returns and the store
// keeps in store.Function.Code (a store.Code).
type funcCode struct {
	ir.Func
	// start is where a call begins: 1 (past the entry Poll) while the
	// code is unarmed, 0 while armed or without an entry poll (arm.go).
	start     uint32
	backEdges []backEdge // the rewrites arming makes
	owner     *Compiled
	// pauses is the function's tier-neutral pause-point table.
	pauses pause.Func

	// callSlots is the frame size the interpreter's call fast path checks
	// against the value stack: FrameSlots while a call may take the fast
	// path, tieredSlots while it must leave it (see tiered). Folding the
	// tier state into the size the fast path loads anyway keeps tiering
	// off the hot call path: no extra load, no extra branch. Only
	// setTiered and newCompiled store it.
	callSlots atomic.Uint32
	// native is the function's entrant compiled code, nil when it has
	// none. Making the code non-entrant is storing nil: frames already
	// running it fall back to the interpreter at their next exit
	// (native.go).
	native atomic.Pointer[compiledCode]
	// hot counts down the calls left before the auto tier compiles the
	// function (policy.go); it is only touched while tiered is set and
	// native is nil.
	hot atomic.Int32
	// compileState is one of the compile* states (tier.go): it makes sure
	// a function is compiled at most once.
	compileState atomic.Uint32
	// unloaded is set while a function read from a code cache entry has
	// no code yet (cached.go, FromSource): load fills it in.
	unloaded atomic.Bool
}

// Pauses makes funcCode a store.Code: the table every tier shares.
// A function not loaded yet is loaded first; one that cannot be has an
// empty table, so a frame said to be in it is refused.
func (f *funcCode) Pauses() *pause.Func {
	f.load()
	return &f.pauses
}

// tieredSlots is callSlots while a function is tiered: larger than any
// value stack (maxStackSlots), so the fast path's room check always sends
// the call to the general path, and small enough that adding a frame base
// cannot overflow an int on a 32-bit host.
const tieredSlots = 1 << 30

// tiered reports whether a call of f must leave the interpreter's call
// fast path: f has compiled code to enter, or the tier policy still counts
// its calls (policy.go).
func (f *funcCode) tiered() bool { return f.callSlots.Load() == tieredSlots }

// setTiered makes calls of f leave the call fast path (on) or take it
// again. It is the one place the tier policy and the compiled tier
// (tier.go) change that.
func (f *funcCode) setTiered(on bool) {
	if on {
		f.callSlots.Store(tieredSlots)
	} else {
		f.callSlots.Store(f.FrameSlots)
	}
}

// newCompiled assembles the lowered (or rebuilt) functions of a module
// with nImp imported functions: every function learns its owner and
// starts on the call fast path, which needs its final FrameSlots.
func newCompiled(funcs []*funcCode, nImp uint32) *Compiled {
	c := &Compiled{funcs: funcs, byIndex: append(make([]*funcCode, nImp), funcs...)}
	for _, f := range funcs {
		f.owner = c
		f.setTiered(false)
	}
	return c
}

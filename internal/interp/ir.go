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

	// tiered is non-zero while a call of this function must leave the
	// interpreter's call fast path: the function has compiled code to
	// enter, or the tier policy still counts its calls (policy.go). It
	// is the only tiering state the hot loop reads, one load per call.
	tiered atomic.Uint32
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

package interp

import (
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
}

// Pauses makes funcCode a store.Code: the table every tier shares.
func (f *funcCode) Pauses() *pause.Func { return &f.pauses }

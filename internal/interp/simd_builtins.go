package interp

import (
	"github.com/ferryvm/ferry/internal/builtins"
	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/v128"
)

// callsites is the resolved callsite table of the builtins the interpreter
// calls: the SIMD instructions that have CPU-specific kernels (their
// entries of simd call through a slot of it) and memory.fill. A slot
// resolves on its first call against the table's effective features —
// the host's until SetCPUFeatures says otherwise.
var callsites, memoryFill = installBuiltins(simd, cpu.Host())

// memoryCopy is memory.copy: on every CPU measured so far Go's memmove
// wins and is selected, but the decision is recorded like any other.
var memoryCopy = builtins.Bind(callsites, builtins.MemoryCopy)

// pageIsZero is the checkpoint writer's zero-page scan. It lives in the
// interpreter's table, though the interpreter never calls it, because that
// table is the one a checkpoint records and a restore re-decides.
var pageIsZero = builtins.Bind(callsites, builtins.PageIsZero)

// IsZeroPage reports whether page is all zero, through the callsite table.
func IsZeroPage(page []byte) bool { return pageIsZero.Func()(page) }

// installBuiltins replaces t's entries for every builtins.V128 op by a
// call through a slot of a new table for features f.
func installBuiltins(t *v128.Table, f cpu.Features) (*builtins.CallsiteTable, *builtins.Slot[builtins.FillFunc]) {
	tab := builtins.NewCallsiteTable(f)
	for _, op := range builtins.V128 {
		s := v128.Sub(op.Op)
		switch {
		case op.Unary != nil:
			slot := builtins.Bind(tab, op.Unary)
			t.Unary[s] = func(x v128.V128) v128.V128 { return slot.Func()(x) }
		case op.Binary != nil:
			slot := builtins.Bind(tab, op.Binary)
			t.Binary[s] = func(x, y v128.V128) v128.V128 { return slot.Func()(x, y) }
		case op.Ternary != nil:
			slot := builtins.Bind(tab, op.Ternary)
			t.Ternary[s] = func(x, y, z v128.V128) v128.V128 { return slot.Func()(x, y, z) }
		case op.Test != nil:
			slot := builtins.Bind(tab, op.Test)
			t.Test[s] = func(x v128.V128) uint32 { return slot.Func()(x) }
		}
	}
	return tab, builtins.Bind(tab, builtins.MemoryFill)
}

// Callsites returns the interpreter's callsite table: its decisions are
// what a checkpoint records, and Reresolve (or Restore) changes the
// effective features of every instance in the process.
func Callsites() *builtins.CallsiteTable { return callsites }

// SetCPUFeatures makes f the effective features of the interpreter's
// builtins, re-deciding the slots already resolved, and returns the
// decisions that changed.
func SetCPUFeatures(f cpu.Features) ([]builtins.Change, error) {
	return callsites.Reresolve(f)
}

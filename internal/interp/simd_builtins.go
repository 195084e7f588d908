package interp

import (
	"github.com/ferryvm/ferry/internal/builtins"
	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/v128"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Builtins is one runtime's resolved callsite table and the dispatch
// tables the loop calls the builtins through: the SIMD instructions that
// have CPU-specific kernels, the relaxed-SIMD ones, memory.fill,
// memory.copy and the checkpoint writer's zero-page scan. Each runtime
// has its own, so that two runtimes of one process never share effective
// features or decisions (ARCHITECTURE.md §5): a restore pins semantic
// decisions in its runtime only. A slot resolves on its first call
// against the table's effective features.
//
// The loop reaches a builtin through the machine's pointer to this value
// and an index, as it reached the process-wide tables before: the
// dispatch tables are arrays inside the struct, not behind pointers of
// their own, so a call costs the same loads as through a global table.
// Only the four shapes builtins have are copied (8 KiB, not the 24 KiB
// of a v128.Table): a runtime is cheap to make, restores make one each.
type Builtins struct {
	table *builtins.CallsiteTable
	// unary, binary, ternary and test are the portable table's entries
	// of those shapes, every builtins.V128 one replaced by a call through
	// its slot of table.
	unary   [256]v128.UnaryFunc
	binary  [256]v128.BinaryFunc
	ternary [256]v128.TernaryFunc // bitselect and shuffle (the mask as z)
	test    [256]v128.TestFunc
	// relaxed are the relaxed-SIMD instructions (opcode - 0x300), each a
	// call through its slot. They are semantic builtins: the behaviour
	// chosen on first use (fused or unfused madd, x86 or Arm swizzle,
	// trunc, laneselect, min/max, q15mulr, dot) is recorded, kept by
	// Restore and Reresolve, and emulated where a CPU lacks the
	// instruction. All take three operands; unary and binary ones ignore
	// the extra ones.
	relaxed    [wasm.NumRelaxed]v128.TernaryFunc
	memoryFill *builtins.Slot[builtins.FillFunc]
	// memoryCopy: on every CPU measured so far Go's memmove wins and is
	// selected, but the decision is recorded like any other.
	memoryCopy *builtins.Slot[builtins.CopyFunc]
	// pageIsZero lives here though the loop never calls it, because this
	// table is the one a checkpoint records and a restore re-decides.
	pageIsZero *builtins.Slot[builtins.IsZeroFunc]
}

// NewBuiltins returns a table of unresolved builtins for the effective
// features f.
func NewBuiltins(f cpu.Features) *Builtins {
	b := new(Builtins)
	b.table = builtins.NewCallsiteTable(f)
	b.unary, b.binary, b.ternary, b.test = simd.Unary, simd.Binary, simd.Ternary, simd.Test
	for _, op := range builtins.V128 {
		s := v128.Sub(op.Op)
		switch {
		case op.Unary != nil:
			slot := builtins.Bind(b.table, op.Unary)
			b.unary[s] = func(x v128.V128) v128.V128 { return slot.Func()(x) }
		case op.Binary != nil:
			slot := builtins.Bind(b.table, op.Binary)
			b.binary[s] = func(x, y v128.V128) v128.V128 { return slot.Func()(x, y) }
		case op.Ternary != nil:
			slot := builtins.Bind(b.table, op.Ternary)
			b.ternary[s] = func(x, y, z v128.V128) v128.V128 { return slot.Func()(x, y, z) }
		case op.Test != nil:
			slot := builtins.Bind(b.table, op.Test)
			b.test[s] = func(x v128.V128) uint32 { return slot.Func()(x) }
		}
	}
	b.relaxed = bindRelaxed(b.table)
	b.memoryFill = builtins.Bind(b.table, builtins.MemoryFill)
	b.memoryCopy = builtins.Bind(b.table, builtins.MemoryCopy)
	b.pageIsZero = builtins.Bind(b.table, builtins.PageIsZero)
	return b
}

// Callsites returns the callsite table: its decisions are what a
// checkpoint of the runtime records, and Reresolve or Restore change the
// builtins of every instance of that runtime (and of no other).
func (b *Builtins) Callsites() *builtins.CallsiteTable { return b.table }

// IsZeroPage reports whether page is all zero, through the table's
// zero-page scan.
func (b *Builtins) IsZeroPage(page []byte) bool { return b.pageIsZero.Func()(page) }

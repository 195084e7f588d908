package interp

import (
	"unsafe"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

// execRare executes one of the rare instructions, memory.grow and the
// bulk memory and table operations, for the frame fr whose slots start at
// fp, with pc one past the instruction (where a trap leaves the frame).
// The interpreter's loop calls it out of line, and the compiled tier calls
// it for the same instructions (native.ExitInterp), so that both tiers
// share one implementation. The caller reloads memory 0's buffer after it.
func (m *machine) execRare(fr *frame, pc uint32, in *ir.Instr, fp unsafe.Pointer, inst *store.Instance) {
	var mem *store.Memory
	var buf []byte
	if len(inst.Memories) > 0 {
		mem = inst.Memories[0]
		buf = mem.Buf
	}
	switch in.Op {
	case ir.MemoryGrow:
		old, ok := mem.Grow(uint64(uint32(*sl(fp, in.B))))
		if ok {
			*sl(fp, in.A) = old
		} else {
			*sl(fp, in.A) = 0xFFFFFFFF
		}
	case ir.MemoryInit:
		d, s, n := uint64(uint32(*sl(fp, in.B))), uint64(uint32(*sl(fp, in.B+1))), uint64(uint32(*sl(fp, in.B+2)))
		data := inst.Datas[in.A]
		if s+n > uint64(len(data)) || d+n > uint64(len(buf)) {
			m.trap(fr, pc, api.ErrOutOfBoundsMemory)
		}
		copy(buf[d:d+n], data[s:s+n])
	case ir.MemoryCopy:
		d, s, n := uint64(uint32(*sl(fp, in.B))), uint64(uint32(*sl(fp, in.B+1))), uint64(uint32(*sl(fp, in.B+2)))
		if s+n > uint64(len(buf)) || d+n > uint64(len(buf)) {
			m.trap(fr, pc, api.ErrOutOfBoundsMemory)
		}
		m.builtins.memoryCopy.Func()(buf[d:d+n], buf[s:s+n]) // a builtin (simd_builtins.go)
	case ir.MemoryFill:
		d, v, n := uint64(uint32(*sl(fp, in.B))), byte(*sl(fp, in.B+1)), uint64(uint32(*sl(fp, in.B+2)))
		if d+n > uint64(len(buf)) {
			m.trap(fr, pc, api.ErrOutOfBoundsMemory)
		}
		m.builtins.memoryFill.Func()(buf[d:d+n], v) // a builtin (simd_builtins.go)
	case ir.DataDrop:
		inst.Datas[in.A] = nil
	case ir.TableGet:
		tab := inst.Tables[in.B]
		i := uint64(uint32(*sl(fp, in.C)))
		if i >= uint64(len(tab.Elems)) {
			m.trap(fr, pc, api.ErrOutOfBoundsTable)
		}
		*sl(fp, in.A) = tab.Elems[i]
	case ir.TableSet:
		tab := inst.Tables[in.A]
		i := uint64(uint32(*sl(fp, in.B)))
		if i >= uint64(len(tab.Elems)) {
			m.trap(fr, pc, api.ErrOutOfBoundsTable)
		}
		tab.Elems[i] = *sl(fp, in.C)
	case ir.TableSize:
		*sl(fp, in.A) = uint64(len(inst.Tables[in.B].Elems))
	case ir.TableGrow:
		old, ok := inst.Tables[in.A].Grow(uint64(uint32(*sl(fp, in.B+1))), *sl(fp, in.B))
		if ok {
			*sl(fp, in.B) = old
		} else {
			*sl(fp, in.B) = 0xFFFFFFFF
		}
	case ir.TableFill:
		if !inst.Tables[in.A].Fill(uint64(uint32(*sl(fp, in.B))), uint64(uint32(*sl(fp, in.B+2))), *sl(fp, in.B+1)) {
			m.trap(fr, pc, api.ErrOutOfBoundsTable)
		}
	case ir.TableCopy:
		dt, st := inst.Tables[in.A].Elems, inst.Tables[in.B].Elems
		d, s, n := uint64(uint32(*sl(fp, in.C))), uint64(uint32(*sl(fp, in.C+1))), uint64(uint32(*sl(fp, in.C+2)))
		if s+n > uint64(len(st)) || d+n > uint64(len(dt)) {
			m.trap(fr, pc, api.ErrOutOfBoundsTable)
		}
		copy(dt[d:d+n], st[s:s+n])
	case ir.TableInit:
		d, s, n := uint64(uint32(*sl(fp, in.C))), uint64(uint32(*sl(fp, in.C+1))), uint64(uint32(*sl(fp, in.C+2)))
		if !inst.Tables[in.B].Init(d, inst.Elems[in.A], s, n) {
			m.trap(fr, pc, api.ErrOutOfBoundsTable)
		}
	case ir.ElemDrop:
		inst.Elems[in.A] = nil
	case ir.RefFunc:
		*sl(fp, in.A) = inst.Funcs[in.B].Ref
	case ir.MemorySize:
		*sl(fp, in.A) = uint64(len(buf)) / wasm.PageSize
	default:
		if isSIMDOp(in.Op) { // the compiled tier's v128 exits (simd_rare.go)
			m.execSIMDRare(fr, pc, in, fp, inst)
			return
		}
		m.trap(fr, pc, errBadOp)
	}
}

// indirectCallee resolves the callee of the call_indirect in at the frame
// fr (slots at fp, pc one past the call), raising the traps the
// specification names: index out of the table, null entry, signature
// mismatch. Both tiers call through it.
func (m *machine) indirectCallee(fr *frame, pc uint32, in *ir.Instr, fp unsafe.Pointer, inst *store.Instance) *store.Function {
	tab := inst.Tables[in.B]
	i := uint64(uint32(*sl(fp, uint32(in.Imm))))
	if i >= uint64(len(tab.Elems)) {
		m.trap(fr, pc, api.ErrUndefinedElement)
	}
	ref := tab.Elems[i]
	if ref == 0 {
		m.trap(fr, pc, api.ErrUninitializedElement)
	}
	f := inst.Store.FuncByRef(ref)
	if f == nil {
		m.trap(fr, pc, api.ErrUninitializedElement)
	}
	if f.TypeID != inst.TypeIDs[in.A] {
		m.trap(fr, pc, api.ErrIndirectCallTypeMismatch)
	}
	return f
}

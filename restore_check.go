package ferry

import (
	"github.com/ferryvm/ferry/internal/snapshot"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

// checkShape checks every count and size of the checkpoint f against the
// module m and the runtime's limits, before the restore instantiates m or
// allocates anything for the state: the reader only bounds them by what
// any module could need (snapshot.DefaultLimits), and a forged file that
// stays within those bounds would otherwise still have the restore copy
// and convert hundreds of MiB of locals, elements or pages before the
// finer checks of apply and CheckFrames refused them. It sees the frames'
// headers only: their values are decoded once it passed. The types and
// values are left to those checks; this one is about sizes only.
func (r *Runtime) checkShape(f *snapshot.File, m *wasm.Module) error {
	s, frames := &f.Snapshot, f.FrameHeaders()
	if len(frames) > r.cfg.maxCallDepth {
		return mismatch("%d frames exceed the call depth limit %d", len(frames), r.cfg.maxCallDepth)
	}
	// Every instruction pushes at most one value, or the results of one
	// block or call: this bounds the operand stack validation allows at
	// any point of a body, without lowering it.
	maxPush := 1
	for _, t := range m.Types {
		maxPush = max(maxPush, len(t.Results))
	}
	imported := m.NumImportedFuncs()
	for k, f := range frames {
		if f.Func < imported || uint64(f.Func-imported) >= uint64(len(m.Funcs)) {
			return mismatch("frame %d: function %d is not defined by the module", k, f.Func)
		}
		fn := &m.Funcs[f.Func-imported]
		if int(fn.TypeIndex) >= len(m.Types) {
			return mismatch("frame %d: function %d has no type", k, f.Func)
		}
		typ := &m.Types[fn.TypeIndex]
		if want := len(typ.Params) + len(fn.Locals); f.Locals != want {
			return mismatch("frame %d: function %d has %d locals and parameters, the checkpoint %d", k, f.Func, want, f.Locals)
		}
		// The innermost frame paused at a call also holds the callee's
		// arguments, which its body pushed.
		if limit := uint64(len(fn.Body)) * uint64(maxPush); uint64(f.Stack) > limit {
			return mismatch("frame %d: %d operands, function %d's body (%d bytes) can hold at most %d", k, f.Stack, f.Func, len(fn.Body), limit)
		}
	}
	if len(s.Globals) != len(m.Globals) {
		return mismatch("%d globals, the module has %d", len(s.Globals), len(m.Globals))
	}
	if len(s.Tables) != len(m.Tables) {
		return mismatch("%d tables, the module has %d", len(s.Tables), len(m.Tables))
	}
	for k, t := range s.Tables {
		lim := m.Tables[k].Limits
		most := uint64(store.MaxTableElems)
		if lim.HasMax {
			most = min(most, lim.Max)
		}
		if n := uint64(len(t.Elems)); n < lim.Min || n > most {
			return mismatch("table %d has %d elements, the module allows %d to %d", k, n, lim.Min, most)
		}
	}
	if len(s.Memories) != len(m.Memories) {
		return mismatch("%d memories, the module has %d", len(s.Memories), len(m.Memories))
	}
	for k, sm := range s.Memories {
		lim := m.Memories[k].Limits
		most := min(uint64(r.cfg.memoryLimitPages), wasm.MaxPages)
		if lim.HasMax {
			most = min(most, lim.Max)
		}
		if pages := sm.Size / wasm.PageSize; pages < lim.Min || pages > most {
			return mismatch("memory %d has %d pages, the module allows %d to %d", k, pages, lim.Min, most)
		}
	}
	if len(s.Segments.DataDropped) != len(m.Datas) || len(s.Segments.ElemDropped) != len(m.Elems) {
		return mismatch("%d data and %d element segments, the module has %d and %d",
			len(s.Segments.DataDropped), len(s.Segments.ElemDropped), len(m.Datas), len(m.Elems))
	}
	return nil
}

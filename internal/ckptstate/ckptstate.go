// Package ckptstate translates between a store instance and the portable
// state a checkpoint holds (internal/snapshot): globals, tables, memories,
// segments and the funcref values of frames. It is tier-neutral: the
// facade uses it, and so can tests and any engine tier, without going
// through package ferry.
//
// A funcref crosses into a checkpoint as its function index plus one (0 is
// null): a store Ref is a process-local handle. An externref can only be
// carried when null.
package ckptstate

import (
	"errors"
	"fmt"
	"os"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/snapshot"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

// ErrNotCheckpointable is ferry.ErrNotCheckpointable: the state cannot be
// carried in WebAssembly terms.
var ErrNotCheckpointable = errors.New("ferry: state cannot be checkpointed")

// ErrMismatch is ferry.ErrCheckpointMismatch: the checkpoint does not fit
// the module.
var ErrMismatch = errors.New("ferry: checkpoint does not fit the module")

// Mismatch is an error wrapping ErrMismatch.
func Mismatch(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMismatch, fmt.Sprintf(format, args...))
}

// Refs maps every funcref of an instance's function space to its index
// plus one.
type Refs map[uint64]uint64

// RefIndex is the Refs of si.
func RefIndex(si *store.Instance) Refs {
	m := make(Refs, len(si.Funcs))
	for k := len(si.Funcs) - 1; k >= 0; k-- { // the lowest index wins
		m[si.Funcs[k].Ref] = uint64(k) + 1
	}
	return m
}

// ToIndex is v, of type t, as a checkpoint holds it.
func (idx Refs) ToIndex(t api.ValueType, v uint64) (uint64, error) {
	switch {
	case v == 0 || (t != api.ValueTypeFuncref && t != api.ValueTypeExternref):
		return v, nil
	case t == api.ValueTypeExternref:
		return 0, fmt.Errorf("%w: a non-null externref", ErrNotCheckpointable)
	}
	x, ok := idx[v]
	if !ok {
		return 0, fmt.Errorf("%w: a funcref to a function outside the instance", ErrNotCheckpointable)
	}
	return x, nil
}

// IndexToRef is v, of type t as a checkpoint holds it, as a value of si.
func IndexToRef(si *store.Instance, t api.ValueType, v uint64) (uint64, error) {
	switch {
	case v == 0 || (t != api.ValueTypeFuncref && t != api.ValueTypeExternref):
		return v, nil
	case t == api.ValueTypeExternref:
		return 0, errors.New("ferry: a non-null externref cannot be restored")
	case v > uint64(len(si.Funcs)):
		return 0, fmt.Errorf("ferry: funcref to function %d, the instance has %d", v-1, len(si.Funcs))
	}
	return si.Funcs[v-1].Ref, nil
}

// Capture fills s's globals, tables, memories and segments from si. The
// memories refer to si's live buffers (snapshot.Memory.Pack copies them).
func Capture(si *store.Instance, s *snapshot.Snapshot) error {
	m := si.Module
	if n := len(m.ImportedTables) + len(m.ImportedMemories) + len(m.ImportedGlobals); n > 0 {
		return fmt.Errorf("%w: the module imports tables, memories or globals (shared with other instances)", ErrNotCheckpointable)
	}
	idx := RefIndex(si)
	for k, g := range si.Globals {
		v, err := idx.ToIndex(api.ValueType(g.Type.Type), g.Lo)
		if err != nil {
			return fmt.Errorf("global %d: %w", k, err)
		}
		s.Globals = append(s.Globals, snapshot.Global{Mutable: g.Type.Mutable,
			Value: snapshot.Value{Type: uint8(g.Type.Type), Lo: v, Hi: g.Hi}})
	}
	for k, t := range si.Tables {
		st := snapshot.Table{ElemType: uint8(t.Type.Elem), Elems: make([]uint32, len(t.Elems))}
		for j, ref := range t.Elems {
			v, err := idx.ToIndex(api.ValueType(t.Type.Elem), ref)
			if err != nil {
				return fmt.Errorf("table %d element %d: %w", k, j, err)
			}
			st.Elems[j] = uint32(v)
		}
		s.Tables = append(s.Tables, st)
	}
	for _, mem := range si.Memories {
		s.Memories = append(s.Memories, snapshot.Memory{Size: uint64(len(mem.Buf)), Data: mem.Buf})
	}
	for _, d := range si.Datas {
		s.Segments.DataDropped = append(s.Segments.DataDropped, d == nil)
	}
	for _, e := range si.Elems {
		s.Segments.ElemDropped = append(s.Segments.ElemDropped, e == nil)
	}
	return nil
}

// Apply gives si the globals, tables and segment state of s, checking
// each against the module (errors wrap ErrMismatch). Memories are only
// counted here: RestoreMemory fills each, as its caller decides how.
func Apply(si *store.Instance, s *snapshot.Snapshot) error {
	if len(s.Globals) != len(si.Globals) {
		return Mismatch("%d globals, the module has %d", len(s.Globals), len(si.Globals))
	}
	for k, g := range s.Globals {
		ig := si.Globals[k]
		if g.Value.Type != uint8(ig.Type.Type) || g.Mutable != ig.Type.Mutable {
			return Mismatch("global %d has type 0x%02x (mutable %v), the module's is %v", k, g.Value.Type, g.Mutable, ig.Type.Type)
		}
		lo, err := IndexToRef(si, g.Value.Type, g.Value.Lo)
		if err != nil {
			return Mismatch("global %d: %v", k, err)
		}
		if g.Value.Type == uint8(wasm.I32) || g.Value.Type == uint8(wasm.F32) {
			lo = uint64(uint32(lo))
		}
		if !ig.Type.Mutable {
			if ig.Lo != lo || ig.Hi != g.Value.Hi {
				return Mismatch("immutable global %d differs from its initial value", k)
			}
			continue
		}
		ig.Lo, ig.Hi = lo, g.Value.Hi
	}
	if len(s.Tables) != len(si.Tables) {
		return Mismatch("%d tables, the module has %d", len(s.Tables), len(si.Tables))
	}
	for k, t := range s.Tables {
		it := si.Tables[k]
		n := uint64(len(t.Elems))
		if t.ElemType != uint8(it.Type.Elem) {
			return Mismatch("table %d has element type 0x%02x, the module's is %v", k, t.ElemType, it.Type.Elem)
		}
		if n < it.Type.Limits.Min || n > it.Max {
			return Mismatch("table %d has %d elements, the module allows %d to %d", k, n, it.Type.Limits.Min, it.Max)
		}
		// Resize charges the runtime's table budget before allocating.
		if err := it.Resize(n); err != nil {
			return Mismatch("table %d: %v", k, err)
		}
		for j, x := range t.Elems {
			ref, err := IndexToRef(si, t.ElemType, uint64(x))
			if err != nil {
				return Mismatch("table %d element %d: %v", k, j, err)
			}
			it.Elems[j] = ref
		}
	}
	if len(s.Segments.DataDropped) != len(si.Datas) || len(s.Segments.ElemDropped) != len(si.Elems) {
		return Mismatch("%d data and %d element segments, the module has %d and %d",
			len(s.Segments.DataDropped), len(s.Segments.ElemDropped), len(si.Datas), len(si.Elems))
	}
	for k, dropped := range s.Segments.DataDropped {
		if !dropped && si.Datas[k] == nil {
			return Mismatch("data segment %d is not passive, it cannot be live", k)
		}
		if dropped && si.Datas[k] != nil { // a Go program has tens of thousands
			si.Datas[k] = nil
		}
	}
	for k, dropped := range s.Segments.ElemDropped {
		if !dropped && si.Elems[k] == nil {
			return Mismatch("element segment %d is not passive, it cannot be live", k)
		}
		if dropped {
			si.Elems[k] = nil
		}
	}
	if len(s.Memories) != len(si.Memories) {
		return Mismatch("%d memories, the module has %d", len(s.Memories), len(si.Memories))
	}
	return nil
}

// MaxMapRuns bounds the mappings one memory may add (the kernel limits
// mappings per process, 65530 by default on Linux); a memory with more
// runs of present pages is copied.
const MaxMapRuns = 8192

// MemorySource says where RestoreMemory takes a memory's pages from.
type MemorySource struct {
	File *snapshot.File
	// Mapped, when not nil and mapping is allowed, is the open file
	// behind File, whose stored pages may be mapped rather than copied.
	Mapped *os.File
	// NoMapping forbids mapping; VerifyFirst checks mapped pages before
	// mapping them (copied pages are always checked as they are read).
	NoMapping, VerifyFirst bool
}

// RestoreMemory gives memory k of si the checkpoint's pages, mapped from
// the file where it can (then reporting mapped, having checked the data
// only with src.VerifyFirst), copied and checked otherwise.
func RestoreMemory(si *store.Instance, k int, src MemorySource) (mapped bool, err error) {
	sm := &src.File.Snapshot.Memories[k]
	mem := si.Memories[k]
	pages := sm.Size / wasm.PageSize
	if pages < mem.Type.Limits.Min || pages > mem.Max {
		return false, Mismatch("memory %d has %d pages, the module allows %d to %d", k, pages, mem.Type.Limits.Min, mem.Max)
	}
	if err := mem.Reset(pages); err != nil {
		return false, fmt.Errorf("ferry: restore memory %d: %w", k, err)
	}
	off, _, mappable := src.File.MemoryData(k)
	if mappable && src.Mapped != nil && !src.NoMapping && os.Getpagesize() == snapshot.PageSize && len(sm.Runs) <= MaxMapRuns {
		if src.VerifyFirst {
			if err := src.File.VerifyMemory(k); err != nil {
				return false, err
			}
		}
		err := mapRuns(mem, int(src.Mapped.Fd()), off, sm.Runs)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, store.ErrNotMappable) {
			return false, fmt.Errorf("ferry: restore memory %d: %w", k, err)
		}
		if err := mem.Reset(pages); err != nil {
			return false, err
		}
	}
	return false, src.File.ReadMemory(k, mem.Buf)
}

func mapRuns(mem *store.Memory, fd int, off int64, runs []snapshot.PageRun) error {
	for _, run := range runs {
		n := run.Count * snapshot.PageSize
		if err := mem.MapFile(fd, off, run.First*snapshot.PageSize, n); err != nil {
			return err
		}
		off += int64(n)
	}
	return nil
}

package store

import (
	"fmt"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/wasm"
)

// NewStore returns an empty store whose memories may reach wasm.MaxPages.
func NewStore() *Store {
	s := &Store{types: map[string]uint32{}, MemoryLimitPages: wasm.MaxPages}
	s.SetTableElemLimit(DefaultTableElemLimit)
	return s
}

// TypeID returns the canonical id of a signature: two signatures get the same
// id exactly when they are equal, so call_indirect compares one integer.
func (s *Store) TypeID(ft *wasm.FuncType) uint32 {
	key := signatureKey(ft)
	s.mu.RLock()
	id, ok := s.types[key]
	s.mu.RUnlock()
	if ok {
		return id
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.types[key]; ok {
		return id
	}
	if s.types == nil {
		s.types = map[string]uint32{}
	}
	id = uint32(len(s.types))
	s.types[key] = id
	return id
}

// signatureKey encodes a signature as bytes: params, a separator that is no
// value type, results.
func signatureKey(ft *wasm.FuncType) string {
	b := make([]byte, 0, len(ft.Params)+len(ft.Results)+1)
	for _, t := range ft.Params {
		b = append(b, byte(t))
	}
	b = append(b, 0)
	for _, t := range ft.Results {
		b = append(b, byte(t))
	}
	return string(b)
}

// A funcref value is a slot of the function-reference space: the slot's
// index plus one in the low 32 bits, the slot's generation above. A slot
// freed by a released instance is reused with the next generation, so a
// stale value left in some table names nothing rather than another
// function.
const (
	slotChunkBits = 8
	slotChunk     = 1 << slotChunkBits
)

// slotChunks is the function-reference space: chunks of slots that never
// move once allocated, so that a slot cleared or reused is seen by every
// reader (a reader holding a previous chunk list still reads the same
// chunks).
type slotChunks []*[slotChunk]funcSlot

// register gives each function its TypeID and its Ref, taking freed slots
// first, and publishes it.
func (s *Store) register(fns []*Function) {
	for _, f := range fns {
		f.TypeID = s.TypeID(f.Type)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	chunks := s.funcs.Load()
	var cs slotChunks
	if chunks != nil {
		cs = *chunks
	}
	for _, f := range fns {
		var idx uint32
		if n := len(s.freeIdx); n > 0 {
			idx = s.freeIdx[n-1]
			s.freeIdx = s.freeIdx[:n-1]
		} else {
			idx = s.nslots
			s.nslots++
			if int(idx>>slotChunkBits) == len(cs) {
				cs = append(cs[:len(cs):len(cs)], new([slotChunk]funcSlot))
				s.funcs.Store(&cs)
			}
		}
		gen := uint64(0)
		if int(idx) < len(s.slotGens) {
			gen = uint64(s.slotGens[idx])
		}
		f.Ref = gen<<32 | uint64(idx+1)
		cs[idx>>slotChunkBits][idx&(slotChunk-1)].Store(f)
	}
}

// unpublish makes the references to inst's own functions resolve to
// nothing; their slots stay taken until freeSlots.
func (s *Store) unpublish(inst *Instance) {
	chunks := s.funcs.Load()
	if chunks == nil {
		return
	}
	for _, f := range inst.Funcs {
		if f.Instance != inst || f.Ref == 0 {
			continue
		}
		idx := uint32(f.Ref) - 1
		(*chunks)[idx>>slotChunkBits][idx&(slotChunk-1)].CompareAndSwap(f, nil)
	}
}

// freeSlots returns the slots of inst's own functions for reuse, each
// with its next generation.
func (s *Store) freeSlots(inst *Instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Pushed last first, so that the next instance's functions take them
	// back in order.
	for k := len(inst.Funcs) - 1; k >= 0; k-- {
		f := inst.Funcs[k]
		if f.Instance != inst || f.Ref == 0 {
			continue
		}
		idx := uint32(f.Ref) - 1
		for int(idx) >= len(s.slotGens) {
			s.slotGens = append(s.slotGens, 0)
		}
		// After 2^32 reuses a generation comes back: by then the values
		// naming it are long gone in any plausible program.
		s.slotGens[idx]++
		s.freeIdx = append(s.freeIdx, idx)
	}
}

// FuncByRef returns the function a funcref value names, or nil for the null
// reference, a value that names no function, or a function whose instance
// was released. It is safe while other goroutines instantiate into the
// store and close instances.
func (s *Store) FuncByRef(ref uint64) *Function {
	chunks := s.funcs.Load()
	idx := uint32(ref) - 1
	if chunks == nil || uint32(ref) == 0 || int(idx>>slotChunkBits) >= len(*chunks) {
		return nil
	}
	f := (*chunks)[idx>>slotChunkBits][idx&(slotChunk-1)].Load()
	if f == nil || f.Ref != ref {
		return nil
	}
	return f
}

// LiveFuncs is the number of slots of the function-reference space in use
// (taken and not yet freed).
func (s *Store) LiveFuncs() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return int(s.nslots) - len(s.freeIdx)
}

// Extern is an importable value: exactly the field matching Kind is set.
type Extern struct {
	Kind   wasm.ExternKind
	Func   *Function
	Table  *Table
	Memory *Memory
	Global *Global
	// Owner is the instance exporting it (set by Export); importing ties
	// the importer's lifetime to it (lifecycle.go). Nil ties nothing.
	Owner *Instance
}

// LinkError says why an import could not be satisfied. Reason is the
// spec's wording: "unknown import" or "incompatible import type", possibly
// followed by detail.
type LinkError struct {
	Module, Name string
	Reason       string
}

func (e *LinkError) Error() string {
	return fmt.Sprintf("link error: import %q %q: %s", e.Module, e.Name, e.Reason)
}

// Export returns what the instance exports under name.
func (i *Instance) Export(name string) (Extern, bool) {
	exp, ok := i.Exports[name]
	if !ok {
		return Extern{}, false
	}
	x := Extern{Kind: exp.Kind, Owner: i}
	switch exp.Kind {
	case wasm.ExternFunc:
		if int(exp.Index) < len(i.Funcs) {
			x.Func = i.Funcs[exp.Index]
			return x, true
		}
	case wasm.ExternTable:
		if int(exp.Index) < len(i.Tables) {
			x.Table = i.Tables[exp.Index]
			return x, true
		}
	case wasm.ExternMemory:
		if int(exp.Index) < len(i.Memories) {
			x.Memory = i.Memories[exp.Index]
			return x, true
		}
	case wasm.ExternGlobal:
		if int(exp.Index) < len(i.Globals) {
			x.Global = i.Globals[exp.Index]
			return x, true
		}
	}
	return Extern{}, false
}

// Caller is what host functions called from this instance see of it.
func (i *Instance) Caller() api.Module { return moduleView{i} }

// moduleView is pointer-shaped, so wrapping it in api.Module allocates
// nothing on a host call.
type moduleView struct{ i *Instance }

func (v moduleView) Name() string { return v.i.Name }

func (v moduleView) Memory() api.Memory {
	if len(v.i.Memories) == 0 || v.i.Memories[0] == nil {
		return nil
	}
	if g := v.i.intr.memGuard.Load(); g != nil {
		return guardedMemory{v.i.Memories[0], *g}
	}
	return v.i.Memories[0]
}

// abortOnce aborts the running code with err unless an abort is already
// in force (the first reason stays the one reported).
func (i *Instance) abortOnce(err error) {
	i.intr.abortErr.CompareAndSwap(nil, &err)
	i.SetInterrupt(InterruptAbort)
}

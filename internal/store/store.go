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

// register gives each function its TypeID and its Ref (its position in the
// function-reference space plus one) and appends them to the store.
func (s *Store) register(fns []*Function) {
	for _, f := range fns {
		f.TypeID = s.TypeID(f.Type)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*Function
	if p := s.funcs.Load(); p != nil {
		all = *p
	}
	for _, f := range fns {
		// Appending may write past the length readers see, never below it,
		// so readers of the previous slice are unaffected.
		all = append(all, f)
		f.Ref = uint64(len(all))
	}
	s.funcs.Store(&all)
}

// FuncByRef returns the function a funcref value names, or nil for the null
// reference or a value that names no function. It is safe while another
// goroutine instantiates into the store.
func (s *Store) FuncByRef(ref uint64) *Function {
	p := s.funcs.Load()
	if p == nil || ref == 0 || ref > uint64(len(*p)) {
		return nil
	}
	return (*p)[ref-1]
}

// Extern is an importable value: exactly the field matching Kind is set.
type Extern struct {
	Kind   wasm.ExternKind
	Func   *Function
	Table  *Table
	Memory *Memory
	Global *Global
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
	x := Extern{Kind: exp.Kind}
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
	return v.i.Memories[0]
}

// Close releases the instance's hold on its memories. A memory's reservation
// is unmapped when the last instance holding it (its creator and every
// importer) closes, so closing an exporter never pulls memory from under an
// importer. Close is idempotent. Functions stay registered in the store:
// tables elsewhere may still reference them.
func (i *Instance) Close() {
	if !i.closed.CompareAndSwap(false, true) {
		return
	}
	// A pending pause or an abort would keep the store's code armed.
	i.ClearInterrupt(^uint32(0))
	for _, m := range i.Memories {
		if m != nil {
			m.release()
		}
	}
	i.releaseTables()
}

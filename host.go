package ferry

import (
	"context"
	"errors"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

// HostModuleBuilder describes a module made of Go values. Its methods add
// exports and return the builder for chaining; mistakes (an invalid type, a
// duplicate name) are reported by Instantiate.
type HostModuleBuilder struct {
	rt  *Runtime
	def store.HostModule
}

// Func exports fn with the given signature. fn receives its parameters in
// stack and leaves its results there (see api.HostFunc).
func (b *HostModuleBuilder) Func(name string, params, results []api.ValueType, fn api.HostFunc) *HostModuleBuilder {
	b.def.Funcs = append(b.def.Funcs, store.HostFunc{
		Name: name,
		Type: wasm.FuncType{Params: valTypes(params), Results: valTypes(results)},
		Fn:   fn,
	})
	return b
}

// Global exports a global of type t with an initial value (api slot
// encoding; a v128 global gets value as its low half).
func (b *HostModuleBuilder) Global(name string, t api.ValueType, mutable bool, value uint64) *HostModuleBuilder {
	if wasm.ValType(t) == wasm.I32 {
		value = uint64(uint32(value))
	}
	b.def.Globals = append(b.def.Globals, store.HostGlobal{
		Name: name,
		Type: wasm.GlobalType{Type: wasm.ValType(t), Mutable: mutable},
		Lo:   value,
	})
	return b
}

// Memory exports a memory of minPages pages, growable to maxPages if hasMax
// (else to the runtime's memory limit).
func (b *HostModuleBuilder) Memory(name string, minPages, maxPages uint32, hasMax bool) *HostModuleBuilder {
	b.def.Memories = append(b.def.Memories, store.HostMemory{
		Name: name,
		Type: wasm.MemType{Limits: limits(minPages, maxPages, hasMax)},
	})
	return b
}

// Table exports a table of reference type elem with min null elements,
// growable to max if hasMax.
func (b *HostModuleBuilder) Table(name string, elem api.ValueType, min, max uint32, hasMax bool) *HostModuleBuilder {
	b.def.Tables = append(b.def.Tables, store.HostTable{
		Name: name,
		Type: wasm.TableType{Elem: wasm.ValType(elem), Limits: limits(min, max, hasMax)},
	})
	return b
}

// Instantiate creates the host module's instance and registers it under the
// builder's name, so modules instantiated afterwards can import from it.
func (b *HostModuleBuilder) Instantiate(ctx context.Context) (*Instance, error) {
	return b.instantiate(true)
}

// instantiate creates the host module's instance, registered under the
// builder's name if register.
func (b *HostModuleBuilder) instantiate(register bool) (*Instance, error) {
	r := b.rt
	if r.isClosed() {
		return nil, errClosed
	}
	if b.def.Name == "" {
		return nil, errors.New("ferry: host module needs a name")
	}
	def := b.def // the builder may be extended and instantiated again
	si, err := r.store.InstantiateHost(&def)
	if err != nil {
		return nil, err
	}
	inst := &Instance{rt: r, inst: si}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		si.Close()
		return nil, errClosed
	}
	r.instances = append(r.instances, inst)
	if register {
		r.registry[def.Name] = inst
	}
	return inst, nil
}

// Build creates an instance of the host module without registering it:
// it satisfies imports only where passed explicitly (Imports), so that
// each instantiation or restore can have host functions of its own. It
// closes with the runtime, or earlier with its Close.
func (b *HostModuleBuilder) Build(ctx context.Context) (*Instance, error) {
	return b.instantiate(false)
}

func valTypes(ts []api.ValueType) []wasm.ValType {
	out := make([]wasm.ValType, len(ts))
	for i, t := range ts {
		out[i] = wasm.ValType(t)
	}
	return out
}

func limits(min, max uint32, hasMax bool) wasm.Limits {
	l := wasm.Limits{Min: uint64(min), HasMax: hasMax}
	if hasMax {
		l.Max = uint64(max)
	}
	return l
}

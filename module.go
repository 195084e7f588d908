package ferry

import (
	"context"

	"crypto/sha256"
	"github.com/ferryvm/ferry/api"
	"sync"
	"sync/atomic"

	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

// CompiledModule is a decoded, validated and lowered module, ready to be
// instantiated any number of times in the runtime that compiled it.
type CompiledModule struct {
	module *wasm.Module
	code   []store.Code
	// source is a copy of the module's bytes, which a checkpoint
	// identifies the module by (and usually carries).
	source []byte
	closed atomic.Bool
	rt     *Runtime // the runtime that compiled it

	hashOnce sync.Once
	hash     [32]byte // SHA-256 of source, computed when first needed

	cache CodeCacheOutcome // what Compile did with the code cache
}

// sha256 is the module's identity in a checkpoint.
func (m *CompiledModule) sha256() [32]byte {
	m.hashOnce.Do(func() { m.hash = sha256.Sum256(m.source) })
	return m.hash
}

// ImportDesc describes one import. Kind is "func", "table", "memory" or
// "global".
type ImportDesc struct {
	Module, Name string
	Kind         string
}

// ExportDesc describes one export. Kind is "func", "table", "memory" or
// "global".
type ExportDesc struct {
	Name, Kind string
}

// Imports lists the module's imports in declaration order.
func (m *CompiledModule) Imports() []ImportDesc {
	out := make([]ImportDesc, len(m.module.Imports))
	for i, imp := range m.module.Imports {
		out[i] = ImportDesc{Module: imp.Module, Name: imp.Name, Kind: imp.Kind.String()}
	}
	return out
}

// ImportType is one import with its full type, what a host module must
// provide to satisfy it. Its fields map onto HostModuleBuilder's methods:
// a "func" import is satisfied by Func(Name, Params, Results, fn), a
// "global" by Global(Name, GlobalType, Mutable, v), a "memory" by
// Memory(Name, Min, Max, HasMax) and a "table" by Table(Name, Elem, Min,
// Max, HasMax) with limits at least as tight.
type ImportType struct {
	Module, Name string
	// Kind is "func", "table", "memory" or "global"; only the fields of
	// that kind are set.
	Kind string
	// Params and Results are a function's signature.
	Params, Results []api.ValueType
	// Elem is a table's element type (api.ValueTypeFuncref or
	// api.ValueTypeExternref).
	Elem api.ValueType
	// Min, Max and HasMax are a table's limits in elements or a memory's
	// in 64 KiB pages; Max is meaningful only when HasMax.
	Min, Max uint64
	HasMax   bool
	// GlobalType and Mutable are a global's value type and mutability.
	GlobalType api.ValueType
	Mutable    bool
}

// ImportTypes lists the module's imports in declaration order with their
// types, so that an embedder can build the host functions a module needs
// without parsing its import section.
func (m *CompiledModule) ImportTypes() []ImportType {
	out := make([]ImportType, len(m.module.Imports))
	for i, imp := range m.module.Imports {
		t := ImportType{Module: imp.Module, Name: imp.Name, Kind: imp.Kind.String()}
		switch imp.Kind {
		case wasm.ExternFunc:
			if int(imp.TypeIndex) < len(m.module.Types) {
				ft := &m.module.Types[imp.TypeIndex]
				t.Params, t.Results = apiTypes(ft.Params), apiTypes(ft.Results)
			}
		case wasm.ExternTable:
			t.Elem = api.ValueType(imp.Table.Elem)
			t.Min, t.Max, t.HasMax = imp.Table.Limits.Min, imp.Table.Limits.Max, imp.Table.Limits.HasMax
		case wasm.ExternMemory:
			t.Min, t.Max, t.HasMax = imp.Memory.Limits.Min, imp.Memory.Limits.Max, imp.Memory.Limits.HasMax
		case wasm.ExternGlobal:
			t.GlobalType, t.Mutable = api.ValueType(imp.Global.Type), imp.Global.Mutable
		}
		out[i] = t
	}
	return out
}

// apiTypes converts value types for the API; never nil, so that "no
// parameters" reads as an empty list.
func apiTypes(ts []wasm.ValType) []api.ValueType {
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		out[i] = api.ValueType(t)
	}
	return out
}

// Exports lists the module's exports in declaration order.
func (m *CompiledModule) Exports() []ExportDesc {
	out := make([]ExportDesc, len(m.module.Exports))
	for i, e := range m.module.Exports {
		out[i] = ExportDesc{Name: e.Name, Kind: e.Kind.String()}
	}
	return out
}

// Close releases the compiled module; instances already created from it are
// not affected. It is idempotent; afterwards the module cannot be
// instantiated.
func (m *CompiledModule) Close(ctx context.Context) error {
	m.closed.Store(true)
	return nil
}

package ferry

import (
	"context"
	"crypto/sha256"
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

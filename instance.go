package ferry

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Instance is an instantiated module (or host module).
type Instance struct {
	rt     *Runtime
	inst   *store.Instance
	module *CompiledModule // nil for host modules
	closed atomic.Bool
	// check is the verification of memory data mapped by a restore, still
	// running or finished (nil when there was none to run concurrently).
	// Set before the instance is published, never changed.
	check *memoryCheck
}

// Name is the name the instance was created under ("" when anonymous).
func (i *Instance) Name() string { return i.inst.Name }

// Function returns the exported function called name, or nil if there is
// none.
func (i *Instance) Function(name string) *Function {
	x, ok := i.inst.Export(name)
	if !ok || x.Kind != wasm.ExternFunc {
		return nil
	}
	return &Function{owner: i, fn: x.Func}
}

// Global returns the exported global called name, or nil if there is none.
func (i *Instance) Global(name string) *Global {
	x, ok := i.inst.Export(name)
	if !ok || x.Kind != wasm.ExternGlobal {
		return nil
	}
	return &Global{g: x.Global}
}

// Memory returns the exported memory called name, or nil if there is none.
// For an instance restored with VerifyConcurrent it first waits for the
// memory data to be verified; if that failed, the memory returned is empty
// and refuses every access, so that the host never sees corrupt pages.
func (i *Instance) Memory(name string) api.Memory {
	x, ok := i.inst.Export(name)
	if !ok || x.Kind != wasm.ExternMemory || x.Memory == nil {
		return nil
	}
	if i.verified() != nil {
		return refusedMemory{}
	}
	return x.Memory
}

// Close makes the instance unavailable for imports and calls and releases
// its memories (a memory another instance imported stays mapped until that
// one closes too). It is idempotent.
func (i *Instance) Close(ctx context.Context) error {
	i.rt.unregister(i)
	i.close()
	return nil
}

func (i *Instance) close() {
	if i.closed.CompareAndSwap(false, true) {
		if i.check != nil {
			i.check.stop()
		}
		i.inst.Close()
	}
}

// Function is an exported function, defined in WebAssembly or by the host.
type Function struct {
	owner *Instance
	fn    *store.Function
}

// ParamTypes are the function's parameter types.
func (f *Function) ParamTypes() []api.ValueType { return valueTypes(f.fn.Type.Params) }

// ResultTypes are the function's result types.
func (f *Function) ResultTypes() []api.ValueType { return valueTypes(f.fn.Type.Results) }

func valueTypes(ts []wasm.ValType) []api.ValueType {
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		out[i] = api.ValueType(t)
	}
	return out
}

// errParamCount is wrapped by Call when the number of parameter slots is
// wrong.
var errParamCount = errors.New("wrong number of parameters")

// Call runs the function. Params and results use the api slot encoding (a
// v128 takes two slots, low half first). Traps come back as *api.TrapError;
// cancelling ctx stops the guest within one loop iteration with an error
// that errors.Is(err, ctx.Err()). A wrong number of params is an error.
func (f *Function) Call(ctx context.Context, params ...uint64) ([]uint64, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if f.owner.closed.Load() {
		return nil, fmt.Errorf("ferry: call %s: %w: instance", f.describe(), errClosed)
	}
	want := 0
	for _, t := range f.fn.Type.Params {
		want += t.Slots()
	}
	if len(params) != want {
		return nil, fmt.Errorf("ferry: call %s: %w: expected %d slots, got %d", f.describe(), errParamCount, want, len(params))
	}
	if err := f.owner.refused(); err != nil {
		return nil, err
	}
	if params == nil {
		params = []uint64{}
	}
	results, err := f.owner.rt.call(ctx, f.fn, params)
	return f.owner.settle(ctx, results, f.owner.paused(err, pauseCount{}))
}

func (f *Function) describe() string {
	if f.fn.Name != "" {
		return f.fn.Name
	}
	return fmt.Sprintf("func %d", f.fn.Index)
}

// Global is an exported global.
type Global struct {
	g *store.Global
}

// Type is the global's value type.
func (g *Global) Type() api.ValueType { return api.ValueType(g.g.Type.Type) }

// Mutable reports whether the global may be set.
func (g *Global) Mutable() bool { return g.g.Type.Mutable }

// Get returns the value (for a v128, the low half; see GetV128).
func (g *Global) Get() uint64 { return g.g.Lo }

// GetV128 returns both halves of a v128 global's value.
func (g *Global) GetV128() (lo, hi uint64) { return g.g.Lo, g.g.Hi }

// Set stores v, or fails if the global is immutable. An i32 keeps the low 32
// bits; a v128 gets v as its low half and keeps its high half.
func (g *Global) Set(v uint64) error {
	if !g.g.Type.Mutable {
		return errors.New("ferry: global is immutable")
	}
	if g.g.Type.Type == wasm.I32 {
		v = uint64(uint32(v))
	}
	g.g.Lo = v
	return nil
}

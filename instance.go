package ferry

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/engine"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Instance is an instantiated module (or host module).
//
// An instance runs one call at a time: a call made on another goroutine
// while one runs in it, or in an instance linked to it by an import other
// than a host function, fails with an error wrapping ErrBusy. A host
// function may call back into the instances that called it if it passes
// on the context it was given (the calls nest). Everything else about an
// Instance (Function, Global, Memory, RequestPause, Close) is safe from
// any goroutine.
type Instance struct {
	rt     *Runtime
	inst   *store.Instance
	module *CompiledModule // nil for host modules
	closed atomic.Bool
	// check is the verification of memory data mapped by a restore, still
	// running or finished (nil when there was none to run concurrently).
	// Set before the instance is published, never changed.
	check *memoryCheck
	// callsites are the builtin decisions a restore re-made differently
	// (RestoreInstance; CallsiteChanges in idle.go). Set before the
	// instance is published, never changed.
	callsites []CallsiteChange
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

// Close makes the instance unavailable for imports and calls and removes
// it from its runtime. A call running in it stops at its next pause point
// (or, blocked in a host function, through that function's context) and
// returns an error wrapping ErrClosed; Close does not wait for it. The
// instance's memories and functions are released once no call can use
// them any more and no instance linked to it by imports is open: a
// memory, table or function another open instance imported or may call
// stays valid (docs/api.md, "Closing frees; calls finish first"). It is
// idempotent.
func (i *Instance) Close(ctx context.Context) error {
	i.rt.forget(i)
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
// that errors.Is(err, ctx.Err()). A wrong number of params is an error, and
// so is a call into a closed instance (ErrClosed) or one busy with another
// goroutine's call (ErrBusy).
func (f *Function) Call(ctx context.Context, params ...uint64) ([]uint64, error) {
	return f.call(ctx, CallOptions{}, params)
}

// call is Call and CallWithOptions: one path, so that both check their
// parameters and report alike.
func (f *Function) call(ctx context.Context, o CallOptions, params []uint64) ([]uint64, error) {
	if ctx == nil {
		ctx = context.Background()
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
	entry, err := f.owner.inst.Enter(ctx)
	if err != nil {
		return nil, fmt.Errorf("ferry: call %s: %w", f.describe(), err)
	}
	defer entry.Leave()
	results, err := f.owner.rt.run(ctx, o, func(e engine.Engine) ([]uint64, error) {
		return e.Call(ctx, f.fn, params)
	})
	return f.owner.settle(ctx, results, f.owner.paused(err, pauseCount{known: o.PauseAfter > 0}))
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

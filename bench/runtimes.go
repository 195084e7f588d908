package bench

import (
	"context"
	"fmt"

	"github.com/tetratelabs/wazero"
)

// Runtime is one engine under measurement. Load compiles and instantiates a
// module once; the returned Entry is then called repeatedly.
type Runtime struct {
	// Name identifies the runtime in tables and benchmark names.
	Name string
	// Load compiles and instantiates wasm in a fresh engine and returns the
	// exported function called name, plus a function releasing the engine.
	Load func(ctx context.Context, wasm []byte, name string) (Entry, func(), error)
}

// Entry calls one exported function with slot-encoded params and returns its
// slot-encoded results.
type Entry func(ctx context.Context, params ...uint64) ([]uint64, error)

// Runtime names, in report order.
const (
	NameFerry          = "ferry"
	NameWazeroInterp   = "wazero-interp"
	NameWazeroCompiler = "wazero-compiler"
	// NameWasmtime is wasmtime (Cranelift) through wasmtime-go; absent in
	// builds without cgo or with the nowasmtime tag.
	NameWasmtime = "wasmtime"
	// NameFerryNoPoll is Ferry with pause polling off; not in the default
	// set, it is there to measure what polling costs.
	NameFerryNoPoll = "ferry-nopoll"
)

// Runtimes returns every runtime this build knows, Ferry first, then
// wazero's interpreter and compiler, then wasmtime (absent without cgo or
// with the nowasmtime tag).
func Runtimes() []Runtime {
	rts := []Runtime{ferryRuntime,
		wazeroRuntime(NameWazeroInterp, wazero.NewRuntimeConfigInterpreter),
		wazeroRuntime(NameWazeroCompiler, wazero.NewRuntimeConfigCompiler),
	}
	if wasmtimeRuntime != nil {
		rts = append(rts, *wasmtimeRuntime)
	}
	return rts
}

// AllRuntimes is Runtimes plus the opt-in variants (ferry-nopoll).
func AllRuntimes() []Runtime {
	rts := Runtimes()
	return append(rts[:1:1], append([]Runtime{ferryNoPollRuntime}, rts[1:]...)...)
}

func wazeroRuntime(name string, config func() wazero.RuntimeConfig) Runtime {
	return Runtime{Name: name, Load: func(ctx context.Context, wasm []byte, fn string) (Entry, func(), error) {
		r := wazero.NewRuntimeWithConfig(ctx, config())
		release := func() { _ = r.Close(context.Background()) }
		mod, err := r.Instantiate(ctx, wasm)
		if err != nil {
			release()
			return nil, nil, err
		}
		f := mod.ExportedFunction(fn)
		if f == nil {
			release()
			return nil, nil, fmt.Errorf("%s: no exported function %q", name, fn)
		}
		return func(ctx context.Context, params ...uint64) ([]uint64, error) {
			return f.Call(ctx, params...)
		}, release, nil
	}}
}

package difftest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"

	"github.com/ferryvm/ferry/api"
	"github.com/tetratelabs/wazero"
	wapi "github.com/tetratelabs/wazero/api"
)

// hostImport is one function the module imports from "fuzzing-support".
type hostImport struct {
	name            string
	params, results []api.ValueType
}

// hostCall is one call a guest made to a host import.
type hostCall struct {
	name  string
	types []api.ValueType
	args  []uint64
}

// maxLoggedCalls bounds the log of one export call; a module that logs more
// is still compared on the first maxLoggedCalls entries and the count.
const maxLoggedCalls = 10000

// hostLog records host calls; the harness drains it after every export call.
type hostLog struct {
	calls   []hostCall
	dropped int
}

func (l *hostLog) record(imp hostImport, stack []uint64) {
	if len(l.calls) >= maxLoggedCalls {
		l.dropped++
	} else {
		l.calls = append(l.calls, hostCall{imp.name, imp.params, append([]uint64(nil), stack[:len(imp.params)]...)})
	}
	// Imports with results (none in binaryen 108's fuzzing-support) get zeros.
	for i := range imp.results {
		stack[i] = 0
	}
}

func (l *hostLog) drain() (calls []hostCall, dropped int) {
	calls, dropped = l.calls, l.dropped
	l.calls, l.dropped = nil, 0
	return calls, dropped
}

// export is one exported function, with its signature.
type export struct {
	name            string
	index           uint32
	params, results []api.ValueType
}

// moduleShape is what the reference runtime learns about a module before
// either runtime runs it: the imports to provide and the exports to call.
type moduleShape struct {
	imports  []hostImport
	exports  []export // called in this order (function index, then name)
	memories []string // exported memory names, sorted
}

// instance is a module instantiated by one engine.
type instance interface {
	call(ctx context.Context, name string, params []uint64) ([]uint64, error)
	// memoryHash is the SHA-256 of an exported memory's bytes and its size.
	memoryHash(name string) ([32]byte, uint64, error)
	close()
}

// stage says where a module failed to load.
type stage string

const (
	stageCompile     stage = "compile"
	stageInstantiate stage = "instantiate"
)

// engine is one runtime under comparison.
type engine struct {
	name string
	// load compiles and instantiates wasm with the given host imports, all
	// logging into log. On failure it says at which stage.
	load func(ctx context.Context, wasm []byte, shape *moduleShape, log *hostLog) (instance, stage, error)
}

// inspect compiles wasm with wazero (without running it) to learn its
// imports and exports. An error means wazero rejects the module.
func inspect(ctx context.Context, wasm []byte) (*moduleShape, error) {
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	cm, err := r.CompileModule(ctx, wasm)
	if err != nil {
		return nil, err
	}
	shape := &moduleShape{}
	for _, d := range cm.ImportedFunctions() {
		mod, name, _ := d.Import()
		if mod != "fuzzing-support" {
			return nil, fmt.Errorf("unsupported import %s.%s", mod, name)
		}
		shape.imports = append(shape.imports, hostImport{name, d.ParamTypes(), d.ResultTypes()})
	}
	if n := len(cm.ImportedMemories()); n > 0 {
		return nil, fmt.Errorf("unsupported: %d imported memories", n)
	}
	for name, d := range cm.ExportedFunctions() {
		shape.exports = append(shape.exports, export{name, d.Index(), d.ParamTypes(), d.ResultTypes()})
	}
	sort.Slice(shape.exports, func(i, j int) bool {
		a, b := shape.exports[i], shape.exports[j]
		if a.index != b.index {
			return a.index < b.index
		}
		return a.name < b.name
	})
	for name := range cm.ExportedMemories() {
		shape.memories = append(shape.memories, name)
	}
	sort.Strings(shape.memories)
	return shape, nil
}

// wazeroEngine runs modules in wazero with the given configuration. The
// runtime closes a module whose call outlives its context, so a looping
// function is stopped at the deadline.
func wazeroEngine(name string, config func() wazero.RuntimeConfig) engine {
	return engine{name: name, load: func(ctx context.Context, wasm []byte, shape *moduleShape, log *hostLog) (instance, stage, error) {
		r := wazero.NewRuntimeWithConfig(ctx, config().WithCloseOnContextDone(true))
		if len(shape.imports) > 0 {
			b := r.NewHostModuleBuilder("fuzzing-support")
			for _, imp := range shape.imports {
				imp := imp
				b.NewFunctionBuilder().
					WithGoModuleFunction(wapi.GoModuleFunc(func(_ context.Context, _ wapi.Module, stack []uint64) {
						log.record(imp, stack)
					}), imp.params, imp.results).
					Export(imp.name)
			}
			if _, err := b.Instantiate(ctx); err != nil {
				r.Close(ctx)
				return nil, stageInstantiate, fmt.Errorf("host module: %w", err)
			}
		}
		cm, err := r.CompileModule(ctx, wasm)
		if err != nil {
			r.Close(ctx)
			return nil, stageCompile, err
		}
		mod, err := r.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
		if err != nil {
			r.Close(ctx)
			return nil, stageInstantiate, err
		}
		return &wazeroInstance{r: r, mod: mod}, "", nil
	}}
}

type wazeroInstance struct {
	r   wazero.Runtime
	mod wapi.Module
}

func (w *wazeroInstance) call(ctx context.Context, name string, params []uint64) ([]uint64, error) {
	f := w.mod.ExportedFunction(name)
	if f == nil {
		return nil, fmt.Errorf("no exported function %q", name)
	}
	return f.Call(ctx, params...)
}

func (w *wazeroInstance) memoryHash(name string) ([32]byte, uint64, error) {
	m := w.mod.ExportedMemory(name)
	if m == nil {
		return [32]byte{}, 0, fmt.Errorf("no exported memory %q", name)
	}
	b, ok := m.Read(0, m.Size())
	if !ok {
		return [32]byte{}, 0, fmt.Errorf("memory %q unreadable", name)
	}
	return sha256.Sum256(b), uint64(len(b)), nil
}

func (w *wazeroInstance) close() { w.r.Close(context.Background()) }

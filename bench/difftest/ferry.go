package difftest

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/api"
)

// subjectEngine is the runtime tested against wazero's interpreter: Ferry in its
// default configuration (the auto tier, pause polling on).
func subjectEngine() engine {
	return engine{name: "ferry", load: func(ctx context.Context, wasm []byte, shape *moduleShape, log *hostLog) (instance, stage, error) {
		r := ferry.NewRuntime(ferry.NewRuntimeConfig())
		if len(shape.imports) > 0 {
			b := r.NewHostModule("fuzzing-support")
			for _, imp := range shape.imports {
				imp := imp
				b.Func(imp.name, imp.params, imp.results, func(_ context.Context, _ api.Module, stack []uint64) {
					log.record(imp, stack)
				})
			}
			if _, err := b.Instantiate(ctx); err != nil {
				r.Close(ctx)
				return nil, stageInstantiate, fmt.Errorf("host module: %w", err)
			}
		}
		cm, err := r.Compile(ctx, wasm)
		if err != nil {
			r.Close(ctx)
			return nil, stageCompile, err
		}
		inst, err := r.Instantiate(ctx, cm, "")
		if err != nil {
			r.Close(ctx)
			return nil, stageInstantiate, err
		}
		return &ferryInstance{r: r, inst: inst}, "", nil
	}}
}

type ferryInstance struct {
	r    *ferry.Runtime
	inst *ferry.Instance
}

func (f *ferryInstance) call(ctx context.Context, name string, params []uint64) ([]uint64, error) {
	fn := f.inst.Function(name)
	if fn == nil {
		return nil, fmt.Errorf("no exported function %q", name)
	}
	return fn.Call(ctx, params...)
}

func (f *ferryInstance) memoryHash(name string) ([32]byte, uint64, error) {
	m := f.inst.Memory(name)
	if m == nil {
		return [32]byte{}, 0, fmt.Errorf("no exported memory %q", name)
	}
	b, ok := m.Read(0, m.Size())
	if !ok {
		return [32]byte{}, 0, fmt.Errorf("memory %q unreadable", name)
	}
	return sha256.Sum256(b), uint64(len(b)), nil
}

func (f *ferryInstance) close() { f.r.Close(context.Background()) }

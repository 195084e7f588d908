//go:build cgo && !nowasmtime

package bench

import (
	"context"
	"fmt"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// wasmtime is a peer through wasmtime-go, which links wasmtime's C API as a
// static library: it needs cgo and a C linker. Without cgo, or with the
// nowasmtime tag, this file is left out and the peer is simply absent.

func init() {
	wasmtimeRuntime = &Runtime{Name: NameWasmtime, Load: loadWasmtime}
}

func loadWasmtime(ctx context.Context, wasm []byte, name string) (Entry, func(), error) {
	engine := wasmtime.NewEngine()
	store := wasmtime.NewStore(engine)
	release := func() { store.Close(); engine.Close() }
	mod, err := wasmtime.NewModule(engine, wasm)
	if err != nil {
		release()
		return nil, nil, err
	}
	inst, err := wasmtime.NewInstance(store, mod, nil)
	if err != nil {
		release()
		return nil, nil, err
	}
	f := inst.GetFunc(store, name)
	if f == nil {
		release()
		return nil, nil, fmt.Errorf("wasmtime: no exported function %q", name)
	}
	params := f.Type(store).Params()
	kinds := make([]wasmtime.ValKind, len(params))
	for i, p := range params {
		kinds[i] = p.Kind()
	}
	return func(ctx context.Context, slots ...uint64) ([]uint64, error) {
		if len(slots) != len(kinds) {
			return nil, fmt.Errorf("wasmtime: %s takes %d params, got %d", name, len(kinds), len(slots))
		}
		args := make([]any, len(slots))
		for i, s := range slots {
			switch kinds[i] {
			case wasmtime.KindI32:
				args[i] = int32(uint32(s))
			case wasmtime.KindI64:
				args[i] = int64(s)
			default:
				return nil, fmt.Errorf("wasmtime: unsupported param kind %v", kinds[i])
			}
		}
		out, err := f.Call(store, args...)
		if err != nil {
			return nil, err
		}
		return toSlots(out)
	}, release, nil
}

// toSlots converts wasmtime-go's result (nil, one Go value or []Val) to
// slot-encoded results.
func toSlots(out any) ([]uint64, error) {
	switch v := out.(type) {
	case nil:
		return nil, nil
	case int32:
		return []uint64{uint64(uint32(v))}, nil
	case int64:
		return []uint64{uint64(v)}, nil
	case []wasmtime.Val:
		var slots []uint64
		for _, x := range v {
			s, err := toSlots(x.Get())
			if err != nil {
				return nil, err
			}
			slots = append(slots, s...)
		}
		return slots, nil
	default:
		return nil, fmt.Errorf("wasmtime: unsupported result %T", out)
	}
}

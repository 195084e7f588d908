//go:build cgo && !nowasmtime

package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// wasmtime is a peer through wasmtime-go, which links wasmtime's C API as a
// static library: it needs cgo and a C linker. Without cgo, or with the
// nowasmtime tag, this file is left out and the peer is simply absent.

var wasmtimeRuntime = &Runtime{Name: NameWasmtime, Load: loadWasmtime}

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

var wasmtimeWASI = &WASIRuntime{Name: NameWasmtime, Prepare: prepareWasmtimeWASI}

// prepareWasmtimeWASI runs commands through wasmtime-go's WASI (wasmtime's
// own wasi-common/preview-1 adapter): one engine, module and linker, then
// per run a fresh store with its WasiConfig. wasmtime's C API only takes
// files for the guest's standard streams, so stdout and stderr go to
// temporary files copied to the writers after the run.
func prepareWasmtimeWASI(ctx context.Context, wasm []byte) (Runner, func(), error) {
	engine := wasmtime.NewEngine()
	mod, err := wasmtime.NewModule(engine, wasm)
	if err != nil {
		engine.Close()
		return nil, nil, err
	}
	linker := wasmtime.NewLinker(engine)
	if err := linker.DefineWasi(); err != nil {
		engine.Close()
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "ferrybench-wasmtime-")
	if err != nil {
		engine.Close()
		return nil, nil, err
	}
	release := func() { linker.Close(); mod.Close(); engine.Close(); os.RemoveAll(dir) }
	outPath, errPath := filepath.Join(dir, "stdout"), filepath.Join(dir, "stderr")
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
		wc := wasmtime.NewWasiConfig()
		wc.SetArgv(args)
		if err := wc.SetStdoutFile(outPath); err != nil {
			return 1, fmt.Errorf("wasmtime: stdout: %w", err)
		}
		if err := wc.SetStderrFile(errPath); err != nil {
			return 1, fmt.Errorf("wasmtime: stderr: %w", err)
		}
		store := wasmtime.NewStore(engine)
		defer store.Close()
		store.SetWasi(wc) // takes ownership of wc
		code, err := runWasmtimeStart(linker, store, mod)
		for _, c := range []struct {
			path string
			w    io.Writer
		}{{outPath, stdout}, {errPath, stderr}} {
			b, rerr := os.ReadFile(c.path)
			if rerr != nil && err == nil {
				err = rerr
			}
			c.w.Write(b)
		}
		return code, err
	}, release, nil
}

// runWasmtimeStart instantiates mod in store through linker and calls
// _start, turning a WASI exit into its status.
func runWasmtimeStart(linker *wasmtime.Linker, store *wasmtime.Store, mod *wasmtime.Module) (int, error) {
	inst, err := linker.Instantiate(store, mod)
	if err == nil {
		start := inst.GetFunc(store, "_start")
		if start == nil {
			return 1, errors.New("wasmtime: no _start export")
		}
		_, err = start.Call(store)
	}
	var werr *wasmtime.Error
	if errors.As(err, &werr) {
		if code, ok := werr.ExitStatus(); ok {
			return int(code), nil
		}
	}
	if err != nil {
		return 1, err
	}
	return 0, nil
}

package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/wasi"
)

// The Ferry runtimes: the default configuration and the opt-in variant
// with pause requests ignored.
var (
	ferryRuntime       = Runtime{Name: NameFerry, Load: loadFerry(true)}
	ferryNoPollRuntime = Runtime{Name: NameFerryNoPoll, Load: loadFerry(false)}
)

// Ferry's other tiers (RuntimeConfig.WithTier), each its own column:
// compiled code for every function the compiler supports, compiled when
// the module is (so outside the timed calls), and the auto tier, which
// compiles hot functions in the background while the calls run.
const (
	NameFerryCompiled = "ferry-compiled"
	NameFerryAuto     = "ferry-auto"
)

// FerryTierRuntimes returns the runtimes of Ferry's compiled and auto
// tiers, for kernels.
func FerryTierRuntimes() []Runtime {
	return []Runtime{
		{Name: NameFerryCompiled, Load: loadFerryTier(ferry.TierCompiled)},
		{Name: NameFerryAuto, Load: loadFerryTier(ferry.TierAuto)},
	}
}

// FerryTierWASIRuntimes is FerryTierRuntimes for WASI programs.
func FerryTierWASIRuntimes() []WASIRuntime {
	return []WASIRuntime{
		{Name: NameFerryCompiled, Prepare: prepareFerryWASIWith(ferry.NewRuntimeConfig().WithTier(ferry.TierCompiled))},
		{Name: NameFerryAuto, Prepare: prepareFerryWASIWith(ferry.NewRuntimeConfig().WithTier(ferry.TierAuto))},
	}
}

func loadFerryTier(t ferry.Tier) func(ctx context.Context, wasm []byte, name string) (Entry, func(), error) {
	return func(ctx context.Context, wasm []byte, name string) (Entry, func(), error) {
		return loadFerryWith(ctx, ferry.NewRuntimeConfig().WithTier(t), wasm, name)
	}
}

// loadFerry runs a kernel under Ferry's interpreter, pause polling on as
// users get it; its cost over polling off (ferry-nopoll) is what
// ARCHITECTURE.md §3 bounds at 2 %. The tier is pinned: the default
// (auto) is the ferry-auto column.
func loadFerry(polling bool) func(ctx context.Context, wasm []byte, name string) (Entry, func(), error) {
	return func(ctx context.Context, wasm []byte, name string) (Entry, func(), error) {
		return loadFerryWith(ctx, ferry.NewRuntimeConfig().WithTier(ferry.TierInterp).WithPausePolling(polling), wasm, name)
	}
}

func loadFerryWith(ctx context.Context, cfg ferry.RuntimeConfig, wasm []byte, name string) (Entry, func(), error) {
	r := ferry.NewRuntime(cfg)
	release := func() { _ = r.Close(context.Background()) }
	m, err := r.Compile(ctx, wasm)
	if err != nil {
		release()
		return nil, nil, err
	}
	inst, err := r.Instantiate(ctx, m, "")
	if err != nil {
		release()
		return nil, nil, err
	}
	f := inst.Function(name)
	if f == nil {
		release()
		return nil, nil, fmt.Errorf("ferry: no exported function %q", name)
	}
	return f.Call, release, nil
}

var (
	ferryWASI       = WASIRuntime{Name: NameFerry, Prepare: prepareFerryWASI(true)}
	ferryNoPollWASI = WASIRuntime{Name: NameFerryNoPoll, Prepare: prepareFerryWASI(false)}
)

// prepareFerryWASI runs commands as `ferry run --tier=interp` does,
// through the public API: one runtime and one compiled module, then per
// run a fresh wasi.Instantiate (the host module) and instance, closed
// afterwards.
func prepareFerryWASI(polling bool) func(ctx context.Context, wasm []byte) (Runner, func(), error) {
	return prepareFerryWASIWith(ferry.NewRuntimeConfig().WithTier(ferry.TierInterp).WithPausePolling(polling))
}

func prepareFerryWASIWith(cfg ferry.RuntimeConfig) func(ctx context.Context, wasm []byte) (Runner, func(), error) {
	return func(ctx context.Context, wasm []byte) (Runner, func(), error) {
		r := ferry.NewRuntime(cfg)
		release := func() { _ = r.Close(context.Background()) }
		cm, err := r.Compile(ctx, wasm)
		if err != nil {
			release()
			return nil, nil, err
		}
		return func(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
			w, err := wasi.Instantiate(ctx, r, wasi.NewConfig().WithArgs(args...).
				WithStdin(bytes.NewReader(nil)).WithStdout(stdout).WithStderr(stderr))
			if err != nil {
				return 1, err
			}
			defer w.Close(ctx)
			inst, err := r.Instantiate(ctx, cm, "")
			if err == nil {
				defer inst.Close(ctx)
				start := inst.Function("_start")
				if start == nil {
					return 1, errors.New("ferry: no _start export")
				}
				_, err = start.Call(ctx)
			}
			var exit *wasi.ExitError
			if errors.As(err, &exit) {
				return int(exit.Code), nil
			}
			if err != nil {
				return 1, err
			}
			return 0, nil
		}, release, nil
	}
}

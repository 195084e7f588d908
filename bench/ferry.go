//go:build !noferry

package bench

import (
	"context"
	"fmt"

	"github.com/ferryvm/ferry"
)

func init() {
	ferryRuntime = &Runtime{Name: NameFerry, Load: loadFerry(true)}
	ferryNoPollRuntime = &Runtime{Name: NameFerryNoPoll, Load: loadFerry(false)}
}

// loadFerry runs a kernel under Ferry's interpreter. The measured
// configuration is the default one, pause polling on: that is what users
// get, and its cost over polling off (ferry-nopoll) is what
// ARCHITECTURE.md §3 bounds at 2 %.
func loadFerry(polling bool) func(ctx context.Context, wasm []byte, name string) (Entry, func(), error) {
	return func(ctx context.Context, wasm []byte, name string) (Entry, func(), error) {
		return loadFerryWith(ctx, ferry.NewRuntimeConfig().WithPausePolling(polling), wasm, name)
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

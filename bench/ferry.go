//go:build !noferry

package bench

import (
	"context"
	"fmt"

	"github.com/ferryvm/ferry"
)

func init() {
	ferryRuntime = &Runtime{Name: NameFerry, Load: loadFerry}
}

// loadFerry runs a kernel under Ferry's interpreter with its default
// configuration, pause polling on: that is the configuration users get and
// the one whose overhead ARCHITECTURE.md §3 bounds.
func loadFerry(ctx context.Context, wasm []byte, name string) (Entry, func(), error) {
	r := ferry.NewRuntime(ferry.NewRuntimeConfig())
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

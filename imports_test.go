package ferry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ferryvm/ferry/api"
)

// hostID builds, unregistered, an "env" module whose id returns id.
func hostID(t *testing.T, rt *Runtime, id uint64) *Instance {
	t.Helper()
	inst, err := rt.NewHostModule("env").Func("id", nil, []api.ValueType{api.ValueTypeI32}, func(_ context.Context, _ api.Module, stack []uint64) {
		stack[0] = id
	}).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// TestConcurrentRestoresOwnImports: restores of one checkpoint running
// concurrently in one runtime, each linked to host functions of its own,
// each see their own (run with -race: nothing is shared but the module).
func TestConcurrentRestoresOwnImports(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, NewRuntimeConfig())
	m, err := rt.Compile(ctx, load(t, "host_id"))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := rt.InstantiateWithImports(ctx, m, "", Imports{"env": hostID(t, rt, 1000)})
	if err != nil {
		t.Fatal(err)
	}
	// Paused at the entry of run, before either call.
	_, err = inst.Function("run").CallWithOptions(ctx, CallOptions{PauseAfter: 1})
	var p *Paused
	if !errors.As(err, &p) {
		t.Fatalf("run: %v, want a pause", err)
	}
	var ck bytes.Buffer
	if _, err := p.WriteCheckpoint(&ck, NewCheckpointConfig().WithModule(true)); err != nil {
		t.Fatal(err)
	}
	if _, ok := rt.registry["env"]; ok {
		t.Fatal("Build registered the host module")
	}
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = func() error {
				c, err := ReadCheckpoint(bytes.NewReader(ck.Bytes()), int64(ck.Len()))
				if err != nil {
					return err
				}
				env := hostID(t, rt, uint64(i))
				p, err := rt.Restore(ctx, c, NewRestoreConfig().WithImports(Imports{"env": env}))
				if err != nil {
					return err
				}
				res, err := p.Resume(ctx, CallOptions{})
				if err != nil {
					return err
				}
				if res[0] != uint64(2*i+1) {
					return fmt.Errorf("restore %d: run = %d, want %d", i, res[0], 2*i+1)
				}
				return nil
			}()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// Without its own imports, a restore links to the registered names,
	// and there is none.
	c, _ := ReadCheckpoint(bytes.NewReader(ck.Bytes()), int64(ck.Len()))
	if _, err := rt.Restore(ctx, c, NewRestoreConfig()); !errors.Is(err, ErrLink) {
		t.Fatalf("restore without imports: %v, want ErrLink", err)
	}
	// An instance of another runtime is refused.
	other := newRuntime(t, NewRuntimeConfig())
	if _, err := rt.InstantiateWithImports(ctx, m, "", Imports{"env": hostID(t, other, 1)}); err == nil {
		t.Fatal("instance of another runtime accepted as an import")
	}
}

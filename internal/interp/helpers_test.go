package interp

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

// wat compiles WebAssembly text with wat2wasm (flags go to wat2wasm too);
// a missing wat2wasm fails the test with the install hint.
func wat(tb testing.TB, src string, flags ...string) []byte {
	tb.Helper()
	bin, err := exec.LookPath("wat2wasm")
	if err != nil {
		tb.Fatal("wat2wasm not found on PATH: install wabt (Debian package wabt; scripts/deps.sh does) to run these tests")
	}
	dir := tb.TempDir()
	in, out := filepath.Join(dir, "m.wat"), filepath.Join(dir, "m.wasm")
	if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
	args := append(append([]string{"--debug-names"}, flags...), in, "-o", out)
	if b, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		tb.Fatalf("wat2wasm: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

type testModule struct {
	mod   *wasm.Module
	comp  *Compiled
	store *store.Store
}

func load(tb testing.TB, src string, flags ...string) *testModule {
	tb.Helper()
	m, err := binary.Decode(wat(tb, src, flags...))
	if err != nil {
		tb.Fatalf("decode: %v", err)
	}
	c, err := Compile(m)
	if err != nil {
		tb.Fatalf("compile: %v", err)
	}
	return &testModule{mod: m, comp: c, store: store.NewStore()}
}

// instance instantiates the module; host supplies imports by "module.name".
func (tm *testModule) instance(tb testing.TB, host map[string]store.Extern) *store.Instance {
	tb.Helper()
	inst, err := tm.store.Instantiate(tm.mod, "test", tm.comp.Code(), func(mod, name string) (store.Extern, bool) {
		e, ok := host[mod+"."+name]
		return e, ok
	})
	if err != nil {
		tb.Fatalf("instantiate: %v", err)
	}
	return inst
}

func export(tb testing.TB, inst *store.Instance, name string) *store.Function {
	tb.Helper()
	e, ok := inst.Exports[name]
	if !ok || e.Kind != wasm.ExternFunc {
		tb.Fatalf("no exported function %q", name)
	}
	return inst.Funcs[e.Index]
}

func invoke(tb testing.TB, e *Engine, inst *store.Instance, name string, args ...uint64) ([]uint64, error) {
	tb.Helper()
	return e.Call(context.Background(), export(tb, inst, name), args)
}

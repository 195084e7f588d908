package ferry

import (
	"context"
	"os"
	"testing"
)

// BenchmarkCallAdd is the cost of one call through the facade (admission
// into the instance included) of a function that does nearly nothing.
func BenchmarkCallAdd(b *testing.B) {
	ctx := context.Background()
	rt := NewRuntime(NewRuntimeConfig())
	defer rt.Close(ctx)
	m, err := rt.Compile(ctx, loadTB(b, "add"))
	if err != nil {
		b.Fatal(err)
	}
	inst, err := rt.Instantiate(ctx, m, "")
	if err != nil {
		b.Fatal(err)
	}
	add := inst.Function("add")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := add.Call(ctx, 1, 2); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallIndirect runs ckpt.wasm's loop, one call_indirect per
// iteration (resolved through the store's function-reference space).
func BenchmarkCallIndirect(b *testing.B) {
	ctx := context.Background()
	rt := NewRuntime(NewRuntimeConfig())
	defer rt.Close(ctx)
	m, err := rt.Compile(ctx, loadTB(b, "ckpt"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		// run drops segments it uses: a fresh instance each time (about
		// 0.1 % of the time measured).
		inst, err := rt.Instantiate(ctx, m, "")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := inst.Function("run").Call(ctx, 100_000, 1); err != nil {
			b.Fatal(err)
		}
		inst.Close(ctx)
	}
}

func loadTB(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name + ".wasm")
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

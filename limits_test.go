package ferry

import (
	"context"
	"strings"
	"testing"
)

// WithMaxTableElements bounds the elements of all a runtime's tables
// together: table.grow past it returns -1 and instantiation past it fails,
// whichever table or instance holds the rest.
func TestWithMaxTableElements(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, NewRuntimeConfig().WithMaxTableElements(100))
	inst := instantiate(t, rt, "tables", "")
	grow := func(name string, n uint64) int32 {
		t.Helper()
		res, err := inst.Function(name).Call(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		return int32(res[0])
	}
	if got := grow("grow_a", 50); got != 16 {
		t.Errorf("grow_a(50) = %d, want 16", got)
	}
	if got := grow("grow_b", 35); got != -1 {
		t.Errorf("grow_b(35) past the limit = %d, want -1", got)
	}
	if got := grow("grow_b", 34); got != 0 {
		t.Errorf("grow_b(34) to the limit = %d, want 0", got)
	}
	m, err := rt.Compile(ctx, load(t, "tables"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Instantiate(ctx, m, ""); err == nil || !strings.Contains(err.Error(), "table size exceeds limit") {
		t.Errorf("instantiation past the limit: %v", err)
	}
	// Closing the instance gives its elements back.
	inst.Close(ctx)
	if _, err := rt.Instantiate(ctx, m, ""); err != nil {
		t.Errorf("instantiation after close: %v", err)
	}
}

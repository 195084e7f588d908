package ferry

import (
	"context"
	"errors"
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

// Modules beyond an implementation limit fail to compile with ErrMalformed
// and a message naming the limit, whether the decoder (a count) or the
// validator (nesting depth) finds it.
func TestCompileBeyondLimits(t *testing.T) {
	uleb := func(n int) []byte {
		var b []byte
		for {
			c := byte(n & 0x7f)
			n >>= 7
			if n == 0 {
				return append(b, c)
			}
			b = append(b, c|0x80)
		}
	}
	sec := func(id byte, body []byte) []byte { return append(append([]byte{id}, uleb(len(body))...), body...) }
	header := []byte("\x00asm\x01\x00\x00\x00")
	typ := sec(1, []byte{1, 0x60, 0, 0})

	const funcs = 1_000_001
	tooMany := append(append(append([]byte{}, header...), typ...), sec(3, append(uleb(funcs), make([]byte, funcs)...))...)

	const depth = 70_000
	body := []byte{0}
	for range depth {
		body = append(body, 0x02, 0x40)
	}
	for range depth + 1 {
		body = append(body, 0x0b)
	}
	code := sec(10, append(append([]byte{1}, uleb(len(body))...), body...))
	tooDeep := append(append(append(append([]byte{}, header...), typ...), sec(3, []byte{1, 0})...), code...)

	rt := newRuntime(t, NewRuntimeConfig())
	for name, m := range map[string][]byte{"functions": tooMany, "nesting": tooDeep} {
		_, err := rt.Compile(context.Background(), m)
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "implementation limit exceeded") {
			t.Errorf("%s: %v, want ErrMalformed for a limit", name, err)
		}
	}
}

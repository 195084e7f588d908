package difftest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/ferryvm/ferry/api"
)

// Trap classes. wazero reports one "invalid table access" for an
// out-of-bounds table index, an undefined element and a null element, so
// Ferry's three kinds map to one class.
const (
	trapNone         = ""
	trapUnreachable  = "unreachable"
	trapDivByZero    = "integer divide by zero"
	trapOverflow     = "integer overflow"
	trapConversion   = "invalid conversion to integer"
	trapMemory       = "out of bounds memory access"
	trapTable        = "table access (out of bounds, undefined or null element)"
	trapTypeMismatch = "indirect call type mismatch"
	trapStack        = "call stack exhausted"
	trapTimeout      = "deadline exceeded"
	trapHostPanic    = "host panic"
	trapOtherPrefix  = "other error: "
)

// classify maps a call error from either runtime to a trap class. Ferry's
// errors are matched with errors.Is; wazero's by their "wasm error:" text,
// since its sentinels are internal.
func classify(err error) string {
	if err == nil {
		return trapNone
	}
	kinds := []struct {
		sentinel error
		text     string
		class    string
	}{
		{api.ErrUnreachable, "wasm error: unreachable", trapUnreachable},
		{api.ErrIntegerDivideByZero, "wasm error: integer divide by zero", trapDivByZero},
		{api.ErrIntegerOverflow, "wasm error: integer overflow", trapOverflow},
		{api.ErrInvalidConversion, "wasm error: invalid conversion to integer", trapConversion},
		{api.ErrOutOfBoundsMemory, "wasm error: out of bounds memory access", trapMemory},
		{api.ErrOutOfBoundsTable, "wasm error: invalid table access", trapTable},
		{api.ErrUndefinedElement, "", trapTable},
		{api.ErrUninitializedElement, "", trapTable},
		{api.ErrIndirectCallTypeMismatch, "wasm error: indirect call type mismatch", trapTypeMismatch},
		{api.ErrCallStackExhausted, "wasm error: stack overflow", trapStack},
		{api.ErrHostPanic, "", trapHostPanic},
		{context.DeadlineExceeded, "deadline exceeded", trapTimeout},
	}
	for _, k := range kinds {
		if errors.Is(err, k.sentinel) {
			return k.class
		}
	}
	msg := err.Error()
	for _, k := range kinds {
		if k.text != "" && strings.Contains(msg, k.text) {
			return k.class
		}
	}
	return trapOtherPrefix + msg
}

// inconclusive reports trap classes that depend on limits the spec leaves
// to the implementation (time, call depth), not on semantics.
func inconclusive(class string) bool { return class == trapTimeout || class == trapStack }

// outcome is everything observable about one export call.
type outcome struct {
	class    string // trap class, trapNone if the call returned
	err      error
	results  []uint64
	calls    []hostCall
	dropped  int
	memories map[string]memoryState
}

type memoryState struct {
	hash [32]byte
	size uint64
}

// sameValue compares two slot-encoded values of type t: bit for bit, except
// that two NaNs of the same width are equal (the spec allows any NaN
// payload an operator's rules permit) and references compare by null-ness.
func sameValue(t api.ValueType, a, b uint64) bool {
	switch t {
	case api.ValueTypeI32, api.ValueTypeF32:
		a, b = uint64(uint32(a)), uint64(uint32(b))
		if t == api.ValueTypeF32 {
			fa, fb := math.Float32frombits(uint32(a)), math.Float32frombits(uint32(b))
			if fa != fa && fb != fb {
				return true
			}
		}
		return a == b
	case api.ValueTypeF64:
		fa, fb := math.Float64frombits(a), math.Float64frombits(b)
		if fa != fa && fb != fb {
			return true
		}
		return a == b
	case api.ValueTypeFuncref, api.ValueTypeExternref:
		return (a == 0) == (b == 0)
	}
	return a == b
}

// formatValue prints a slot as its type.
func formatValue(t api.ValueType, v uint64) string {
	switch t {
	case api.ValueTypeI32:
		return fmt.Sprintf("i32:%d", int32(v))
	case api.ValueTypeI64:
		return fmt.Sprintf("i64:%d", int64(v))
	case api.ValueTypeF32:
		return fmt.Sprintf("f32:%v(%#08x)", math.Float32frombits(uint32(v)), uint32(v))
	case api.ValueTypeF64:
		return fmt.Sprintf("f64:%v(%#016x)", math.Float64frombits(v), v)
	case api.ValueTypeFuncref:
		if v == 0 {
			return "funcref:null"
		}
		return "funcref:non-null"
	case api.ValueTypeExternref:
		if v == 0 {
			return "externref:null"
		}
		return "externref:non-null"
	}
	return fmt.Sprintf("%#x:%#x", t, v)
}

func formatValues(types []api.ValueType, vs []uint64) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		t := api.ValueType(0)
		if i < len(types) {
			t = types[i]
		}
		parts[i] = formatValue(t, v)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func (o outcome) String() string {
	var b strings.Builder
	if o.class != trapNone {
		fmt.Fprintf(&b, "trap %q (%v)", o.class, o.err)
	} else {
		fmt.Fprintf(&b, "returned %d values", len(o.results))
	}
	fmt.Fprintf(&b, ", %d host calls", len(o.calls)+o.dropped)
	return b.String()
}

// diff describes how two outcomes of the same call differ, or "" if they
// agree. results are typed by the export's result types.
func diff(results []api.ValueType, ref, sub outcome) string {
	var d []string
	if ref.class != sub.class {
		d = append(d, fmt.Sprintf("trap: %q vs %q", ref.class, sub.class))
	}
	if ref.class == trapNone && sub.class == trapNone {
		if len(ref.results) != len(sub.results) {
			d = append(d, fmt.Sprintf("result count: %d vs %d", len(ref.results), len(sub.results)))
		} else {
			for i, t := range results {
				if i < len(ref.results) && !sameValue(t, ref.results[i], sub.results[i]) {
					d = append(d, fmt.Sprintf("results: %s vs %s",
						formatValues(results, ref.results), formatValues(results, sub.results)))
					break
				}
			}
		}
	}
	if len(ref.calls) != len(sub.calls) || ref.dropped != sub.dropped {
		d = append(d, fmt.Sprintf("host calls: %d vs %d", len(ref.calls)+ref.dropped, len(sub.calls)+sub.dropped))
	}
	for i := 0; i < len(ref.calls) && i < len(sub.calls); i++ {
		a, b := ref.calls[i], sub.calls[i]
		same := a.name == b.name && len(a.args) == len(b.args)
		for j := 0; same && j < len(a.args); j++ {
			same = sameValue(a.types[j], a.args[j], b.args[j])
		}
		if !same {
			d = append(d, fmt.Sprintf("host call #%d: %s%s vs %s%s", i,
				a.name, formatValues(a.types, a.args), b.name, formatValues(b.types, b.args)))
			break
		}
	}
	for name, m := range ref.memories {
		s, ok := sub.memories[name]
		switch {
		case !ok:
			d = append(d, fmt.Sprintf("memory %q: missing", name))
		case m.size != s.size:
			d = append(d, fmt.Sprintf("memory %q size: %d vs %d", name, m.size, s.size))
		case m.hash != s.hash:
			d = append(d, fmt.Sprintf("memory %q contents differ", name))
		}
	}
	return strings.Join(d, "; ")
}

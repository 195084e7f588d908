package engine

import (
	"errors"
	"fmt"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/store"
)

// Trap is the panic value a tier raises at a fault: the run unwinds to the
// tier's one recover, which turns it into an *api.TrapError of kind Kind.
type Trap struct{ Kind error }

// PanicTrap classifies a value recovered from a panic inside an engine;
// every entry into an engine (and the facade's last line of defence)
// recovers through it, so that one cause always gets one sentinel: a trap
// the engine raised keeps its kind, a panic in a host function (host, when
// not nil, is the one that was running) is api.ErrHostPanic, and anything
// else is an engine bug, api.ErrInternal. stack is the WebAssembly trace,
// innermost first, if known.
func PanicTrap(r any, host *store.Function, stack []api.TraceFrame) error {
	if host != nil {
		return &api.TrapError{Kind: api.ErrHostPanic, Cause: panicError(r),
			Stack: append([]api.TraceFrame{HostTrace(host)}, stack...)}
	}
	if t, ok := r.(Trap); ok {
		if t.Kind != api.ErrInternal && errors.Is(t.Kind, api.ErrInternal) {
			return &api.TrapError{Kind: api.ErrInternal, Cause: t.Kind, Stack: stack}
		}
		return &api.TrapError{Kind: t.Kind, Stack: stack}
	}
	return &api.TrapError{Kind: api.ErrInternal, Cause: panicError(r), Stack: stack}
}

// HostTrace is the stack-trace entry of host function fn.
func HostTrace(fn *store.Function) api.TraceFrame {
	t := api.TraceFrame{Func: fn.Index, Name: fn.Name}
	if fn.Instance != nil {
		t.Module = fn.Instance.Name
	}
	return t
}

func panicError(r any) error {
	if err, ok := r.(error); ok {
		return err
	}
	return fmt.Errorf("%v", r)
}

package ferry

import (
	"context"
	"errors"
	"testing"
)

// CallWithOptions with PauseAfter skipped Call's parameter check and let
// the engine refuse a wrong count with its own message, which wrapped no
// sentinel: the same mistake failed differently with and without options.
func TestCallWithOptionsWrongParamCount(t *testing.T) {
	rt := newRuntime(t, NewRuntimeConfig())
	add := instantiate(t, rt, "add", "add").Function("add")
	ctx := context.Background()
	_, plain := add.Call(ctx, 1)
	for _, o := range []CallOptions{{}, {PauseAfter: 1}} {
		_, err := add.CallWithOptions(ctx, o, 1)
		if !errors.Is(err, errParamCount) || err.Error() != plain.Error() {
			t.Errorf("CallWithOptions(%+v) with 1 of 2 params: %v; Call says %v", o, err, plain)
		}
	}
}

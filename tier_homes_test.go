package ferry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
)

// runHomes runs testdata/homes.wasm's loop for n iterations on a runtime
// of the given tier.
func runHomes(t *testing.T, tier Tier, n uint64, o CallOptions) (*Runtime, *Instance, []uint64, error) {
	return runTierProgram(t, tier, "testdata/homes.wasm", "run", o, n)
}

func homesObservable(inst *Instance, res []uint64) string {
	mem, _ := inst.Memory("mem").Read(64, 72)
	return fmt.Sprintf("result %v mem %x", res, mem)
}

// TestCompiledCheckpointsWithRegisterHomes is
// TestCompiledCheckpointsMatchInterpreter for a loop whose i32, i64, f32
// and f64 locals live in register homes: at every pause point (polls,
// calls, the callee's entry) the compiled tier's checkpoint must equal the
// interpreter's byte for byte but the timestamp, so every home must have
// been spilled to its slot, and the resumed runs in either tier must
// finish as the uninterrupted one.
func TestCompiledCheckpointsWithRegisterHomes(t *testing.T) {
	ctx := context.Background()
	const iters = 12
	rt, inst, res, err := runHomes(t, TierInterp, iters, CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := homesObservable(inst, res)
	rt.Close(ctx)
	rt, inst, res, err = runHomes(t, TierCompiled, iters, CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := homesObservable(inst, res); got != want {
		t.Fatalf("compiled: %s, want %s", got, want)
	}
	if c, _ := rt.CompiledFunctions(); c == 0 {
		t.Fatal("nothing compiled: the test would compare the interpreter with itself")
	}
	rt.Close(ctx)
	for n := int64(1); ; n++ {
		rtI, _, _, errI := runHomes(t, TierInterp, iters, CallOptions{PauseAfter: n})
		rtC, _, _, errC := runHomes(t, TierCompiled, iters, CallOptions{PauseAfter: n})
		var pI, pC *Paused
		okI, okC := errors.As(errI, &pI), errors.As(errC, &pC)
		if okI != okC {
			t.Fatalf("N=%d: interpreter %v, compiled %v", n, errI, errC)
		}
		if !okI {
			if errI != nil || errC != nil {
				t.Fatalf("N=%d: interpreter %v, compiled %v", n, errI, errC)
			}
			if n <= 2*iters { // a poll and a call per iteration
				t.Fatalf("only %d pause points", n-1)
			}
			rtI.Close(ctx)
			rtC.Close(ctx)
			break
		}
		bI := checkpointBytes(t, pI, NewCheckpointConfig())
		bC := checkpointBytes(t, pC, NewCheckpointConfig())
		rtI.Close(ctx)
		rtC.Close(ctx)
		if !bytes.Equal(withoutTimestamp(t, bI), withoutTimestamp(t, bC)) {
			t.Fatalf("N=%d: the compiled tier's checkpoint (%d bytes) differs from the interpreter's (%d bytes)", n, len(bC), len(bI))
		}
		for _, tier := range []Tier{TierCompiled, TierInterp} {
			rt2, p2 := restoreTier(t, tier, bC)
			res, err := p2.Resume(ctx, CallOptions{})
			if err != nil {
				t.Fatalf("N=%d: resume (%v): %v", n, tier, err)
			}
			if got := homesObservable(p2.Instance(), res); got != want {
				t.Fatalf("N=%d: resumed (%v): %s, want %s", n, tier, got, want)
			}
			rt2.Close(ctx)
		}
	}
}

package ferry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
)

// runDeepTier runs testdata/deep.wasm's rec(n) in a runtime of the given
// tier: n calls deep, then a loop at the bottom, so that in the compiled
// tier almost every pause point lies inside natively called functions.
func runDeepTier(t testing.TB, tier Tier, n uint64, o CallOptions) (*Runtime, []uint64, error) {
	rt, _, res, err := runTierProgram(t, tier, "testdata/deep.wasm", "rec", o, n)
	return rt, res, err
}

// A checkpoint taken at any pause point of a recursive program, with the
// compiled tier calling natively, equals the interpreter's byte for byte
// (the frames Go adopts from the native calls are the interpreter's), and
// resumes in either tier to the uninterrupted result.
func TestCompiledCheckpointsOfNativeCallsMatchInterpreter(t *testing.T) {
	testNativeCallCheckpoints(t)
}

// The same under deopt stress.
func TestCompiledCheckpointsOfNativeCallsUnderDeoptStress(t *testing.T) {
	t.Setenv("FERRY_DEOPT_STRESS", "5")
	testNativeCallCheckpoints(t)
}

func testNativeCallCheckpoints(t *testing.T) {
	ctx := context.Background()
	const depth = 12
	want := fmt.Sprint([]uint64{depth})
	for n := int64(1); ; n++ {
		rtI, _, errI := runDeepTier(t, TierInterp, depth, CallOptions{PauseAfter: n})
		rtC, _, errC := runDeepTier(t, TierCompiled, depth, CallOptions{PauseAfter: n})
		var pI, pC *Paused
		okI, okC := errors.As(errI, &pI), errors.As(errC, &pC)
		if okI != okC {
			t.Fatalf("N=%d: interpreter %v, compiled %v", n, errI, errC)
		}
		if !okI {
			if errI != nil || errC != nil {
				t.Fatalf("N=%d: interpreter %v, compiled %v", n, errI, errC)
			}
			if n < depth+100 {
				t.Fatalf("only %d pause points", n-1)
			}
			rtI.Close(ctx)
			rtC.Close(ctx)
			break
		}
		if c, _ := rtC.CompiledFunctions(); c == 0 {
			t.Fatal("deep.wasm not compiled: the test would compare the interpreter with itself")
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
			if got := fmt.Sprint(res); got != want {
				t.Fatalf("N=%d: resumed (%v): %s, want %s", n, tier, got, want)
			}
			rt2.Close(ctx)
		}
	}
}

package ferry

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/ferryvm/ferry/internal/snapshot"
)

// runTierProgram is runProgram on a runtime of the given tier: the start
// of every comparison of the tiers below.
func runTierProgram(t testing.TB, tier Tier, file, fn string, o CallOptions, args ...uint64) (*Runtime, *Instance, []uint64, error) {
	return runProgram(t, NewRuntimeConfig().WithTier(tier), file, fn, o, args...)
}

// runCkptTier is runCkpt on a runtime of the given tier.
func runCkptTier(t testing.TB, tier Tier, n, pages uint64, o CallOptions) (*Runtime, *Instance, []uint64, error) {
	return runTierProgram(t, tier, "testdata/ckpt.wasm", "run", o, n, pages)
}

// withoutTimestamp is a checkpoint with its creation time zeroed: the one
// field two runs at the same pause point may differ in.
func withoutTimestamp(t *testing.T, b []byte) []byte {
	return rewrite(t, b, func(s *snapshot.Snapshot) { s.Meta.Created = 0 })
}

// restoreTier restores b in a fresh runtime of the given tier.
func restoreTier(t *testing.T, tier Tier, b []byte) (*Runtime, *Paused) {
	ck, err := ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	rt := NewRuntime(NewRuntimeConfig().WithTier(tier))
	p, err := rt.Restore(context.Background(), ck, NewRestoreConfig())
	if err != nil {
		t.Fatal(err)
	}
	return rt, p
}

// At every pause point N of a run, the checkpoint written while compiled
// code runs is the interpreter's, byte for byte but the timestamp: the
// compiled code counts its polls exactly as the interpreter's polled pause
// points, and a frame stopped in compiled code is exported as the
// interpreter frame it is. Each checkpoint restored in the compiled tier
// (OSR at the stopped poll, callers at their calls' continuations) ends
// the run exactly as an uninterrupted one; so does the interpreter's.
func TestCompiledCheckpointsMatchInterpreter(t *testing.T) {
	testCompiledCheckpoints(t)
}

// The same under deopt stress: compiled frames also leave their code at
// random pause points and re-enter it, and nothing observable changes.
func TestCompiledCheckpointsUnderDeoptStress(t *testing.T) {
	t.Setenv("FERRY_DEOPT_STRESS", "11")
	testCompiledCheckpoints(t)
}

func testCompiledCheckpoints(t *testing.T) {
	ctx := context.Background()
	rt, inst, res, err := runCkptTier(t, TierInterp, 20, 3, CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := observable(inst, res)
	rt.Close(ctx)
	rt, inst, res, err = runCkptTier(t, TierCompiled, 20, 3, CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := observable(inst, res); got != want {
		t.Fatalf("compiled: %s, want %s", got, want)
	}
	if c, _ := rt.CompiledFunctions(); c == 0 {
		t.Fatal("no function of ckpt.wasm compiled: the test would compare the interpreter with itself")
	}
	rt.Close(ctx)
	for n := int64(1); ; n++ {
		rtI, _, _, errI := runCkptTier(t, TierInterp, 20, 3, CallOptions{PauseAfter: n})
		rtC, _, _, errC := runCkptTier(t, TierCompiled, 20, 3, CallOptions{PauseAfter: n})
		var pI, pC *Paused
		okI, okC := errors.As(errI, &pI), errors.As(errC, &pC)
		if okI != okC {
			t.Fatalf("N=%d: interpreter %v, compiled %v", n, errI, errC)
		}
		if !okI {
			if errI != nil || errC != nil {
				t.Fatalf("N=%d: interpreter %v, compiled %v", n, errI, errC)
			}
			if n < 40 {
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
			if got := observable(p2.Instance(), res); got != want {
				t.Fatalf("N=%d: resumed (%v): %s, want %s", n, tier, got, want)
			}
			rt2.Close(ctx)
		}
	}
}

package interp

import (
	"testing"

	"github.com/ferryvm/ferry/internal/binary"
)

// The call fast path's room check is also its tier check (funcCode.callSlots):
// a tiered callee must still leave the fast path, or the auto tier's call
// countdown never sees the calls and hot functions are never compiled.
func TestTieredCallsLeaveFastPath(t *testing.T) {
	e := tierEngine(t, TierAuto, nil)
	inst, c := tierInstance(t, e, tierProg)
	fib := c.byIndex[1]
	if !fib.tiered() {
		t.Fatal("auto tier without a sampler: fib is not tiered")
	}
	if got := call(t, e, inst, "fib", 10); got != 55 {
		t.Fatalf("fib(10) = %d", got)
	}
	// fib(10) makes 177 calls of fib, the host's included; each must reach
	// the policy.
	if got, want := fib.hot.Load(), int32(hotCalls-177); got != want {
		t.Fatalf("fib's countdown is %d after 177 calls, want %d", got, want)
	}
}

// Every way to build a Compiled leaves its functions on the fast path with
// their real frame size: a zero callSlots would let the fast path push a
// frame the value stack has no room for.
func TestCallSlotsAreFrameSlotsAfterCompileAndRebuild(t *testing.T) {
	m, err := binary.Decode(wat(t, tierProg))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	rebuilt, err := FromParts(m, c.Parts(), false)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*Compiled{"Compile": c, "FromParts": rebuilt} {
		for _, f := range c.funcs {
			if got := f.callSlots.Load(); got != f.FrameSlots || f.tiered() {
				t.Errorf("%s: function %d: callSlots %d, FrameSlots %d", name, f.Index, got, f.FrameSlots)
			}
			f.setTiered(true)
			if !f.tiered() || f.callSlots.Load() <= maxStackSlots {
				t.Errorf("%s: function %d tiered: callSlots %d fits a value stack", name, f.Index, f.callSlots.Load())
			}
			f.setTiered(false)
			if f.tiered() || f.callSlots.Load() != f.FrameSlots {
				t.Errorf("%s: function %d untiered: callSlots %d, FrameSlots %d", name, f.Index, f.callSlots.Load(), f.FrameSlots)
			}
		}
	}
}

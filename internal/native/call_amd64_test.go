package native

import (
	"testing"

	. "github.com/ferryvm/ferry/internal/native/amd64asm"
)

// recurseProg is a function that calls itself natively until the native
// depth reaches slot 0, recording each call as the compiler does (here the
// record is the depth itself) and counting returns in slot 1. At the
// bottom it exits with ExitBudget when slot 2 is set, else it returns; a
// call at depthMax exits with ExitCall. Its Return RETs to a native caller
// and exits ExitReturn at depth 0, like compiled code.
func recurseProg(t *testing.T) *Unit {
	t.Helper()
	a := new(Asm)
	f, bottom, slow, ret, exitRet := a.NewLabel(), a.NewLabel(), a.NewLabel(), a.NewLabel(), a.NewLabel()
	leave := func(kind ExitKind) {
		a.StoreImm(W32, M(RBX, OffExit), int32(kind))
		a.Load(W64, RSP, M(RBX, OffEntrySP))
		a.Load(W64, RBP, M(RBX, OffEntryBP))
		a.Ret()
	}
	a.Bind(f)
	a.Load(W64, RAX, M(RBX, OffDepth))
	a.ALULoad(CMP, W64, RAX, M(R12, 0))
	a.Jcc(CondAE, bottom)
	a.ALULoad(CMP, W64, RAX, M(RBX, OffDepthMax))
	a.Jcc(CondAE, slow)
	a.Load(W64, RCX, M(RBX, OffCalls))
	a.Store(W32, MI(RCX, RAX, 4, 0), RAX)
	a.ALUImm(ADD, W64, RAX, 1)
	a.Store(W64, M(RBX, OffDepth), RAX)
	a.Call(f)
	a.ALUMemImm(SUB, W64, M(RBX, OffDepth), 1)
	a.ALUMemImm(ADD, W64, M(R12, 8), 1)
	a.Bind(ret)
	a.ALUMemImm(CMP, W64, M(RBX, OffDepth), 0)
	a.Jcc(CondE, exitRet)
	a.Ret()
	a.Bind(bottom)
	a.ALUMemImm(CMP, W64, M(R12, 16), 0)
	a.Jcc(CondE, ret)
	leave(ExitBudget)
	a.Bind(slow)
	leave(ExitCall)
	a.Bind(exitRet)
	leave(ExitReturn)
	code, err := a.Finish()
	if err != nil {
		t.Fatal(err)
	}
	u, err := newAlloc().Map(code)
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { _ = u.Free() })
	return u
}

// Native calls nest on the context's native stack up to the depth Go
// allows, every exit from any depth returns to Go with the depth and the
// call records intact, and the next entry starts at depth 0.
func TestNativeCallsOnTheNativeStack(t *testing.T) {
	u := recurseProg(t)
	c := NewContext()
	for _, tc := range []struct {
		name         string
		target       uint64 // slot 0: depth to reach
		exitAtBottom bool
		limit        int // SetCallDepth
		kind         ExitKind
		depth        int // CallDepth at the exit
		returns      uint64
	}{
		{"no native calls allowed", 10, false, 0, ExitCall, 0, 0},
		{"return through 1000 RETs", 1000, false, MaxCallDepth, ExitReturn, 0, 1000},
		{"exit 1000 deep", 1000, true, MaxCallDepth, ExitBudget, 1000, 0},
		{"exit 1 deep", 1, true, MaxCallDepth, ExitBudget, 1, 0},
		{"the whole native stack", MaxCallDepth, false, MaxCallDepth, ExitReturn, 0, MaxCallDepth},
		{"exit at the bottom of the whole stack", MaxCallDepth, true, MaxCallDepth, ExitBudget, MaxCallDepth, 0},
		{"past the native stack", MaxCallDepth + 10, false, 1 << 20, ExitCall, MaxCallDepth, 0},
		{"past the limit Go set", 10, false, 5, ExitCall, 5, 0},
	} {
		stack := []uint64{tc.target, 0, 0}
		if tc.exitAtBottom {
			stack[2] = 1
		}
		c.SetStack(stack)
		c.SetCallDepth(tc.limit)
		e, err := u.Enter(c, 0)
		if err != nil || e.Kind != tc.kind {
			t.Fatalf("%s: exit %v, err %v; want %v", tc.name, e, err, tc.kind)
		}
		if c.CallDepth() != tc.depth || stack[1] != tc.returns {
			t.Fatalf("%s: depth %d, %d returns; want %d, %d", tc.name, c.CallDepth(), stack[1], tc.depth, tc.returns)
		}
		for k := range c.CallDepth() {
			if r := c.CallRecord(k); r != uint32(k) {
				t.Fatalf("%s: record %d is %d", tc.name, k, r)
			}
		}
	}
}

//go:build amd64 && (linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package native

import "testing"

// BenchmarkEnterReturn: one entry through the trampoline and one exit.
func BenchmarkEnterReturn(b *testing.B) {
	u, err := newAlloc().Map(newProg().exit(ExitReturn, 0).bytes())
	if err != nil {
		b.Fatal(err)
	}
	defer u.Free()
	c := NewContext()
	for b.Loop() {
		if _, err := u.Enter(c, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBudgetExitContinue: the cost of one budget exit and the
// re-entry at its continuation, as a loop with a budget of 0 pays at
// every back-edge.
func BenchmarkBudgetExitContinue(b *testing.B) {
	u, err := newAlloc().Map(countdownProg().bytes())
	if err != nil {
		b.Fatal(err)
	}
	defer u.Free()
	c := NewContext()
	c.SetStack([]uint64{uint64(b.N) + 2})
	e, err := u.Enter(c, 0)
	b.ResetTimer()
	for range b.N {
		if err != nil || e.Kind != ExitBudget {
			b.Fatalf("exit %v, err %v", e, err)
		}
		e, err = u.Continue(c)
	}
}

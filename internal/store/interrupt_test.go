package store

import (
	"errors"
	"testing"

	"github.com/ferryvm/ferry/internal/pause"
)

// countingArmer is lowered code that records how armed it is.
type countingArmer struct{ n int }

func (a *countingArmer) Arm()             { a.n++ }
func (a *countingArmer) Disarm()          { a.n-- }
func (a *countingArmer) CodeArmer() Armer { return a }

// Pauses makes countingArmer a Code; the store never reads the table.
func (a *countingArmer) Pauses() *pause.Func { return nil }

// The store arms its code while any instance has interrupt bits set, once
// however many bits and instances, and an instance closed with bits set
// (a pending pause, an abort) does not leave it armed.
func TestInterruptArmsStoreCode(t *testing.T) {
	s := NewStore()
	code := &countingArmer{}
	a, err := s.Instantiate(exporter(), "a", []Code{code}, noImports)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Instantiate(exporter(), "b", []Code{code}, noImports)
	if err != nil {
		t.Fatal(err)
	}
	want := func(n int) {
		t.Helper()
		if code.n != n {
			t.Fatalf("armed %d times, want %d", code.n, n)
		}
	}
	want(0)
	a.SetInterrupt(InterruptPause)
	a.SetInterrupt(InterruptCancel)
	b.SetInterrupt(InterruptPause)
	want(1)
	a.ClearInterrupt(InterruptPause | InterruptCancel)
	want(1)
	b.ClearInterrupt(InterruptPause)
	want(0)
	b.ClearInterrupt(InterruptPause) // clearing a clear word changes nothing
	want(0)

	a.Abort(errors.New("corrupt"))
	if a.AbortErr() == nil || a.InterruptWord().Load()&InterruptAbort == 0 {
		t.Fatal("Abort set no error or bit")
	}
	want(1)
	a.Close()
	want(0)
	b.SetInterrupt(InterruptPause)
	b.Close()
	b.Close()
	want(0)
}

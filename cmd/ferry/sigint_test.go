package main

import (
	"context"
	"errors"
	"testing"

	"github.com/ferryvm/ferry/wasi"
)

// A SIGINT that interrupts a guest's last host call (a write that returns
// a short count the guest does not retry) used to end in exit 0 when the
// guest then returned or called proc_exit: the interruption was lost.
func TestSigintDuringFinalWriteNotLost(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	exit := &wasi.ExitError{Code: 0}
	for _, c := range []struct {
		name string
		ctx  context.Context
		err  error
		want error
	}{
		{"returned after SIGINT", cancelled, nil, context.Canceled},
		{"proc_exit after SIGINT", cancelled, exit, context.Canceled},
		{"trap after SIGINT keeps the trap", cancelled, errTest, errTest},
		{"no SIGINT, returned", context.Background(), nil, nil},
		{"no SIGINT, proc_exit", context.Background(), exit, exit},
	} {
		if got := notLost(c.ctx, c.err); !errors.Is(got, c.want) && got != c.want {
			t.Errorf("%s: notLost = %v, want %v", c.name, got, c.want)
		}
		if code := reportCallError(discard{}, "x.wasm", notLost(c.ctx, c.err)); c.want == context.Canceled && code != exitInterrupted {
			t.Errorf("%s: exit %d, want %d", c.name, code, exitInterrupted)
		}
	}
}

var errTest = errors.New("some trap")

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

package api

import (
	"errors"
	"strings"
	"testing"
)

func TestTrapErrorMessage(t *testing.T) {
	e := &TrapError{Kind: ErrIntegerDivideByZero, Stack: []TraceFrame{
		{Func: 3, Name: "fib", FileOffset: 0x4a},
		{Func: 1, FileOffset: 0x20},
	}}
	want := "wasm trap: integer divide by zero\nwasm stack:\n  0: fib (func 3) @0x4a\n  1: <unnamed> (func 1) @0x20"
	if e.Error() != want {
		t.Fatalf("got %q\nwant %q", e.Error(), want)
	}
	if !errors.Is(e, ErrIntegerDivideByZero) {
		t.Fatal("errors.Is does not see the trap kind")
	}
}

func TestTrapErrorElidesDeepStacks(t *testing.T) {
	e := &TrapError{Kind: ErrCallStackExhausted, Stack: make([]TraceFrame, 50000)}
	msg := e.Error()
	if lines := strings.Count(msg, "\n"); lines > traceHead+traceTail+2 {
		t.Fatalf("message has %d lines; a deep stack must be elided", lines)
	}
	for _, want := range []string{"\n  0: ", "... 49968 frames elided ...", "\n  49999: "} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q", want)
		}
	}
}

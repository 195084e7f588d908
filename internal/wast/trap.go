package wast

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ferryvm/ferry/api"
)

// trapKinds maps the spec suite's trap messages to Ferry's trap sentinels.
// The suite sometimes adds detail after the message ("uninitialized element
// 2"), so a message matches by prefix.
var trapKinds = []struct {
	text string
	kind error
}{
	{"unreachable", api.ErrUnreachable},
	{"integer divide by zero", api.ErrIntegerDivideByZero},
	{"integer overflow", api.ErrIntegerOverflow},
	{"invalid conversion to integer", api.ErrInvalidConversion},
	{"out of bounds memory access", api.ErrOutOfBoundsMemory},
	{"out of bounds table access", api.ErrOutOfBoundsTable},
	{"indirect call type mismatch", api.ErrIndirectCallTypeMismatch},
	{"undefined element", api.ErrUndefinedElement},
	{"uninitialized element", api.ErrUninitializedElement},
	{"call stack exhausted", api.ErrCallStackExhausted},
	{"host function panicked", api.ErrHostPanic},
}

// trapKindFor returns the sentinel for an expected trap message, or nil if
// the message names no known kind.
func trapKindFor(text string) error {
	for _, k := range trapKinds {
		if strings.HasPrefix(text, k.text) {
			return k.kind
		}
	}
	return nil
}

// checkTrap reports nil if err is a trap of the kind the expected message
// names, or an explanation of the difference.
func checkTrap(err error, text string) error {
	if err == nil {
		return fmt.Errorf("expected trap %q, got no error", text)
	}
	var trap *api.TrapError
	if !errors.As(err, &trap) {
		return fmt.Errorf("expected trap %q, got a non-trap error: %v", text, oneLine(err))
	}
	if kind := trapKindFor(text); kind != nil {
		if errors.Is(trap.Kind, kind) {
			return nil
		}
	} else if strings.Contains(trap.Error(), text) {
		return nil
	}
	return fmt.Errorf("expected trap %q, got %v", text, oneLine(err))
}

// oneLine keeps the first line of an error: a trap's stack trace would make
// a failure report unreadable.
func oneLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

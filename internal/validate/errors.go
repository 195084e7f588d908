package validate

import (
	"errors"
	"fmt"
)

// Sentinels that every validation failure wraps, so callers can tell the two
// classes of the spec's assertions apart with errors.Is: a module that breaks
// the binary grammar inside a function body or constant expression is
// malformed; one that decodes but breaks a typing rule is invalid.
var (
	ErrInvalid   = errors.New("invalid module")
	ErrMalformed = errors.New("malformed module")
)

// Error locates a validation failure. Its message carries the spec's wording
// ("type mismatch", "unknown local", ...) so that a test harness can compare
// it with the text of the spec's assertions.
type Error struct {
	// Func is the function index (imports included) whose body failed, or -1
	// when the failure is not inside a function body.
	Func int
	// Offset is the byte offset of the failing instruction, counted as Ferry
	// counts pause-point offsets: from the function's BodyStart (the start of
	// its local declarations). -1 when there is no instruction to point at.
	Offset int
	// Err is the cause.
	Err error

	kind error // ErrInvalid or ErrMalformed
}

func (e *Error) Error() string {
	if e.Func < 0 {
		return e.Err.Error()
	}
	if e.Offset < 0 {
		return fmt.Sprintf("func %d: %v", e.Func, e.Err)
	}
	return fmt.Sprintf("func %d @+0x%x: %v", e.Func, e.Offset, e.Err)
}

// Unwrap exposes both the class sentinel and the cause to errors.Is/As.
func (e *Error) Unwrap() []error { return []error{e.kind, e.Err} }

// malformedError marks a cause as belonging to ErrMalformed rather than
// ErrInvalid while it travels up to where the *Error is built.
type malformedError struct{ err error }

func (e malformedError) Error() string { return e.err.Error() }
func (e malformedError) Unwrap() error { return e.err }

func malformed(format string, args ...any) error {
	return malformedError{fmt.Errorf(format, args...)}
}

// wrap builds the *Error for a cause, choosing the class by the cause's mark.
func wrap(fn, off int, cause error) *Error {
	var me malformedError
	if errors.As(cause, &me) {
		return &Error{Func: fn, Offset: off, Err: cause, kind: ErrMalformed}
	}
	return &Error{Func: fn, Offset: off, Err: cause, kind: ErrInvalid}
}

func typeMismatch(want, got string) error {
	return fmt.Errorf("type mismatch: expected %s, got %s", want, got)
}

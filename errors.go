package ferry

import (
	"errors"
	"fmt"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/validate"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Sentinels. Compile errors wrap ErrMalformed (the bytes break the binary
// format) or ErrInvalid (they decode but break a typing rule); Instantiate's
// import failures wrap ErrLink. Test with errors.Is.
var (
	ErrMalformed = errors.New("malformed module")
	ErrInvalid   = errors.New("invalid module")
	ErrLink      = errors.New("link error")
)

// ErrClosed is wrapped by the error of an operation on a closed runtime,
// module or instance, and by the trap of a call stopped because its
// instance was closed while it ran. ErrBusy is wrapped by the error of a
// call refused because another goroutine's call runs in the instance.
// ErrInternal is the kind of a trap raised by a bug in Ferry itself. They
// are the api package's sentinels, so internal code can raise them.
var (
	ErrClosed   = api.ErrClosed
	ErrBusy     = api.ErrBusy
	ErrInternal = api.ErrInternal
)

// errClosed is the name the facade's code uses for ErrClosed.
var errClosed = ErrClosed

// LinkError says which import could not be satisfied and why. Reason uses
// the WebAssembly specification's wording ("unknown import",
// "incompatible import type"), followed by detail.
type LinkError struct {
	Module, Name string
	Reason       string
}

func (e *LinkError) Error() string {
	return fmt.Sprintf("link error: import %q %q: %s", e.Module, e.Name, e.Reason)
}

// Is makes errors.Is(err, ErrLink) true.
func (e *LinkError) Is(target error) bool { return target == ErrLink }

// compileError keeps the detailed message of a decoder or validator error
// and adds the public class sentinel to what errors.Is sees.
type compileError struct {
	kind error
	err  error
}

func (e *compileError) Error() string   { return e.err.Error() }
func (e *compileError) Unwrap() []error { return []error{e.kind, e.err} }

// decodeError classifies an error of binary.Decode: always malformed.
func decodeError(err error) error {
	return &compileError{kind: ErrMalformed, err: err}
}

// loweringError classifies an error of validation and lowering.
func loweringError(err error) error {
	var ie *wasm.InstrError
	var be *binary.Error
	switch {
	case errors.Is(err, validate.ErrMalformed), errors.As(err, &ie), errors.As(err, &be):
		return &compileError{kind: ErrMalformed, err: err}
	case errors.Is(err, validate.ErrInvalid):
		return &compileError{kind: ErrInvalid, err: err}
	}
	return fmt.Errorf("ferry: compile: %w", err)
}

// linkError converts the store's link error to the public one.
func linkError(err error) error {
	var le *store.LinkError
	if errors.As(err, &le) {
		return &LinkError{Module: le.Module, Name: le.Name, Reason: le.Reason}
	}
	return err
}

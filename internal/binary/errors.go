package binary

import (
	"errors"
	"fmt"

	"github.com/ferryvm/ferry/internal/wasm"
)

// Error is a decoding failure: which section, where in the file, and why.
// It wraps its cause, so errors.Is works with the sentinels below and with
// wasm.ErrUnexpectedEnd, wasm.ErrLEBTooLong, wasm.ErrLEBTooLarge and
// wasm.ErrIllegalOpcode.
type Error struct {
	Section string // section name ("import", "custom", ...), "" for the header
	Offset  int    // file offset of the problem
	Err     error
}

func (e *Error) Error() string {
	if e.Section == "" {
		return fmt.Sprintf("decode @0x%x: %v", e.Offset, e.Err)
	}
	return fmt.Sprintf("decode %s section @0x%x: %v", e.Section, e.Offset, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Causes of malformed modules. Their texts are those of the spec test suite's
// assert_malformed commands, which match error messages by prefix; details
// follow the sentinel text.
var (
	ErrMagic         = errors.New("magic header not detected")
	ErrVersion       = errors.New("unknown binary version")
	ErrSectionID     = errors.New("malformed section id")
	ErrSectionSize   = errors.New("section size mismatch")
	ErrSectionOrder  = errors.New("unexpected content after last section")
	ErrLength        = errors.New("length out of bounds")
	ErrTooManyLocals = errors.New("too many locals")
	ErrFuncCodeCount = errors.New("function and code section have inconsistent lengths")
	ErrDataCount     = errors.New("data count and data section have inconsistent lengths")
	ErrUTF8          = errors.New("malformed UTF-8 encoding")
	ErrValType       = errors.New("malformed value type")
	ErrRefType       = errors.New("malformed reference type")
	ErrFuncType      = errors.New("malformed function type")
	ErrMutability    = errors.New("malformed mutability")
	ErrImportKind    = errors.New("malformed import kind")
	ErrExportKind    = errors.New("malformed export kind")
	ErrElemKind      = errors.New("malformed element kind")
	ErrElemSegment   = errors.New("malformed elements segment kind")
	ErrDataSegment   = errors.New("malformed data segment kind")
	ErrEndExpected   = errors.New("END opcode expected")
	// ErrEndOfSection is a read past the end of a section or function body.
	ErrEndOfSection = fmt.Errorf("%w of section or function", wasm.ErrUnexpectedEnd)
)

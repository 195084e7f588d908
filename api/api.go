// Package api holds the types that Ferry's public facade and its internals
// share: value types, host-function signatures, traps and frame descriptions.
// It imports nothing of Ferry's, so every other package may import it.
package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ValueType is a WebAssembly value type, encoded as in the binary format.
type ValueType = byte

const (
	ValueTypeI32       ValueType = 0x7F
	ValueTypeI64       ValueType = 0x7E
	ValueTypeF32       ValueType = 0x7D
	ValueTypeF64       ValueType = 0x7C
	ValueTypeV128      ValueType = 0x7B
	ValueTypeFuncref   ValueType = 0x70
	ValueTypeExternref ValueType = 0x6F
)

// Values cross the API as 64-bit slots, the same encoding the value stack
// uses (ARCHITECTURE.md §3):
//   - i32: the low 32 bits (upper bits are zero on results, ignored on params);
//   - i64: the bits; f32/f64: the IEEE-754 bits (math.Float32bits / Float64bits);
//   - v128: two slots, low 64 bits first;
//   - funcref: an opaque handle, 0 for null;
//   - externref: the host's own 64-bit value, 0 for null.

// Memory is a linear memory seen from the host. Offsets are guest addresses;
// every method checks bounds and reports failure rather than panicking.
type Memory interface {
	// Size is the current size in bytes.
	Size() uint64
	// Bytes returns the memory's backing slice. It is invalidated by a grow;
	// prefer Read and Write.
	Bytes() []byte
	// Read returns n bytes at offset, aliasing the memory, or false if the
	// range is out of bounds.
	Read(offset uint64, n uint64) ([]byte, bool)
	// Write copies b to offset, or returns false (writing nothing) if the
	// range is out of bounds.
	Write(offset uint64, b []byte) bool
	// Grow adds delta pages and returns the previous size in pages, or false
	// if the maximum would be exceeded.
	Grow(deltaPages uint64) (uint64, bool)
}

// Module is what a host function sees of the instance that called it.
type Module interface {
	// Name is the instance's registered name ("" when anonymous).
	Name() string
	// Memory is the instance's memory 0, or nil if it has none.
	Memory() Memory
}

// HostFunc implements a function imported by a guest. stack holds the
// parameters on entry (one slot each, two for v128) and must hold the
// results on return; it has room for max(params, results) slots. A host
// function reports a failure by panicking with an error value only through
// Trap; any returned error is better signalled through the results.
//
// A host function that blocks (waiting for input, a timer, a connection)
// should watch ctx: it is cancelled when the call's context is, and, with
// cause ErrPauseRequested, when a pause of the calling instance is
// requested while the host function runs. A host function that has
// consumed nothing may then give up by panicking with an error that wraps
// context.Cause(ctx): for ErrPauseRequested the engine pauses at the call
// itself, and resuming (or restoring a checkpoint) issues the same call
// again, so a program blocked waiting for input can be checkpointed.
type HostFunc func(ctx context.Context, caller Module, stack []uint64)

// ErrPauseRequested is the cause of a host function's context when a pause
// of its caller is requested while it runs (see HostFunc).
var ErrPauseRequested = errors.New("pause requested")

// Trap sentinels. Every trap error wraps exactly one of these, so callers test
// the kind with errors.Is.
var (
	ErrUnreachable              = errors.New("unreachable")
	ErrIntegerDivideByZero      = errors.New("integer divide by zero")
	ErrIntegerOverflow          = errors.New("integer overflow")
	ErrInvalidConversion        = errors.New("invalid conversion to integer")
	ErrOutOfBoundsMemory        = errors.New("out of bounds memory access")
	ErrOutOfBoundsTable         = errors.New("out of bounds table access")
	ErrIndirectCallTypeMismatch = errors.New("indirect call type mismatch")
	ErrUndefinedElement         = errors.New("undefined element")
	ErrUninitializedElement     = errors.New("uninitialized element")
	ErrCallStackExhausted       = errors.New("call stack exhausted")
	// ErrHostPanic marks a trap raised because a host function panicked.
	ErrHostPanic = errors.New("host function panicked")
	// ErrCheckpointFileChanged marks a trap raised because memory pages
	// mapped from a checkpoint file by a restore could not be read: the
	// file was truncated (by the guest through a pre-open, or by anyone)
	// while the restored program ran. The pages are lost; every later
	// access to them traps the same way.
	ErrCheckpointFileChanged = errors.New("checkpoint file changed under mapped memory")
	// ErrClosed marks a call stopped because its instance or runtime was
	// closed while it ran; it is also wrapped by the error of any
	// operation refused because something is closed.
	ErrClosed = errors.New("closed")
	// ErrInternal marks a trap raised by a bug in Ferry itself (a Go
	// runtime panic in the engine, an inconsistency it detected): the call
	// fails instead of crashing the host. Please report it.
	ErrInternal = errors.New("internal error")
)

// ErrBusy is wrapped by the error of a call refused because another call
// is running in the same instance (or an instance linked to it) on
// another goroutine. An instance runs one call at a time; a call made
// from a host function, under the context it was given, re-enters.
var ErrBusy = errors.New("instance busy: another call is running")

// TraceFrame is one line of a WebAssembly stack trace.
type TraceFrame struct {
	Module     string // instance name, "" if anonymous
	Func       uint32 // function index in its module
	Name       string // from the name section, "" if none
	Offset     uint32 // byte offset within the function body (see docs/pause-points.md)
	FileOffset uint32 // the same position as an offset in the module file
}

// TrapError is a trap: the kind (one of the Err* sentinels, or a context
// error when a call was cancelled) and the WebAssembly stack, innermost first.
type TrapError struct {
	Kind  error
	Stack []TraceFrame
	// Cause carries extra detail, e.g. the value a host function panicked with.
	Cause error
}

// Error prints at most traceHead innermost and traceTail outermost frames;
// Stack keeps them all.
const traceHead, traceTail = 24, 8

func (e *TrapError) Error() string {
	var b strings.Builder
	b.WriteString("wasm trap: ")
	b.WriteString(e.Kind.Error())
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	if len(e.Stack) > 0 {
		b.WriteString("\nwasm stack:")
		for i, f := range e.Stack {
			// A runaway recursion has tens of thousands of frames; the
			// innermost and outermost ones are the useful part of a message.
			if n := len(e.Stack); n > traceHead+traceTail && i == traceHead {
				fmt.Fprintf(&b, "\n  ... %d frames elided ...", n-traceHead-traceTail)
			}
			if n := len(e.Stack); n > traceHead+traceTail && i >= traceHead && i < n-traceTail {
				continue
			}
			name := f.Name
			if name == "" {
				name = "<unnamed>"
			}
			fmt.Fprintf(&b, "\n  %d: %s (func %d) @0x%x", i, name, f.Func, f.FileOffset)
		}
	}
	return b.String()
}

// Unwrap lets errors.Is see the kind and the cause.
func (e *TrapError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

// PauseKind says which kind of pause point a frame is stopped at.
type PauseKind uint8

const (
	PauseFuncEntry PauseKind = iota + 1 // before the first instruction
	PauseLoop                           // at a loop header, reached by a back-edge (before every iteration but the first)
	PauseCall                           // at a call to a Wasm function (caller frames)
	PauseHostCall                       // at a call to a host function
)

func (k PauseKind) String() string {
	switch k {
	case PauseFuncEntry:
		return "entry"
	case PauseLoop:
		return "loop"
	case PauseCall:
		return "call"
	case PauseHostCall:
		return "host-call"
	}
	return fmt.Sprintf("pausekind(%d)", uint8(k))
}

// Value is a typed value in a frame description. V128 uses Hi as well.
type Value struct {
	Type   ValueType
	Lo, Hi uint64
}

// Frame describes one paused frame in WebAssembly terms only (ARCHITECTURE.md
// §2): nothing in it depends on the engine, the tier or the process.
type Frame struct {
	Func   uint32    // function index in its module's index space
	Kind   PauseKind // the pause point the frame is stopped at
	Offset uint32    // byte offset of that pause point within the function body
	Locals []Value   // parameters first, then declared locals
	Stack  []Value   // operand stack, bottom first
}

// ValueTypeName is the text-format name of t ("i32", "funcref", ...).
func ValueTypeName(t ValueType) string {
	switch t {
	case ValueTypeI32:
		return "i32"
	case ValueTypeI64:
		return "i64"
	case ValueTypeF32:
		return "f32"
	case ValueTypeF64:
		return "f64"
	case ValueTypeV128:
		return "v128"
	case ValueTypeFuncref:
		return "funcref"
	case ValueTypeExternref:
		return "externref"
	}
	return fmt.Sprintf("valtype(0x%02x)", t)
}

// ValueTypeSlots is how many 64-bit slots a value of type t takes in
// parameters, results and the value stack: two for v128, one otherwise.
func ValueTypeSlots(t ValueType) int {
	if t == ValueTypeV128 {
		return 2
	}
	return 1
}

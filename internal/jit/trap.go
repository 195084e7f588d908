// Package jit is Ferry's compiled tier: it translates a lowered function
// (internal/ir) into amd64 machine code in the interpreter's frame layout,
// so that a compiled frame stopped at a pause point is an interpreter frame.
// docs/compiler.md explains the design.
package jit

import "github.com/ferryvm/ferry/api"

// TrapCode is the trap a compiled function raises, stored in the context
// block's aux field with an ExitTrap (the exit's argument is the IR index of
// the trapping instruction).
type TrapCode uint32

const (
	TrapNone TrapCode = iota
	TrapUnreachable
	TrapMemoryOutOfBounds
	TrapIntegerDivideByZero
	TrapIntegerOverflow
	TrapInvalidConversion
	trapCodes // one past the last valid code
)

// Err returns the api sentinel of c, or nil for a code out of range (the
// caller reports an internal error: compiled code never stores one).
func (c TrapCode) Err() error {
	switch c {
	case TrapUnreachable:
		return api.ErrUnreachable
	case TrapMemoryOutOfBounds:
		return api.ErrOutOfBoundsMemory
	case TrapIntegerDivideByZero:
		return api.ErrIntegerDivideByZero
	case TrapIntegerOverflow:
		return api.ErrIntegerOverflow
	case TrapInvalidConversion:
		return api.ErrInvalidConversion
	}
	return nil
}

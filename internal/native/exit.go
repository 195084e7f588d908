package native

import (
	"errors"
	"fmt"
)

// ExitKind says why generated code returned to Go. Generated code stores
// it in the context block (OffExit) before it leaves; the trampoline
// clears it to ExitNone on every entry, so code that returns without
// naming a kind is caught instead of being taken for the previous exit.
type ExitKind uint32

const (
	// ExitNone is never a valid exit: the code returned without storing
	// a kind.
	ExitNone ExitKind = iota
	// ExitReturn: the entered function returned; results are in its
	// value-stack slots. No continuation.
	ExitReturn
	// ExitTrap: a WebAssembly trap; Arg is the tier's trap code. No
	// continuation.
	ExitTrap
	// ExitHostCall: call host (or other-tier) function Arg of the
	// runtime's callsite table; its operands and results are in the
	// value stack. Continue after the call.
	ExitHostCall
	// ExitGrowStack: the value stack needs at least Arg slots. Go
	// grows it (SetStack) and continues; the continuation reloads its
	// registers, since the stack base may have moved.
	ExitGrowStack
	// ExitGrowMemory: memory.grow by Arg pages; the result goes to the
	// slot the compiler names. Continue after it.
	ExitGrowMemory
	// ExitBudget: the budget counter ran out at a function entry or loop
	// back-edge. Go gets control back (scheduler, GC, checkpoint
	// requests), refills the budget and continues.
	ExitBudget
	// ExitPause: the code stopped at pause point Arg with every live
	// value in its slot, because a pause was requested. Continuing
	// resumes after the pause point.
	ExitPause
	// ExitCall: the compiled function reached a call; Arg is the IR index
	// of its Call or CallIndirect. Go performs the call as the interpreter
	// would and, when the callee has returned, continues at the call's
	// continuation with the results in their slots.
	ExitCall
	// ExitInterp: Go executes the instruction at IR index Arg with the
	// interpreter's implementation (memory.grow, table and bulk
	// operations), then continues after it.
	ExitInterp

	exitKinds // one past the last valid kind
)

var exitNames = [...]string{
	ExitNone:       "none",
	ExitReturn:     "return",
	ExitTrap:       "trap",
	ExitHostCall:   "host call",
	ExitGrowStack:  "grow stack",
	ExitGrowMemory: "grow memory",
	ExitBudget:     "budget",
	ExitPause:      "pause",
	ExitCall:       "call",
	ExitInterp:     "interp",
}

func (k ExitKind) String() string {
	if k < exitKinds {
		return exitNames[k]
	}
	return fmt.Sprintf("ExitKind(%d)", uint32(k))
}

// Continues reports whether an exit of this kind leaves a continuation
// at which Go may re-enter.
func (k ExitKind) Continues() bool {
	return k >= ExitHostCall && k < exitKinds
}

// Exit is what generated code reported when it returned to Go.
type Exit struct {
	Kind ExitKind
	Arg  uint32
	// Aux is the second argument, for the kinds that have one (the trap
	// code of a compiled tier's ExitTrap).
	Aux uint32
}

func (e Exit) String() string { return fmt.Sprintf("%v(%d)", e.Kind, e.Arg) }

var (
	// ErrNotSupported: this GOOS/GOARCH cannot run generated code.
	ErrNotSupported = errors.New("native: generated code is not supported on this platform")
	// ErrCodeLimit: mapping a unit would exceed the allocator's cap.
	ErrCodeLimit = errors.New("native: executable code limit reached")
	// ErrUnitFreed: the unit was freed.
	ErrUnitFreed = errors.New("native: code unit freed")
	// ErrUnitBusy: the unit cannot be freed while code runs in it.
	ErrUnitBusy = errors.New("native: code unit in use")
	// ErrContextBusy: a context runs one entry at a time.
	ErrContextBusy = errors.New("native: context already running")
	// ErrBadEntry: an entry offset or continuation outside the unit.
	ErrBadEntry = errors.New("native: entry outside the code unit")
	// ErrBadExit: generated code returned without a valid exit kind.
	ErrBadExit = errors.New("native: generated code returned without a valid exit")
)

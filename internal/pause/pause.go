// Package pause defines the pause-point table of a function: where a run
// can stop and what a frame stopped there holds, in WebAssembly terms. It
// is made once, when a module is validated and lowered, and every
// execution tier reads the same table: a tier keeps only its own map from
// a pause point's id to its position in the tier's code (an IR index in
// the interpreter, a native address in a compiler). docs/engine.md states
// the contract.
package pause

import (
	"errors"
	"fmt"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Point is one pause point of a function.
type Point struct {
	// Offset is the Wasm byte offset of the instruction (the loop, the call,
	// the function's first instruction) counted from wasm.Func.BodyStart.
	Offset uint32
	// Kind is PauseFuncEntry, PauseLoop or PauseCall. A call whose callee may
	// be a host function (an imported function, or any call_indirect) has
	// Kind PauseCall and MaybeHost set: a frame stopped there reports
	// PauseHostCall when the callee it calls is a host function.
	Kind      api.PauseKind
	MaybeHost bool
	// Stack is the operand stack's types there, bottom first; at a call it
	// is the stack below the call's operands.
	Stack []wasm.ValType
	// Operands are a call's operand types (the arguments, then the table
	// index for call_indirect); nil for other kinds. A frame paused at the
	// call itself (the innermost frame, about to call a host function)
	// holds Stack and then Operands; a caller frame holds Stack only, the
	// arguments being the callee's parameters.
	Operands []wasm.ValType
	// Callee is a direct call's function index; TypeIndex is a
	// call_indirect's type index (Indirect set).
	Callee    uint32
	TypeIndex uint32
	Indirect  bool
}

// Func is the pause-point table of one defined function. A pause point's
// id is its index in Points; ids follow the body's order, so they do not
// depend on how a tier lays out its code.
type Func struct {
	// Index is the function's index in the module's function space.
	Index uint32
	// Locals are the parameters then the declared locals; LocalSlots is
	// the number of value-stack slots they take (a v128 takes two), where
	// a frame's operand stack starts.
	Locals     []wasm.ValType
	LocalSlots uint32
	Points     []Point
}

// Find returns the id of the pause point at offset that a frame of kind
// can be stopped at: PauseHostCall matches a call that may reach a host
// function.
func (f *Func) Find(offset uint32, kind api.PauseKind) (uint32, bool) {
	for i := range f.Points {
		p := &f.Points[i]
		if p.Offset != offset {
			continue
		}
		if p.Kind == kind || kind == api.PauseHostCall && p.Kind == api.PauseCall && p.MaybeHost {
			return uint32(i), true
		}
	}
	return 0, false
}

// StackTypes returns the operand types of a frame stopped at id: the
// innermost frame at a call (about to call a host function) holds the
// call's operands as well.
func (f *Func) StackTypes(id uint32, innermost bool) []wasm.ValType {
	p := &f.Points[id]
	if innermost && p.Kind == api.PauseCall {
		return append(append([]wasm.ValType{}, p.Stack...), p.Operands...)
	}
	return p.Stack
}

// Refs translates funcref values between a tier's slots, which hold the
// store's handles (process-local), and the portable form, which holds the
// function's index in the instance plus one (0 for null), as a checkpoint
// does. Export and Load translate as they read or write a slot, so frames
// cross the engine seam in the checkpoint's form and nothing converts them
// again.
type Refs interface {
	// ToIndex is the portable form of the non-null handle ref; false if it
	// names no function of the instance.
	ToIndex(ref uint64) (uint64, bool)
	// ToRef is the handle of the portable non-null funcref v; false if the
	// instance has no such function.
	ToRef(v uint64) (uint64, bool)
}

// ErrNotPortable is a frame value that has no portable form: a non-null
// externref, or a funcref to a function of another instance.
var ErrNotPortable = errors.New("a frame value has no portable form")

// Export describes the frame of this function stopped at pause point id,
// whose locals start at slots[0], in the portable form, funcrefs
// translated by refs. Every tier's frame layout is the same
// (ARCHITECTURE.md §3), so this is the only exporter.
func (f *Func) Export(id uint32, innermost bool, slots []uint64, refs Refs) (api.Frame, error) {
	p := &f.Points[id]
	fr := api.Frame{Func: f.Index, Kind: p.Kind, Offset: p.Offset}
	if innermost && p.Kind == api.PauseCall {
		// Only a call to a host function stops before calling; its
		// operands stay in the frame so the call can be issued again.
		fr.Kind = api.PauseHostCall
	}
	fr.Locals = readValues(slots, f.Locals)
	fr.Stack = readValues(slots[f.LocalSlots:], f.StackTypes(id, innermost))
	for _, vs := range [][]api.Value{fr.Locals, fr.Stack} {
		for i := range vs {
			v := &vs[i]
			if v.Lo == 0 || (v.Type != api.ValueTypeFuncref && v.Type != api.ValueTypeExternref) {
				continue
			}
			x, ok := uint64(0), false
			if v.Type == api.ValueTypeFuncref {
				x, ok = refs.ToIndex(v.Lo)
			}
			if !ok {
				return api.Frame{}, fmt.Errorf("%w: func %d: a non-null %v", ErrNotPortable, f.Index, wasm.ValType(v.Type))
			}
			v.Lo = x
		}
	}
	return fr, nil
}

// Check checks a portable frame's values against the types of a frame of
// this function stopped at id. The caller names the frame in the error:
// building that name for every frame of a deep stack would cost more than
// the check.
// Reference values must be null or, for a funcref, name a function refs
// knows.
func (f *Func) Check(id uint32, innermost bool, fr *api.Frame, refs Refs) error {
	if err := checkValues(f.Locals, fr.Locals, "locals", refs); err != nil {
		return err
	}
	return checkValues(f.StackTypes(id, innermost), fr.Stack, "operand stack", refs)
}

// Load writes a frame's values, checked by Check against the same refs,
// into slots (the frame's locals start at slots[0]), funcrefs translated
// by refs. slots must hold the function's whole frame.
func (f *Func) Load(id uint32, innermost bool, fr *api.Frame, slots []uint64, refs Refs) {
	writeValues(slots, f.Locals, fr.Locals, refs)
	writeValues(slots[f.LocalSlots:], f.StackTypes(id, innermost), fr.Stack, refs)
}

// readValues reads values of types ts from s. A 32-bit value is exported
// without its slot's upper bits, which are not part of it: the portable
// form has one encoding per value.
func readValues(s []uint64, ts []wasm.ValType) []api.Value {
	out := make([]api.Value, len(ts))
	j := 0
	for i, t := range ts {
		v := api.Value{Type: api.ValueType(t), Lo: s[j]}
		switch t {
		case wasm.I32, wasm.F32:
			v.Lo = uint64(uint32(v.Lo))
		case wasm.V128:
			v.Hi = s[j+1]
		}
		out[i] = v
		j += t.Slots()
	}
	return out
}

func checkValues(ts []wasm.ValType, vs []api.Value, what string, refs Refs) error {
	if len(vs) != len(ts) {
		return fmt.Errorf("%s: %d values, want %d", what, len(vs), len(ts))
	}
	for i, t := range ts {
		v := &vs[i]
		if v.Type != api.ValueType(t) {
			return fmt.Errorf("%s: value %d has type %v, want %v", what, i, wasm.ValType(v.Type), t)
		}
		if v.Lo == 0 || (t != wasm.FuncRef && t != wasm.ExternRef) {
			continue
		}
		if t == wasm.ExternRef {
			return fmt.Errorf("%s: value %d: a non-null externref cannot be restored", what, i)
		}
		if _, ok := refs.ToRef(v.Lo); !ok {
			return fmt.Errorf("%s: value %d: funcref to function %d, which the instance does not have", what, i, v.Lo-1)
		}
	}
	return nil
}

// writeValues stores vs, of types ts, into s. 32-bit values keep their
// upper bits clear, as the tiers expect of their slots.
func writeValues(s []uint64, ts []wasm.ValType, vs []api.Value, refs Refs) {
	j := 0
	for i, t := range ts {
		v := vs[i].Lo
		switch {
		case t == wasm.I32 || t == wasm.F32:
			v = uint64(uint32(v))
		case t == wasm.FuncRef && v != 0:
			// Check made sure refs knows it.
			v, _ = refs.ToRef(v)
		}
		s[j] = v
		if t == wasm.V128 {
			s[j+1] = vs[i].Hi
		}
		j += t.Slots()
	}
}

package pause

import (
	"slices"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Recorder makes the pause-point tables of a module's functions from what
// validation reports for each instruction (validate.Visitor's BeginFunc and
// Instr). Every tier lowering the module records through a Recorder, so
// every tier gets the same points under the same ids. One Recorder serves
// one goroutine.
type Recorder struct {
	m     *wasm.Module
	bias  uint32
	arena []wasm.ValType
	// points is the scratch array a function's points are recorded into
	// (reused from function to function); End gives the function a copy
	// of exactly its size.
	points []Point
}

// NewRecorder returns a recorder for the functions of m.
func NewRecorder(m *wasm.Module) *Recorder { return &Recorder{m: m} }

// Begin starts the table of function idx (a defined function of the
// module) whose locals, parameters first, are locals; its first point,
// id 0, is the function entry.
func (r *Recorder) Begin(idx uint32, locals []wasm.ValType) Func {
	def := &r.m.Funcs[idx-r.m.NumImportedFuncs()]
	r.bias = def.BodyOffset - def.BodyStart
	var n uint32
	for _, t := range locals {
		n += uint32(t.Slots())
	}
	f := Func{Index: idx, Locals: locals, LocalSlots: n, Points: r.points[:0]}
	f.Points = append(f.Points, Point{Offset: r.bias, Kind: api.PauseFuncEntry, Stack: []wasm.ValType{}})
	return f
}

// End finishes f's table: its points move out of the recorder's scratch
// array, which the next Begin reuses.
func (r *Recorder) End(f *Func) {
	r.points = f.Points[:0]
	f.Points = slices.Clone(f.Points)
}

// Instr records the pause point instruction in is, if it is one (a loop
// header, a call, a call_indirect in reachable code), and returns its id.
// stack is the operand stack's types before in, bottom first, as
// validation reports it.
func (r *Recorder) Instr(f *Func, in *wasm.Instr, stack []wasm.ValType, reachable bool) (uint32, bool) {
	if !reachable {
		return 0, false
	}
	p := Point{Offset: in.Pos + r.bias}
	switch in.Op {
	case wasm.OpLoop:
		p.Kind, p.Stack = api.PauseLoop, r.types(stack)
	case wasm.OpCall, wasm.OpCallIndirect:
		var ft *wasm.FuncType
		nops := 0
		if in.Op == wasm.OpCall {
			ft = r.m.FuncType(in.A)
			p.Callee, p.MaybeHost = in.A, in.A < r.m.NumImportedFuncs()
		} else {
			ft = &r.m.Types[in.A]
			nops = 1
			p.Indirect, p.MaybeHost, p.TypeIndex = true, true, in.A
		}
		nops += len(ft.Params)
		p.Kind = api.PauseCall
		p.Stack = r.types(stack[:len(stack)-nops])
		p.Operands = r.types(stack[len(stack)-nops:]) // never nil: nil marks the other kinds
	default:
		return 0, false
	}
	f.Points = append(f.Points, p)
	return uint32(len(f.Points) - 1), true
}

// types returns an immutable copy of ts carved from a shared arena, so
// that the many pause points of a large module do not cost an allocation
// each.
func (r *Recorder) types(ts []wasm.ValType) []wasm.ValType {
	if len(ts) == 0 {
		return []wasm.ValType{}
	}
	if len(ts) > cap(r.arena)-len(r.arena) {
		r.arena = make([]wasm.ValType, 0, max(4096, len(ts)))
	}
	n := len(r.arena)
	r.arena = append(r.arena, ts...)
	return r.arena[n : n+len(ts) : n+len(ts)]
}

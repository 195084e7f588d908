package interp

import (
	"fmt"

	"github.com/ferryvm/ferry/api"
	"slices"

	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/pause"
	"github.com/ferryvm/ferry/internal/wasm"
)

// The code cache's hook (internal/codecache): a Compiled taken apart into
// what lowering made, and put back together in another process without
// validating or lowering again. Only this file knows both the interpreter's
// private state and the parts a cache entry stores.

// FuncParts is one lowered function as a code cache stores it. IR and
// Pauses are in their unarmed form; the fields a module determines (the
// signature, the locals, the index, BodyStart) are the module's and are
// set again by FromParts, so an entry never contradicts the module.
type FuncParts struct {
	IR        ir.Func
	Pauses    pause.Func
	BackEdges []BackEdge
}

// BackEdge is a loop back-edge that arming rewrites (arm.go): IR.Code[At],
// or IR.BrTargets[At] when Table, branching to the body of loop Loop;
// Plain is the unarmed Op of a non-table one.
type BackEdge struct {
	At, Loop uint32
	Table    bool
	Plain    ir.Op
}

// Parts returns copies of the lowered functions in their unarmed form,
// whatever the code's arming is right now.
func (c *Compiled) Parts() []FuncParts {
	c.armMu.Lock()
	defer c.armMu.Unlock()
	out := make([]FuncParts, len(c.funcs))
	for i, f := range c.funcs {
		cp := &funcCode{Func: f.Func, backEdges: f.backEdges}
		cp.Code, cp.BrTargets = slices.Clone(f.Code), slices.Clone(f.BrTargets)
		cp.setArmed(false)
		p := FuncParts{IR: cp.Func, Pauses: f.pauses}
		for _, e := range f.backEdges {
			p.BackEdges = append(p.BackEdges, BackEdge{At: e.at, Loop: e.loop, Table: e.table, Plain: e.plain})
		}
		out[i] = p
	}
	return out
}

// FromParts rebuilds the Compiled that Parts took apart, for module m
// (noPoll as it was compiled). It checks that the parts fit m and that
// every index the interpreter follows without a check (branch targets,
// pause points, back-edges) is in range, so that parts that do not fit
// are an error here rather than a crash later. It does not re-prove what
// validation proved about slots and types: the cache authenticates an
// entry as written by this user's Ferry before it gets here.
func FromParts(m *wasm.Module, parts []FuncParts, noPoll bool) (*Compiled, error) {
	if len(parts) != len(m.Funcs) {
		return nil, fmt.Errorf("interp: %d cached functions for a module of %d", len(parts), len(m.Funcs))
	}
	nImp := m.NumImportedFuncs()
	out := make([]*funcCode, len(parts))
	for i := range parts {
		p := &parts[i]
		def := &m.Funcs[i]
		if int(def.TypeIndex) >= len(m.Types) {
			return nil, fmt.Errorf("interp: function %d: type %d out of range", nImp+uint32(i), def.TypeIndex)
		}
		f := &funcCode{Func: p.IR, pauses: p.Pauses}
		sig := &m.Types[def.TypeIndex]
		f.Index, f.Sig, f.BodyStart = nImp+uint32(i), sig, def.BodyStart
		f.Locals = append(append([]wasm.ValType(nil), sig.Params...), def.Locals...)
		f.pauses.Index, f.pauses.Locals = f.Index, f.Locals
		if err := checkParts(f, p.BackEdges, noPoll); err != nil {
			return nil, fmt.Errorf("interp: cached function %d: %w", f.Index, err)
		}
		for _, e := range p.BackEdges {
			f.backEdges = append(f.backEdges, backEdge{at: e.At, loop: e.Loop, table: e.Table, plain: e.Plain})
		}
		if f.EntryPoll {
			f.start = 1
		}
		out[i] = f
	}
	c := newCompiled(out, nImp)
	if alwaysArmed && !noPoll {
		c.setArmed(true)
	}
	return c, nil
}

// checkParts checks the structure of a rebuilt function: the sizes its
// fields must agree on and the indices the loop and arming follow.
func checkParts(f *funcCode, edges []BackEdge, noPoll bool) error {
	n := uint32(len(f.Code))
	var slots uint32
	for _, t := range f.Locals {
		slots += uint32(t.Slots())
	}
	switch {
	case n == 0:
		return fmt.Errorf("no code")
	case len(f.Offsets) != len(f.Code):
		return fmt.Errorf("%d offsets for %d instructions", len(f.Offsets), n)
	case f.LocalSlots != slots || f.pauses.LocalSlots != slots:
		return fmt.Errorf("locals take %d slots, the entry says %d", slots, f.LocalSlots)
	case f.ParamSlots > f.LocalSlots || f.FrameSlots < f.LocalSlots:
		return fmt.Errorf("slot counts out of order")
	case len(f.PauseIR) != len(f.pauses.Points):
		return fmt.Errorf("%d pause points in the IR, %d in the table", len(f.PauseIR), len(f.pauses.Points))
	case f.EntryPoll == noPoll:
		return fmt.Errorf("entry poll %v with polling %v", f.EntryPoll, !noPoll)
	case f.EntryPoll && f.Code[0].Op != ir.Poll:
		return fmt.Errorf("entry poll missing")
	}
	for id, pc := range f.PauseIR {
		if pc >= n {
			return fmt.Errorf("pause point %d: IR %d out of range", id, pc)
		}
		// Without polls, entries and loops have no instruction of their
		// own; every other point is one that names it.
		if _, ok := f.PauseAt(pc); !ok && (!noPoll || f.pauses.Points[id].Kind == api.PauseCall) {
			return fmt.Errorf("pause point %d: IR %d implements none", id, pc)
		}
	}
	for _, pc := range f.LoopPolls {
		if pc+1 >= n || f.Code[pc].Op != ir.Poll || f.Code[pc+1].Op != ir.Br {
			return fmt.Errorf("loop stub at IR %d malformed", pc)
		}
	}
	for _, t := range f.BrTargets {
		if t.PC >= n {
			return fmt.Errorf("br_table target %d out of range", t.PC)
		}
	}
	for _, e := range edges {
		if int(e.Loop) >= len(f.LoopPolls) {
			return fmt.Errorf("back-edge of loop %d out of range", e.Loop)
		}
		if e.Table {
			if int(e.At) >= len(f.BrTargets) {
				return fmt.Errorf("br_table back-edge %d out of range", e.At)
			}
			continue
		}
		if e.At >= n || f.Code[e.At].Op != e.Plain {
			return fmt.Errorf("back-edge at IR %d does not match", e.At)
		}
		if _, ok := ir.BackOp(e.Plain); !ok {
			return fmt.Errorf("back-edge at IR %d: op %d has no back form", e.At, e.Plain)
		}
	}
	return nil
}

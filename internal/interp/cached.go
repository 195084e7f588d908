package interp

import (
	"fmt"
	"slices"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/engine"
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
	c.loadAll() // a function that cannot load keeps no code
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
	c, err := shell(m)
	if err != nil {
		return nil, err
	}
	for i, f := range c.funcs {
		if err := f.fill(&parts[i], noPoll); err != nil {
			return nil, fmt.Errorf("interp: cached function %d: %w", f.Index, err)
		}
		f.setTiered(false)
	}
	if alwaysArmed && !noPoll {
		c.setArmed(true)
	}
	return c, nil
}

// shell is a Compiled for m whose functions have what the module says of
// them (index, signature, locals, body start) and no code yet.
func shell(m *wasm.Module) (*Compiled, error) {
	nImp := m.NumImportedFuncs()
	out := make([]*funcCode, len(m.Funcs))
	for i := range m.Funcs {
		def := &m.Funcs[i]
		if int(def.TypeIndex) >= len(m.Types) {
			return nil, fmt.Errorf("interp: function %d: type %d out of range", nImp+uint32(i), def.TypeIndex)
		}
		f := &funcCode{}
		sig := &m.Types[def.TypeIndex]
		f.Index, f.Sig, f.BodyStart = nImp+uint32(i), sig, def.BodyStart
		f.Locals = append(append([]wasm.ValType(nil), sig.Params...), def.Locals...)
		f.pauses.Index, f.pauses.Locals = f.Index, f.Locals
		out[i] = f
	}
	// Every function starts off the call fast path (newCompiled sets its
	// callSlots to a FrameSlots that is still 0); fill or load puts it on.
	c := newCompiled(out, nImp)
	for _, f := range c.funcs {
		f.setTiered(true)
	}
	return c, nil
}

// fill gives f, made by shell, the code of p after checking that it fits.
func (f *funcCode) fill(p *FuncParts, noPoll bool) error {
	// What the module says of f stays; p's IR and pause table say the
	// rest.
	idx, sig, body, locals := f.Index, f.Sig, f.BodyStart, f.Locals
	f.Func, f.pauses = p.IR, p.Pauses
	f.Index, f.Sig, f.BodyStart, f.Locals = idx, sig, body, locals
	f.pauses.Index, f.pauses.Locals = idx, locals
	if err := checkParts(f, p.BackEdges, noPoll); err != nil {
		return err
	}
	f.backEdges = nil
	for _, e := range p.BackEdges {
		f.backEdges = append(f.backEdges, backEdge{at: e.At, loop: e.Loop, table: e.Table, plain: e.Plain})
	}
	f.start = 0
	if f.EntryPoll {
		f.start = 1
	}
	return nil
}

// PartsSource is a code cache entry read one function at a time
// (codecache.Reader): Func(i) is the i-th defined function's parts, read
// and authenticated when asked for.
type PartsSource interface {
	NumFuncs() int
	Func(i int) (FuncParts, error)
}

// lazyCode is where the code of a Compiled made by FromSource comes from:
// each function's parts are read, checked and filled in the first time
// the function is entered or its pause points are looked at (load), so
// that a process that restores a big module pays for the functions it
// runs, not for all of them.
type lazyCode struct {
	src    PartsSource
	m      *wasm.Module
	noPoll bool
	// refused is called, once, with the first error of a function's
	// parts (the entry changed or was cut since it was opened) and the
	// module compiled from scratch: the cache then rewrites the entry.
	refused func(why error, scratch *Compiled)
	// scratch is m compiled from its bytes, made the first time a
	// function's parts are refused, so that no refused part ever runs.
	scratch *Compiled
	failed  bool
}

// FromSource is FromParts reading each function from src when it is
// first needed (lazyCode) instead of all of them now. Only the function
// count is checked against m here; each function is checked as FromParts
// checks it when it is loaded, and one that fails (its parts refused by
// src or by the checks) gets the code m compiled from scratch gives it,
// and refused is told why.
func FromSource(m *wasm.Module, src PartsSource, noPoll bool, refused func(why error, scratch *Compiled)) (*Compiled, error) {
	if n := src.NumFuncs(); n != len(m.Funcs) {
		return nil, fmt.Errorf("interp: %d cached functions for a module of %d", n, len(m.Funcs))
	}
	c, err := shell(m)
	if err != nil {
		return nil, err
	}
	c.lazy = &lazyCode{src: src, m: m, noPoll: noPoll, refused: refused}
	for _, f := range c.funcs {
		// Off the call fast path until loaded: it reads FrameSlots,
		// which load has not set yet (exec.go pushCode loads).
		f.unloaded.Store(true)
		f.setTiered(true)
	}
	return c, nil
}

// load fills in f's code if FromSource left it out. A function that
// cannot get code at all (its parts refused and the module not compiling
// from scratch either, which an entry our own Ferry wrote cannot cause)
// returns the error every time.
func (f *funcCode) load() error {
	if !f.unloaded.Load() {
		return nil
	}
	return f.owner.loadFunc(f)
}

// mustLoad is load for the interpreter's call path, where an error is a
// trap.
func (f *funcCode) mustLoad() {
	if f.unloaded.Load() {
		if err := f.owner.loadFunc(f); err != nil {
			panic(engine.Trap{Kind: err})
		}
	}
}

// loadFunc is load, under the arming lock: arming rewrites loaded code in
// place, and a function loaded while the code is armed must be armed too.
func (c *Compiled) loadFunc(f *funcCode) error {
	c.armMu.Lock()
	defer c.armMu.Unlock()
	if !f.unloaded.Load() {
		return nil
	}
	l := c.lazy
	i := len(c.funcs) - (len(c.byIndex) - int(f.Index))
	p, err := l.src.Func(i)
	if err == nil {
		err = f.fill(&p, l.noPoll)
	}
	if err != nil {
		if err = l.fromScratch(f, i, err); err != nil {
			return err
		}
	}
	on := c.armCount > 0
	if alwaysArmed {
		on = !l.noPoll
	}
	if on {
		f.setArmed(true)
	}
	// The fields are set: publish them to the fast path (tiered) and to
	// load (unloaded), both read atomically before the fields.
	f.unloaded.Store(false)
	// Off the fast path still if the tier wants its calls: it has code,
	// or the auto policy counts them (policy.go).
	f.setTiered(f.hot.Load() > 0 || f.native.Load() != nil)
	return nil
}

// fromScratch gives f, whose parts were refused with why, its code from
// the module compiled from its bytes (once for all functions).
func (l *lazyCode) fromScratch(f *funcCode, i int, why error) error {
	if l.scratch == nil && !l.failed {
		var err error
		if l.scratch, err = compile(l.m, l.noPoll); err != nil {
			l.failed = true
		}
		if l.refused != nil && l.scratch != nil {
			l.refused(why, l.scratch)
		}
	}
	if l.scratch == nil {
		return fmt.Errorf("interp: function %d: cached code refused (%v) and the module does not compile", f.Index, why)
	}
	g := l.scratch.funcs[i]
	f.Func = g.Func
	f.Code, f.BrTargets = slices.Clone(g.Code), slices.Clone(g.BrTargets)
	f.pauses, f.backEdges, f.start = g.pauses, g.backEdges, g.start
	if alwaysArmed && !l.noPoll {
		f.setArmed(false) // lower armed it; loadFunc arms as the module is
	}
	return nil
}

// loadAll loads every function, for the readers of all of them (Parts,
// IRFuncs, the compiled tier).
func (c *Compiled) loadAll() error {
	if c.lazy == nil {
		return nil
	}
	for _, f := range c.funcs {
		if err := f.load(); err != nil {
			return err
		}
	}
	return nil
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

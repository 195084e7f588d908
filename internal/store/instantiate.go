package store

import (
	"cmp"
	"errors"
	"fmt"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Instantiate creates an instance of the validated module m in the store:
// it resolves every import through resolve, creates the module's functions
// (Function.Code = code[i] for defined function i), tables, memories and
// globals, keeps passive segments for memory.init / table.init, and applies
// the active element segments, then the active data segments, in order. It
// does not run the start function.
//
// A failed import is a *LinkError and nothing is created. Any other failure
// before the segments are applied (a memory beyond the store's limit) also
// leaves nothing behind. A segment out of bounds is a trap (*api.TrapError):
// earlier segments' writes stay, including into imported tables and
// memories, and the instance is returned together with the error, because
// those tables may now reference its functions; the caller must keep it
// alive (and Close it) like a successful one.
func (s *Store) Instantiate(m *wasm.Module, name string, code []Code, resolve func(module, name string) (Extern, bool)) (*Instance, error) {
	return s.instantiate(m, name, code, resolve, true)
}

// InstantiateForRestore is Instantiate for an instance whose memories,
// tables and globals a checkpoint is about to replace: active segments are
// dropped as instantiation drops them, but not copied (for a large program,
// megabytes of data segments written into memory, then discarded).
func (s *Store) InstantiateForRestore(m *wasm.Module, name string, code []Code, resolve func(module, name string) (Extern, bool)) (*Instance, error) {
	return s.instantiate(m, name, code, resolve, false)
}

func (s *Store) instantiate(m *wasm.Module, name string, code []Code, resolve func(module, name string) (Extern, bool), applySegments bool) (*Instance, error) {
	if len(code) != len(m.Funcs) {
		return nil, fmt.Errorf("instantiate: %d lowered bodies for %d functions", len(code), len(m.Funcs))
	}
	inst := &Instance{Store: s, Module: m, Name: name}
	links, err := inst.resolveImports(resolve)
	if err != nil {
		return nil, err
	}
	// Imported memories are held from here on, so that Close releases them
	// symmetrically.
	for _, mem := range inst.Memories {
		mem.acquire()
	}
	// Every failure from here on closes the instance, which releases what
	// it holds (linked exporters keep what they export).
	fail := func(err error) (*Instance, error) {
		inst.Close()
		return nil, err
	}
	for k, imp := range m.Imports {
		if !s.link(inst, links[k].owner, imp.Kind, links[k].hostFunc) {
			return fail(&LinkError{Module: imp.Module, Name: imp.Name, Reason: "unknown import: the exporting instance is closed"})
		}
	}

	inst.TypeIDs = make([]uint32, len(m.Types))
	for i := range m.Types {
		inst.TypeIDs[i] = s.TypeID(&m.Types[i])
	}

	defined := make([]*Function, len(m.Funcs))
	nImported := m.NumImportedFuncs()
	// Optimised builds often lack a name section (clang -O2 through
	// wasm-opt, strip): a trap trace of "<unnamed> (func 7)" for _start
	// helps nobody, so a function without a name is called by its export.
	exported := map[uint32]string{}
	for _, e := range m.Exports {
		if _, ok := exported[e.Index]; !ok && e.Kind == wasm.ExternFunc {
			exported[e.Index] = e.Name
		}
	}
	for i := range m.Funcs {
		idx := nImported + uint32(i)
		ti := m.Funcs[i].TypeIndex
		if int(ti) >= len(m.Types) {
			return fail(fmt.Errorf("instantiate: function %d: type index %d out of range", idx, ti))
		}
		defined[i] = &Function{
			Type:     &m.Types[ti],
			Instance: inst,
			Index:    idx,
			Name:     cmp.Or(m.FuncName(idx), exported[idx]),
			Code:     code[i],
		}
	}

	for _, tt := range m.Tables {
		t, err := s.newTable(tt)
		if err != nil {
			return fail(fmt.Errorf("instantiate: table %d: %w", len(inst.Tables), err))
		}
		t.owner = inst
		inst.Tables = append(inst.Tables, t)
	}

	for _, mt := range m.Memories {
		mem, err := NewMemory(mt, s.MemoryLimitPages)
		if err != nil {
			return fail(fmt.Errorf("instantiate: memory %d: %w", len(inst.Memories), err))
		}
		inst.Memories = append(inst.Memories, mem)
	}

	// From here on the instance is real: its functions get references and
	// globals may hold them.
	s.register(defined)
	inst.Funcs = append(inst.Funcs, defined...)
	var ev constEvaluator
	for i := range m.Globals {
		g := &m.Globals[i]
		lo, hi, err := ev.eval(inst, g.Init)
		if err != nil {
			return fail(fmt.Errorf("instantiate: global %d: %w", len(inst.Globals), err))
		}
		inst.Globals = append(inst.Globals, &Global{Type: g.Type, Lo: lo, Hi: hi})
	}

	inst.Exports = make(map[string]wasm.Export, len(m.Exports))
	for _, e := range m.Exports {
		inst.Exports[e.Name] = e
	}

	// Element references are all evaluated before any segment is applied.
	inst.Elems = make([][]uint64, len(m.Elems))
	for i := range m.Elems {
		refs, err := ev.elemRefs(inst, &m.Elems[i])
		if err != nil {
			return fail(fmt.Errorf("instantiate: element segment %d: %w", i, err))
		}
		inst.Elems[i] = refs
	}
	inst.Datas = make([][]byte, len(m.Datas))
	for i := range m.Datas {
		if m.Datas[i].Mode == wasm.SegmentPassive {
			inst.Datas[i] = m.Datas[i].Init
		}
	}

	// Lowered code that polls only while armed joins the store's arming
	// before any of it can run (interrupt.go).
	var last Armer
	for _, c := range code {
		if c == nil {
			continue
		}
		if x := c.CodeArmer(); x != nil && x != last {
			s.addArmer(x)
			inst.life.armers = append(inst.life.armers, x)
			last = x
		}
	}

	if !applySegments {
		inst.dropActiveSegments()
		return inst, nil
	}
	if err := inst.applySegments(&ev); err != nil {
		return inst, err
	}
	return inst, nil
}

// dropActiveSegments leaves the segments as applySegments does, without
// applying any: active and declarative element segments and active data
// segments (never kept) are dropped.
func (inst *Instance) dropActiveSegments() {
	for i := range inst.Module.Elems {
		if inst.Module.Elems[i].Mode != wasm.SegmentPassive {
			inst.Elems[i] = nil
		}
	}
}

// importLink is how an import ties the importer's lifetime to the
// exporting instance's (Store.link).
type importLink struct {
	owner    *Instance // nil when unknown
	hostFunc bool      // the import is a host function
}

// resolveImports fills the instance's index spaces with its imports and
// returns how each links the instance to its exporter.
func (inst *Instance) resolveImports(resolve func(module, name string) (Extern, bool)) ([]importLink, error) {
	m := inst.Module
	links := make([]importLink, len(m.Imports))
	for k, imp := range m.Imports {
		var x Extern
		ok := false
		if resolve != nil {
			x, ok = resolve(imp.Module, imp.Name)
		}
		if !ok {
			return nil, &LinkError{Module: imp.Module, Name: imp.Name, Reason: "unknown import"}
		}
		incompatible := func(detail string) error {
			return &LinkError{Module: imp.Module, Name: imp.Name, Reason: "incompatible import type: " + detail}
		}
		if x.Kind != imp.Kind {
			return nil, incompatible(fmt.Sprintf("expected %v, got %v", imp.Kind, x.Kind))
		}
		switch imp.Kind {
		case wasm.ExternFunc:
			if int(imp.TypeIndex) >= len(m.Types) {
				return nil, incompatible("type index out of range")
			}
			want := &m.Types[imp.TypeIndex]
			if x.Func == nil || x.Func.Type == nil {
				return nil, incompatible("no function")
			}
			if !x.Func.Type.Equal(want) {
				return nil, incompatible(fmt.Sprintf("expected func %v, got %v", want, x.Func.Type))
			}
			inst.Funcs = append(inst.Funcs, x.Func)
		case wasm.ExternTable:
			t := x.Table
			if t == nil {
				return nil, incompatible("no table")
			}
			if t.Type.Elem != imp.Table.Elem {
				return nil, incompatible(fmt.Sprintf("expected %v table, got %v", imp.Table.Elem, t.Type.Elem))
			}
			actual := wasm.Limits{Min: uint64(len(t.Elems)), Max: t.Type.Limits.Max, HasMax: t.Type.Limits.HasMax}
			if !limitsMatch(actual, imp.Table.Limits) {
				return nil, incompatible(fmt.Sprintf("table limits %s do not match %s", limitsString(actual), limitsString(imp.Table.Limits)))
			}
			inst.Tables = append(inst.Tables, t)
		case wasm.ExternMemory:
			mem := x.Memory
			if mem == nil || mem.closed.Load() {
				return nil, incompatible("no memory")
			}
			actual := wasm.Limits{Min: mem.Pages(), Max: mem.Type.Limits.Max, HasMax: mem.Type.Limits.HasMax}
			if !limitsMatch(actual, imp.Memory.Limits) {
				return nil, incompatible(fmt.Sprintf("memory limits %s do not match %s", limitsString(actual), limitsString(imp.Memory.Limits)))
			}
			inst.Memories = append(inst.Memories, mem)
		case wasm.ExternGlobal:
			g := x.Global
			if g == nil {
				return nil, incompatible("no global")
			}
			if g.Type != imp.Global {
				return nil, incompatible(fmt.Sprintf("expected %s, got %s", globalTypeString(imp.Global), globalTypeString(g.Type)))
			}
			inst.Globals = append(inst.Globals, g)
		default:
			return nil, incompatible("unknown kind")
		}
		links[k] = importLink{owner: x.Owner, hostFunc: imp.Kind == wasm.ExternFunc && x.Func.Host != nil}
	}
	return links, nil
}

// limitsMatch is the spec's limits subtyping: actual (the imported value's
// current size and declared maximum) matches declared.
func limitsMatch(actual, declared wasm.Limits) bool {
	if actual.Min < declared.Min {
		return false
	}
	if declared.HasMax {
		return actual.HasMax && actual.Max <= declared.Max
	}
	return true
}

func limitsString(l wasm.Limits) string {
	if l.HasMax {
		return fmt.Sprintf("{min %d, max %d}", l.Min, l.Max)
	}
	return fmt.Sprintf("{min %d}", l.Min)
}

func globalTypeString(t wasm.GlobalType) string {
	if t.Mutable {
		return "(mut " + t.Type.String() + ")"
	}
	return t.Type.String()
}

// applySegments runs the active element segments, drops the declarative
// ones, then runs the active data segments: each is bounds-checked as a
// whole before anything is copied, and the first one out of bounds traps.
func (inst *Instance) applySegments(ev *constEvaluator) error {
	m := inst.Module
	for i := range m.Elems {
		e := &m.Elems[i]
		switch e.Mode {
		case wasm.SegmentActive:
			refs := inst.Elems[i]
			inst.Elems[i] = nil
			off, _, err := ev.eval(inst, e.Offset)
			if err != nil {
				return fmt.Errorf("instantiate: element segment %d offset: %w", i, err)
			}
			if int(e.Table) >= len(inst.Tables) {
				return fmt.Errorf("instantiate: element segment %d: table %d out of range", i, e.Table)
			}
			if !inst.Tables[e.Table].Init(uint64(uint32(off)), refs, 0, uint64(len(refs))) {
				return &api.TrapError{Kind: api.ErrOutOfBoundsTable}
			}
		case wasm.SegmentDeclarative:
			inst.Elems[i] = nil
		}
	}
	for i := range m.Datas {
		d := &m.Datas[i]
		if d.Mode != wasm.SegmentActive {
			continue
		}
		off, _, err := ev.eval(inst, d.Offset)
		if err != nil {
			return fmt.Errorf("instantiate: data segment %d offset: %w", i, err)
		}
		if int(d.Memory) >= len(inst.Memories) {
			return fmt.Errorf("instantiate: data segment %d: memory %d out of range", i, d.Memory)
		}
		if !inst.Memories[d.Memory].Write(uint64(uint32(off)), d.Init) {
			return &api.TrapError{Kind: api.ErrOutOfBoundsMemory}
		}
	}
	return nil
}

// errConstExpr reports a constant expression the evaluator cannot run; a
// validated module never has one.
var errConstExpr = errors.New("bad constant expression")

// constEvaluator runs constant expressions: *.const, ref.null, ref.func,
// global.get, and the extended-constant i32/i64 add, sub and mul.
type constEvaluator struct {
	r     wasm.InstrReader
	in    wasm.Instr
	stack [][2]uint64
}

func (ev *constEvaluator) eval(inst *Instance, expr wasm.ConstExpr) (lo, hi uint64, err error) {
	ev.r.Reset(expr.Bytes)
	ev.stack = ev.stack[:0]
	for !ev.r.Done() {
		if err := ev.r.Next(&ev.in); err != nil {
			return 0, 0, err
		}
		in := &ev.in
		switch in.Op {
		case wasm.OpI32Const:
			ev.push(uint64(uint32(in.Imm)), 0)
		case wasm.OpI64Const, wasm.OpF32Const, wasm.OpF64Const:
			ev.push(in.Imm, 0)
		case wasm.OpV128Const:
			ev.push(in.Imm, in.Imm2)
		case wasm.OpRefNull:
			ev.push(0, 0)
		case wasm.OpRefFunc:
			if int(in.A) >= len(inst.Funcs) {
				return 0, 0, fmt.Errorf("%w: ref.func %d out of range", errConstExpr, in.A)
			}
			ev.push(inst.Funcs[in.A].Ref, 0)
		case wasm.OpGlobalGet:
			if int(in.A) >= len(inst.Globals) {
				return 0, 0, fmt.Errorf("%w: global.get %d out of range", errConstExpr, in.A)
			}
			g := inst.Globals[in.A]
			ev.push(g.Lo, g.Hi)
		case wasm.OpI32Add, wasm.OpI32Sub, wasm.OpI32Mul, wasm.OpI64Add, wasm.OpI64Sub, wasm.OpI64Mul:
			n := len(ev.stack)
			if n < 2 {
				return 0, 0, fmt.Errorf("%w: operand stack underflow", errConstExpr)
			}
			a, b := ev.stack[n-2][0], ev.stack[n-1][0]
			ev.stack = ev.stack[:n-1]
			var v uint64
			switch in.Op {
			case wasm.OpI32Add, wasm.OpI64Add:
				v = a + b
			case wasm.OpI32Sub, wasm.OpI64Sub:
				v = a - b
			default:
				v = a * b
			}
			if in.Op <= wasm.OpI32Mul {
				v = uint64(uint32(v))
			}
			ev.stack[n-2] = [2]uint64{v, 0}
		case wasm.OpEnd:
			if len(ev.stack) != 1 {
				return 0, 0, fmt.Errorf("%w: %d values at end", errConstExpr, len(ev.stack))
			}
			return ev.stack[0][0], ev.stack[0][1], nil
		default:
			return 0, 0, fmt.Errorf("%w: %v is not constant", errConstExpr, in.Op)
		}
	}
	return 0, 0, fmt.Errorf("%w: missing end", errConstExpr)
}

func (ev *constEvaluator) push(lo, hi uint64) { ev.stack = append(ev.stack, [2]uint64{lo, hi}) }

// elemRefs evaluates the references of an element segment.
func (ev *constEvaluator) elemRefs(inst *Instance, e *wasm.Elem) ([]uint64, error) {
	refs := make([]uint64, e.Len())
	if e.FuncIndices != nil {
		for i, idx := range e.FuncIndices {
			if int(idx) >= len(inst.Funcs) {
				return nil, fmt.Errorf("function %d out of range", idx)
			}
			refs[i] = inst.Funcs[idx].Ref
		}
		return refs, nil
	}
	for i, x := range e.Exprs {
		v, _, err := ev.eval(inst, x)
		if err != nil {
			return nil, err
		}
		refs[i] = v
	}
	return refs, nil
}

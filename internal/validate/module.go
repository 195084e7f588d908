// Package validate implements WebAssembly 2.0 validation (spec section 3,
// with the appendix's algorithm for function bodies), and drives a Visitor
// through every function body as it proves it, so that an execution tier
// can lower code in the same pass.
package validate

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/ferryvm/ferry/internal/wasm"
)

// Module validates m. When visitor is not nil it receives every defined
// function as described on Visitor; an error the visitor returns ends
// validation and is returned as it is. Every other failure is an *Error
// wrapping ErrInvalid or ErrMalformed.
//
// Constant expressions may read imported immutable globals only. (The 2.0
// spec's text lets segment offsets read the module's own immutable globals
// too, but its test suite, data.wast and elem.wast, rejects that; the suite
// is what other engines agree on.)
func Module(m *wasm.Module, visitor Visitor) error {
	refs, err := moduleLevel(m)
	if err != nil {
		return err
	}
	fv := &funcValidator{m: m, visitor: visitor, refs: refs}
	for i := range m.Funcs {
		if err := fv.function(m.NumImportedFuncs()+uint32(i), &m.Funcs[i]); err != nil {
			return funcError(m, err)
		}
	}
	return nil
}

// ModuleConcurrent is Module with the function bodies spread over up to
// workers goroutines, each with a visitor of its own from newVisitor (a
// visitor then sees a subset of the functions, each whole and in
// instruction order, in no particular order of functions). The result is
// the one Module gives: when several functions fail, the error is the one
// of the lowest function index.
func ModuleConcurrent(m *wasm.Module, workers int, newVisitor func() Visitor) error {
	refs, err := moduleLevel(m)
	if err != nil {
		return err
	}
	workers = max(1, min(workers, len(m.Funcs)))
	var (
		next    atomic.Int64 // the next function to take
		mu      sync.Mutex
		failed  = len(m.Funcs) // the lowest failing function, or len
		failure error
		wg      sync.WaitGroup
	)
	for range workers {
		fv := &funcValidator{m: m, visitor: newVisitor(), refs: refs}
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				mu.Lock()
				stop := i >= failed
				mu.Unlock()
				if stop || i >= len(m.Funcs) {
					return
				}
				if err := fv.function(m.NumImportedFuncs()+uint32(i), &m.Funcs[i]); err != nil {
					mu.Lock()
					if i < failed {
						failed, failure = i, err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if failure != nil {
		return funcError(m, failure)
	}
	return nil
}

// moduleLevel checks everything but the function bodies and returns the
// function indices a ref.func may name.
func moduleLevel(m *wasm.Module) ([]bool, error) {
	c := &constChecker{m: m, refs: make([]bool, m.NumFuncs())}
	if err := c.module(); err != nil {
		return nil, preferMalformed(m, wrap(-1, -1, err))
	}
	return c.refs, nil
}

// funcError turns a function's failure into Module's error.
func funcError(m *wasm.Module, err error) error {
	var e *Error
	if errors.As(err, &e) && e.kind == ErrInvalid {
		return preferMalformed(m, e)
	}
	return err
}

// preferMalformed returns the first decoding error of any function body in
// place of the invalid-module error err. The spec decodes a whole module
// before validating it, so a module that is both malformed and invalid is
// malformed; this one-pass validator finds out only when it has to.
func preferMalformed(m *wasm.Module, err *Error) error {
	var r wasm.InstrReader
	var in wasm.Instr
	for i := range m.Funcs {
		f := &m.Funcs[i]
		if pos, cause := scanBody(&r, &in, f.Body); cause != nil {
			return wrap(int(m.NumImportedFuncs())+i, bodyBase(f)+pos, cause)
		}
	}
	return err
}

// scanBody checks only the binary grammar of a body: that it decodes, and
// that its final end closes the body exactly.
func scanBody(r *wasm.InstrReader, in *wasm.Instr, body []byte) (int, error) {
	r.Reset(body)
	for depth := 1; depth > 0; {
		pos := r.Pos()
		if r.Done() {
			return pos, malformed("END opcode expected: unexpected end of function body")
		}
		if err := r.Next(in); err != nil {
			return pos, malformedError{err}
		}
		switch in.Op {
		case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
			if bt := in.BlockType; bt < 0 && bt != wasm.BlockEmpty {
				if t, _ := bt.ValType(); bt < -0x40 || !t.Valid() {
					return pos, malformed("malformed value type: block type %d", int64(bt))
				}
			}
			depth++
		case wasm.OpEnd:
			depth--
		case wasm.OpRefNull:
			if !wasm.ValType(in.A).IsRef() {
				return pos, malformed("malformed reference type 0x%02x", in.A)
			}
		case wasm.OpSelectT:
			for _, t := range in.Types {
				if !t.Valid() {
					return pos, malformed("malformed value type 0x%02x", byte(t))
				}
			}
		}
	}
	if !r.Done() {
		return r.Pos(), malformed("section size mismatch: bytes after the function's final end")
	}
	return 0, nil
}

// constChecker validates everything outside function bodies, and collects
// C.refs (the functions a ref.func in a body may name) on the way.
type constChecker struct {
	m      *wasm.Module
	refs   []bool
	reader wasm.InstrReader
	in     wasm.Instr
	stack  []wasm.ValType
}

func (c *constChecker) module() error {
	m := c.m
	for i := range m.Imports {
		imp := &m.Imports[i]
		var err error
		switch imp.Kind {
		case wasm.ExternFunc:
			if imp.TypeIndex >= uint32(len(m.Types)) {
				err = fmt.Errorf("unknown type %d", imp.TypeIndex)
			}
		case wasm.ExternTable:
			err = tableType(imp.Table)
		case wasm.ExternMemory:
			err = memType(imp.Memory)
		case wasm.ExternGlobal:
			if !imp.Global.Type.Valid() {
				err = malformed("malformed value type 0x%02x", byte(imp.Global.Type))
			}
		}
		if err != nil {
			return fmt.Errorf("import %d (%q %q): %w", i, imp.Module, imp.Name, err)
		}
	}
	for i := range m.Funcs {
		if ti := m.Funcs[i].TypeIndex; ti >= uint32(len(m.Types)) {
			return fmt.Errorf("function %d: unknown type %d", m.NumImportedFuncs()+uint32(i), ti)
		}
	}
	for i, t := range m.Tables {
		if err := tableType(t); err != nil {
			return fmt.Errorf("table %d: %w", len(m.ImportedTables)+i, err)
		}
	}
	for i, mt := range m.Memories {
		if err := memType(mt); err != nil {
			return fmt.Errorf("memory %d: %w", len(m.ImportedMemories)+i, err)
		}
	}
	if m.NumMemories() > 1 {
		return fmt.Errorf("multiple memories: %d declared, WebAssembly 2.0 allows one", m.NumMemories())
	}
	for i := range m.Globals {
		g := &m.Globals[i]
		if err := c.expr(g.Init, g.Type.Type, m.NumImportedGlobals()); err != nil {
			return fmt.Errorf("global %d: %w", m.NumImportedGlobals()+uint32(i), err)
		}
	}
	for i := range m.Elems {
		if err := c.elem(&m.Elems[i]); err != nil {
			return fmt.Errorf("elem segment %d: %w", i, err)
		}
	}
	if m.HasDataCount && m.DataCount != uint32(len(m.Datas)) {
		return malformed("data count and data section have inconsistent lengths: %d and %d", m.DataCount, len(m.Datas))
	}
	for i := range m.Datas {
		d := &m.Datas[i]
		if d.Mode != wasm.SegmentActive {
			continue
		}
		if d.Memory >= m.NumMemories() {
			return fmt.Errorf("data segment %d: unknown memory %d", i, d.Memory)
		}
		if err := c.expr(d.Offset, wasm.I32, m.NumImportedGlobals()); err != nil {
			return fmt.Errorf("data segment %d: %w", i, err)
		}
	}
	if m.HasStart {
		if m.Start >= m.NumFuncs() {
			return fmt.Errorf("unknown function %d (start)", m.Start)
		}
		if ft := m.FuncType(m.Start); len(ft.Params) != 0 || len(ft.Results) != 0 {
			return fmt.Errorf("start function %d must have type [] -> [], has %v", m.Start, ft)
		}
	}
	return c.exports()
}

func (c *constChecker) exports() error {
	m := c.m
	names := make(map[string]struct{}, len(m.Exports))
	for i := range m.Exports {
		e := &m.Exports[i]
		if _, dup := names[e.Name]; dup {
			return fmt.Errorf("duplicate export name %q", e.Name)
		}
		names[e.Name] = struct{}{}
		var n uint32
		var what string
		switch e.Kind {
		case wasm.ExternFunc:
			n, what = m.NumFuncs(), "function"
		case wasm.ExternTable:
			n, what = m.NumTables(), "table"
		case wasm.ExternMemory:
			n, what = m.NumMemories(), "memory"
		case wasm.ExternGlobal:
			n, what = m.NumGlobals(), "global"
		default:
			return malformed("malformed export kind %d", byte(e.Kind))
		}
		if e.Index >= n {
			return fmt.Errorf("export %q: unknown %s %d", e.Name, what, e.Index)
		}
		if e.Kind == wasm.ExternFunc {
			c.refs[e.Index] = true
		}
	}
	return nil
}

func (c *constChecker) elem(e *wasm.Elem) error {
	m := c.m
	if !e.Type.IsRef() {
		return malformed("malformed reference type 0x%02x", byte(e.Type))
	}
	if e.Mode == wasm.SegmentActive {
		if e.Table >= m.NumTables() {
			return fmt.Errorf("unknown table %d", e.Table)
		}
		if tt := m.TableType(e.Table); tt.Elem != e.Type {
			return fmt.Errorf("type mismatch: segment of %v for a table of %v", e.Type, tt.Elem)
		}
		if err := c.expr(e.Offset, wasm.I32, m.NumImportedGlobals()); err != nil {
			return err
		}
	}
	if e.FuncIndices != nil && e.Type != wasm.FuncRef {
		return fmt.Errorf("type mismatch: function indices in a segment of %v", e.Type)
	}
	for _, f := range e.FuncIndices {
		if f >= m.NumFuncs() {
			return fmt.Errorf("unknown function %d", f)
		}
		c.refs[f] = true
	}
	for _, x := range e.Exprs {
		if err := c.expr(x, e.Type, m.NumImportedGlobals()); err != nil {
			return err
		}
	}
	return nil
}

func tableType(t wasm.TableType) error {
	if !t.Elem.IsRef() {
		return malformed("malformed reference type 0x%02x", byte(t.Elem))
	}
	if t.Limits.Min > 0xFFFFFFFF || t.Limits.HasMax && t.Limits.Max > 0xFFFFFFFF {
		return fmt.Errorf("table size must be at most 2^32-1")
	}
	if t.Limits.HasMax && t.Limits.Min > t.Limits.Max {
		return fmt.Errorf("size minimum must not be greater than maximum (%d > %d)", t.Limits.Min, t.Limits.Max)
	}
	return nil
}

func memType(t wasm.MemType) error {
	l := t.Limits
	if l.Min > wasm.MaxPages || l.HasMax && l.Max > wasm.MaxPages {
		return fmt.Errorf("memory size must be at most 65536 pages (4GiB)")
	}
	if l.HasMax && l.Min > l.Max {
		return fmt.Errorf("size minimum must not be greater than maximum (%d > %d)", l.Min, l.Max)
	}
	return nil
}

// expr checks a constant expression of result type want whose global.get may
// name globals below numGlobals, and records the functions it references.
func (c *constChecker) expr(e wasm.ConstExpr, want wasm.ValType, numGlobals uint32) error {
	c.reader.Reset(e.Bytes)
	c.stack = c.stack[:0]
	for {
		if c.reader.Done() {
			return malformed("END opcode expected: constant expression does not end")
		}
		if err := c.reader.Next(&c.in); err != nil {
			return malformedError{err}
		}
		in := &c.in
		var t wasm.ValType
		switch in.Op {
		case wasm.OpI32Const:
			t = wasm.I32
		case wasm.OpI64Const:
			t = wasm.I64
		case wasm.OpF32Const:
			t = wasm.F32
		case wasm.OpF64Const:
			t = wasm.F64
		case wasm.OpV128Const:
			t = wasm.V128
		case wasm.OpRefNull:
			t = wasm.ValType(in.A)
			if !t.IsRef() {
				return malformed("malformed reference type 0x%02x", in.A)
			}
		case wasm.OpRefFunc:
			if in.A >= c.m.NumFuncs() {
				return fmt.Errorf("unknown function %d", in.A)
			}
			c.refs[in.A] = true
			t = wasm.FuncRef
		case wasm.OpGlobalGet:
			if in.A >= numGlobals {
				return fmt.Errorf("unknown global %d", in.A)
			}
			gt := c.m.GlobalType(in.A)
			if gt.Mutable {
				return fmt.Errorf("constant expression required: global %d is mutable", in.A)
			}
			t = gt.Type
		case wasm.OpEnd:
			if !c.reader.Done() {
				return malformed("section size mismatch: bytes after the end of a constant expression")
			}
			if len(c.stack) != 1 || c.stack[0] != want {
				return fmt.Errorf("type mismatch: constant expression must produce [%v], produces %v", want, c.stack)
			}
			return nil
		default:
			return fmt.Errorf("constant expression required: %v is not constant", in.Op)
		}
		c.stack = append(c.stack, t)
	}
}

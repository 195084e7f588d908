package validate_test

import (
	"fmt"
	"testing"

	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/spectest"
	"github.com/ferryvm/ferry/internal/validate"
	"github.com/ferryvm/ferry/internal/wasm"
)

// FuzzValidate decodes arbitrary bytes and validates what decodes, with a
// visitor that checks the stacks it is shown. Neither may panic.
func FuzzValidate(f *testing.F) {
	for _, mod := range spectest.Modules(f) {
		f.Add(mod)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := binary.Decode(b)
		if err != nil {
			return
		}
		_ = validate.Module(m, nil)
		_ = validate.Module(m, &checkingVisitor{t: t})
	})
}

// checkingVisitor asserts properties of the Visitor contract that hold for
// every module: instructions arrive in body order, stacks hold only value
// types, and reachable numeric operators see their operand types on top.
type checkingVisitor struct {
	t       testing.TB
	reader  wasm.InstrReader
	want    wasm.Instr
	m       *wasm.Module
	fn      uint32
	depth   int
	instrs  int
	inFunc  bool
	lastPos int
}

func (c *checkingVisitor) BeginFunc(m *wasm.Module, idx uint32, sig *wasm.FuncType, locals []wasm.ValType) error {
	if c.inFunc {
		c.t.Fatalf("BeginFunc(%d) inside func %d", idx, c.fn)
	}
	c.m, c.fn, c.inFunc, c.depth, c.lastPos = m, idx, true, 1, -1
	c.reader.Reset(m.Funcs[idx-m.NumImportedFuncs()].Body)
	if !sig.Equal(m.FuncType(idx)) {
		c.t.Fatalf("func %d: signature %v, want %v", idx, sig, m.FuncType(idx))
	}
	return nil
}

func (c *checkingVisitor) Instr(in *wasm.Instr, stack []wasm.ValType, reachable bool) error {
	c.instrs++
	if err := c.reader.Next(&c.want); err != nil || c.want.Pos != in.Pos || c.want.Op != in.Op {
		c.t.Fatalf("func %d: got %v at %d, the body has %v at %d (%v)", c.fn, in.Op, in.Pos, c.want.Op, c.want.Pos, err)
	}
	if c.depth <= 0 {
		c.t.Fatalf("func %d: %v after the final end", c.fn, in.Op)
	}
	for _, t := range stack {
		if !t.Valid() {
			c.t.Fatalf("func %d @%d: stack %v holds a non-type", c.fn, in.Pos, stack)
		}
	}
	switch in.Op {
	case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
		c.depth++
	case wasm.OpEnd:
		c.depth--
	}
	if !reachable {
		return nil
	}
	top := func(ts ...wasm.ValType) {
		if len(stack) < len(ts) {
			c.t.Fatalf("func %d @%d: %v on stack %v", c.fn, in.Pos, in.Op, stack)
		}
		for i, t := range ts {
			if stack[len(stack)-len(ts)+i] != t {
				c.t.Fatalf("func %d @%d: %v on stack %v", c.fn, in.Pos, in.Op, stack)
			}
		}
	}
	switch op := in.Op; {
	case op >= wasm.OpI32Add && op <= wasm.OpI32Rotr:
		top(wasm.I32, wasm.I32)
	case op >= wasm.OpI64Add && op <= wasm.OpI64Rotr:
		top(wasm.I64, wasm.I64)
	case op >= wasm.OpF32Add && op <= wasm.OpF32Copysign:
		top(wasm.F32, wasm.F32)
	case op >= wasm.OpF64Add && op <= wasm.OpF64Copysign:
		top(wasm.F64, wasm.F64)
	case op == wasm.OpIf, op == wasm.OpBrIf:
		top(wasm.I32)
	}
	return nil
}

func (c *checkingVisitor) EndFunc() error {
	if !c.inFunc || c.depth != 0 || !c.reader.Done() {
		c.t.Fatalf("func %d: EndFunc with depth %d, body done %v", c.fn, c.depth, c.reader.Done())
	}
	c.inFunc = false
	return nil
}

// TestVisitorOnSpecModules runs the checking visitor over every spec module
// that validates.
func TestVisitorOnSpecModules(t *testing.T) {
	v := &checkingVisitor{t: t}
	for _, mod := range spectest.Modules(t) {
		m, err := binary.Decode(mod)
		if err != nil {
			continue
		}
		if validate.Module(m, nil) != nil {
			continue
		}
		if err := validate.Module(m, v); err != nil {
			t.Fatalf("valid module failed with a visitor: %v", err)
		}
	}
	if v.instrs == 0 {
		t.Fatal("no instructions visited")
	}
	t.Logf("%d instructions visited", v.instrs)
}

// ModuleConcurrent gives Module's verdict on every spec module, valid or
// not (the lowest failing function's error when several fail), with a
// checking visitor per worker.
func TestConcurrentMatchesSequential(t *testing.T) {
	n, invalid := 0, 0
	for _, mod := range spectest.Modules(t) {
		m, err := binary.Decode(mod)
		if err != nil {
			continue
		}
		want := validate.Module(m, nil)
		got := validate.ModuleConcurrent(m, 3, func() validate.Visitor { return &checkingVisitor{t: t} })
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("module %d: concurrent %v, sequential %v", n, got, want)
		}
		n++
		if want != nil {
			invalid++
		}
	}
	if invalid == 0 {
		t.Fatal("no invalid module among the spec modules")
	}
	t.Logf("%d modules, %d invalid", n, invalid)
}

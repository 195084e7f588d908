package validate

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/ferryvm/ferry/internal/wasm"
)

type seen struct {
	op        wasm.Opcode
	pos       uint32
	stack     string
	reachable bool
}

// recorder keeps every call a Visitor receives.
type recorder struct {
	begins []uint32
	locals [][]wasm.ValType
	instrs []seen
	ends   int
	failAt int // Instr call index at which to fail, or -1
}

var errVisitor = errors.New("visitor refuses")

func (r *recorder) BeginFunc(m *wasm.Module, idx uint32, sig *wasm.FuncType, locals []wasm.ValType) error {
	r.begins = append(r.begins, idx)
	r.locals = append(r.locals, append([]wasm.ValType(nil), locals...))
	return nil
}

func (r *recorder) Instr(in *wasm.Instr, stack []wasm.ValType, reachable bool) error {
	if len(r.instrs) == r.failAt {
		return errVisitor
	}
	r.instrs = append(r.instrs, seen{in.Op, in.Pos, fmt.Sprint(stack), reachable})
	return nil
}

func (r *recorder) EndFunc() error { r.ends++; return nil }

func TestVisitorSeesStackBeforeEachInstr(t *testing.T) {
	body := []byte{
		xI32Const, 1, // 0
		xI64Const, 2, // 2
		xBlock, tI32, // 4
		xI32Const, 3, // 6
		xBr, 0, // 8
		xF32Const, 0, 0, 0, 0, // 10: dead
		xDrop,          // 15
		xBlock, tEmpty, // 16: dead, nested
		xEnd,         // 18
		xI32Add,      // 19: dead, pops unknowns
		xEnd,         // 20: closes a branch whose end is unreachable
		xDrop,        // 21
		xDrop,        // 22
		xLocalSet, 0, // 23
	}
	m := module1(nil, nil, body...)
	m.Funcs[0].Locals = vI32
	m.AddImport(wasm.Import{Kind: wasm.ExternFunc, TypeIndex: 0})
	r := &recorder{failAt: -1}
	if err := Module(m, r); err != nil {
		t.Fatal(err)
	}
	want := []seen{
		{wasm.OpI32Const, 0, "[]", true},
		{wasm.OpI64Const, 2, "[i32]", true},
		{wasm.OpBlock, 4, "[i32 i64]", true},
		{wasm.OpI32Const, 6, "[i32 i64]", true},
		{wasm.OpBr, 8, "[i32 i64 i32]", true},
		{wasm.OpF32Const, 10, "[i32 i64]", false},
		{wasm.OpDrop, 15, "[i32 i64]", false},
		{wasm.OpBlock, 16, "[i32 i64]", false},
		{wasm.OpEnd, 18, "[i32 i64]", false},
		{wasm.OpI32Add, 19, "[i32 i64]", false},
		{wasm.OpEnd, 20, "[i32 i64]", false},
		{wasm.OpDrop, 21, "[i32 i64 i32]", true},
		{wasm.OpDrop, 22, "[i32 i64]", true},
		{wasm.OpLocalSet, 23, "[i32]", true},
		{wasm.OpEnd, 25, "[]", true},
	}
	if !reflect.DeepEqual(r.instrs, want) {
		t.Errorf("got\n%v\nwant\n%v", r.instrs, want)
	}
	if !reflect.DeepEqual(r.begins, []uint32{1}) || r.ends != 1 || !reflect.DeepEqual(r.locals, [][]wasm.ValType{vI32}) {
		t.Fatalf("begins %v locals %v ends %d", r.begins, r.locals, r.ends)
	}
}

func TestVisitorErrorPropagates(t *testing.T) {
	m := module1(nil, nil, xNop(), xNop())
	r := &recorder{failAt: 1}
	if err := Module(m, r); err != errVisitor {
		t.Fatalf("got %v, want the visitor's own error", err)
	}
	if r.ends != 0 {
		t.Fatalf("EndFunc called after a failure")
	}
}

func TestVisitorNotCalledPastInvalidInstr(t *testing.T) {
	m := module1(nil, nil, xNop(), xI32Add)
	r := &recorder{failAt: -1}
	err := Module(m, r)
	if !errors.Is(err, ErrInvalid) || len(r.instrs) != 1 {
		t.Fatalf("err %v, %d instructions seen; want the invalid one unseen", err, len(r.instrs))
	}
}

// TestNoAllocationPerInstruction checks that validation cost in allocations
// does not grow with the size of a body.
func TestNoAllocationPerInstruction(t *testing.T) {
	allocs := func(n int) float64 {
		var body []byte
		for i := 0; i < n; i++ {
			body = append(body, xBlock, tI32, xI32Const, 1, xI32Const, 2, xI32Add, xEnd, xDrop)
		}
		m := module1(nil, nil, body...)
		return testing.AllocsPerRun(20, func() {
			if err := Module(m, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, big := allocs(10), allocs(10000)
	if big > small+4 { // a few stack growths are expected
		t.Fatalf("%v allocations for 10 blocks, %v for 10000", small, big)
	}
}

func BenchmarkValidateBody(b *testing.B) {
	var body []byte
	for i := 0; i < 10000; i++ {
		body = append(body, xBlock, tI32, xI32Const, 1, xI32Const, 2, xI32Add, xEnd, xDrop)
	}
	m := module1(nil, nil, body...)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Module(m, nil); err != nil {
			b.Fatal(err)
		}
	}
}

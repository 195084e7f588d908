package jit

import (
	"fmt"
	"testing"

	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/native"
)

const callProg = `(module
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func $even (export "even") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1))
      (else (call $odd (i32.sub (local.get 0) (i32.const 1))))))
  (func $odd (param i32) (result i32) (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64) (local $x i32)
    ;; $x is 0 only if the native entry cleared it (the stack is dirty)
    (if (local.get $x) (then (unreachable)))
    (local.set $x (i32.const 1))
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (call $even (i32.sub (local.get 0) (i32.const 1)))))))`

// nativeModule compiles every function of m and builds its dispatch
// table, as the driver does for a module.
func nativeModule(t *testing.T, m *module) (map[uint32]*Code, []uint64) {
	t.Helper()
	alloc := newAlloc()
	codes := map[uint32]*Code{}
	table := make([]uint64, 2*len(m.mod.Funcs))
	for i, f := range m.ir {
		c, err := Compile(f, Options{}.WithFeatures(hostFeatures()), alloc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Free() })
		codes[i] = c
		table[2*i], table[2*i+1] = uint64(c.CallEntry()), uint64(f.FrameSlots)
	}
	return codes, table
}

// Compiled functions call each other natively: fib and a mutual recursion
// 5001 deep run from one entry to one ExitReturn, with the interpreter's
// results; a call past the depth Go allows, or whose frame would not fit
// the value stack, exits with ExitCall at that depth, with one record per
// native call naming the Call instruction.
func TestNativeCallsInCompiledCode(t *testing.T) {
	m := loadWat(t, callProg)
	codes, table := nativeModule(t, m)
	ctx := native.NewContext()
	ctx.SetDispatch(table)
	stack := make([]uint64, 1<<16)
	for _, tc := range []struct {
		name  string
		arg   uint64
		limit int
		slots int // value stack
		kind  native.ExitKind
		depth int
	}{
		{"fib", 20, native.MaxCallDepth, len(stack), native.ExitReturn, 0},
		{"even", 5001, native.MaxCallDepth, len(stack), native.ExitReturn, 0},
		{"even", 5001, 3, len(stack), native.ExitCall, 3},
		{"fib", 20, 0, len(stack), native.ExitCall, 0},
		{"even", 5001, native.MaxCallDepth, 300, native.ExitCall, -1},
	} {
		idx, _ := m.exportedFunc(tc.name)
		for i := range stack {
			stack[i] = 0xDEAD // locals must be cleared by the calls
		}
		stack[0] = tc.arg
		ctx.SetStack(stack[:tc.slots])
		ctx.SetFrame(0)
		ctx.SetBudget(1 << 40)
		ctx.SetCallDepth(tc.limit)
		e, err := codes[idx].Enter(ctx)
		if err != nil || e.Kind != tc.kind {
			t.Fatalf("%s(%d), limit %d: exit %v, err %v; want %v", tc.name, tc.arg, tc.limit, e, err, tc.kind)
		}
		if tc.kind == native.ExitReturn {
			want, _, err := interpCall(m, tc.name, []uint64{tc.arg})
			if err != nil || fmt.Sprint(want[0]) != fmt.Sprint(stack[0]) {
				t.Fatalf("%s(%d) = %d, interpreter %v (%v)", tc.name, tc.arg, stack[0], want, err)
			}
			continue
		}
		d := ctx.CallDepth()
		if tc.depth >= 0 && d != tc.depth || tc.depth < 0 && d == 0 {
			t.Fatalf("%s(%d), limit %d, %d slots: exit at native depth %d, want %d", tc.name, tc.arg, tc.limit, tc.slots, d, tc.depth)
		}
		// Follow the records from the entered function inwards: each
		// names a Call of the function at its depth.
		f := m.ir[idx]
		for k := range d {
			at := ctx.CallRecord(k)
			if int(at) >= len(f.Code) || f.Code[at].Op != ir.Call {
				t.Fatalf("%s: record %d names IR %d, not a call", tc.name, k, at)
			}
			f = m.ir[f.Code[at].A]
		}
		if e.Arg >= uint32(len(f.Code)) || f.Code[e.Arg].Op != ir.Call {
			t.Fatalf("%s: the call exit names IR %d of function %d, not a call", tc.name, e.Arg, f.Index)
		}
	}
}

package jit

import (
	"errors"
	"testing"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/native"
)

// compileExport compiles export name of m for the host's features.
func compileExport(t *testing.T, m *module, name string, alloc *native.Allocator) *Code {
	t.Helper()
	idx, ok := m.exportedFunc(name)
	if !ok {
		t.Fatalf("no export %q", name)
	}
	code, err := Compile(m.ir[idx], Options{}.WithFeatures(hostFeatures()), alloc)
	if errors.Is(err, native.ErrNotSupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	t.Cleanup(func() { code.Free() })
	return code
}

// runExport compiles and runs export name on a fresh instance.
func runExport(t *testing.T, m *module, name string, budget int64, args ...uint64) ([]uint64, *runner, error) {
	t.Helper()
	code := compileExport(t, m, name, newAlloc())
	inst, err := m.instance()
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := m.exportedFunc(name)
	r := newRunner(inst, budget)
	res, err := r.call(code, m.ir[idx], args, 3)
	return res, r, err
}

const basicWat = `(module
  (memory 1)
  (global $g (mut i32) (i32.const 5))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "unreachable") (unreachable))
  (func (export "sum") (param i32) (result i32) (local i32)
    (block (loop
      (br_if 1 (i32.eqz (local.get 0)))
      (local.set 1 (i32.add (local.get 1) (local.get 0)))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br 0)))
    (local.get 1))
  (func (export "glob") (param i32) (result i32)
    (global.set $g (i32.add (global.get $g) (local.get 0)))
    (global.get $g))
  (func (export "mem") (param i32 i32) (result i64)
    (i32.store (local.get 0) (local.get 1))
    (i64.load (local.get 0)))
)`

func TestCompiledAddReturnsZeroExtendedResult(t *testing.T) {
	m := loadWat(t, basicWat)
	res, _, err := runExport(t, m, "add", 100, 0xFFFFFFFF, 2)
	if err != nil || len(res) != 1 || res[0] != 1 {
		t.Fatalf("add(-1, 2) = %v, %v; want [1]", res, err)
	}
}

func TestCompiledUnreachableTraps(t *testing.T) {
	m := loadWat(t, basicWat)
	_, _, err := runExport(t, m, "unreachable", 100)
	if !errors.Is(err, api.ErrUnreachable) {
		t.Fatalf("err %v, want unreachable", err)
	}
}

func TestCompiledLoopExitsOnBudgetAndContinues(t *testing.T) {
	m := loadWat(t, basicWat)
	res, r, err := runExport(t, m, "sum", 7, 1000)
	if err != nil || len(res) != 1 || res[0] != 500500 {
		t.Fatalf("sum(1000) = %v, %v; want [500500]", res, err)
	}
	// 1001 polls (the entry and 1000 back-edges) with 7 a budget: each
	// budget of 7 runs 7 polls and exits at the 8th.
	if want := 1001 / 8; r.budgets < want {
		t.Fatalf("%d budget exits, want at least %d", r.budgets, want)
	}
}

func TestCompiledGlobalsAndMemory(t *testing.T) {
	m := loadWat(t, basicWat)
	res, _, err := runExport(t, m, "glob", 100, 3)
	if err != nil || len(res) != 1 || res[0] != 8 {
		t.Fatalf("glob(3) = %v, %v; want [8]", res, err)
	}
	res, _, err = runExport(t, m, "mem", 100, 8, 0xDEADBEEF)
	if err != nil || len(res) != 1 || res[0] != 0xDEADBEEF {
		t.Fatalf("mem = %#x, %v", res, err)
	}
	_, _, err = runExport(t, m, "mem", 100, 65533, 1)
	if !errors.Is(err, api.ErrOutOfBoundsMemory) {
		t.Fatalf("store at 65533: %v, want out of bounds", err)
	}
}

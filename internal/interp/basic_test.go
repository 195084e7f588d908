package interp

import (
	"errors"
	"testing"

	"github.com/ferryvm/ferry/api"
)

const fibWat = `(module
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_s (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func (export "loop") (param $n i32) (result i64)
    (local $i i32) (local $acc i64)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $acc))
)`

func TestFib(t *testing.T) {
	tm := load(t, fibWat)
	inst := tm.instance(t, nil)
	e := NewEngine(Config{PausePolling: true})
	got, err := invoke(t, e, inst, "fib", 20)
	if err != nil || len(got) != 1 || got[0] != 6765 {
		t.Fatalf("fib(20) = %v, %v", got, err)
	}
	got, err = invoke(t, e, inst, "loop", 1000)
	if err != nil || got[0] != 499500 {
		t.Fatalf("loop(1000) = %v, %v", got, err)
	}
}

const trapWat = `(module
  (func $inner (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
  (func $outer (export "f") (param i32) (result i32) (call $inner (local.get 0)))
  (func $rec (export "rec") (call $rec)))`

func TestTrapStack(t *testing.T) {
	tm := load(t, trapWat)
	inst := tm.instance(t, nil)
	e := NewEngine(Config{MaxCallDepth: 1000})
	_, err := invoke(t, e, inst, "f", 0)
	var te *api.TrapError
	if !errors.As(err, &te) || !errors.Is(err, api.ErrIntegerDivideByZero) {
		t.Fatalf("err = %v", err)
	}
	if len(te.Stack) != 2 || te.Stack[0].Name != "inner" || te.Stack[1].Name != "outer" {
		t.Fatalf("stack = %+v", te.Stack)
	}
	// FileOffset names the trapping i32.div_s and the call in the module file.
	bin := wat(t, trapWat)
	if b := bin[te.Stack[0].FileOffset]; b != 0x6d {
		t.Errorf("inner frame points at byte %#x, want i32.div_s (0x6d)", b)
	}
	if b := bin[te.Stack[1].FileOffset]; b != 0x10 {
		t.Errorf("outer frame points at byte %#x, want call (0x10)", b)
	}
	fn := tm.mod.Funcs[0]
	if te.Stack[0].FileOffset != fn.BodyStart+te.Stack[0].Offset {
		t.Errorf("Offset %#x and FileOffset %#x disagree", te.Stack[0].Offset, te.Stack[0].FileOffset)
	}
	if _, err := invoke(t, e, inst, "rec"); !errors.Is(err, api.ErrCallStackExhausted) {
		t.Fatalf("rec: %v", err)
	}
	t.Logf("%v", err)
}

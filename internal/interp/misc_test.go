package interp

import (
	"context"
	"testing"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

func TestSIMDValues(t *testing.T) {
	m, err := binary.Decode(wat(t, `(module (func (result i32) (v128.any_true (v128.const i64x2 1 2))))`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Compile(m); err != nil {
		t.Fatalf("Compile = %v", err)
	}
	// v128 values in locals, params, globals and v128.const.
	tm := load(t, `(module
  (global $g (mut v128) (v128.const i64x2 0 0))
  (func $id (param v128) (result v128) (local.get 0))
  (func (export "f") (param i64) (result i64)
    (local $v v128)
    (local.set $v (v128.const i64x2 7 9))
    (global.set $g (call $id (local.get $v)))
    (local.get 0)))`)
	inst := tm.instance(t, nil)
	got, err := invoke(t, NewEngine(Config{}), inst, "f", 5)
	if err != nil || got[0] != 5 || inst.Globals[0].Lo != 7 || inst.Globals[0].Hi != 9 {
		t.Fatalf("got %v, %v, global %+v", got, err, inst.Globals[0])
	}
}

// A host function may call back into the engine; the nested call runs on
// its own value stack.
func TestHostReentry(t *testing.T) {
	tm := load(t, `(module
  (import "env" "back" (func $back (param i32) (result i32)))
  (func $sq (export "sq") (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
  (func (export "f") (param i32) (result i32) (i32.add (i32.const 1) (call $back (local.get 0)))))`)
	e := NewEngine(Config{PausePolling: true})
	var inst *store.Instance
	st := store.NewStore()
	hm, err := st.InstantiateHost(&store.HostModule{Name: "env", Funcs: []store.HostFunc{{
		Name: "back",
		Type: wasm.FuncType{Params: []wasm.ValType{wasm.I32}, Results: []wasm.ValType{wasm.I32}},
		Fn: func(ctx context.Context, caller api.Module, s []uint64) {
			r, err := e.Call(ctx, export(t, inst, "sq"), []uint64{s[0]})
			if err != nil {
				panic(err)
			}
			s[0] = r[0]
		},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	ext, _ := hm.Export("back")
	inst = tm.instance(t, map[string]store.Extern{"env.back": ext})
	if got, err := invoke(t, e, inst, "f", 12); err != nil || got[0] != 145 {
		t.Fatalf("got %v, %v", got, err)
	}
	// Upper bits of i32 arguments are ignored.
	if got, err := invoke(t, e, inst, "sq", 3|1<<40); err != nil || got[0] != 9 {
		t.Fatalf("got %v, %v", got, err)
	}
}

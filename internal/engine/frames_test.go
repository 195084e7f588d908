package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/pause"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

// tableCode is a body of no tier: CheckFrames needs only its pause table.
type tableCode struct{ pt *pause.Func }

func (c tableCode) Pauses() *pause.Func    { return c.pt }
func (c tableCode) CodeArmer() store.Armer { return nil }

// instance builds an instance of three functions without running anything:
// func 0 is a host import; func 1 (one i32 local) calls func 2 directly at
// offset 4 and through call_indirect (type 0) at offset 8, with an i64
// below the call's operands; func 2 (type 0, an i32 parameter) has an
// entry and a loop with an f32 on the stack.
func instance() *store.Instance {
	inst := &store.Instance{TypeIDs: []uint32{7, 8}}
	f1 := &pause.Func{Index: 1, Locals: []wasm.ValType{wasm.I32}, LocalSlots: 1, Points: []pause.Point{
		{Offset: 1, Kind: api.PauseFuncEntry, Stack: []wasm.ValType{}},
		{Offset: 4, Kind: api.PauseCall, Callee: 2, Stack: []wasm.ValType{wasm.I64}, Operands: []wasm.ValType{wasm.I32}},
		{Offset: 8, Kind: api.PauseCall, Indirect: true, MaybeHost: true, TypeIndex: 0,
			Stack: []wasm.ValType{wasm.I64}, Operands: []wasm.ValType{wasm.I32, wasm.I32}},
	}}
	f2 := &pause.Func{Index: 2, Locals: []wasm.ValType{wasm.I32}, LocalSlots: 1, Points: []pause.Point{
		{Offset: 2, Kind: api.PauseFuncEntry, Stack: []wasm.ValType{}},
		{Offset: 6, Kind: api.PauseLoop, Stack: []wasm.ValType{wasm.F32}},
	}}
	inst.Funcs = []*store.Function{
		{Index: 0, Host: func(_ context.Context, _ api.Module, _ []uint64) {}},
		{Index: 1, Instance: inst, TypeID: 8, Code: tableCode{f1}},
		{Index: 2, Instance: inst, TypeID: 7, Code: tableCode{f2}},
	}
	return inst
}

func i32(v uint64) api.Value { return api.Value{Type: api.ValueTypeI32, Lo: v} }
func i64(v uint64) api.Value { return api.Value{Type: api.ValueTypeI64, Lo: v} }
func f32(v uint64) api.Value { return api.Value{Type: api.ValueTypeF32, Lo: v} }

// good is a valid two-frame stack: func 1 at its direct call, func 2 in
// its loop.
func good() []api.Frame {
	return []api.Frame{
		{Func: 1, Kind: api.PauseCall, Offset: 4, Locals: []api.Value{i32(1)}, Stack: []api.Value{i64(2)}},
		{Func: 2, Kind: api.PauseLoop, Offset: 6, Locals: []api.Value{i32(3)}, Stack: []api.Value{f32(4)}},
	}
}

func TestCheckFramesAcceptsAndNamesPausePoints(t *testing.T) {
	inst := instance()
	got, err := CheckFrames(inst, good(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if pts := got.Points(); len(pts) != 2 || pts[0].Fn != inst.Funcs[1] || pts[0].Pause != 1 || pts[1].Fn != inst.Funcs[2] || pts[1].Pause != 1 || !got.For(inst) {
		t.Fatalf("checked %+v", got)
	}
	// Through call_indirect, any function of the signature may be below.
	fs := good()
	fs[0].Offset, fs[0].Stack = 8, []api.Value{i64(2)}
	if _, err := CheckFrames(inst, fs, 10); err != nil {
		t.Fatalf("call_indirect caller: %v", err)
	}
	// An innermost frame about to call a host function holds the operands.
	host := []api.Frame{{Func: 1, Kind: api.PauseHostCall, Offset: 8, Locals: []api.Value{i32(1)}, Stack: []api.Value{i64(2), i32(5), i32(0)}}}
	if got, err := CheckFrames(inst, host, 10); err != nil || got.Points()[0].Pause != 2 {
		t.Fatalf("host call frame: %+v, %v", got, err)
	}
}

// Every way a frame list can fail to fit the instance is an error that
// says why; none is a panic.
func TestCheckFramesRefuses(t *testing.T) {
	for _, c := range []struct {
		name, want string
		mut        func([]api.Frame) []api.Frame
		depth      int
	}{
		{"no frames", "no frames", func([]api.Frame) []api.Frame { return nil }, 10},
		{"too deep", "exceed the call depth limit", nil, 1},
		{"no such function", "no such function", func(f []api.Frame) []api.Frame { f[1].Func = 9; return f }, 10},
		{"host function", "not a function defined", func(f []api.Frame) []api.Frame { f[0].Func = 0; return f }, 10},
		{"wrong callee", "the caller calls func 2", func(f []api.Frame) []api.Frame {
			f[1] = api.Frame{Func: 1, Kind: api.PauseFuncEntry, Offset: 1, Locals: []api.Value{i32(0)}, Stack: []api.Value{}}
			return f
		}, 10},
		{"wrong signature", "signature does not match", func(f []api.Frame) []api.Frame {
			f[0].Offset = 8
			f[1] = api.Frame{Func: 1, Kind: api.PauseFuncEntry, Offset: 1, Locals: []api.Value{i32(0)}, Stack: []api.Value{}}
			return f
		}, 10},
		{"caller not at a call", "must be at a call", func(f []api.Frame) []api.Frame {
			f[0].Kind, f[0].Offset, f[0].Stack = api.PauseFuncEntry, 1, nil
			return f
		}, 10},
		{"no pause point there", "no loop pause point at offset 0x7", func(f []api.Frame) []api.Frame { f[1].Offset = 7; return f }, 10},
		// A direct call to a defined function never stops before calling.
		{"not a host call", "no host-call pause point", func([]api.Frame) []api.Frame {
			return []api.Frame{{Func: 1, Kind: api.PauseHostCall, Offset: 4, Locals: []api.Value{i32(1)}, Stack: []api.Value{i64(2), i32(5)}}}
		}, 10},
		{"wrong value type", "operand stack: value 0 has type", func(f []api.Frame) []api.Frame { f[1].Stack[0] = i64(4); return f }, 10},
		{"missing local", "locals: 0 values, want 1", func(f []api.Frame) []api.Frame { f[1].Locals = nil; return f }, 10},
	} {
		fs := good()
		if c.mut != nil {
			fs = c.mut(fs)
		}
		_, err := CheckFrames(instance(), fs, c.depth)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

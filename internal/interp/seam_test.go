package interp

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/engine"
	"github.com/ferryvm/ferry/internal/pause"
	"github.com/ferryvm/ferry/internal/spectest"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/validate"
	"github.com/ferryvm/ferry/internal/wasm"
)

const seamWat = `(module
  (import "env" "wait" (func $wait (param i32) (result i32)))
  (func $first (export "first") (result i32)
    (call $now))
  (func $now (result i32) (i32.const 7))
  (func (export "mixed") (param i32) (result i32) (local i32)
    (loop $l
      (local.set 1 (i32.add (local.get 1) (call $now)))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    (call $wait (local.get 1))
    (block (loop $m (br_if 1 (i32.eqz (local.get 0))) (br $m)))
    (i32.add (call $now))))`

// Pause ids are the shared table's, in the body's order, whatever the
// IR's layout (loop stubs come after the code), and every instruction
// that implements a pause point names it.
func TestPauseIDsFollowBodyOrder(t *testing.T) {
	tm := load(t, seamWat)
	for _, f := range tm.comp.funcs {
		pts := f.Pauses().Points
		if len(pts) != len(f.PauseIR) {
			t.Fatalf("func %d: %d pause points, %d IR positions", f.Index, len(pts), len(f.PauseIR))
		}
		for id := range pts {
			if id > 0 && pts[id].Offset < pts[id-1].Offset {
				t.Errorf("func %d: pause %d at 0x%x comes before pause %d at 0x%x", f.Index, id, pts[id].Offset, id-1, pts[id-1].Offset)
			}
			got, ok := f.PauseAt(f.PauseIR[id])
			if !ok || got != uint32(id) {
				t.Errorf("func %d: IR %d implements pause %d, reads as %d (%v)", f.Index, f.PauseIR[id], id, got, ok)
			}
		}
		if f.Pauses().Index != f.Index || int(f.Pauses().LocalSlots) != int(f.LocalSlots) {
			t.Errorf("func %d: table says func %d, %d local slots", f.Index, f.Pauses().Index, f.Pauses().LocalSlots)
		}
	}
}

// Without polling, a function whose first instruction calls a host
// function had its entry pause point and the call at the same IR index;
// the binary search on IR indices found the entry, so a pause at that
// host call was exported as a function entry.
func TestHostCallFirstWithoutPollsExportsHostCall(t *testing.T) {
	m, err := binary.Decode(wat(t, `(module
  (import "env" "now" (func $now (result i32)))
  (func (export "f") (result i32) (call $now)))`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := CompileWithoutPolls(m)
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewStore()
	hm, err := st.InstantiateHost(&store.HostModule{Name: "env", Funcs: []store.HostFunc{{
		Name: "now", Type: wasm.FuncType{Results: []wasm.ValType{wasm.I32}},
		Fn: func(_ context.Context, _ api.Module, s []uint64) { s[0] = 5 },
	}}})
	if err != nil {
		t.Fatal(err)
	}
	resolve := func(mod, name string) (store.Extern, bool) { return hm.Export(name) }
	inst, err := st.Instantiate(m, "t", c.Code(), resolve)
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewEngine(Config{PauseAfter: 1}).Call(context.Background(), export(t, inst, "f"), nil)
	var s *Suspended
	if !errors.As(err, &s) || len(s.Frames) != 1 {
		t.Fatalf("want a pause with one frame, got %v", err)
	}
	if k := s.Frames[0].Kind; k != api.PauseHostCall {
		t.Fatalf("frame stopped at %v, want %v", k, api.PauseHostCall)
	}
	fresh, err := st.Instantiate(m, "t2", c.Code(), resolve)
	if err != nil {
		t.Fatal(err)
	}
	got, err := NewEngine(Config{}).Resume(context.Background(), fresh, s.Frames)
	if err != nil || len(got) != 1 || got[0] != 5 {
		t.Fatalf("resume: %v, %v; want [5]", got, err)
	}
}

// The runtime sees the interpreter only through engine.Engine: a module
// compiled, called, paused, checked and resumed through the interface
// gives the uninterrupted run's result at every pause point.
func TestEngineInterfaceRoundTrip(t *testing.T) {
	m, err := binary.Decode(wat(t, seamWat))
	if err != nil {
		t.Fatal(err)
	}
	var e engine.Engine = NewEngine(Config{PausePolling: true})
	mod, err := e.Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	host := waitHost(t, func(_ context.Context, _ api.Module, s []uint64) { s[0] = s[0]*3 + 1 })
	st := store.NewStore()
	newInst := func() *store.Instance {
		inst, err := st.Instantiate(m, "", mod.Code(), func(mod, name string) (store.Extern, bool) {
			x, ok := host[mod+"."+name]
			return x, ok
		})
		if err != nil {
			t.Fatal(err)
		}
		return inst
	}
	ctx := context.Background()
	want, err := e.Call(ctx, export(t, newInst(), "mixed"), []uint64{4})
	if err != nil {
		t.Fatal(err)
	}
	for n := int64(1); ; n++ {
		inst := newInst()
		got, err := e.Counting(n).Call(ctx, export(t, inst, "mixed"), []uint64{4})
		var s *engine.Suspended
		if !errors.As(err, &s) {
			if err != nil || got[0] != want[0] {
				t.Fatalf("N=%d: %v, %v; want %v", n, got, err, want)
			}
			if n < 5 {
				t.Fatalf("only %d pause points polled", n)
			}
			return
		}
		checked, err := e.CheckFrames(inst, s.Frames)
		if err != nil {
			t.Fatalf("N=%d: exported frames do not check: %v", n, err)
		}
		if n%2 == 0 {
			got, err = e.Resume(ctx, inst, s.Frames)
		} else {
			got, err = e.ResumeChecked(ctx, inst, checked)
		}
		if err != nil || got[0] != want[0] {
			t.Fatalf("N=%d: resumed %v, %v; want %v", n, got, err, want)
		}
	}
}

// A Checked is proof that frames fit one instance: ResumeChecked refuses
// it on another instance of the same module (whose state may not fit
// them), and refuses the zero Checked, before running anything.
func TestResumeCheckedRefusesAnotherInstance(t *testing.T) {
	m, err := binary.Decode(wat(t, seamWat))
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(Config{PausePolling: true})
	mod, err := e.Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	host := waitHost(t, func(_ context.Context, _ api.Module, s []uint64) { s[0] = s[0]*3 + 1 })
	st := store.NewStore()
	newInst := func() *store.Instance {
		inst, err := st.Instantiate(m, "", mod.Code(), func(mod, name string) (store.Extern, bool) {
			x, ok := host[mod+"."+name]
			return x, ok
		})
		if err != nil {
			t.Fatal(err)
		}
		return inst
	}
	ctx := context.Background()
	inst := newInst()
	_, err = e.Counting(2).Call(ctx, export(t, inst, "mixed"), []uint64{4})
	var s *engine.Suspended
	if !errors.As(err, &s) {
		t.Fatalf("no pause: %v", err)
	}
	checked, err := e.CheckFrames(inst, s.Frames)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ResumeChecked(ctx, newInst(), checked); err == nil || !strings.Contains(err.Error(), "another instance") {
		t.Fatalf("resumed frames checked against another instance: %v", err)
	}
	if _, err := e.ResumeChecked(ctx, inst, engine.Checked{}); err == nil {
		t.Fatal("resumed the zero Checked")
	}
}

// recordOnly is what a second tier's lowering does for pause points: it
// records through a pause.Recorder and nothing else.
type recordOnly struct {
	rec *pause.Recorder
	cur pause.Func
	out []pause.Func
}

func (r *recordOnly) BeginFunc(m *wasm.Module, idx uint32, sig *wasm.FuncType, locals []wasm.ValType) error {
	r.cur = r.rec.Begin(idx, append(append([]wasm.ValType(nil), sig.Params...), locals...))
	return nil
}

func (r *recordOnly) Instr(in *wasm.Instr, stack []wasm.ValType, reachable bool) error {
	r.rec.Instr(&r.cur, in, stack, reachable)
	return nil
}

func (r *recordOnly) EndFunc() error {
	r.rec.End(&r.cur)
	r.out = append(r.out, r.cur)
	return nil
}

// A tier that records pause points from validation alone gets the
// interpreter's table, ids included (the ids do not depend on the IR): on
// every valid spec module and a 3.5 MB Go program.
func TestRecorderAloneMatchesInterpreterTable(t *testing.T) {
	mods := spectest.Modules(t)
	gojson, err := os.ReadFile("../../bench/programs/gojson.wasm")
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for i, b := range append(mods, gojson) {
		m, err := binary.Decode(b)
		if err != nil {
			continue
		}
		c, err := lower(m, false, 1)
		if err != nil {
			continue
		}
		r := &recordOnly{rec: pause.NewRecorder(m)}
		if err := validate.Module(m, r); err != nil {
			t.Fatalf("module %d: lowered, but validation alone fails: %v", i, err)
		}
		if len(r.out) != len(c.funcs) {
			t.Fatalf("module %d: %d tables recorded, %d functions lowered", i, len(r.out), len(c.funcs))
		}
		for k, f := range c.funcs {
			if !reflect.DeepEqual(r.out[k], f.pauses) {
				t.Fatalf("module %d, func %d: recorded alone\n%+v\ninterpreter\n%+v", i, f.Index, r.out[k], f.pauses)
			}
		}
		compared++
	}
	t.Logf("%d modules compared", compared)
}

package pause

import (
	"errors"
	"reflect"
	"testing"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/wasm"
)

// table is a function (i32, v128) with a local i64: an entry, a loop with
// an f64 on the stack, and a call that may reach a host function, with an
// i32 below its i32 and v128 operands.
func table() *Func {
	return &Func{
		Index: 3, Locals: []wasm.ValType{wasm.I32, wasm.V128, wasm.I64}, LocalSlots: 4,
		Points: []Point{
			{Offset: 2, Kind: api.PauseFuncEntry, Stack: []wasm.ValType{}},
			{Offset: 5, Kind: api.PauseLoop, Stack: []wasm.ValType{wasm.F64}},
			{Offset: 9, Kind: api.PauseCall, MaybeHost: true, Stack: []wasm.ValType{wasm.I32},
				Operands: []wasm.ValType{wasm.I32, wasm.V128}},
		},
	}
}

func TestFind(t *testing.T) {
	f := table()
	for _, c := range []struct {
		off  uint32
		kind api.PauseKind
		id   uint32
		ok   bool
	}{
		{2, api.PauseFuncEntry, 0, true},
		{5, api.PauseLoop, 1, true},
		{9, api.PauseCall, 2, true},
		{9, api.PauseHostCall, 2, true},
		{5, api.PauseCall, 0, false},
		{9, api.PauseLoop, 0, false},
		{7, api.PauseLoop, 0, false},
	} {
		id, ok := f.Find(c.off, c.kind)
		if ok != c.ok || ok && id != c.id {
			t.Errorf("Find(%d, %v) = %d, %v; want %d, %v", c.off, c.kind, id, ok, c.id, c.ok)
		}
	}
	f.Points[2].MaybeHost = false
	if _, ok := f.Find(9, api.PauseHostCall); ok {
		t.Error("a call that cannot reach a host function matched PauseHostCall")
	}
}

// Export and Load are inverses for every pause point, the innermost frame
// before a host call carrying the call's operands; Check refuses a value
// of the wrong type or count.
func TestExportLoadRoundTrip(t *testing.T) {
	f := table()
	for id := range f.Points {
		for _, innermost := range []bool{false, true} {
			slots := make([]uint64, 16)
			for i := range slots {
				slots[i] = uint64(i+1) * 0x0101010101
			}
			slots[0] = 0xFFFF_FFFF_0000_0007 // an i32 slot's upper bits are not part of its value
			fr, err := f.Export(uint32(id), innermost, slots, shiftRefs{})
			if err != nil {
				t.Fatal(err)
			}
			wantKind := f.Points[id].Kind
			if innermost && wantKind == api.PauseCall {
				wantKind = api.PauseHostCall
			}
			if fr.Func != 3 || fr.Kind != wantKind || fr.Offset != f.Points[id].Offset {
				t.Fatalf("pause %d: frame %+v", id, fr)
			}
			if err := f.Check(uint32(id), innermost, &fr, shiftRefs{}); err != nil {
				t.Fatalf("pause %d: exported frame does not check: %v", id, err)
			}
			got := make([]uint64, 16)
			f.Load(uint32(id), innermost, &fr, got, shiftRefs{})
			again, _ := f.Export(uint32(id), innermost, got, shiftRefs{})
			if !reflect.DeepEqual(fr, again) {
				t.Fatalf("pause %d: %+v reloaded as %+v", id, fr, again)
			}
			if got[0] != 7 {
				t.Errorf("pause %d: i32 local loaded as %#x, want 7", id, got[0])
			}
			if len(fr.Stack) > 0 {
				bad := fr
				bad.Stack = append([]api.Value(nil), fr.Stack...)
				bad.Stack[0].Type = api.ValueTypeExternref
				if err := f.Check(uint32(id), innermost, &bad, shiftRefs{}); err == nil {
					t.Errorf("pause %d: a value of the wrong type checked", id)
				}
			}
			short := fr
			short.Locals = fr.Locals[:2]
			if err := f.Check(uint32(id), innermost, &short, shiftRefs{}); err == nil {
				t.Errorf("pause %d: two locals of three checked", id)
			}
		}
	}
	if fr, _ := f.Export(2, true, make([]uint64, 16), shiftRefs{}); len(fr.Stack) != 3 {
		n := len(fr.Stack)
		t.Errorf("a frame before a host call holds %d values, want 3 (stack and operands)", n)
	}
}

// shiftRefs is an instance of 4 functions whose handles are 100 + index.
type shiftRefs struct{}

func (shiftRefs) ToIndex(ref uint64) (uint64, bool) {
	return ref - 99, ref >= 100 && ref < 104
}

func (shiftRefs) ToRef(v uint64) (uint64, bool) { return v + 99, v >= 1 && v <= 4 }

// Frames cross the engine seam in the checkpoint's form: a funcref slot
// holding a store handle exports as the function's index plus one and
// loads back as the handle; null stays 0; a handle of no function of the
// instance, a non-null externref, or an index past the instance's
// functions are refused.
func TestFuncrefsCrossInPortableForm(t *testing.T) {
	f := &Func{Index: 1, Locals: []wasm.ValType{wasm.FuncRef, wasm.FuncRef, wasm.ExternRef}, LocalSlots: 3,
		Points: []Point{{Offset: 2, Kind: api.PauseLoop, Stack: []wasm.ValType{}}}}
	fr, err := f.Export(0, true, []uint64{102, 0, 0}, shiftRefs{})
	if err != nil {
		t.Fatal(err)
	}
	if fr.Locals[0].Lo != 3 || fr.Locals[1].Lo != 0 {
		t.Fatalf("funcrefs exported as %+v, want index+1 = 3 and null 0", fr.Locals)
	}
	if err := f.Check(0, true, &fr, shiftRefs{}); err != nil {
		t.Fatal(err)
	}
	got := make([]uint64, 3)
	f.Load(0, true, &fr, got, shiftRefs{})
	if got[0] != 102 || got[1] != 0 {
		t.Fatalf("funcrefs loaded as %v, want handle 102 and null", got[:2])
	}
	if _, err := f.Export(0, true, []uint64{7, 0, 0}, shiftRefs{}); !errors.Is(err, ErrNotPortable) {
		t.Errorf("a handle of another instance exported: %v", err)
	}
	if _, err := f.Export(0, true, []uint64{0, 0, 9}, shiftRefs{}); !errors.Is(err, ErrNotPortable) {
		t.Errorf("a non-null externref exported: %v", err)
	}
	bad := fr
	bad.Locals = append([]api.Value(nil), fr.Locals...)
	bad.Locals[1].Lo = 5
	if err := f.Check(0, true, &bad, shiftRefs{}); err == nil {
		t.Error("a funcref past the instance's functions checked")
	}
	bad.Locals[1].Lo, bad.Locals[2].Lo = 0, 1
	if err := f.Check(0, true, &bad, shiftRefs{}); err == nil {
		t.Error("a non-null externref checked")
	}
}

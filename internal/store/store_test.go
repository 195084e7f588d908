package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/pause"
	"github.com/ferryvm/ferry/internal/wasm"
)

// sleb encodes v as a signed LEB128.
func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func uleb(v uint32) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func i32c(v int32) wasm.ConstExpr {
	return wasm.ConstExpr{Bytes: append(append([]byte{0x41}, sleb(int64(v))...), 0x0B)}
}

func globalGet(i uint32) wasm.ConstExpr {
	return wasm.ConstExpr{Bytes: append(append([]byte{0x23}, uleb(i)...), 0x0B)}
}

func refFunc(i uint32) wasm.ConstExpr {
	return wasm.ConstExpr{Bytes: append(append([]byte{0xD2}, uleb(i)...), 0x0B)}
}

var refNullFunc = wasm.ConstExpr{Bytes: []byte{0xD0, 0x70, 0x0B}}

func lim(min uint64) wasm.Limits { return wasm.Limits{Min: min} }
func limMax(min, max uint64) wasm.Limits {
	return wasm.Limits{Min: min, Max: max, HasMax: true}
}

func noImports(string, string) (Extern, bool) { return Extern{}, false }

func resolverOf(mod string, inst *Instance) func(string, string) (Extern, bool) {
	return func(m, n string) (Extern, bool) {
		if m != mod {
			return Extern{}, false
		}
		return inst.Export(n)
	}
}

func TestTypeIDCanonical(t *testing.T) {
	s := NewStore()
	a := s.TypeID(&wasm.FuncType{Params: []wasm.ValType{wasm.I32}, Results: []wasm.ValType{wasm.I64}})
	b := s.TypeID(&wasm.FuncType{Params: []wasm.ValType{wasm.I32}, Results: []wasm.ValType{wasm.I64}})
	c := s.TypeID(&wasm.FuncType{Params: []wasm.ValType{wasm.I32, wasm.I64}})
	d := s.TypeID(&wasm.FuncType{Results: []wasm.ValType{wasm.I32, wasm.I64}})
	e := s.TypeID(&wasm.FuncType{})
	if a != b {
		t.Errorf("equal signatures got ids %d and %d", a, b)
	}
	ids := map[uint32]bool{a: true, c: true, d: true, e: true}
	if len(ids) != 4 {
		t.Errorf("distinct signatures share ids: %d %d %d %d", a, c, d, e)
	}
}

// exporter is a module with a function, a mutable i32 global, a table with
// a maximum, and a memory with a maximum, all exported.
func exporter() *wasm.Module {
	return &wasm.Module{
		Types:    []wasm.FuncType{{Params: []wasm.ValType{wasm.I32}, Results: []wasm.ValType{wasm.I32}}},
		Funcs:    []wasm.Func{{TypeIndex: 0, Body: []byte{0x20, 0x00, 0x0B}}},
		Tables:   []wasm.TableType{{Elem: wasm.FuncRef, Limits: limMax(4, 8)}},
		Memories: []wasm.MemType{{Limits: limMax(1, 4)}},
		Globals:  []wasm.Global{{Type: wasm.GlobalType{Type: wasm.I32, Mutable: true}, Init: i32c(-7)}},
		Exports: []wasm.Export{
			{Name: "f", Kind: wasm.ExternFunc, Index: 0},
			{Name: "tab", Kind: wasm.ExternTable, Index: 0},
			{Name: "mem", Kind: wasm.ExternMemory, Index: 0},
			{Name: "g", Kind: wasm.ExternGlobal, Index: 0},
		},
		Names: &wasm.Names{Funcs: map[uint32]string{0: "identity"}},
	}
}

// plainCode is lowered code that never needs arming.
type plainCode struct{}

func (*plainCode) Pauses() *pause.Func { return nil }
func (*plainCode) CodeArmer() Armer    { return nil }

var lowered Code = &plainCode{}

func TestInstantiateDefinitions(t *testing.T) {
	s := NewStore()
	code := []Code{lowered}
	inst, err := s.Instantiate(exporter(), "ex", code, noImports)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	f := inst.Funcs[0]
	if f.Code != lowered || f.Name != "identity" || f.Instance != inst || f.Index != 0 {
		t.Errorf("function = %+v", f)
	}
	if f.Ref == 0 || s.FuncByRef(f.Ref) != f {
		t.Errorf("Ref %d does not name the function", f.Ref)
	}
	if f.TypeID != inst.TypeIDs[0] {
		t.Errorf("TypeID %d, TypeIDs[0] %d", f.TypeID, inst.TypeIDs[0])
	}
	if g := inst.Globals[0]; g.Lo != 0xFFFFFFF9 || g.Hi != 0 {
		t.Errorf("i32 global -7 = %#x %#x, want zero-extended 0xfffffff9", g.Lo, g.Hi)
	}
	if n := len(inst.Tables[0].Elems); n != 4 {
		t.Errorf("table size %d, want 4", n)
	}
	if n := inst.Memories[0].Size(); n != wasm.PageSize {
		t.Errorf("memory size %d, want one page", n)
	}
	if x, ok := inst.Export("mem"); !ok || x.Memory != inst.Memories[0] {
		t.Errorf("Export(mem) = %+v, %v", x, ok)
	}
	if _, ok := inst.Export("nope"); ok {
		t.Error("Export of a missing name succeeded")
	}
	if _, err := s.Instantiate(exporter(), "", nil, noImports); err == nil {
		t.Error("Instantiate with the wrong number of bodies succeeded")
	}
}

func TestLinkErrors(t *testing.T) {
	s := NewStore()
	ex, err := s.Instantiate(exporter(), "ex", []Code{nil}, noImports)
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	// Grow the exported memory to 2 pages: its type as an import is then
	// {min 2, max 4}.
	if _, ok := ex.Memories[0].Grow(1); !ok {
		t.Fatal("grow failed")
	}
	i32 := []wasm.ValType{wasm.I32}
	cases := []struct {
		name   string
		imp    wasm.Import
		reason string // "" means the import links
	}{
		{"func ok", wasm.Import{Name: "f", Kind: wasm.ExternFunc, TypeIndex: 0}, ""},
		{"func signature", wasm.Import{Name: "f", Kind: wasm.ExternFunc, TypeIndex: 1}, "incompatible import type"},
		{"missing", wasm.Import{Name: "nope", Kind: wasm.ExternFunc}, "unknown import"},
		{"wrong kind", wasm.Import{Name: "g", Kind: wasm.ExternFunc}, "incompatible import type"},
		{"global ok", wasm.Import{Name: "g", Kind: wasm.ExternGlobal, Global: wasm.GlobalType{Type: wasm.I32, Mutable: true}}, ""},
		{"global mutability", wasm.Import{Name: "g", Kind: wasm.ExternGlobal, Global: wasm.GlobalType{Type: wasm.I32}}, "incompatible import type"},
		{"global type", wasm.Import{Name: "g", Kind: wasm.ExternGlobal, Global: wasm.GlobalType{Type: wasm.I64, Mutable: true}}, "incompatible import type"},
		{"table ok", wasm.Import{Name: "tab", Kind: wasm.ExternTable, Table: wasm.TableType{Elem: wasm.FuncRef, Limits: limMax(4, 8)}}, ""},
		{"table no max", wasm.Import{Name: "tab", Kind: wasm.ExternTable, Table: wasm.TableType{Elem: wasm.FuncRef, Limits: lim(1)}}, ""},
		{"table larger max", wasm.Import{Name: "tab", Kind: wasm.ExternTable, Table: wasm.TableType{Elem: wasm.FuncRef, Limits: limMax(0, 9)}}, ""},
		{"table min", wasm.Import{Name: "tab", Kind: wasm.ExternTable, Table: wasm.TableType{Elem: wasm.FuncRef, Limits: lim(5)}}, "incompatible import type"},
		{"table smaller max", wasm.Import{Name: "tab", Kind: wasm.ExternTable, Table: wasm.TableType{Elem: wasm.FuncRef, Limits: limMax(4, 7)}}, "incompatible import type"},
		{"table elem", wasm.Import{Name: "tab", Kind: wasm.ExternTable, Table: wasm.TableType{Elem: wasm.ExternRef, Limits: lim(1)}}, "incompatible import type"},
		{"memory grown min", wasm.Import{Name: "mem", Kind: wasm.ExternMemory, Memory: wasm.MemType{Limits: limMax(2, 4)}}, ""},
		{"memory min", wasm.Import{Name: "mem", Kind: wasm.ExternMemory, Memory: wasm.MemType{Limits: lim(3)}}, "incompatible import type"},
		{"memory smaller max", wasm.Import{Name: "mem", Kind: wasm.ExternMemory, Memory: wasm.MemType{Limits: limMax(1, 3)}}, "incompatible import type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &wasm.Module{Types: []wasm.FuncType{{Params: i32, Results: i32}, {Params: i32}}}
			c.imp.Module = "ex"
			m.AddImport(c.imp)
			inst, err := s.Instantiate(m, "", nil, resolverOf("ex", ex))
			if c.reason == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				inst.Close()
				return
			}
			var le *LinkError
			if !errors.As(err, &le) {
				t.Fatalf("error %v is not a *LinkError", err)
			}
			if !strings.HasPrefix(le.Reason, c.reason) || le.Module != "ex" || le.Name != c.imp.Name {
				t.Errorf("LinkError %+v, want reason %q", le, c.reason)
			}
			if inst != nil {
				t.Error("a failed link returned an instance")
			}
		})
	}
}

func TestImportedGlobalsAndRefFunc(t *testing.T) {
	s := NewStore()
	ex, err := s.Instantiate(exporter(), "ex", []Code{nil}, noImports)
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	ex.Globals[0].Lo = 41
	m := &wasm.Module{Types: []wasm.FuncType{{Params: []wasm.ValType{wasm.I32}, Results: []wasm.ValType{wasm.I32}}}}
	m.AddImport(wasm.Import{Module: "ex", Name: "f", Kind: wasm.ExternFunc, TypeIndex: 0})
	m.AddImport(wasm.Import{Module: "ex", Name: "g", Kind: wasm.ExternGlobal, Global: wasm.GlobalType{Type: wasm.I32, Mutable: true}})
	m.Funcs = []wasm.Func{{TypeIndex: 0}}
	// i32.add (global.get 0) (i32.const 1): extended constant expressions.
	add := wasm.ConstExpr{Bytes: append(append([]byte{0x23, 0x00, 0x41}, sleb(1)...), 0x6A, 0x0B)}
	m.Globals = []wasm.Global{
		{Type: wasm.GlobalType{Type: wasm.FuncRef}, Init: refFunc(0)},
		{Type: wasm.GlobalType{Type: wasm.FuncRef}, Init: refFunc(1)},
		{Type: wasm.GlobalType{Type: wasm.I32}, Init: add},
		{Type: wasm.GlobalType{Type: wasm.FuncRef}, Init: refNullFunc},
		{Type: wasm.GlobalType{Type: wasm.V128}, Init: wasm.ConstExpr{Bytes: append(append([]byte{0xFD, 0x0C}, []byte{1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}...), 0x0B)}},
	}
	inst, err := s.Instantiate(m, "", []Code{nil}, resolverOf("ex", ex))
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	if inst.Globals[0] != ex.Globals[0] {
		t.Error("imported global is not shared")
	}
	if got := inst.Globals[1].Lo; got != ex.Funcs[0].Ref {
		t.Errorf("ref.func of an import = %d, want %d", got, ex.Funcs[0].Ref)
	}
	if got := inst.Globals[2].Lo; got != inst.Funcs[1].Ref || s.FuncByRef(got) != inst.Funcs[1] {
		t.Errorf("ref.func of a defined function = %d", got)
	}
	if got := inst.Globals[3].Lo; got != 42 {
		t.Errorf("global.get + 1 = %d, want 42", got)
	}
	if got := inst.Globals[4].Lo; got != 0 {
		t.Errorf("ref.null = %d", got)
	}
	if g := inst.Globals[5]; g.Lo != 1 || g.Hi != 2 {
		t.Errorf("v128.const = %d %d", g.Lo, g.Hi)
	}
}

func TestSegments(t *testing.T) {
	s := NewStore()
	ex, err := s.Instantiate(exporter(), "ex", []Code{nil}, noImports)
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	m := &wasm.Module{Types: []wasm.FuncType{{}}}
	m.AddImport(wasm.Import{Module: "ex", Name: "tab", Kind: wasm.ExternTable, Table: wasm.TableType{Elem: wasm.FuncRef, Limits: lim(4)}})
	m.AddImport(wasm.Import{Module: "ex", Name: "mem", Kind: wasm.ExternMemory, Memory: wasm.MemType{Limits: lim(1)}})
	m.Funcs = []wasm.Func{{TypeIndex: 0}, {TypeIndex: 0}}
	m.Elems = []wasm.Elem{
		{Mode: wasm.SegmentActive, Table: 0, Offset: i32c(1), Type: wasm.FuncRef, FuncIndices: []uint32{0, 1}},
		{Mode: wasm.SegmentPassive, Type: wasm.FuncRef, Exprs: []wasm.ConstExpr{refFunc(1), refNullFunc}},
		{Mode: wasm.SegmentDeclarative, Type: wasm.FuncRef, FuncIndices: []uint32{0}},
	}
	m.Datas = []wasm.Data{
		{Mode: wasm.SegmentActive, Offset: i32c(100), Init: []byte("hello")},
		{Mode: wasm.SegmentPassive, Init: []byte("later")},
		{Mode: wasm.SegmentActive, Offset: i32c(wasm.PageSize - 2), Init: []byte("end")}, // one byte out
		{Mode: wasm.SegmentActive, Offset: i32c(200), Init: []byte("never")},
	}
	inst, err := s.Instantiate(m, "", []Code{nil, nil}, resolverOf("ex", ex))
	var trap *api.TrapError
	if !errors.As(err, &trap) || !errors.Is(err, api.ErrOutOfBoundsMemory) {
		t.Fatalf("error = %v, want an out-of-bounds memory trap", err)
	}
	if inst == nil {
		t.Fatal("a trapping instantiation must return the instance")
	}
	defer inst.Close()
	tab := ex.Tables[0].Elems
	if tab[0] != 0 || tab[1] != inst.Funcs[0].Ref || tab[2] != inst.Funcs[1].Ref || tab[3] != 0 {
		t.Errorf("table after element segment = %v", tab)
	}
	mem := ex.Memories[0].Buf
	if string(mem[100:105]) != "hello" {
		t.Errorf("first data segment not visible: %q", mem[100:105])
	}
	if mem[wasm.PageSize-2] != 0 || string(mem[200:205]) == "never" {
		t.Error("data written by or after the trapping segment")
	}
	if inst.Elems[0] != nil || inst.Elems[2] != nil {
		t.Error("active or declarative element segment not dropped")
	}
	if got := inst.Elems[1]; len(got) != 2 || got[0] != inst.Funcs[1].Ref || got[1] != 0 {
		t.Errorf("passive element segment = %v", got)
	}
	if string(inst.Datas[1]) != "later" || inst.Datas[0] != nil {
		t.Errorf("data segments = %q", inst.Datas)
	}
}

func TestElemSegmentOutOfBoundsTraps(t *testing.T) {
	s := NewStore()
	m := &wasm.Module{
		Types:    []wasm.FuncType{{}},
		Funcs:    []wasm.Func{{TypeIndex: 0}},
		Tables:   []wasm.TableType{{Elem: wasm.FuncRef, Limits: lim(2)}},
		Memories: []wasm.MemType{{Limits: lim(1)}},
		Elems: []wasm.Elem{
			// Zero length just past the end is in bounds; one past is not.
			{Mode: wasm.SegmentActive, Offset: i32c(2), Type: wasm.FuncRef, FuncIndices: []uint32{}},
			{Mode: wasm.SegmentActive, Offset: i32c(3), Type: wasm.FuncRef, FuncIndices: []uint32{}},
		},
		Datas: []wasm.Data{{Mode: wasm.SegmentActive, Offset: i32c(0), Init: []byte("x")}},
	}
	inst, err := s.Instantiate(m, "", []Code{nil}, noImports)
	if !errors.Is(err, api.ErrOutOfBoundsTable) {
		t.Fatalf("error = %v, want out of bounds table", err)
	}
	if inst.Memories[0].Buf[0] != 0 {
		t.Error("data segment applied after an element segment trapped")
	}
	inst.Close()
	if inst.Memories[0].Buf != nil {
		t.Error("owned memory not released by Close")
	}
	inst.Close() // idempotent
}

func TestMemoryLimit(t *testing.T) {
	s := NewStore()
	s.MemoryLimitPages = 2
	m := &wasm.Module{Memories: []wasm.MemType{{Limits: lim(3)}}}
	if _, err := s.Instantiate(m, "", nil, noImports); !errors.Is(err, ErrMemoryLimit) {
		t.Errorf("error = %v, want ErrMemoryLimit", err)
	}
	mem, err := NewMemory(wasm.MemType{Limits: lim(1)}, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if old, ok := mem.Grow(1); !ok || old != 1 {
		t.Errorf("Grow(1) = %d, %v", old, ok)
	}
	if _, ok := mem.Grow(1); ok {
		t.Error("Grow beyond the limit succeeded")
	}
}

func TestMemoryAccessNeverPanics(t *testing.T) {
	mem, err := NewMemory(wasm.MemType{Limits: limMax(1, 2)}, wasm.MaxPages)
	if err != nil {
		t.Fatal(err)
	}
	var am api.Memory = mem
	if !am.Write(wasm.PageSize-3, []byte("abc")) {
		t.Fatal("in-bounds write failed")
	}
	if b, ok := am.Read(wasm.PageSize-3, 3); !ok || string(b) != "abc" {
		t.Errorf("Read = %q, %v", b, ok)
	}
	for _, c := range []struct{ off, n uint64 }{
		{wasm.PageSize - 2, 3}, {wasm.PageSize + 1, 0}, {1 << 63, 1 << 63}, {^uint64(0), 2}, {1, ^uint64(0)},
	} {
		if _, ok := am.Read(c.off, c.n); ok {
			t.Errorf("Read(%d, %d) succeeded", c.off, c.n)
		}
	}
	if am.Write(^uint64(0), []byte("x")) || am.Write(wasm.PageSize-1, []byte("xy")) {
		t.Error("out-of-bounds Write succeeded")
	}
	if b, ok := am.Read(wasm.PageSize, 0); !ok || len(b) != 0 {
		t.Error("empty read at the end must succeed")
	}
	if old, ok := am.Grow(1); !ok || old != 1 || am.Size() != 2*wasm.PageSize {
		t.Errorf("Grow = %d %v, size %d", old, ok, am.Size())
	}
	if b, _ := am.Read(wasm.PageSize, wasm.PageSize); b[0] != 0 || b[len(b)-1] != 0 {
		t.Error("grown pages are not zero")
	}
	if _, ok := am.Grow(1); ok {
		t.Error("Grow beyond the declared maximum succeeded")
	}
	if _, ok := am.Grow(^uint64(0)); ok {
		t.Error("Grow by 2^64-1 succeeded")
	}
	mem.Close()
	mem.Close()
	if mem.Buf != nil || am.Size() != 0 {
		t.Error("memory accessible after Close")
	}
	if _, ok := am.Read(0, 1); ok {
		t.Error("Read after Close succeeded")
	}
	if _, ok := am.Grow(1); ok {
		t.Error("Grow after Close succeeded")
	}
}

func TestZeroSizeMemory(t *testing.T) {
	mem, err := NewMemory(wasm.MemType{Limits: limMax(0, 0)}, wasm.MaxPages)
	if err != nil {
		t.Fatal(err)
	}
	if mem.Size() != 0 || mem.Write(0, []byte{1}) {
		t.Error("zero-size memory accepted a write")
	}
	if _, ok := mem.Grow(1); ok {
		t.Error("grew past max 0")
	}
	if _, ok := mem.Grow(0); !ok {
		t.Error("Grow(0) must succeed")
	}
	mem.Close()
}

func TestTableGrowAndCap(t *testing.T) {
	tab, err := NewTable(wasm.TableType{Elem: wasm.FuncRef, Limits: limMax(1, 3)})
	if err != nil {
		t.Fatal(err)
	}
	if old, ok := tab.Grow(2, 9); !ok || old != 1 || len(tab.Elems) != 3 || tab.Elems[0] != 0 || tab.Elems[2] != 9 {
		t.Errorf("Grow(2, 9) = %d %v, elems %v", old, ok, tab.Elems)
	}
	if _, ok := tab.Grow(1, 0); ok {
		t.Error("Grow beyond max succeeded")
	}
	if !tab.Fill(1, 2, 5) || tab.Elems[1] != 5 || tab.Fill(2, 2, 5) {
		t.Error("Fill bounds")
	}
	if !CopyTable(tab, 0, tab, 1, 2) || tab.Elems[0] != 5 || CopyTable(tab, 2, tab, 0, 2) {
		t.Error("CopyTable bounds")
	}
	unbounded, err := NewTable(wasm.TableType{Elem: wasm.ExternRef, Limits: lim(0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := unbounded.Grow(MaxTableElems+1, 0); ok {
		t.Error("Grow beyond MaxTableElems succeeded")
	}
	if _, ok := unbounded.Grow(^uint64(0), 0); ok {
		t.Error("Grow by 2^64-1 succeeded")
	}
	if _, err := NewTable(wasm.TableType{Elem: wasm.FuncRef, Limits: lim(MaxTableElems + 1)}); !errors.Is(err, ErrTableLimit) {
		t.Errorf("NewTable over the cap: %v", err)
	}
}

func TestHostModule(t *testing.T) {
	s := NewStore()
	var seen api.Module
	h := &HostModule{
		Name: "env",
		Funcs: []HostFunc{{Name: "log", Type: wasm.FuncType{Params: []wasm.ValType{wasm.I32}},
			Fn: func(ctx context.Context, caller api.Module, stack []uint64) { seen = caller }}},
		Globals:  []HostGlobal{{Name: "g", Type: wasm.GlobalType{Type: wasm.I64}, Lo: 5}},
		Memories: []HostMemory{{Name: "mem", Type: wasm.MemType{Limits: limMax(1, 2)}}},
		Tables:   []HostTable{{Name: "tab", Type: wasm.TableType{Elem: wasm.FuncRef, Limits: lim(2)}}},
	}
	inst, err := s.InstantiateHost(h)
	if err != nil {
		t.Fatal(err)
	}
	f := inst.Funcs[0]
	if f.Host == nil || f.Ref == 0 || f.Name != "log" || f.Type.Params[0] != wasm.I32 || f.Instance != inst {
		t.Fatalf("host function = %+v", f)
	}
	f.Host(context.Background(), f.Instance.Caller(), []uint64{1})
	if seen.Name() != "env" || seen.Memory() == nil || seen.Memory().Size() != wasm.PageSize {
		t.Errorf("caller view: name %q memory %v", seen.Name(), seen.Memory())
	}
	// A module imports all four.
	m := &wasm.Module{Types: []wasm.FuncType{{Params: []wasm.ValType{wasm.I32}}}}
	m.AddImport(wasm.Import{Module: "env", Name: "log", Kind: wasm.ExternFunc, TypeIndex: 0})
	m.AddImport(wasm.Import{Module: "env", Name: "g", Kind: wasm.ExternGlobal, Global: wasm.GlobalType{Type: wasm.I64}})
	m.AddImport(wasm.Import{Module: "env", Name: "mem", Kind: wasm.ExternMemory, Memory: wasm.MemType{Limits: limMax(1, 2)}})
	m.AddImport(wasm.Import{Module: "env", Name: "tab", Kind: wasm.ExternTable, Table: wasm.TableType{Elem: wasm.FuncRef, Limits: lim(2)}})
	user, err := s.Instantiate(m, "user", nil, resolverOf("env", inst))
	if err != nil {
		t.Fatal(err)
	}
	if user.Funcs[0] != f || user.Memories[0] != inst.Memories[0] || user.Globals[0].Lo != 5 {
		t.Error("imports not shared")
	}
	// The exporter closes first: the importer still holds the memory.
	inst.Close()
	if inst.Memories[0].Buf == nil {
		t.Error("memory released while an importer holds it")
	}
	user.Close()
	if inst.Memories[0].Buf != nil {
		t.Error("memory not released after its last holder closed")
	}
	noMem, err := s.InstantiateHost(&HostModule{Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if noMem.Caller().Memory() != nil {
		t.Error("Memory() of an instance without memory must be a nil interface")
	}
	for _, bad := range []*HostModule{
		{Name: "dup", Globals: []HostGlobal{{Name: "a", Type: wasm.GlobalType{Type: wasm.I32}}, {Name: "a", Type: wasm.GlobalType{Type: wasm.I32}}}},
		{Name: "nilfn", Funcs: []HostFunc{{Name: "f"}}},
		{Name: "badtype", Globals: []HostGlobal{{Name: "a", Type: wasm.GlobalType{Type: 0x40}}}},
		{Name: "bigmem", Memories: []HostMemory{{Name: "m", Type: wasm.MemType{Limits: lim(wasm.MaxPages + 1)}}}},
		{Name: "badtab", Tables: []HostTable{{Name: "t", Type: wasm.TableType{Elem: wasm.I32}}}},
	} {
		if _, err := s.InstantiateHost(bad); err == nil {
			t.Errorf("host module %q accepted", bad.Name)
		}
	}
}

func TestConcurrentInstantiation(t *testing.T) {
	s := NewStore()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inst, err := s.Instantiate(exporter(), fmt.Sprint(i), []Code{nil}, noImports)
			if err != nil {
				errs <- err
				return
			}
			defer inst.Close()
			if s.FuncByRef(inst.Funcs[0].Ref) != inst.Funcs[0] {
				errs <- fmt.Errorf("ref %d names another function", inst.Funcs[0].Ref)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := s.LiveFuncs(); n != 0 {
		t.Errorf("%d function slots live after every instance closed, want 0", n)
	}
}

package store

import (
	"context"
	"errors"
	"testing"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/wasm"
)

// importerOf imports one thing, of kind k, from module "x".
func importerOf(k wasm.ExternKind, name string) *wasm.Module {
	m := &wasm.Module{Types: []wasm.FuncType{{Params: []wasm.ValType{wasm.I32}, Results: []wasm.ValType{wasm.I32}}}}
	imp := wasm.Import{Module: "x", Name: name, Kind: k}
	switch k {
	case wasm.ExternMemory:
		imp.Memory = wasm.MemType{Limits: lim(1)}
		m.ImportedMemories = []wasm.MemType{imp.Memory}
	case wasm.ExternTable:
		imp.Table = wasm.TableType{Elem: wasm.FuncRef, Limits: lim(4)}
		m.ImportedTables = []wasm.TableType{imp.Table}
	}
	m.Imports = []wasm.Import{imp}
	return m
}

func hostFuncs(t *testing.T, s *Store) *Instance {
	t.Helper()
	h, err := s.InstantiateHost(&HostModule{Name: "x", Funcs: []HostFunc{{Name: "f",
		Type: wasm.FuncType{Params: []wasm.ValType{wasm.I32}, Results: []wasm.ValType{wasm.I32}},
		Fn:   func(context.Context, api.Module, []uint64) {}}}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Importing a host function holds its module without tying the
// importers together: each runs its own call; the host module outlives
// its closing while an importer is open.
func TestHostFunctionImportHolds(t *testing.T) {
	s := NewStore()
	h := hostFuncs(t, s)
	a, err := s.Instantiate(importerOf(wasm.ExternFunc, "f"), "a", nil, resolverOf("x", h))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Instantiate(importerOf(wasm.ExternFunc, "f"), "b", nil, resolverOf("x", h))
	if err != nil {
		t.Fatal(err)
	}
	ea, err := a.Enter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	eb, err := b.Enter(context.Background())
	if err != nil {
		t.Fatalf("call into b while a's runs: %v (a and b share only a host function)", err)
	}
	eb.Leave()
	ea.Leave()
	ref := h.Funcs[0].Ref
	h.Close()
	a.Close()
	if s.FuncByRef(ref) == nil {
		t.Fatal("host function released while b, which imports it, is open")
	}
	b.Close()
	if s.FuncByRef(ref) != nil || s.LiveFuncs() != 0 {
		t.Errorf("%d slots live after every instance closed", s.LiveFuncs())
	}
}

// Importing a WebAssembly function, a table or a memory merges the two
// instances: they run one call at a time, except a call nested in one
// of theirs, and live until both are closed.
func TestLinkedInstancesShareALifetime(t *testing.T) {
	for _, c := range []struct {
		kind wasm.ExternKind
		name string
	}{{wasm.ExternFunc, "f"}, {wasm.ExternTable, "tab"}, {wasm.ExternMemory, "mem"}} {
		s := NewStore()
		x, err := s.Instantiate(exporter(), "x", []Code{nil}, noImports)
		if err != nil {
			t.Fatal(err)
		}
		mem := x.Memories[0]
		y, err := s.Instantiate(importerOf(c.kind, c.name), "y", nil, resolverOf("x", x))
		if err != nil {
			t.Fatal(err)
		}
		e, err := x.Enter(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := y.Enter(context.Background()); !errors.Is(err, api.ErrBusy) {
			t.Errorf("%s import: call into y while x's runs: %v, want ErrBusy", c.name, err)
		}
		nested, err := y.Enter(WithRunning(context.Background(), x))
		if err != nil {
			t.Errorf("%s import: call nested in x's: %v", c.name, err)
		} else {
			nested.Leave()
		}
		e.Leave()
		x.Close()
		if mem.Size() == 0 || s.FuncByRef(x.Funcs[0].Ref) == nil {
			t.Errorf("%s import: x released while y is open", c.name)
		}
		y.Close()
		if mem.Size() != 0 || s.LiveFuncs() != 0 {
			t.Errorf("%s import: x not released with y closed (%d slots live)", c.name, s.LiveFuncs())
		}
		if _, err := x.Enter(context.Background()); !errors.Is(err, api.ErrClosed) {
			t.Errorf("call into a closed instance: %v, want ErrClosed", err)
		}
	}
}

// Closing an instance while a call runs aborts that call; it is released
// by the call's Leave, not before, and instantiating against it fails.
func TestCloseWaitsForTheLastCall(t *testing.T) {
	s := NewStore()
	code := &countingArmer{}
	x, err := s.Instantiate(exporter(), "x", []Code{code}, noImports)
	if err != nil {
		t.Fatal(err)
	}
	mem := x.Memories[0]
	e, err := x.Enter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	x.Close()
	if !errors.Is(x.AbortErr(), api.ErrClosed) || x.InterruptWord().Load()&InterruptAbort == 0 {
		t.Error("the running call was not aborted")
	}
	if mem.Size() == 0 {
		t.Fatal("memory released under a running call")
	}
	if _, err := s.Instantiate(importerOf(wasm.ExternMemory, "mem"), "y", nil, resolverOf("x", x)); err == nil {
		t.Error("imported from a closed instance")
	}
	e.Leave()
	if mem.Size() != 0 {
		t.Error("memory still mapped after the last call left")
	}
	if code.n != 0 || len(s.armed.users) != 0 || len(s.armed.armers) != 0 {
		t.Errorf("the released code is still registered (armed %d, %d armers)", code.n, len(s.armed.armers))
	}
}

// An exporter that can store no reference (no table, no reference-typed
// global) is held by its importers, not grouped with them: instances that
// import its functions and close are released while it lives on, yet they
// never run a call at the same time as it (one domain).
func TestLongLivedExporterReleasesImporters(t *testing.T) {
	s := NewStore()
	lib := exporter()
	lib.Tables, lib.Exports = nil, lib.Exports[:1] // only "f"
	x, err := s.Instantiate(lib, "x", []Code{nil}, noImports)
	if err != nil {
		t.Fatal(err)
	}
	m := importerOf(wasm.ExternFunc, "f")
	m.Funcs = []wasm.Func{{TypeIndex: 0}}
	for k := 0; k < 100; k++ {
		y, err := s.Instantiate(m, "y", []Code{nil}, resolverOf("x", x))
		if err != nil {
			t.Fatal(err)
		}
		e, err := x.Enter(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := y.Enter(context.Background()); !errors.Is(err, api.ErrBusy) {
			t.Fatalf("call into y while x's runs: %v, want ErrBusy", err)
		}
		e.Leave()
		y.Close()
	}
	if n := s.LiveFuncs(); n != 1 {
		t.Errorf("%d function slots live, want x's 1: closed importers were kept", n)
	}
	x.Close()
	if n := s.LiveFuncs(); n != 0 {
		t.Errorf("%d function slots live with everything closed", n)
	}
}

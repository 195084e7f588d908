package store

import (
	"fmt"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/wasm"
)

// HostModule describes an instance made of Go values: functions, globals,
// memories and tables, each exported under its name. Within each kind, the
// index space follows the order of the slices.
type HostModule struct {
	Name     string
	Funcs    []HostFunc
	Globals  []HostGlobal
	Memories []HostMemory
	Tables   []HostTable
}

// HostFunc is a Go function exported by a host module.
type HostFunc struct {
	Name string
	Type wasm.FuncType
	Fn   api.HostFunc
}

// HostGlobal is a global exported by a host module, with its initial value.
type HostGlobal struct {
	Name   string
	Type   wasm.GlobalType
	Lo, Hi uint64
}

// HostMemory is a memory exported by a host module.
type HostMemory struct {
	Name string
	Type wasm.MemType
}

// HostTable is a table exported by a host module; its elements start null.
type HostTable struct {
	Name string
	Type wasm.TableType
}

// InstantiateHost creates an instance from a host module description. Its
// Module is synthetic: the signatures (Types), the exports and a name
// section naming the functions; it has no code. Host functions' Index is
// their position in the instance's function space.
func (s *Store) InstantiateHost(h *HostModule) (*Instance, error) {
	m := &wasm.Module{Names: &wasm.Names{Module: h.Name, Funcs: map[uint32]string{}}}
	inst := &Instance{Store: s, Module: m, Name: h.Name, Exports: map[string]wasm.Export{}}
	export := func(name string, kind wasm.ExternKind, idx int) error {
		if _, dup := inst.Exports[name]; dup {
			return fmt.Errorf("host module %q: duplicate export %q", h.Name, name)
		}
		e := wasm.Export{Name: name, Kind: kind, Index: uint32(idx)}
		inst.Exports[name] = e
		m.Exports = append(m.Exports, e)
		return nil
	}

	var fns []*Function
	for i, hf := range h.Funcs {
		if hf.Fn == nil {
			return nil, fmt.Errorf("host module %q: function %q is nil", h.Name, hf.Name)
		}
		if err := checkTypes(hf.Type.Params, hf.Type.Results); err != nil {
			return nil, fmt.Errorf("host module %q: function %q: %w", h.Name, hf.Name, err)
		}
		if err := export(hf.Name, wasm.ExternFunc, i); err != nil {
			return nil, err
		}
		m.Types = append(m.Types, wasm.FuncType{
			Params:  append([]wasm.ValType(nil), hf.Type.Params...),
			Results: append([]wasm.ValType(nil), hf.Type.Results...),
		})
		m.Names.Funcs[uint32(i)] = hf.Name
		fns = append(fns, &Function{Instance: inst, Index: uint32(i), Name: hf.Name, Host: hf.Fn})
	}
	for i := range fns {
		fns[i].Type = &m.Types[i]
	}
	inst.TypeIDs = make([]uint32, len(m.Types))
	for i := range m.Types {
		inst.TypeIDs[i] = s.TypeID(&m.Types[i])
	}

	for i, hg := range h.Globals {
		if err := checkTypes([]wasm.ValType{hg.Type.Type}, nil); err != nil {
			return nil, fmt.Errorf("host module %q: global %q: %w", h.Name, hg.Name, err)
		}
		if err := export(hg.Name, wasm.ExternGlobal, i); err != nil {
			return nil, err
		}
		inst.Globals = append(inst.Globals, &Global{Type: hg.Type, Lo: hg.Lo, Hi: hg.Hi})
	}
	for i, ht := range h.Tables {
		if !ht.Type.Elem.IsRef() {
			return nil, fmt.Errorf("host module %q: table %q: element type %v is not a reference type", h.Name, ht.Name, ht.Type.Elem)
		}
		if err := checkLimits(ht.Type.Limits, 1<<32-1); err != nil {
			return nil, fmt.Errorf("host module %q: table %q: %w", h.Name, ht.Name, err)
		}
		if err := export(ht.Name, wasm.ExternTable, i); err != nil {
			return nil, err
		}
		t, err := s.newTable(ht.Type)
		if err != nil {
			inst.releaseTables()
			return nil, fmt.Errorf("host module %q: table %q: %w", h.Name, ht.Name, err)
		}
		t.owner = inst
		inst.Tables = append(inst.Tables, t)
	}
	for i, hm := range h.Memories {
		err := checkLimits(hm.Type.Limits, wasm.MaxPages)
		if err == nil {
			err = export(hm.Name, wasm.ExternMemory, i)
		}
		var mem *Memory
		if err == nil {
			mem, err = NewMemory(hm.Type, s.MemoryLimitPages)
		}
		if err != nil {
			for _, created := range inst.Memories {
				created.Close()
			}
			return nil, fmt.Errorf("host module %q: memory %q: %w", h.Name, hm.Name, err)
		}
		inst.Memories = append(inst.Memories, mem)
	}

	s.register(fns)
	inst.Funcs = fns
	return inst, nil
}

func checkTypes(params, results []wasm.ValType) error {
	for _, t := range params {
		if !t.Valid() {
			return fmt.Errorf("invalid value type %v", t)
		}
	}
	for _, t := range results {
		if !t.Valid() {
			return fmt.Errorf("invalid value type %v", t)
		}
	}
	return nil
}

func checkLimits(l wasm.Limits, bound uint64) error {
	if l.Min > bound || (l.HasMax && l.Max > bound) {
		return fmt.Errorf("limits %s exceed %d", limitsString(l), bound)
	}
	if l.HasMax && l.Max < l.Min {
		return fmt.Errorf("limits %s: maximum below minimum", limitsString(l))
	}
	return nil
}

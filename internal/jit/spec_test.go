package jit

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/native"
	"github.com/ferryvm/ferry/internal/spectest"
	"github.com/ferryvm/ferry/internal/store"
)

// The differential spec test runs every invocation of a spec script in
// the interpreter and in compiled code, each on a fresh instance, and
// compares results, traps, linear memory and globals. Expectations of the
// script are the interpreter's business (the wast suite checks them); the
// two tiers must simply agree, which also covers the invocations the
// script makes in a state this test does not reproduce.

// specScripts are the scripts whose functions use integers, memory and
// control flow (no imports needed to instantiate).
var specScripts = []string{
	"address", "align", "block", "br", "br_if", "br_table", "call", "endianness",
	"fac", "forward", "global", "i32", "i64", "if", "int_exprs", "int_literals",
	"labels", "left-to-right", "load", "local_get", "local_set", "local_tee",
	"loop", "memory", "memory_redundancy", "memory_trap", "nop", "return",
	"select", "stack", "store", "switch", "traps", "unreachable", "unwind",
	"memory_size", "memory_grow", "bulk", "memory_copy", "memory_fill",
}

type specCommand struct {
	Type     string `json:"type"`
	Line     int    `json:"line"`
	Filename string `json:"filename"`
	Name     string `json:"name"`
	Action   *struct {
		Type   string `json:"type"`
		Module string `json:"module"`
		Field  string `json:"field"`
		Args   []struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"args"`
	} `json:"action"`
}

// specStats counts what a script's differential run covered.
type specStats struct {
	compared, needsGo, notCompiled, notInstantiable int
}

func TestDifferentialSpecScripts(t *testing.T) {
	dir := spectest.SuiteDir(t)
	var total specStats
	scripts, minCompared := specScripts, 2000
	if only := os.Getenv("FERRY_JIT_SCRIPTS"); only != "" {
		// A subset, for slow runs (qemu).
		scripts, minCompared = strings.Split(only, ","), 1
	}
	for _, name := range scripts {
		path := filepath.Join(dir, name+".wast")
		if _, err := os.Stat(path); err != nil {
			continue
		}
		t.Run(name, func(t *testing.T) {
			st := diffScript(t, spectest.Convert(t, path))
			t.Logf("%s: %d invocations compared, %d need Go (calls, interp ops), %d in functions not compiled, %d on modules not instantiable here",
				name, st.compared, st.needsGo, st.notCompiled, st.notInstantiable)
			total.compared += st.compared
			total.needsGo += st.needsGo
			total.notCompiled += st.notCompiled
		})
	}
	t.Logf("total: %d invocations compared, %d need Go, %d in functions not compiled", total.compared, total.needsGo, total.notCompiled)
	// The scripts above hold thousands of integer invocations: a run that
	// compares few means the harness silently skips, not that all agree.
	if total.compared < minCompared {
		t.Fatalf("only %d invocations compared", total.compared)
	}
}

func diffScript(t *testing.T, jsonPath string) specStats {
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var s struct{ Commands []specCommand }
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	alloc := newAlloc()
	var st specStats
	var cur *module
	named := map[string]*module{}
	codes := map[*module]map[uint32]*Code{}
	defer func() {
		for _, cs := range codes {
			for _, c := range cs {
				if c != nil {
					c.Free()
				}
			}
		}
	}()
	for _, c := range s.Commands {
		switch c.Type {
		case "module":
			cur = nil
			bin, err := os.ReadFile(filepath.Join(filepath.Dir(jsonPath), c.Filename))
			if err != nil {
				t.Fatal(err)
			}
			m, ok := tryLoad(bin)
			if !ok {
				continue
			}
			cur = m
			codes[m] = map[uint32]*Code{}
			if c.Name != "" {
				named[c.Name] = m
			}
		case "assert_return", "assert_trap", "action", "assert_exhaustion":
			if c.Action == nil || c.Action.Type != "invoke" {
				continue
			}
			m := cur
			if c.Action.Module != "" {
				m = named[c.Action.Module]
			}
			if m == nil {
				continue
			}
			args, ok := specArgs(c)
			if !ok {
				continue
			}
			idx, ok := m.exportedFunc(c.Action.Field)
			if !ok {
				continue
			}
			f := m.ir[idx]
			if f == nil { // an imported function re-exported
				continue
			}
			code, ok := codes[m][idx]
			if !ok {
				code, err = Compile(f, Options{}.WithFeatures(hostFeatures()), alloc)
				if errors.Is(err, native.ErrNotSupported) {
					t.Skip(err)
				}
				if err != nil && !errors.Is(err, ErrUnsupported) {
					t.Fatalf("line %d: compile %s: %v", c.Line, c.Action.Field, err)
				}
				codes[m][idx] = code
			}
			if code == nil {
				st.notCompiled++
				continue
			}
			want, wantInst, wantErr := interpCall(m, c.Action.Field, args)
			if wantInst == nil {
				st.notInstantiable++
				continue
			}
			inst, err := m.instance()
			if err != nil {
				t.Fatalf("line %d: second instance: %v", c.Line, err)
			}
			r := newRunner(inst, 50).withCalls(m, alloc)
			got, gotErr := r.call(code, f, args, 5)
			r.free()
			if errors.Is(gotErr, errNeedsGo) {
				st.needsGo++
				continue
			}
			st.compared++
			where := c.Action.Field
			if !sameOutcome(want, wantErr, got, gotErr) {
				t.Errorf("line %d: %s%v: interpreter %v, %v; compiled %v, %v", c.Line, where, args, want, wantErr, got, gotErr)
				continue
			}
			if d := stateDiff(wantInst, inst); d != "" {
				t.Errorf("line %d: %s%v: %s differs after the call", c.Line, where, args, d)
			}
		}
	}
	return st
}

// tryLoad lowers a module and instantiates it once to see whether it can
// stand alone (no imports).
func tryLoad(bin []byte) (*module, bool) {
	m, err := lowerBinary(bin)
	if err != nil {
		return nil, false
	}
	if _, err := m.instance(); err != nil {
		return nil, false
	}
	return m, true
}

func specArgs(c specCommand) ([]uint64, bool) {
	var args []uint64
	for _, a := range c.Action.Args {
		switch a.Type {
		case "i32", "i64", "f32", "f64":
		default:
			return nil, false
		}
		v, err := strconv.ParseUint(a.Value, 10, 64)
		if err != nil {
			return nil, false
		}
		args = append(args, v)
	}
	return args, true
}

func sameOutcome(want []uint64, wantErr error, got []uint64, gotErr error) bool {
	if wantErr != nil || gotErr != nil {
		if wantErr == nil || gotErr == nil {
			return false
		}
		// The compiled error is the bare sentinel; the interpreter's
		// wraps it.
		return errors.Is(wantErr, gotErr)
	}
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if want[i] != got[i] {
			return false
		}
	}
	return true
}

// stateDiff names the first part of two instances' state that differs.
func stateDiff(a, b *store.Instance) string {
	for i := range a.Memories {
		if !bytes.Equal(a.Memories[i].Buf, b.Memories[i].Buf) {
			return "memory " + strconv.Itoa(i)
		}
	}
	for i := range a.Globals {
		if a.Globals[i].Lo != b.Globals[i].Lo {
			return "global " + strconv.Itoa(i)
		}
	}
	return ""
}

package binary

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/ferryvm/ferry/internal/spectest"
	"github.com/ferryvm/ferry/internal/wasm"
)

// FuzzDecode checks that Decode never panics, that every failure is a
// positioned *Error, and that every success is a consistent module.
func FuzzDecode(f *testing.F) {
	for _, m := range spectest.Modules(f) {
		f.Add(m)
	}
	f.Add(mod())
	f.Add(mod(sec(secType, "\x01\x60\x01\x7f\x00"), sec(secFunction, "\x01\x00"),
		sec(secCode, "\x01\x05\x01\x02\x7e\x01\x0b")))
	f.Add(mod(sec(secElement, "\x01\x06\x00\x41\x00\x0b\x70\x01\xd2\x00\x0b")))
	f.Add(mod(sec(secDataCount, "\x01"), sec(secData, "\x01\x02\x00\x41\x00\x0b\x01x")))
	f.Add(mod(sec(secCustom, str("name"), sec(nameModule, str("m"))+sec(nameLocal, "\x01\x00\x01\x00"+str("x")))))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not *binary.Error: %v", err, err)
			}
			if de.Offset < 0 || de.Offset > len(b) {
				t.Fatalf("error offset %d outside a %d-byte input: %v", de.Offset, len(b), err)
			}
			if m != nil {
				t.Fatal("module returned with an error")
			}
			return
		}
		checkConsistent(t, b, m)
	})
}

// checkConsistent asserts what every successfully decoded module guarantees.
func checkConsistent(t *testing.T, b []byte, m *wasm.Module) {
	t.Helper()
	for i, fn := range m.Funcs {
		// Every defined function got its code entry.
		if len(fn.Body) == 0 || fn.Body[len(fn.Body)-1] != byte(wasm.OpEnd) {
			t.Fatalf("func %d: body % x does not end with end", i, fn.Body)
		}
		end := int(fn.BodyOffset) + len(fn.Body)
		if fn.BodyStart > fn.BodyOffset || end > len(b) || !bytes.Equal(b[fn.BodyOffset:end], fn.Body) {
			t.Fatalf("func %d: body offsets %d/%d do not frame its body", i, fn.BodyStart, fn.BodyOffset)
		}
		n := len(fn.Locals)
		if int(fn.TypeIndex) < len(m.Types) {
			n += len(m.Types[fn.TypeIndex].Params)
		}
		if n > wasm.MaxLocals {
			t.Fatalf("func %d: %d locals", i, n)
		}
		for _, l := range fn.Locals {
			if !l.Valid() {
				t.Fatalf("func %d: local type %v", i, l)
			}
		}
	}
	if m.HasDataCount && int(m.DataCount) != len(m.Datas) {
		t.Fatalf("data count %d, %d segments", m.DataCount, len(m.Datas))
	}
	if got := len(m.ImportedFuncs) + len(m.ImportedTables) + len(m.ImportedMemories) + len(m.ImportedGlobals); got != len(m.Imports) {
		t.Fatalf("%d imports, %d in the per-kind views", len(m.Imports), got)
	}
	for _, imp := range m.Imports {
		if !utf8.ValidString(imp.Module) || !utf8.ValidString(imp.Name) || imp.Kind > wasm.ExternGlobal {
			t.Fatalf("bad import %+v", imp)
		}
	}
	for _, e := range m.Exports {
		if !utf8.ValidString(e.Name) || e.Kind > wasm.ExternGlobal {
			t.Fatalf("bad export %+v", e)
		}
	}
	for i, e := range m.Elems {
		if (e.FuncIndices == nil) == (e.Exprs == nil) || !e.Type.IsRef() {
			t.Fatalf("elem %d: %+v", i, e)
		}
		for _, x := range e.Exprs {
			checkConstExpr(t, x)
		}
		if e.Mode == wasm.SegmentActive {
			checkConstExpr(t, e.Offset)
		}
	}
	for _, g := range m.Globals {
		checkConstExpr(t, g.Init)
	}
	for _, d := range m.Datas {
		if d.Mode == wasm.SegmentActive {
			checkConstExpr(t, d.Offset)
		}
	}
	for _, c := range m.Customs {
		if !utf8.ValidString(c.Name) {
			t.Fatalf("custom section name %q", c.Name)
		}
	}
}

func checkConstExpr(t *testing.T, x wasm.ConstExpr) {
	t.Helper()
	if len(x.Bytes) == 0 || x.Bytes[len(x.Bytes)-1] != byte(wasm.OpEnd) {
		t.Fatalf("constant expression % x does not end with end", x.Bytes)
	}
}

package binary

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/wasm"
)

const header = "\x00asm\x01\x00\x00\x00"

// uleb encodes v as unsigned LEB128.
func uleb(v uint64) []byte {
	var out []byte
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if v != 0 {
			out = append(out, c|0x80)
			continue
		}
		return append(out, c)
	}
}

// sec builds a section: id, size, then the parts.
func sec(id byte, parts ...string) string {
	body := strings.Join(parts, "")
	return string([]byte{id}) + string(uleb(uint64(len(body)))) + body
}

// str is a length-prefixed name.
func str(s string) string { return string(uleb(uint64(len(s)))) + s }

func mod(sections ...string) []byte { return []byte(header + strings.Join(sections, "")) }

func mustDecode(t *testing.T, b []byte) *wasm.Module {
	t.Helper()
	m, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return m
}

func TestDecodeEmptyModule(t *testing.T) {
	m := mustDecode(t, mod())
	if !reflect.DeepEqual(m, &wasm.Module{}) {
		t.Errorf("empty module decoded to %+v", m)
	}
}

func TestDecodeTypes(t *testing.T) {
	m := mustDecode(t, mod(sec(secType, "\x02",
		"\x60\x02\x7f\x7e\x01\x7d",
		"\x60\x00\x02\x7b\x70")))
	want := []wasm.FuncType{
		{Params: []wasm.ValType{wasm.I32, wasm.I64}, Results: []wasm.ValType{wasm.F32}},
		{Results: []wasm.ValType{wasm.V128, wasm.FuncRef}},
	}
	if !reflect.DeepEqual(m.Types, want) {
		t.Errorf("types = %v, want %v", m.Types, want)
	}
}

func TestDecodeImports(t *testing.T) {
	m := mustDecode(t, mod(
		sec(secType, "\x01\x60\x00\x00"),
		sec(secImport, "\x04",
			str("env")+str("f")+"\x00\x00",
			str("env")+str("t")+"\x01\x6f\x01\x01\x02",
			str("env")+str("m")+"\x02\x00\x03",
			str("env")+str("g")+"\x03\x7c\x01")))
	if len(m.Imports) != 4 {
		t.Fatalf("got %d imports", len(m.Imports))
	}
	if !reflect.DeepEqual(m.ImportedFuncs, []uint32{0}) ||
		!reflect.DeepEqual(m.ImportedTables, []wasm.TableType{{Elem: wasm.ExternRef, Limits: wasm.Limits{Min: 1, Max: 2, HasMax: true}}}) ||
		!reflect.DeepEqual(m.ImportedMemories, []wasm.MemType{{Limits: wasm.Limits{Min: 3}}}) ||
		!reflect.DeepEqual(m.ImportedGlobals, []wasm.GlobalType{{Type: wasm.F64, Mutable: true}}) {
		t.Errorf("per-kind import views wrong: %+v", m)
	}
	if m.Imports[3].Module != "env" || m.Imports[3].Name != "g" || m.Imports[3].Kind != wasm.ExternGlobal {
		t.Errorf("import 3 = %+v", m.Imports[3])
	}
}

func TestDecodeFunctionsAndCode(t *testing.T) {
	code := sec(secCode, "\x02",
		// body 0: 2 groups (2 x i32, 1 x f64), then nop end
		"\x07"+"\x02\x02\x7f\x01\x7c"+"\x01\x0b",
		// body 1: no locals, just end
		"\x02\x00\x0b")
	b := mod(
		sec(secType, "\x01\x60\x01\x7f\x00"),
		sec(secFunction, "\x02\x00\x00"),
		code)
	m := mustDecode(t, b)
	if len(m.Funcs) != 2 {
		t.Fatalf("got %d funcs", len(m.Funcs))
	}
	f := m.Funcs[0]
	if want := []wasm.ValType{wasm.I32, wasm.I32, wasm.F64}; !reflect.DeepEqual(f.Locals, want) {
		t.Errorf("locals = %v, want %v", f.Locals, want)
	}
	if !bytes.Equal(f.Body, []byte{0x01, 0x0b}) {
		t.Errorf("body = % x", f.Body)
	}
	codeStart := len(b) - len(code)
	// section id, size, count, body size: the locals start right after.
	if want := codeStart + 4; int(f.BodyStart) != want {
		t.Errorf("BodyStart = %d, want %d", f.BodyStart, want)
	}
	if want := int(f.BodyStart) + 5; int(f.BodyOffset) != want {
		t.Errorf("BodyOffset = %d, want %d", f.BodyOffset, want)
	}
	if !bytes.Equal(b[f.BodyOffset:int(f.BodyOffset)+len(f.Body)], f.Body) {
		t.Error("Body is not the file's bytes at BodyOffset")
	}
	g := m.Funcs[1]
	if g.Locals != nil || !bytes.Equal(g.Body, []byte{0x0b}) || g.BodyOffset != g.BodyStart+1 {
		t.Errorf("func 1 = %+v", g)
	}
}

func TestDecodeTablesMemoriesGlobalsExportsStart(t *testing.T) {
	m := mustDecode(t, mod(
		sec(secType, "\x01\x60\x00\x00"),
		sec(secFunction, "\x01\x00"),
		sec(secTable, "\x02\x70\x00\x05\x6f\x01\x00\x0a"),
		sec(secMemory, "\x01\x01\x01\x80\x80\x04"),
		sec(secGlobal, "\x01\x7f\x01\x41\x2a\x0b"),
		sec(secExport, "\x02", str("run")+"\x00\x00", str("mem")+"\x02\x00"),
		sec(secStart, "\x00"),
		sec(secCode, "\x01\x02\x00\x0b")))
	wantTables := []wasm.TableType{
		{Elem: wasm.FuncRef, Limits: wasm.Limits{Min: 5}},
		{Elem: wasm.ExternRef, Limits: wasm.Limits{Min: 0, Max: 10, HasMax: true}},
	}
	if !reflect.DeepEqual(m.Tables, wantTables) {
		t.Errorf("tables = %+v", m.Tables)
	}
	if want := []wasm.MemType{{Limits: wasm.Limits{Min: 1, Max: 65536, HasMax: true}}}; !reflect.DeepEqual(m.Memories, want) {
		t.Errorf("memories = %+v", m.Memories)
	}
	wantGlobals := []wasm.Global{{Type: wasm.GlobalType{Type: wasm.I32, Mutable: true}, Init: wasm.ConstExpr{Bytes: []byte{0x41, 0x2a, 0x0b}}}}
	if !reflect.DeepEqual(m.Globals, wantGlobals) {
		t.Errorf("globals = %+v", m.Globals)
	}
	wantExports := []wasm.Export{{Name: "run", Kind: wasm.ExternFunc}, {Name: "mem", Kind: wasm.ExternMemory}}
	if !reflect.DeepEqual(m.Exports, wantExports) {
		t.Errorf("exports = %+v", m.Exports)
	}
	if !m.HasStart || m.Start != 0 {
		t.Errorf("start = %v %d", m.HasStart, m.Start)
	}
}

func TestDecodeElementForms(t *testing.T) {
	off := "\x41\x03\x0b" // i32.const 3
	refFunc := "\xd2\x00\x0b"
	nullExtern := "\xd0\x6f\x0b"
	offset := wasm.ConstExpr{Bytes: []byte(off)}
	tests := []struct {
		name string
		seg  string
		want wasm.Elem
	}{
		{"0 active table 0 indices", "\x00" + off + "\x02\x00\x01",
			wasm.Elem{Mode: wasm.SegmentActive, Offset: offset, Type: wasm.FuncRef, FuncIndices: []uint32{0, 1}}},
		{"1 passive indices", "\x01\x00\x01\x01",
			wasm.Elem{Mode: wasm.SegmentPassive, Type: wasm.FuncRef, FuncIndices: []uint32{1}}},
		{"2 active explicit table indices", "\x02\x01" + off + "\x00\x00",
			wasm.Elem{Mode: wasm.SegmentActive, Table: 1, Offset: offset, Type: wasm.FuncRef, FuncIndices: []uint32{}}},
		{"3 declarative indices", "\x03\x00\x01\x00",
			wasm.Elem{Mode: wasm.SegmentDeclarative, Type: wasm.FuncRef, FuncIndices: []uint32{0}}},
		{"4 active table 0 exprs", "\x04" + off + "\x01" + refFunc,
			wasm.Elem{Mode: wasm.SegmentActive, Offset: offset, Type: wasm.FuncRef, Exprs: []wasm.ConstExpr{{Bytes: []byte(refFunc)}}}},
		{"5 passive exprs", "\x05\x6f\x01" + nullExtern,
			wasm.Elem{Mode: wasm.SegmentPassive, Type: wasm.ExternRef, Exprs: []wasm.ConstExpr{{Bytes: []byte(nullExtern)}}}},
		{"6 active explicit table exprs", "\x06\x02" + off + "\x70\x02" + refFunc + refFunc,
			wasm.Elem{Mode: wasm.SegmentActive, Table: 2, Offset: offset, Type: wasm.FuncRef, Exprs: []wasm.ConstExpr{{Bytes: []byte(refFunc)}, {Bytes: []byte(refFunc)}}}},
		{"7 declarative exprs", "\x07\x70\x01" + refFunc,
			wasm.Elem{Mode: wasm.SegmentDeclarative, Type: wasm.FuncRef, Exprs: []wasm.ConstExpr{{Bytes: []byte(refFunc)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustDecode(t, mod(sec(secElement, "\x01", tt.seg)))
			if len(m.Elems) != 1 || !reflect.DeepEqual(m.Elems[0], tt.want) {
				t.Errorf("got %+v\nwant %+v", m.Elems, tt.want)
			}
		})
	}
}

func TestDecodeDataForms(t *testing.T) {
	off := "\x41\x10\x0b"
	m := mustDecode(t, mod(
		sec(secMemory, "\x01\x00\x01"),
		sec(secDataCount, "\x03"),
		sec(secData, "\x03",
			"\x00"+off+str("hi"),
			"\x01"+str("passive"),
			"\x02\x01"+off+str(""))))
	want := []wasm.Data{
		{Mode: wasm.SegmentActive, Offset: wasm.ConstExpr{Bytes: []byte(off)}, Init: []byte("hi")},
		{Mode: wasm.SegmentPassive, Init: []byte("passive")},
		{Mode: wasm.SegmentActive, Memory: 1, Offset: wasm.ConstExpr{Bytes: []byte(off)}, Init: []byte{}},
	}
	if !reflect.DeepEqual(m.Datas, want) {
		t.Errorf("datas = %+v\nwant %+v", m.Datas, want)
	}
	if !m.HasDataCount || m.DataCount != 3 {
		t.Errorf("data count = %v %d", m.HasDataCount, m.DataCount)
	}
}

func TestDecodeCustomSectionsAnywhere(t *testing.T) {
	m := mustDecode(t, mod(
		sec(secCustom, str("a"), "\x01\x02"),
		sec(secType, "\x00"),
		sec(secCustom, str("b")),
		sec(secMemory, "\x00"),
		sec(secCustom, str("c"), "payload")))
	want := []wasm.CustomSection{{Name: "a", Data: []byte{1, 2}}, {Name: "b", Data: []byte{}}, {Name: "c", Data: []byte("payload")}}
	if !reflect.DeepEqual(m.Customs, want) {
		t.Errorf("customs = %+v", m.Customs)
	}
	if m.Names != nil {
		t.Errorf("names = %+v without a name section", m.Names)
	}
}

func TestDecodeNameSection(t *testing.T) {
	names := sec(nameModule, str("mod")) +
		sec(nameFunction, "\x02", "\x00"+str("main"), "\x03"+str("helper")) +
		sec(nameLocal, "\x01", "\x00"+"\x02"+"\x00"+str("x")+"\x01"+str("y")) +
		sec(7, "\x00") // a global-names subsection of the extended proposal: skipped
	m := mustDecode(t, mod(sec(secCustom, str("name"), names)))
	want := &wasm.Names{
		Module: "mod",
		Funcs:  map[uint32]string{0: "main", 3: "helper"},
		Locals: map[uint32]map[uint32]string{0: {0: "x", 1: "y"}},
	}
	if !reflect.DeepEqual(m.Names, want) {
		t.Errorf("names = %+v, want %+v", m.Names, want)
	}
	if m.FuncName(3) != "helper" {
		t.Errorf("FuncName(3) = %q", m.FuncName(3))
	}
	if len(m.Customs) != 1 || m.Customs[0].Name != "name" {
		t.Errorf("name section not kept as a custom section: %+v", m.Customs)
	}
}

func TestDecodeMalformedNameSectionIgnored(t *testing.T) {
	bad := map[string]string{
		"truncated subsection":    "\x01\x05\x01",
		"bad UTF-8":               sec(nameModule, "\x02\xff\xfe"),
		"out of order":            sec(nameFunction, "\x00") + sec(nameModule, str("m")),
		"duplicate":               sec(nameModule, str("m")) + sec(nameModule, str("n")),
		"unsorted function map":   sec(nameFunction, "\x02", "\x03"+str("a"), "\x01"+str("b")),
		"subsection size too big": sec(nameModule, str("m"), "x"),
		"hostile count":           sec(nameFunction, "\xff\xff\xff\xff\x0f"),
	}
	for name, content := range bad {
		t.Run(name, func(t *testing.T) {
			m := mustDecode(t, mod(sec(secCustom, str("name"), content)))
			if m.Names != nil {
				t.Errorf("Names = %+v, want nil", m.Names)
			}
			if len(m.Customs) != 1 || string(m.Customs[0].Data) != content {
				t.Errorf("custom section not kept: %+v", m.Customs)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	typ := sec(secType, "\x01\x60\x00\x00")
	fn := sec(secFunction, "\x01\x00")
	tests := []struct {
		name    string
		in      []byte
		want    error
		section string
		offset  int
	}{
		{"empty file", nil, wasm.ErrUnexpectedEnd, "", 0},
		{"short magic", []byte("\x00as"), wasm.ErrUnexpectedEnd, "", 3},
		{"bad magic", []byte("\x00ASM\x01\x00\x00\x00"), ErrMagic, "", 0},
		{"short version", []byte("\x00asm\x01"), wasm.ErrUnexpectedEnd, "", 5},
		{"bad version", []byte("\x00asm\x02\x00\x00\x00"), ErrVersion, "", 4},
		{"section id 13", mod("\x0d\x00"), ErrSectionID, "", 8},
		{"section size past the file", mod("\x01\x05\x00"), ErrLength, "", 9},
		{"section size LEB too long", mod("\x01\x80\x80\x80\x80\x80\x00"), wasm.ErrLEBTooLong, "", 9},
		{"section size LEB too large", mod("\x01\x80\x80\x80\x80\x70"), wasm.ErrLEBTooLarge, "", 9},
		{"section with bytes left over", mod(sec(secType, "\x00\x00")), ErrSectionSize, "type", 11},
		{"duplicate section", mod(sec(secType, "\x00"), sec(secType, "\x00")), ErrSectionOrder, "type", 11},
		{"sections out of order", mod(sec(secMemory, "\x00"), sec(secTable, "\x00")), ErrSectionOrder, "table", 11},
		{"data count after code", mod(sec(secCode, "\x00"), sec(secDataCount, "\x00")), ErrSectionOrder, "data count", 11},
		{"count beyond section", mod(sec(secType, "\xff\xff\xff\xff\x0f")), ErrEndOfSection, "type", 10},
		{"item beyond section", mod(sec(secType, "\x01\x60\x00")), ErrEndOfSection, "type", 13},
		{"bad function type form", mod(sec(secType, "\x01\x61\x00\x00")), ErrFuncType, "type", 11},
		{"bad value type", mod(sec(secType, "\x01\x60\x01\x40\x00")), ErrValType, "type", 13},
		{"bad import kind", mod(sec(secImport, "\x01", str("a")+str("b")+"\x05\x00")), ErrImportKind, "import", 15},
		{"bad mutability", mod(sec(secGlobal, "\x01\x7f\x02\x41\x00\x0b")), ErrMutability, "global", 12},
		{"bad table element type", mod(sec(secTable, "\x01\x7f\x00\x00")), ErrRefType, "table", 11},
		{"limits flags too large", mod(sec(secMemory, "\x01\x02\x00")), wasm.ErrLEBTooLarge, "memory", 11},
		{"limits flags too long", mod(sec(secMemory, "\x01\x81\x00\x00")), wasm.ErrLEBTooLong, "memory", 11},
		{"bad export kind", mod(sec(secExport, "\x01", str("e")+"\x04\x00")), ErrExportKind, "export", 13},
		{"invalid UTF-8 import name", mod(sec(secImport, "\x01", str("\xc0\x80")+str("b")+"\x00\x00")), ErrUTF8, "import", 11},
		{"invalid UTF-8 custom name", mod(sec(secCustom, str("\xed\xa0\x80"))), ErrUTF8, "custom", 10},
		{"custom section without name", mod("\x00\x00"), ErrEndOfSection, "custom", 10},
		{"string past the file", mod(sec(secImport, "\x01\x7f")), ErrLength, "import", 11},
		{"string past the section", mod(sec(secImport, "\x01\x03ab"), "\x00\x00"), ErrEndOfSection, "import", 11},
		{"function without code", mod(typ, fn), ErrFuncCodeCount, "", 18},
		{"code without function", mod(typ, sec(secCode, "\x01\x02\x00\x0b")), ErrFuncCodeCount, "code", 16},
		{"code count differs", mod(typ, fn, sec(secCode, "\x02\x02\x00\x0b\x02\x00\x0b")), ErrFuncCodeCount, "code", 20},
		{"body without end", mod(typ, fn, sec(secCode, "\x01\x02\x00\x01")), ErrEndExpected, "code", 24},
		{"empty body", mod(typ, fn, sec(secCode, "\x01\x01\x00")), ErrEndExpected, "code", 23},
		{"body size past the section", mod(typ, fn, sec(secCode, "\x01\x05\x00\x0b")), ErrLength, "code", 21},
		{"locals past the body", mod(typ, fn, sec(secCode, "\x01\x02\x01\x01", "\x7f\x0b")), ErrEndOfSection, "code", 24},
		{"too many locals", mod(typ, fn, sec(secCode, "\x01\x08\x02\xa0\x8d\x03\x7f\x01\x7f\x0b")), ErrTooManyLocals, "code", 22},
		{"2^32 locals", mod(typ, fn, sec(secCode, "\x01\x0a\x02\xff\xff\xff\xff\x0f\x7f\x01\x7f\x0b")), ErrTooManyLocals, "code", 22},
		{"data count differs", mod(sec(secDataCount, "\x02"), sec(secData, "\x01\x01\x00")), ErrDataCount, "data", 13},
		{"data count without data", mod(sec(secDataCount, "\x01")), ErrDataCount, "", 11},
		{"bad data segment kind", mod(sec(secData, "\x01\x03\x00")), ErrDataSegment, "data", 11},
		{"bad element segment kind", mod(sec(secElement, "\x01\x08\x00")), ErrElemSegment, "element", 11},
		{"bad element kind", mod(sec(secElement, "\x01\x01\x01\x00")), ErrElemKind, "element", 12},
		{"bad element expr type", mod(sec(secElement, "\x01\x05\x7f\x01\xd2\x00\x0b")), ErrRefType, "element", 12},
		{"illegal opcode in const expr", mod(sec(secGlobal, "\x01\x7f\x00\xf3\x0b")), wasm.ErrIllegalOpcode, "global", 13},
		{"const expr without end", mod(sec(secGlobal, "\x01\x7f\x00\x41\x00")), ErrEndOfSection, "global", 15},
		{"const expr LEB too long", mod(sec(secGlobal, "\x01\x7f\x00\x41\x80\x80\x80\x80\x80\x00\x0b")), wasm.ErrLEBTooLong, "global", 13},
		{"LEB running past the section", mod(sec(secFunction, "\x01\x80"), "\x80\x80\x80\x80\x00"), wasm.ErrLEBTooLong, "function", 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode(tt.in)
			if err == nil {
				t.Fatalf("decoded %+v, want error %v", m, tt.want)
			}
			if m != nil {
				t.Errorf("got a module with the error %v", err)
			}
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not *binary.Error: %v", err, err)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("error %q does not wrap %q", err, tt.want)
			}
			if de.Section != tt.section || de.Offset != tt.offset {
				t.Errorf("error at section %q offset 0x%x, want %q 0x%x (%v)", de.Section, de.Offset, tt.section, tt.offset, err)
			}
			if !strings.HasPrefix(de.Err.Error(), tt.want.Error()) {
				t.Errorf("cause %q does not start with %q", de.Err, tt.want)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := Decode(mod(sec(secImport, "\x01", str("a")+str("bc")+"\x05")))
	if want := "decode import section @0x10: malformed import kind 0x05"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	_, err = Decode([]byte("\x00asm\x02\x00\x00\x00"))
	if want := "decode @0x4: unknown binary version"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestEndOfSectionIsUnexpectedEnd pins that the section-level end error is
// also the generic one, so callers can test for either.
func TestEndOfSectionIsUnexpectedEnd(t *testing.T) {
	if !errors.Is(ErrEndOfSection, wasm.ErrUnexpectedEnd) {
		t.Error("ErrEndOfSection does not wrap wasm.ErrUnexpectedEnd")
	}
}

// TestHostileCountsDoNotAllocate checks that counts far beyond the input are
// refused before they size anything.
func TestHostileCountsDoNotAllocate(t *testing.T) {
	huge := "\xff\xff\xff\xff\x0f"
	inputs := [][]byte{
		mod(sec(secType, huge)),
		mod(sec(secImport, huge)),
		mod(sec(secFunction, huge)),
		mod(sec(secTable, huge)),
		mod(sec(secMemory, huge)),
		mod(sec(secGlobal, huge)),
		mod(sec(secExport, huge)),
		mod(sec(secElement, huge)),
		mod(sec(secElement, "\x01\x01\x00"+huge)),
		mod(sec(secElement, "\x01\x05\x70"+huge)),
		mod(sec(secCode, huge)),
		mod(sec(secData, huge)),
		mod(sec(secType, "\x01\x60"+huge)),
	}
	for _, in := range inputs {
		allocs := testing.AllocsPerRun(10, func() { _, _ = Decode(in) })
		if allocs > 20 {
			t.Errorf("% x: %v allocations", in, allocs)
		}
		if _, err := Decode(in); err == nil {
			t.Errorf("% x decoded", in)
		}
	}
}

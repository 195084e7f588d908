package validate

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Opcode bytes used to assemble bodies.
const (
	xUnreachable = 0x00
	xBlock       = 0x02
	xLoop        = 0x03
	xIf          = 0x04
	xElse        = 0x05
	xEnd         = 0x0B
	xBr          = 0x0C
	xBrIf        = 0x0D
	xBrTable     = 0x0E
	xReturn      = 0x0F
	xCall        = 0x10
	xDrop        = 0x1A
	xSelect      = 0x1B
	xSelectT     = 0x1C
	xLocalGet    = 0x20
	xLocalSet    = 0x21
	xGlobalGet   = 0x23
	xGlobalSet   = 0x24
	xI32Load     = 0x28
	xI32Const    = 0x41
	xI64Const    = 0x42
	xF32Const    = 0x43
	xI32Add      = 0x6A
	xRefNull     = 0xD0
	xRefFunc     = 0xD2
	xPrefix      = 0xFC
	xSIMD        = 0xFD
	tI32         = 0x7F
	tI64         = 0x7E
	tF64         = 0x7C
	tV128        = 0x7B
	tFuncRef     = 0x70
	tExternRef   = 0x6F
	tEmpty       = 0x40
)

var (
	vI32 = []wasm.ValType{wasm.I32}
	vI64 = []wasm.ValType{wasm.I64}
)

// module1 builds a module with one defined function of type params->results
// and the given body (without its final end, which is appended).
func module1(params, results []wasm.ValType, body ...byte) *wasm.Module {
	return &wasm.Module{
		Types: []wasm.FuncType{{Params: params, Results: results},
			{Params: vI32, Results: []wasm.ValType{wasm.I32, wasm.I32}}, // 1
			{Params: vI32}, // 2
		},
		Funcs: []wasm.Func{{TypeIndex: 0, Body: append(body, xEnd)}},
	}
}

func wantErr(t *testing.T, err error, class error, text string) {
	t.Helper()
	if err == nil {
		t.Fatalf("validated, want %v %q", class, text)
	}
	if !errors.Is(err, class) {
		t.Fatalf("got %v, want class %v", err, class)
	}
	if !strings.Contains(err.Error(), text) {
		t.Fatalf("got %q, want text %q", err, text)
	}
}

func TestBodies(t *testing.T) {
	f32 := []byte{xF32Const, 0, 0, 0, 0}
	cases := []struct {
		name            string
		params, results []wasm.ValType
		body            []byte
		want            string // "" = valid
	}{
		{"add", nil, vI32, []byte{xI32Const, 1, xI32Const, 2, xI32Add}, ""},
		{"add mismatch", nil, vI32, append([]byte{xI32Const, 1}, append(f32, xI32Add)...), "type mismatch: expected i32, got f32"},
		{"empty stack", nil, vI32, []byte{xI32Add}, "type mismatch"},
		{"leftover value", nil, nil, []byte{xI32Const, 1}, "type mismatch"},
		{"missing result", nil, vI32, nil, "type mismatch"},
		{"unreachable polymorphic", nil, vI32, []byte{xUnreachable, xI32Add}, ""},
		{"unreachable still typed", nil, vI32, append([]byte{xUnreachable}, append(f32, xI32Add)...), "type mismatch"},
		{"br polymorphic", nil, vI64, []byte{xI64Const, 0, xBr, 0, xI32Add, xDrop, xI64Const, 1}, ""},
		{"return", nil, vI32, []byte{xI32Const, 7, xReturn, xI64Const, 0}, "type mismatch"},
		{"return polymorphic", nil, vI32, []byte{xI32Const, 7, xReturn}, ""},
		{"unknown local", vI32, nil, []byte{xLocalGet, 1, xDrop}, "unknown local 1"},
		{"local set", vI32, nil, []byte{xI64Const, 0, xLocalSet, 0}, "type mismatch"},
		{"unknown label", nil, nil, []byte{xBr, 1}, "unknown label"},
		{"block result", nil, vI32, []byte{xBlock, tI32, xI32Const, 0, xEnd}, ""},
		{"block wrong result", nil, vI32, []byte{xBlock, tI32, xI64Const, 0, xEnd}, "type mismatch"},
		{"multi-value block", nil, []wasm.ValType{wasm.I32, wasm.I32}, []byte{xI32Const, 1, xBlock, 1, xI32Const, 2, xEnd}, ""},
		{"block type index unknown", nil, nil, []byte{xBlock, 9, xEnd}, "unknown type 9"},
		{"loop label takes params", nil, nil, []byte{xI32Const, 1, xLoop, 2, xDrop, xBr, 0, xEnd}, "type mismatch"},
		{"if without else needs params=results", nil, vI32, []byte{xI32Const, 1, xIf, tI32, xI32Const, 1, xEnd}, "type mismatch"},
		{"if else", nil, vI32, []byte{xI32Const, 1, xIf, tI32, xI32Const, 1, xElse, xI32Const, 2, xEnd}, ""},
		{"if cond", nil, nil, []byte{xI64Const, 1, xIf, tEmpty, xEnd}, "type mismatch"},
		{"br_if keeps", nil, vI32, []byte{xBlock, tI32, xI32Const, 1, xI32Const, 0, xBrIf, 0, xEnd}, ""},
		{"br_if refines unreachable", nil, nil, []byte{xBlock, tI32, xUnreachable, xI32Const, 0, xBrIf, 0, 0x50 /* i64.eqz */, xDrop, xI32Const, 0, xEnd, xDrop}, "type mismatch"},
		{"br_table arity", nil, nil, []byte{xBlock, tI32, xBlock, tEmpty, xI32Const, 0, xBrTable, 1, 0, 1, xEnd, xI32Const, 0, xEnd, xDrop}, "type mismatch"},
		{"br_table unreachable mixed", nil, nil, []byte{xBlock, tF64, xBlock, 0x7D, xUnreachable, xI32Const, 1, xBrTable, 2, 0, 1, 1, xEnd, xDrop, xF64Const8()[0], 0, 0, 0, 0, 0, 0, 0, 0, xEnd, xDrop}, ""},
		{"select numeric", nil, vI32, []byte{xI32Const, 1, xI32Const, 2, xI32Const, 0, xSelect}, ""},
		{"select mixed", nil, vI32, []byte{xI32Const, 1, xI64Const, 2, xI32Const, 0, xSelect}, "type mismatch"},
		{"select refs need type", nil, nil, []byte{xRefNull, tFuncRef, xRefNull, tFuncRef, xI32Const, 0, xSelect, xDrop}, "type mismatch"},
		{"select t", nil, nil, []byte{xRefNull, tFuncRef, xRefNull, tFuncRef, xI32Const, 0, xSelectT, 1, tFuncRef, xDrop}, ""},
		{"select t arity", nil, nil, []byte{xI32Const, 0, xI32Const, 0, xI32Const, 0, xSelectT, 2, tI32, tI32, xDrop}, "invalid result arity"},
		{"select v128", nil, nil, append(append(v128Const(), v128Const()...), xI32Const, 0, xSelect, xDrop), ""},
		{"call unknown", nil, nil, []byte{xCall, 3}, "unknown function 3"},
		{"memory unknown", nil, nil, []byte{xI32Const, 0, xI32Load, 2, 0, xDrop}, "unknown memory 0"},
		{"ref.func undeclared", nil, nil, []byte{xRefFunc, 0, xDrop}, "undeclared function reference"},
		{"ref.is_null on i32", nil, nil, []byte{xI32Const, 0, 0xD1, xDrop}, "type mismatch"},
		{"global unknown", nil, nil, []byte{xGlobalGet, 0, xDrop}, "unknown global 0"},
		{"data.drop unknown", nil, nil, []byte{xPrefix, 9, 0}, "unknown data segment 0"},
		{"elem.drop unknown", nil, nil, []byte{xPrefix, 13, 4}, "unknown elem segment 4"},
		{"table unknown", nil, nil, []byte{xPrefix, 16, 0, xDrop}, "unknown table 0"},
		{"simd lane", nil, nil, append(v128Const(), xSIMD, 0x15, 16, xDrop), "invalid lane index"},
		{"simd lane ok", nil, vI32, append(v128Const(), xSIMD, 0x15, 15), ""},
		{"simd shuffle lane", nil, nil, append(append(append(v128Const(), v128Const()...), xSIMD, 0x0D), append(make([]byte, 15), 32, xDrop)...), "invalid lane index"},
		{"simd shift", nil, nil, append(v128Const(), xI32Const, 1, xSIMD, 0x6B, xDrop), ""},
		{"simd bitselect", nil, nil, append(append(v128Const(), v128Const()...), append(v128Const(), xSIMD, 0x52, xDrop)...), ""},
		{"simd all_true", nil, vI32, append(v128Const(), xSIMD, 0x63), ""},
		{"simd wrong shape", nil, nil, []byte{xI32Const, 0, xSIMD, 0x61, xDrop}, "type mismatch: expected v128, got i32"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Module(module1(c.params, c.results, c.body...), nil)
			if c.want == "" {
				if err != nil {
					t.Fatalf("valid body rejected: %v", err)
				}
				return
			}
			wantErr(t, err, ErrInvalid, c.want)
			var e *Error
			if !errors.As(err, &e) || e.Func != 0 || e.Offset < 0 {
				t.Fatalf("error %v is not located in func 0", err)
			}
		})
	}
}

func xF64Const8() []byte { return []byte{0x44} }

func v128Const() []byte { return append([]byte{xSIMD, 0x0C}, make([]byte, 16)...) }

func TestMemoryRules(t *testing.T) {
	m := module1(nil, nil, xI32Const, 0, xI32Load, 3, 0, xDrop)
	m.Memories = []wasm.MemType{{Limits: wasm.Limits{Min: 1}}}
	wantErr(t, Module(m, nil), ErrInvalid, "alignment must not be larger than natural")
	m.Funcs[0].Body = []byte{xI32Const, 0, xI32Load, 2, 0, xDrop, xEnd}
	if err := Module(m, nil); err != nil {
		t.Fatalf("natural alignment rejected: %v", err)
	}
	// v128.load32_lane: alignment ≤ 4 bytes, lane < 4.
	m.Funcs[0].Body = append(append([]byte{xI32Const, 0}, v128Const()...), xSIMD, 0x56, 3, 0, 4, xDrop, xEnd)
	wantErr(t, Module(m, nil), ErrInvalid, "alignment must not be larger than natural")
	m.Funcs[0].Body = append(append([]byte{xI32Const, 0}, v128Const()...), xSIMD, 0x56, 2, 0, 4, xDrop, xEnd)
	wantErr(t, Module(m, nil), ErrInvalid, "invalid lane index")
	m.Funcs[0].Body = append(append([]byte{xI32Const, 0}, v128Const()...), xSIMD, 0x56, 2, 0, 3, xDrop, xEnd)
	if err := Module(m, nil); err != nil {
		t.Fatalf("load lane rejected: %v", err)
	}

	for _, c := range []struct {
		lim  wasm.Limits
		want string
	}{
		{wasm.Limits{Min: 65537}, "memory size must be at most 65536 pages (4GiB)"},
		{wasm.Limits{Min: 1, Max: 65537, HasMax: true}, "memory size must be at most 65536 pages (4GiB)"},
		{wasm.Limits{Min: 2, Max: 1, HasMax: true}, "size minimum must not be greater than maximum"},
	} {
		m := &wasm.Module{Memories: []wasm.MemType{{Limits: c.lim}}}
		wantErr(t, Module(m, nil), ErrInvalid, c.want)
	}
	m = &wasm.Module{Memories: []wasm.MemType{{}, {}}}
	wantErr(t, Module(m, nil), ErrInvalid, "multiple memories")
	m = &wasm.Module{Memories: []wasm.MemType{{}}}
	m.AddImport(wasm.Import{Kind: wasm.ExternMemory})
	wantErr(t, Module(m, nil), ErrInvalid, "multiple memories")
	m = &wasm.Module{Tables: []wasm.TableType{{Elem: wasm.FuncRef, Limits: wasm.Limits{Min: 3, Max: 2, HasMax: true}}}}
	wantErr(t, Module(m, nil), ErrInvalid, "size minimum must not be greater than maximum")
}

func TestDataCount(t *testing.T) {
	body := []byte{xI32Const, 0, xI32Const, 0, xI32Const, 0, xPrefix, 8, 0, 0}
	m := module1(nil, nil, body...)
	m.Memories = []wasm.MemType{{Limits: wasm.Limits{Min: 1}}}
	m.Datas = []wasm.Data{{Mode: wasm.SegmentPassive}}
	wantErr(t, Module(m, nil), ErrMalformed, "data count section required")
	m.HasDataCount, m.DataCount = true, 1
	if err := Module(m, nil); err != nil {
		t.Fatalf("memory.init with data count rejected: %v", err)
	}
	m.Funcs[0].Body = []byte{xPrefix, 9, 1, xEnd}
	wantErr(t, Module(m, nil), ErrInvalid, "unknown data segment 1")
}

func TestTableRules(t *testing.T) {
	// table.copy between funcref and externref tables.
	m := module1(nil, nil, xI32Const, 0, xI32Const, 0, xI32Const, 0, xPrefix, 14, 0, 1)
	m.Tables = []wasm.TableType{{Elem: wasm.FuncRef}, {Elem: wasm.ExternRef}}
	wantErr(t, Module(m, nil), ErrInvalid, "type mismatch")
	m.Funcs[0].Body = []byte{xI32Const, 0, xI32Const, 0, xI32Const, 0, xPrefix, 14, 1, 1, xEnd}
	if err := Module(m, nil); err != nil {
		t.Fatalf("table.copy rejected: %v", err)
	}
	// table.init of an externref segment into a funcref table.
	m.Elems = []wasm.Elem{{Mode: wasm.SegmentPassive, Type: wasm.ExternRef, Exprs: []wasm.ConstExpr{{Bytes: []byte{xRefNull, tExternRef, xEnd}}}}}
	m.Funcs[0].Body = []byte{xI32Const, 0, xI32Const, 0, xI32Const, 0, xPrefix, 12, 0, 0, xEnd}
	wantErr(t, Module(m, nil), ErrInvalid, "type mismatch")
	m.Funcs[0].Body = []byte{xI32Const, 0, xI32Const, 0, xI32Const, 0, xPrefix, 12, 0, 1, xEnd}
	if err := Module(m, nil); err != nil {
		t.Fatalf("table.init rejected: %v", err)
	}
	// call_indirect needs a funcref table.
	m.Funcs[0].Body = []byte{xI32Const, 0, 0x11, 0, 1, xEnd}
	wantErr(t, Module(m, nil), ErrInvalid, "type mismatch")
	m.Funcs[0].Body = []byte{xI32Const, 0, 0x11, 0, 0, xEnd}
	if err := Module(m, nil); err != nil {
		t.Fatalf("call_indirect rejected: %v", err)
	}
	// Active segment into a table of the other type.
	m.Elems = []wasm.Elem{{Mode: wasm.SegmentActive, Table: 0, Type: wasm.ExternRef,
		Offset: wasm.ConstExpr{Bytes: []byte{xI32Const, 0, xEnd}}}}
	wantErr(t, Module(m, nil), ErrInvalid, "type mismatch")
	m.Elems[0].Table = 2
	wantErr(t, Module(m, nil), ErrInvalid, "unknown table 2")
}

func TestModuleRules(t *testing.T) {
	ok := wasm.ConstExpr{Bytes: []byte{xI32Const, 0, xEnd}}
	importedGlobal := func(mut bool) *wasm.Module {
		m := &wasm.Module{}
		m.AddImport(wasm.Import{Module: "m", Name: "g", Kind: wasm.ExternGlobal, Global: wasm.GlobalType{Type: wasm.I32, Mutable: mut}})
		return m
	}
	cases := []struct {
		name  string
		m     func() *wasm.Module
		class error
		want  string
	}{
		{"global init type", func() *wasm.Module {
			return &wasm.Module{Globals: []wasm.Global{{Type: wasm.GlobalType{Type: wasm.I64}, Init: ok}}}
		}, ErrInvalid, "type mismatch"},
		{"global init not constant", func() *wasm.Module {
			return &wasm.Module{Globals: []wasm.Global{{Type: wasm.GlobalType{Type: wasm.I32},
				Init: wasm.ConstExpr{Bytes: []byte{xI32Const, 0, xI32Const, 0, xI32Add, xEnd}}}}}
		}, ErrInvalid, "constant expression required"},
		{"global init two values", func() *wasm.Module {
			return &wasm.Module{Globals: []wasm.Global{{Type: wasm.GlobalType{Type: wasm.I32},
				Init: wasm.ConstExpr{Bytes: []byte{xI32Const, 0, xI32Const, 0, xEnd}}}}}
		}, ErrInvalid, "type mismatch"},
		{"global init reads defined global", func() *wasm.Module {
			return &wasm.Module{Globals: []wasm.Global{{Type: wasm.GlobalType{Type: wasm.I32}, Init: ok},
				{Type: wasm.GlobalType{Type: wasm.I32}, Init: wasm.ConstExpr{Bytes: []byte{xGlobalGet, 0, xEnd}}}}}
		}, ErrInvalid, "unknown global 0"},
		{"global init reads mutable import", func() *wasm.Module {
			m := importedGlobal(true)
			m.Globals = []wasm.Global{{Type: wasm.GlobalType{Type: wasm.I32}, Init: wasm.ConstExpr{Bytes: []byte{xGlobalGet, 0, xEnd}}}}
			return m
		}, ErrInvalid, "constant expression required"},
		{"global init reads immutable import", func() *wasm.Module {
			m := importedGlobal(false)
			m.Globals = []wasm.Global{{Type: wasm.GlobalType{Type: wasm.I32}, Init: wasm.ConstExpr{Bytes: []byte{xGlobalGet, 0, xEnd}}}}
			return m
		}, nil, ""},
		{"global.set immutable", func() *wasm.Module {
			m := module1(nil, nil, xI32Const, 0, xGlobalSet, 0)
			m.Globals = []wasm.Global{{Type: wasm.GlobalType{Type: wasm.I32}, Init: ok}}
			return m
		}, ErrInvalid, "global is immutable"},
		{"duplicate export", func() *wasm.Module {
			m := module1(nil, nil)
			m.Exports = []wasm.Export{{Name: "a"}, {Name: "a"}}
			return m
		}, ErrInvalid, "duplicate export name"},
		{"export unknown memory", func() *wasm.Module {
			return &wasm.Module{Exports: []wasm.Export{{Name: "m", Kind: wasm.ExternMemory}}}
		}, ErrInvalid, "unknown memory 0"},
		{"start type", func() *wasm.Module {
			m := module1(vI32, nil)
			m.HasStart = true
			return m
		}, ErrInvalid, "start function"},
		{"start unknown", func() *wasm.Module {
			m := module1(nil, nil)
			m.HasStart, m.Start = true, 1
			return m
		}, ErrInvalid, "unknown function 1"},
		{"import unknown type", func() *wasm.Module {
			m := &wasm.Module{}
			m.AddImport(wasm.Import{Kind: wasm.ExternFunc, TypeIndex: 0})
			return m
		}, ErrInvalid, "unknown type 0"},
		{"func unknown type", func() *wasm.Module {
			m := module1(nil, nil)
			m.Funcs[0].TypeIndex = 7
			return m
		}, ErrInvalid, "unknown type 7"},
		{"elem unknown function", func() *wasm.Module {
			return &wasm.Module{Elems: []wasm.Elem{{Mode: wasm.SegmentPassive, Type: wasm.FuncRef, FuncIndices: []uint32{0}}}}
		}, ErrInvalid, "unknown function 0"},
		{"data unknown memory", func() *wasm.Module {
			return &wasm.Module{Datas: []wasm.Data{{Mode: wasm.SegmentActive, Offset: ok}}}
		}, ErrInvalid, "unknown memory 0"},
		{"ref.func declared by elem", func() *wasm.Module {
			m := module1(nil, nil, xRefFunc, 0, xDrop)
			m.Elems = []wasm.Elem{{Mode: wasm.SegmentDeclarative, Type: wasm.FuncRef, FuncIndices: []uint32{0}}}
			return m
		}, nil, ""},
		{"ref.func declared by export", func() *wasm.Module {
			m := module1(nil, nil, xRefFunc, 0, xDrop)
			m.Exports = []wasm.Export{{Name: "f"}}
			return m
		}, nil, ""},
		{"ref.func not declared by start", func() *wasm.Module {
			m := module1(nil, nil, xRefFunc, 0, xDrop)
			m.HasStart = true
			return m
		}, ErrInvalid, "undeclared function reference"},
		{"body without end", func() *wasm.Module {
			m := module1(nil, nil)
			m.Funcs[0].Body = []byte{xNop()}
			return m
		}, ErrMalformed, "END opcode expected"},
		{"bytes after end", func() *wasm.Module {
			m := module1(nil, nil)
			m.Funcs[0].Body = []byte{xEnd, xEnd}
			return m
		}, ErrMalformed, "section size mismatch"},
		{"illegal opcode", func() *wasm.Module { return module1(nil, nil, 0xFF) }, ErrMalformed, "illegal opcode"},
		{"malformed wins over invalid", func() *wasm.Module {
			// func 0 is invalid, func 1 malformed: the module is malformed.
			m := module1(nil, nil, xI32Add)
			m.Funcs = append(m.Funcs, wasm.Func{Body: []byte{0x06}})
			return m
		}, ErrMalformed, "illegal opcode"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Module(c.m(), nil)
			if c.class == nil {
				if err != nil {
					t.Fatalf("valid module rejected: %v", err)
				}
				return
			}
			wantErr(t, err, c.class, c.want)
		})
	}
}

func xNop() byte { return 0x01 }

func TestErrorFormat(t *testing.T) {
	m := module1(nil, vI32, xI32Const, 1, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, xI32Add)
	m.Funcs[0].BodyStart, m.Funcs[0].BodyOffset = 100, 102 // two bytes of local declarations
	m.AddImport(wasm.Import{Kind: wasm.ExternFunc, TypeIndex: 0})
	err := Module(m, nil)
	const want = "func 1 @+0xd: type mismatch: expected i32, got f64"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	var e *Error
	if !errors.As(err, &e) || e.Func != 1 || e.Offset != 13 {
		t.Fatalf("got %#v", err)
	}
}

// TestEveryOpcodeIsTyped feeds every WebAssembly 2.0 opcode, with zero
// immediates, to the validator in dead code: none may fall through to the
// "does not know" case.
func TestEveryOpcodeIsTyped(t *testing.T) {
	n := 0
	for op := wasm.Opcode(0); op < wasm.NumOpcodes; op++ {
		if !op.Known() || op == wasm.OpElse || op == wasm.OpEnd {
			continue // structure, tested elsewhere
		}
		n++
		body := []byte{xUnreachable}
		switch {
		case op >= 0x200:
			sub := op - 0x200
			body = append(body, xSIMD, byte(sub&0x7F)|0x80, byte(sub>>7)) // LEB128 sub-opcode
		case op >= 0x100:
			body = append(body, xPrefix, byte(op-0x100))
		default:
			body = append(body, byte(op))
		}
		switch op {
		case wasm.OpRefNull:
			body = append(body, tFuncRef)
		case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
			body = append(body, tEmpty, xEnd)
		}
		body = append(body, make([]byte, 20)...) // immediates, then unreachables
		m := module1(nil, nil, body...)
		m.Memories = []wasm.MemType{{}}
		m.Tables = []wasm.TableType{{Elem: wasm.FuncRef}}
		err := Module(m, nil)
		if err != nil && (strings.Contains(err.Error(), "does not know") || errors.Is(err, ErrMalformed)) {
			t.Errorf("%v: %v", op, err)
		}
	}
	if n < 400 {
		t.Fatalf("only %d opcodes known", n)
	}
}

// Issue 14: 3 million nested blocks made validation and lowering hold a
// control frame per level, 1.9 GB in all. Nesting beyond MaxNestingDepth
// is refused as it is read, before the frames pile up.
func TestDeepNestingRejected(t *testing.T) {
	nested := func(depth int) *wasm.Module {
		body := make([]byte, 0, 4*depth)
		for i := 0; i < depth; i++ {
			body = append(body, xBlock, tEmpty)
		}
		for i := 0; i < depth; i++ {
			body = append(body, xEnd)
		}
		return module1(nil, nil, body...)
	}
	if err := Module(nested(MaxNestingDepth), nil); err != nil {
		t.Fatalf("%d nested blocks: %v", MaxNestingDepth, err)
	}
	deep := nested(1_000_000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := Module(deep, nil)
	runtime.ReadMemStats(&after)
	wantErr(t, err, ErrMalformed, "nested more than")
	if !errors.Is(err, binary.ErrLimit) {
		t.Errorf("%v does not wrap binary.ErrLimit", err)
	}
	// Frames for MaxNestingDepth levels are a few megabytes; for a million,
	// tens of megabytes more.
	if used := after.TotalAlloc - before.TotalAlloc; used > 32<<20 {
		t.Errorf("1000000 nested blocks: validation allocated %d bytes", used)
	}
}

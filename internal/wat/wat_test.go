package wat

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/binary"
)

func TestParseIntLiterals(t *testing.T) {
	for _, c := range []struct {
		s    string
		bits int
		want uint64
		err  error
	}{
		{"0", 32, 0, nil},
		{"42", 32, 42, nil},
		{"+42", 32, 42, nil},
		{"-1", 32, 0xffffffff, nil},
		{"4294967295", 32, 0xffffffff, nil},
		{"-2147483648", 32, 0x80000000, nil},
		{"0xffff_ffff", 32, 0xffffffff, nil},
		{"1_000_000", 32, 1000000, nil},
		{"-0x8000_0000_0000_0000", 64, 1 << 63, nil},
		{"18446744073709551615", 64, math.MaxUint64, nil},
		{"-128", 8, 0x80, nil},
		{"255", 8, 0xff, nil},
		{"4294967296", 32, 0, errRange},
		{"-2147483649", 32, 0, errRange},
		{"-129", 8, 0, errRange},
		{"1__0", 32, 0, errNotNumber},
		{"_1", 32, 0, errNotNumber},
		{"1_", 32, 0, errNotNumber},
		{"0x", 32, 0, errNotNumber},
		{"0x_1", 32, 0, errNotNumber},
		{"1a", 32, 0, errNotNumber},
		{"--1", 32, 0, errNotNumber},
	} {
		got, err := ParseInt(c.s, c.bits)
		if !errors.Is(err, c.err) || got != c.want {
			t.Errorf("ParseInt(%q, %d) = %#x, %v; want %#x, %v", c.s, c.bits, got, err, c.want, c.err)
		}
	}
}

func TestParseFloatLiterals(t *testing.T) {
	for _, c := range []struct {
		s    string
		f32  uint32
		f64  uint64
		fail bool
	}{
		{s: "0", f32: 0, f64: 0},
		{s: "-0", f32: 0x80000000, f64: 1 << 63},
		{s: "1.5", f32: 0x3fc00000, f64: 0x3ff8000000000000},
		{s: "1e3", f32: 0x447a0000, f64: 0x408f400000000000},
		{s: "1.", f32: 0x3f800000, f64: 0x3ff0000000000000},
		{s: "1_000.000_1", f32: math.Float32bits(1000.0001), f64: math.Float64bits(1000.0001)},
		{s: "0x1p-1", f32: 0x3f000000, f64: 0x3fe0000000000000},
		{s: "0x1.8", f32: 0x3fc00000, f64: 0x3ff8000000000000},
		{s: "-0x1.8p1", f32: 0xc0400000, f64: 0xc008000000000000},
		{s: "0x1.fffffep127", f32: 0x7f7fffff, f64: 0x47efffffe0000000},
		{s: "0x1p-149", f32: 1, f64: 0x36a0000000000000},
		// Halfway between the two smallest subnormals: to even (1).
		{s: "0x1.8p-149", f32: 2, f64: 0x36a8000000000000},
		// Just above halfway by a bit far beyond the kept digits.
		{s: "0x1.000001000000000000000000000000000000000000001p0", f32: 0x3f800001, f64: 0x3ff0000010000000},
		{s: "inf", f32: 0x7f800000, f64: 0x7ff0000000000000},
		{s: "-inf", f32: 0xff800000, f64: 0xfff0000000000000},
		{s: "nan", f32: 0x7fc00000, f64: 0x7ff8000000000000},
		{s: "-nan", f32: 0xffc00000, f64: 0xfff8000000000000},
		{s: "nan:0x1", f32: 0x7f800001, f64: 0x7ff0000000000001},
		{s: "nan:0x20_0000", f32: 0x7fa00000, f64: 0x7ff0000000200000},
		{s: "1e39", fail: true}, // f32 overflows; checked below for f64
		{s: "0x1p128", fail: true},
		{s: "nan:0x0", fail: true},
		{s: ".5", fail: true},
		{s: "1e", fail: true},
		{s: "0x.8p0", fail: true},
		{s: "1__0.0", fail: true},
		{s: "infinity", fail: true},
	} {
		got32, err := ParseF32(c.s)
		if c.fail {
			if err == nil {
				t.Errorf("ParseF32(%q) = %#x, want an error", c.s, got32)
			}
			continue
		}
		if err != nil || got32 != c.f32 {
			t.Errorf("ParseF32(%q) = %#x, %v; want %#x", c.s, got32, err, c.f32)
		}
		got64, err := ParseF64(c.s)
		if err != nil || got64 != c.f64 {
			t.Errorf("ParseF64(%q) = %#x, %v; want %#x", c.s, got64, err, c.f64)
		}
	}
	if v, err := ParseF64("1e39"); err != nil || v != math.Float64bits(1e39) {
		t.Errorf("ParseF64(1e39) = %#x, %v", v, err)
	}
	if _, err := ParseF64("nan:0x10000000000000"); err == nil {
		t.Error("f64 NaN payload of 53 bits accepted")
	}
}

// Errors name the line and column of the text at fault.
func TestParseErrorsHaveLineAndColumn(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"(module\n  (func (i32.bogus)))", "2:10: unknown operator i32.bogus"},
		{"(module (func", "1:14: unexpected end of text: the list opened at 1:9 is not closed"},
		{"(module))", "1:9: unexpected token \")\""},
		{"(module (func (result i32)\n   i32.const 0x1_0000_0000))", "2:14: i32 constant \"0x1_0000_0000\": constant out of range"},
		{"(module (func $f) (func $f))", "1:25: duplicate func $f"},
		{"(module (func (call $g)))", "1:21: unknown func $g"},
		{"(module (func block $a end $b))", "1:28: mismatching label $b"},
		{"(module (func (br $nope)))", "1:19: unknown label $nope"},
		{"(module (func) (import \"m\" \"f\" (func)))", "1:16: import after func"},
		{"(module (memory 1) (func (i32.load align=3 (i32.const 0))))", "1:36: alignment align=3 must be a power of two"},
		{"(module (export \"\\ff\" (func 0)) (func))", "1:17: malformed UTF-8 encoding"},
		{"(module (func (v128.const i32x4 1 2 3)))", "wrong number of lane literals"},
		{"(module (func (v128.const i8x16 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 256) drop))", "1:63: i8 lane \"256\": constant out of range"},
		{"(module (func (i8x16.extract_lane_s 256 (v128.const i64x2 0 0))))", "1:37: malformed lane index"},
		{"(module (type $t (func (param i32))) (func (type $t) (param i64)))", "1:50: inline function type does not match type $t"},
		{"(module \"a\"\"b\")", "1:9: unexpected token"},
		{"(module (; unclosed", "1:9: unexpected end of text: block comment not closed"},
		{"(module (data \"\\u{d800}\"))", "malformed escape"},
		{"(module (func (local $x i32) (local $x i32)))", "1:37: duplicate local $x"},
		{"(module (func end))", "1:15: unexpected token end: no block to close"},
		{"(module (func block))", "1:15: unexpected end of function: block not closed"},
		{"", "1:1: no module: the text is empty"},
		{"\x00", "1:1: unexpected character"},
	} {
		_, err := Parse([]byte(c.src))
		var e *Error
		if err == nil || !errors.As(err, &e) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q): got %v, want an *Error containing %q", c.src, err, c.want)
		}
	}
}

// Each abbreviation of the text format encodes exactly as what it
// abbreviates.
func TestParseAbbreviationsEncodeAsTheirExpansion(t *testing.T) {
	for _, c := range []struct{ short, long string }{
		{`(func (export "f"))`, `(func) (export "f" (func 0))`},
		{`(func (import "m" "f") (param i32))`, `(import "m" "f" (func (param i32)))`},
		{`(memory (export "m") (import "a" "b") 1 2)`, `(import "a" "b" (memory 1 2)) (export "m" (memory 0))`},
		{`(global (import "a" "b") (mut i64))`, `(import "a" "b" (global (mut i64)))`},
		{`(memory (data "ab" "c"))`, `(memory 1 1) (data (memory 0) (offset (i32.const 0)) "abc")`},
		{`(table funcref (elem 0 0)) (func)`, `(table 2 2 funcref) (elem (table 0) (offset (i32.const 0)) func 0 0) (func)`},
		{`(func (param i32 i64) (result i32) (local f32 f32) (i32.add (local.get 0) (i32.const 1)))`,
			`(type (func (param i32) (param i64) (result i32))) (func (type 0) (local f32) (local f32) local.get 0 i32.const 1 i32.add)`},
		{`(func (if (result i32) (i32.const 1) (then (i32.const 2)) (else (i32.const 3))) drop)`,
			`(func i32.const 1 if (result i32) i32.const 2 else i32.const 3 end drop)`},
		{`(func (block (br 0)))`, `(func block br 0 end)`},
		{`(elem (i32.const 0) 0) (table 1 funcref) (func)`, `(elem (table 0) (offset i32.const 0) func 0) (table 1 funcref) (func)`},
		{`(data (i32.const 1) "x") (memory 1)`, `(data (memory 0) (offset (i32.const 1)) "x") (memory 1)`},
		{`(func (i32.load (i32.const 0)) drop) (memory 1)`, `(func i32.const 0 i32.load offset=0 align=4 drop) (memory 1)`},
		{`(func (call_indirect (param i32) (i32.const 0) (i32.const 0))) (table 1 funcref)`,
			`(type (func)) (type (func (param i32))) (func (type 0) i32.const 0 i32.const 0 call_indirect 0 (type 1)) (table 1 funcref)`},
		{`(func (result f32) (f32.const 0x1p-1))`, `(func (result f32) (f32.const 0.5))`},
		{`(func (result i32) (i32.const 0xffff_ffff))`, `(func (result i32) (i32.const -1))`},
		{`(data "\t\n\r\"\'\\\41\u{e9}")`, "(data \"\\09\\0a\\0d\\22\\27\\5c\\41\\c3\\a9\")"},
	} {
		short, err := Parse([]byte("(module " + c.short + ")"))
		if err != nil {
			t.Errorf("%s: %v", c.short, err)
			continue
		}
		long, err := Parse([]byte("(module " + c.long + ")"))
		if err != nil {
			t.Errorf("%s: %v", c.long, err)
			continue
		}
		if !bytes.Equal(short, long) {
			t.Errorf("%s\nencodes as % x\n%s\nas         % x", c.short, short, c.long, long)
		}
		if _, err := binary.Decode(short); err != nil {
			t.Errorf("%s: the encoding does not decode: %v", c.short, err)
		}
	}
}

// Named functions keep their names for trap traces (the name section).
func TestParseNamesFunctions(t *testing.T) {
	b, err := Parse([]byte(`(module (func $one) (func) (func $three))`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := binary.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range m.Customs {
		if c.Name == "name" {
			found = true
			if !bytes.Contains(c.Data, []byte("\x03one")) || !bytes.Contains(c.Data, []byte("\x05three")) {
				t.Errorf("name section % x lacks the names", c.Data)
			}
		}
	}
	if !found {
		t.Error("no name section")
	}
}

// A module file may hold the fields alone, without (module ...).
func TestParseBareFields(t *testing.T) {
	a, err := Parse([]byte(`(func (export "f")) (memory 1)`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse([]byte(`(module (func (export "f")) (memory 1))`))
	if err != nil || !bytes.Equal(a, b) {
		t.Errorf("bare fields: % x, module: % x (%v)", a, b, err)
	}
	if _, err := Parse([]byte(`(module) (module)`)); err == nil {
		t.Error("two modules in one file accepted")
	}
}

// Nesting deeper than MaxDepth is an error, not a stack or memory blowup.
func TestParseDeepNesting(t *testing.T) {
	src := "(module (func " + strings.Repeat("(block ", MaxDepth) + strings.Repeat(")", MaxDepth) + "))"
	if _, err := Parse([]byte(src)); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("got %v", err)
	}
	ok := "(module (func " + strings.Repeat("(block ", 1000) + strings.Repeat(")", 1000) + "))"
	if _, err := Parse([]byte(ok)); err != nil {
		t.Errorf("1000 nested blocks: %v", err)
	}
}

package wast

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/ferryvm/ferry/api"
)

func mustValue(t *testing.T, js string) value {
	t.Helper()
	var v value
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

func TestParseArg(t *testing.T) {
	tests := []struct {
		js   string
		want api.Value
	}{
		{`{"type": "i32", "value": "4294967295"}`, api.Value{Type: api.ValueTypeI32, Lo: 0xffffffff}},
		{`{"type": "i32", "value": "-1"}`, api.Value{Type: api.ValueTypeI32, Lo: 0xffffffff}},
		{`{"type": "i64", "value": "18446744073709551615"}`, api.Value{Type: api.ValueTypeI64, Lo: math.MaxUint64}},
		{`{"type": "f32", "value": "2143289344"}`, api.Value{Type: api.ValueTypeF32, Lo: 0x7fc00000}},
		{`{"type": "f64", "value": "9221120237041090560"}`, api.Value{Type: api.ValueTypeF64, Lo: 0x7ff8000000000000}},
		{`{"type": "externref", "value": "null"}`, api.Value{Type: api.ValueTypeExternref, Lo: 0}},
		{`{"type": "externref", "value": "0"}`, api.Value{Type: api.ValueTypeExternref, Lo: 1}},
		{`{"type": "externref", "value": "137"}`, api.Value{Type: api.ValueTypeExternref, Lo: 138}},
		{`{"type": "funcref", "value": "null"}`, api.Value{Type: api.ValueTypeFuncref, Lo: 0}},
		{`{"type": "v128", "lane_type": "i32", "value": ["50462976", "117835012", "286263560", "353637138"]}`,
			api.Value{Type: api.ValueTypeV128, Lo: 0x0706050403020100, Hi: 0x1514131211100908}},
		{`{"type": "v128", "lane_type": "i8", "value": ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "255"]}`,
			api.Value{Type: api.ValueTypeV128, Lo: 0x0706050403020100, Hi: 0xff0e0d0c0b0a0908}},
		{`{"type": "v128", "lane_type": "i16", "value": ["65535", "1", "2", "3", "4", "5", "6", "7"]}`,
			api.Value{Type: api.ValueTypeV128, Lo: 0x000300020001ffff, Hi: 0x0007000600050004}},
		{`{"type": "v128", "lane_type": "f64", "value": ["4607182418800017408", "0"]}`,
			api.Value{Type: api.ValueTypeV128, Lo: math.Float64bits(1), Hi: 0}},
	}
	for _, tt := range tests {
		got, err := parseArg(mustValue(t, tt.js))
		if err != nil {
			t.Errorf("%s: %v", tt.js, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.js, got, tt.want)
		}
	}
}

func TestParseArgRejects(t *testing.T) {
	for _, js := range []string{
		`{"type": "f32", "value": "nan:canonical"}`,                 // a pattern, not a value
		`{"type": "i32", "value": "4294967296"}`,                    // out of range
		`{"type": "i32", "value": "x"}`,                             // not a number
		`{"type": "v128", "lane_type": "i32", "value": ["1", "2"]}`, // lane count
		`{"type": "v128", "lane_type": "i3", "value": ["1"]}`,       // lane type
		`{"type": "externref"}`,                                     // no value
		`{"type": "funcref", "value": "3"}`,                         // no portable function numbers
		`{"type": "anyref", "value": "null"}`,                       // unknown type
		`{"type": "i32", "value": 5}`,                               // not a string
	} {
		if v, err := parseArg(mustValue(t, js)); err == nil {
			t.Errorf("%s: parsed as %+v, want an error", js, v)
		}
	}
}

func TestExpectationMatches(t *testing.T) {
	f32 := func(bits uint32) api.Value { return api.Value{Type: api.ValueTypeF32, Lo: uint64(bits)} }
	f64 := func(bits uint64) api.Value { return api.Value{Type: api.ValueTypeF64, Lo: bits} }
	tests := []struct {
		js   string
		got  api.Value
		want bool
	}{
		{`{"type": "i32", "value": "2"}`, api.Value{Type: api.ValueTypeI32, Lo: 2}, true},
		{`{"type": "i32", "value": "2"}`, api.Value{Type: api.ValueTypeI32, Lo: 3}, false},
		{`{"type": "i32", "value": "2"}`, api.Value{Type: api.ValueTypeI64, Lo: 2}, false},
		{`{"type": "f32", "value": "2143289344"}`, f32(0x7fc00000), true},
		{`{"type": "f32", "value": "2143289344"}`, f32(0xffc00000), false}, // exact bits, sign matters
		{`{"type": "f32", "value": "nan:canonical"}`, f32(0x7fc00000), true},
		{`{"type": "f32", "value": "nan:canonical"}`, f32(0xffc00000), true},
		{`{"type": "f32", "value": "nan:canonical"}`, f32(0x7fc00001), false},
		{`{"type": "f32", "value": "nan:canonical"}`, f32(0x7f800000), false}, // infinity
		{`{"type": "f32", "value": "nan:arithmetic"}`, f32(0x7fc00001), true},
		{`{"type": "f32", "value": "nan:arithmetic"}`, f32(0xffe00000), true},
		{`{"type": "f32", "value": "nan:arithmetic"}`, f32(0x7fa00000), false}, // signalling
		{`{"type": "f64", "value": "nan:canonical"}`, f64(0xfff8000000000000), true},
		{`{"type": "f64", "value": "nan:canonical"}`, f64(0x7ff8000000000001), false},
		{`{"type": "f64", "value": "nan:arithmetic"}`, f64(0x7ffc000000000000), true},
		{`{"type": "f64", "value": "nan:arithmetic"}`, f64(0x7ff4000000000000), false},
		{`{"type": "externref", "value": "1"}`, api.Value{Type: api.ValueTypeExternref, Lo: 2}, true},
		{`{"type": "externref", "value": "1"}`, api.Value{Type: api.ValueTypeExternref, Lo: 1}, false},
		{`{"type": "externref", "value": "null"}`, api.Value{Type: api.ValueTypeExternref}, true},
		{`{"type": "externref"}`, api.Value{Type: api.ValueTypeExternref, Lo: 5}, true},
		{`{"type": "externref"}`, api.Value{Type: api.ValueTypeExternref}, false},
		{`{"type": "funcref"}`, api.Value{Type: api.ValueTypeFuncref, Lo: 7}, true},
		{`{"type": "funcref", "value": "null"}`, api.Value{Type: api.ValueTypeFuncref, Lo: 7}, false},
		{`{"type": "funcref", "value": "0"}`, api.Value{Type: api.ValueTypeFuncref, Lo: 7}, true},
		{`{"type": "funcref", "value": "0"}`, api.Value{Type: api.ValueTypeFuncref}, false},
		{`{"type": "v128", "lane_type": "f32", "value": ["nan:canonical", "1065353216", "nan:arithmetic", "0"]}`,
			api.Value{Type: api.ValueTypeV128, Lo: 0x3f800000_7fc00000, Hi: 0x00000000_ffc00001}, true},
		{`{"type": "v128", "lane_type": "f32", "value": ["nan:canonical", "1065353216", "nan:arithmetic", "0"]}`,
			api.Value{Type: api.ValueTypeV128, Lo: 0x3f800000_7fc00001, Hi: 0x00000000_ffc00001}, false},
		{`{"type": "v128", "lane_type": "f64", "value": ["nan:arithmetic", "0"]}`,
			api.Value{Type: api.ValueTypeV128, Lo: 0x7ff8000000000123, Hi: 0}, true},
		{`{"type": "v128", "lane_type": "i8", "value": ["255", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "128"]}`,
			api.Value{Type: api.ValueTypeV128, Lo: 0xff, Hi: 0x80 << 56}, true},
	}
	for _, tt := range tests {
		e, err := parseValue(mustValue(t, tt.js), true)
		if err != nil {
			t.Errorf("%s: %v", tt.js, err)
			continue
		}
		if got := e.matches(tt.got); got != tt.want {
			t.Errorf("%s matches %s = %v, want %v", tt.js, formatValue(tt.got, e.laneType), got, tt.want)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		got  string
		want string
	}{
		{formatValue(api.Value{Type: api.ValueTypeI32, Lo: 0xfffffffe}, ""), "i32:-2"},
		{formatValue(api.Value{Type: api.ValueTypeI64, Lo: 5}, ""), "i64:5"},
		{formatValue(api.Value{Type: api.ValueTypeF32, Lo: 0x3fc00000}, ""), "f32:1.5(0x3fc00000)"},
		{formatValue(api.Value{Type: api.ValueTypeF64, Lo: 0x7ff8000000000000}, ""), "f64:NaN(0x7ff8000000000000)"},
		{formatValue(api.Value{Type: api.ValueTypeExternref, Lo: 3}, ""), "externref:2"},
		{formatValue(api.Value{Type: api.ValueTypeFuncref}, ""), "funcref:null"},
		{formatValue(api.Value{Type: api.ValueTypeV128, Lo: 0x0000000200000001, Hi: 0x00000004ffffffff}, "i32"), "v128:i32x4[1 2 -1 4]"},
		{formatValue(api.Value{Type: api.ValueTypeV128, Lo: 0xff}, "i8"), "v128:i8x16[-1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0]"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	e, err := parseValue(mustValue(t, `{"type": "v128", "lane_type": "f32", "value": ["nan:canonical", "1065353216", "0", "0"]}`), true)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.String(), "v128:f32x4[nan:canonical 1(0x3f800000) 0(0x00000000) 0(0x00000000)]"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestValuesOf(t *testing.T) {
	types := []api.ValueType{api.ValueTypeI32, api.ValueTypeV128, api.ValueTypeF64}
	vals, err := valuesOf(types, []uint64{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	want := []api.Value{{Type: api.ValueTypeI32, Lo: 1}, {Type: api.ValueTypeV128, Lo: 2, Hi: 3}, {Type: api.ValueTypeF64, Lo: 4}}
	if fmt.Sprint(vals) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", vals, want)
	}
	if got := slotsOf(vals); fmt.Sprint(got) != "[1 2 3 4]" {
		t.Errorf("slotsOf = %v", got)
	}
	if _, err := valuesOf(types, []uint64{1, 2, 3}); err == nil {
		t.Error("valuesOf accepted too few slots")
	}
}

func TestCheckTrap(t *testing.T) {
	trap := func(kind error) error { return fmt.Errorf("call: %w", &api.TrapError{Kind: kind}) }
	tests := []struct {
		err  error
		text string
		ok   bool
	}{
		{trap(api.ErrIntegerDivideByZero), "integer divide by zero", true},
		{trap(api.ErrIntegerOverflow), "integer divide by zero", false},
		{trap(api.ErrUninitializedElement), "uninitialized element 2", true},
		{trap(api.ErrUndefinedElement), "uninitialized element", false},
		{trap(api.ErrCallStackExhausted), "call stack exhausted", true},
		{trap(api.ErrUnreachable), "unreachable", true},
		{errors.New("integer divide by zero"), "integer divide by zero", false}, // not a trap
		{nil, "unreachable", false},
	}
	for _, tt := range tests {
		if err := checkTrap(tt.err, tt.text); (err == nil) != tt.ok {
			t.Errorf("checkTrap(%v, %q) = %v, want ok=%v", tt.err, tt.text, err, tt.ok)
		}
	}
	for _, k := range trapKinds {
		if k.kind.Error() != k.text {
			t.Errorf("sentinel %q is matched by spec text %q", k.kind, k.text)
		}
	}
}

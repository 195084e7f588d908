package wast

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ferryvm/ferry/api"
)

// valueType maps a wast2json type name to its value type.
func valueType(name string) (api.ValueType, error) {
	switch name {
	case "i32":
		return api.ValueTypeI32, nil
	case "i64":
		return api.ValueTypeI64, nil
	case "f32":
		return api.ValueTypeF32, nil
	case "f64":
		return api.ValueTypeF64, nil
	case "v128":
		return api.ValueTypeV128, nil
	case "funcref":
		return api.ValueTypeFuncref, nil
	case "externref":
		return api.ValueTypeExternref, nil
	}
	return 0, fmt.Errorf("unknown value type %q", name)
}

// laneWidth is the size in bytes of one lane of a v128 lane type.
func laneWidth(lane string) (int, error) {
	switch lane {
	case "i8":
		return 1, nil
	case "i16":
		return 2, nil
	case "i32", "f32":
		return 4, nil
	case "i64", "f64":
		return 8, nil
	}
	return 0, fmt.Errorf("unknown v128 lane type %q", lane)
}

// pattern says how a result lane is compared.
type pattern uint8

const (
	patExact         pattern = iota // the bits must be equal
	patCanonicalNaN                 // a NaN with only the quiet bit of the payload set, either sign
	patArithmeticNaN                // a NaN with the quiet bit set, any payload, either sign
	patNonNull                      // a reference that is not null
)

// lane is one expected scalar, or one lane of an expected v128.
type lane struct {
	pat  pattern
	bits uint64
}

// expectation is an expected result: a type and one lane (scalars) or the
// lanes of a v128 of type laneType.
type expectation struct {
	typ      api.ValueType
	laneType string
	lanes    []lane
}

// rawStrings decodes a value's JSON "value": a string, a list of strings, or
// absent (nil, false).
func (v value) rawStrings() ([]string, bool, error) {
	if len(v.Value) == 0 {
		return nil, false, nil
	}
	if v.Value[0] == '[' {
		var ss []string
		if err := json.Unmarshal(v.Value, &ss); err != nil {
			return nil, false, fmt.Errorf("bad %s value %s: %w", v.Type, v.Value, err)
		}
		return ss, true, nil
	}
	var s string
	if err := json.Unmarshal(v.Value, &s); err != nil {
		return nil, false, fmt.Errorf("bad %s value %s: %w", v.Type, v.Value, err)
	}
	return []string{s}, true, nil
}

// parseBits parses a decimal bit pattern of the given width in bytes.
// wast2json writes unsigned decimals; a leading minus is accepted as well.
func parseBits(s string, width int) (uint64, error) {
	bitSize := width * 8
	if strings.HasPrefix(s, "-") {
		n, err := strconv.ParseInt(s, 10, bitSize)
		if err != nil {
			return 0, fmt.Errorf("bad %d-bit constant %q", bitSize, s)
		}
		if bitSize == 64 {
			return uint64(n), nil
		}
		return uint64(n) & (1<<bitSize - 1), nil
	}
	n, err := strconv.ParseUint(s, 10, bitSize)
	if err != nil {
		return 0, fmt.Errorf("bad %d-bit constant %q", bitSize, s)
	}
	return n, nil
}

// parseLane parses one scalar or lane, with NaN patterns allowed when
// patterns is set (results) and refused otherwise (arguments).
func parseLane(s string, width int, float, patterns bool) (lane, error) {
	if float && strings.HasPrefix(s, "nan:") {
		if !patterns {
			return lane{}, fmt.Errorf("NaN pattern %q is not a value", s)
		}
		switch s {
		case "nan:canonical":
			return lane{pat: patCanonicalNaN}, nil
		case "nan:arithmetic":
			return lane{pat: patArithmeticNaN}, nil
		}
		return lane{}, fmt.Errorf("unknown NaN pattern %q", s)
	}
	bits, err := parseBits(s, width)
	if err != nil {
		return lane{}, err
	}
	return lane{bits: bits}, nil
}

// parseValue parses an argument (patterns false) or an expected result
// (patterns true).
func parseValue(v value, patterns bool) (expectation, error) {
	t, err := valueType(v.Type)
	if err != nil {
		return expectation{}, err
	}
	e := expectation{typ: t}
	ss, present, err := v.rawStrings()
	if err != nil {
		return expectation{}, err
	}
	switch t {
	case api.ValueTypeFuncref, api.ValueTypeExternref:
		switch {
		case !present:
			if !patterns {
				return expectation{}, fmt.Errorf("%s argument without a value", v.Type)
			}
			e.lanes = []lane{{pat: patNonNull}}
		case len(ss) != 1:
			return expectation{}, fmt.Errorf("bad %s value %s", v.Type, v.Value)
		case ss[0] == "null":
			e.lanes = []lane{{bits: 0}}
		case t == api.ValueTypeFuncref:
			// wast2json writes (ref.func) as a function index, which says
			// nothing about the engine's handle: as a result it means any
			// function reference; as an argument it cannot be made.
			if !patterns {
				return expectation{}, fmt.Errorf("funcref argument %q: only null can be passed", ss[0])
			}
			e.lanes = []lane{{pat: patNonNull}}
		default:
			// externref N travels as N+1 so that 0 stays null.
			n, err := parseBits(ss[0], 8)
			if err != nil || n == math.MaxUint64 {
				return expectation{}, fmt.Errorf("bad externref value %q", ss[0])
			}
			e.lanes = []lane{{bits: n + 1}}
		}
		return e, nil
	case api.ValueTypeV128:
		width, err := laneWidth(v.LaneType)
		if err != nil {
			return expectation{}, err
		}
		if !present || len(ss) != 16/width {
			return expectation{}, fmt.Errorf("v128 value %s: want %d lanes of %s", v.Value, 16/width, v.LaneType)
		}
		e.laneType = v.LaneType
		float := v.LaneType[0] == 'f'
		for _, s := range ss {
			l, err := parseLane(s, width, float, patterns)
			if err != nil {
				return expectation{}, err
			}
			e.lanes = append(e.lanes, l)
		}
		return e, nil
	}
	if !present || len(ss) != 1 {
		return expectation{}, fmt.Errorf("bad %s value %s", v.Type, v.Value)
	}
	width := 4
	if t == api.ValueTypeI64 || t == api.ValueTypeF64 {
		width = 8
	}
	l, err := parseLane(ss[0], width, t == api.ValueTypeF32 || t == api.ValueTypeF64, patterns)
	if err != nil {
		return expectation{}, err
	}
	e.lanes = []lane{l}
	return e, nil
}

// parseArg parses an argument into its typed value.
func parseArg(v value) (api.Value, error) {
	e, err := parseValue(v, false)
	if err != nil {
		return api.Value{}, err
	}
	if e.typ != api.ValueTypeV128 {
		return api.Value{Type: e.typ, Lo: e.lanes[0].bits}, nil
	}
	width, _ := laneWidth(e.laneType)
	var b [16]byte
	for i, l := range e.lanes {
		putLane(b[i*width:], width, l.bits)
	}
	return api.Value{Type: api.ValueTypeV128, Lo: binary.LittleEndian.Uint64(b[:8]), Hi: binary.LittleEndian.Uint64(b[8:])}, nil
}

func putLane(b []byte, width int, bits uint64) {
	switch width {
	case 1:
		b[0] = byte(bits)
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(bits))
	case 4:
		binary.LittleEndian.PutUint32(b, uint32(bits))
	case 8:
		binary.LittleEndian.PutUint64(b, bits)
	}
}

func getLane(b []byte, width int) uint64 {
	switch width {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

func v128Bytes(v api.Value) [16]byte {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], v.Lo)
	binary.LittleEndian.PutUint64(b[8:], v.Hi)
	return b
}

// laneMatches compares one lane of width bytes (float if it is a float lane).
func laneMatches(l lane, bits uint64, width int) bool {
	switch l.pat {
	case patNonNull:
		return bits != 0
	case patCanonicalNaN:
		if width == 4 {
			return uint32(bits)&0x7fffffff == 0x7fc00000
		}
		return bits&0x7fffffffffffffff == 0x7ff8000000000000
	case patArithmeticNaN:
		if width == 4 {
			return uint32(bits)&0x7fc00000 == 0x7fc00000
		}
		return bits&0x7ff8000000000000 == 0x7ff8000000000000
	}
	if width == 4 {
		return uint32(bits) == uint32(l.bits)
	}
	return bits == l.bits
}

// matches reports whether got satisfies the expectation.
func (e expectation) matches(got api.Value) bool {
	if got.Type != e.typ {
		return false
	}
	if e.typ != api.ValueTypeV128 {
		width := 8
		if e.typ == api.ValueTypeI32 || e.typ == api.ValueTypeF32 {
			width = 4
		}
		return laneMatches(e.lanes[0], got.Lo, width)
	}
	width, _ := laneWidth(e.laneType)
	b := v128Bytes(got)
	for i, l := range e.lanes {
		if !laneMatches(l, getLane(b[i*width:], width), width) {
			return false
		}
	}
	return true
}

func (e expectation) String() string {
	if e.typ != api.ValueTypeV128 {
		return api.ValueTypeName(e.typ) + ":" + formatLane(e.typ, e.lanes[0])
	}
	lt := laneScalarType(e.laneType)
	parts := make([]string, len(e.lanes))
	for i, l := range e.lanes {
		parts[i] = formatLane(lt, l)
	}
	return fmt.Sprintf("v128:%sx%d[%s]", e.laneType, len(e.lanes), strings.Join(parts, " "))
}

func laneScalarType(laneType string) api.ValueType {
	switch laneType {
	case "f32":
		return api.ValueTypeF32
	case "f64":
		return api.ValueTypeF64
	case "i64":
		return api.ValueTypeI64
	}
	return api.ValueTypeI32
}

func formatLane(t api.ValueType, l lane) string {
	switch l.pat {
	case patNonNull:
		return "non-null"
	case patCanonicalNaN:
		return "nan:canonical"
	case patArithmeticNaN:
		return "nan:arithmetic"
	}
	return formatScalar(t, l.bits)
}

// formatScalar shows a value readably: integers as signed decimals, floats
// as numbers with their bits, references as null or their handle.
func formatScalar(t api.ValueType, bits uint64) string {
	switch t {
	case api.ValueTypeI32:
		return strconv.FormatInt(int64(int32(bits)), 10)
	case api.ValueTypeI64:
		return strconv.FormatInt(int64(bits), 10)
	case api.ValueTypeF32:
		f := math.Float32frombits(uint32(bits))
		return fmt.Sprintf("%s(0x%08x)", strconv.FormatFloat(float64(f), 'g', -1, 32), uint32(bits))
	case api.ValueTypeF64:
		f := math.Float64frombits(bits)
		return fmt.Sprintf("%s(0x%016x)", strconv.FormatFloat(f, 'g', -1, 64), bits)
	case api.ValueTypeFuncref:
		if bits == 0 {
			return "null"
		}
		return fmt.Sprintf("func#%d", bits)
	case api.ValueTypeExternref:
		if bits == 0 {
			return "null"
		}
		return strconv.FormatUint(bits-1, 10)
	}
	return fmt.Sprintf("0x%x", bits)
}

// formatValue shows a value; a v128 in the lanes of laneType ("" for i32).
func formatValue(v api.Value, laneType string) string {
	if v.Type != api.ValueTypeV128 {
		return api.ValueTypeName(v.Type) + ":" + formatScalar(v.Type, v.Lo)
	}
	if laneType == "" {
		laneType = "i32"
	}
	width, err := laneWidth(laneType)
	if err != nil {
		return fmt.Sprintf("v128:0x%016x%016x", v.Hi, v.Lo)
	}
	lt := laneScalarType(laneType)
	b := v128Bytes(v)
	parts := make([]string, 16/width)
	for i := range parts {
		bits := getLane(b[i*width:], width)
		if width < 4 {
			// Show narrow lanes as signed numbers of their own width.
			shift := 64 - 8*width
			bits = uint64(int64(bits<<shift) >> shift)
		}
		parts[i] = formatScalar(lt, bits)
	}
	return fmt.Sprintf("v128:%sx%d[%s]", laneType, len(parts), strings.Join(parts, " "))
}

// slotsOf flattens values into call slots (a v128 takes two, low first).
func slotsOf(vals []api.Value) []uint64 {
	slots := make([]uint64, 0, len(vals))
	for _, v := range vals {
		slots = append(slots, v.Lo)
		if v.Type == api.ValueTypeV128 {
			slots = append(slots, v.Hi)
		}
	}
	return slots
}

// valuesOf types result slots by the function's result types.
func valuesOf(types []api.ValueType, slots []uint64) ([]api.Value, error) {
	want := 0
	for _, t := range types {
		want += api.ValueTypeSlots(t)
	}
	if len(slots) != want {
		return nil, fmt.Errorf("got %d result slots for result types %s", len(slots), typeList(types))
	}
	vals := make([]api.Value, len(types))
	i := 0
	for k, t := range types {
		vals[k] = api.Value{Type: t, Lo: slots[i]}
		if t == api.ValueTypeV128 {
			vals[k].Hi = slots[i+1]
		}
		i += api.ValueTypeSlots(t)
	}
	return vals, nil
}

func typeList(types []api.ValueType) string {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = api.ValueTypeName(t)
	}
	return "[" + strings.Join(names, " ") + "]"
}

package wat

import (
	"unicode/utf8"

	"github.com/ferryvm/ferry/internal/wasm"
)

// declareType reads (type $id? (func (param ...)* (result ...)*)).
func (m *module) declareType(f *Node, rest []*Node) error {
	var id *Node
	if len(rest) > 0 && rest[0].Kind == ID {
		id, rest = rest[0], rest[1:]
	}
	if len(rest) != 1 || !isList(rest[0], "func") {
		return errAt(f, "malformed type: expected (type $id? (func ...))")
	}
	kids := rest[0].Kids[1:]
	ft, _, i, err := m.signature(kids, 0, true)
	if err != nil {
		return err
	}
	if i < len(kids) {
		return errAt(kids[i], "unexpected token %q in a function type", tokenText(kids[i]))
	}
	if _, err := m.typeNames.add(id); err != nil {
		return err
	}
	m.types = append(m.types, ft)
	return nil
}

// signature reads (param ...)* (result ...)* from kids[i:]. With names,
// a param may be named ((param $x i32)); the names are returned by
// parameter index (nil for none).
func (m *module) signature(kids []*Node, i int, names bool) (funcType, []*Node, int, error) {
	var ft funcType
	var pnames []*Node
	for i < len(kids) && isList(kids[i], "param") {
		ts, id, err := valTypes(kids[i], names)
		if err != nil {
			return ft, nil, 0, err
		}
		if id != nil {
			pnames = append(pnames, make([]*Node, len(ft.params)-len(pnames))...)
			pnames = append(pnames, id)
		}
		ft.params = append(ft.params, ts...)
		i++
	}
	for i < len(kids) && isList(kids[i], "result") {
		for _, k := range kids[i].Kids[1:] {
			t, err := valType(k)
			if err != nil {
				return ft, nil, 0, err
			}
			ft.results = append(ft.results, t)
		}
		i++
	}
	return ft, pnames, i, nil
}

// valTypes reads (param|local $id? t) or (param|local t*).
func valTypes(n *Node, names bool) ([]wasm.ValType, *Node, error) {
	kids := n.Kids[1:]
	if len(kids) > 0 && kids[0].Kind == ID {
		if !names {
			return nil, nil, errAt(kids[0], "unexpected token %s: a name is not allowed here", kids[0].Text)
		}
		if len(kids) != 2 {
			return nil, nil, errAt(n, "unexpected token: a named %s has exactly one type", head(n))
		}
		t, err := valType(kids[1])
		return []wasm.ValType{t}, kids[0], err
	}
	ts := make([]wasm.ValType, 0, len(kids))
	for _, k := range kids {
		t, err := valType(k)
		if err != nil {
			return nil, nil, err
		}
		ts = append(ts, t)
	}
	return ts, nil, nil
}

func valType(n *Node) (wasm.ValType, error) {
	if n.Kind == Keyword {
		switch n.Text {
		case "i32":
			return wasm.I32, nil
		case "i64":
			return wasm.I64, nil
		case "f32":
			return wasm.F32, nil
		case "f64":
			return wasm.F64, nil
		case "v128":
			return wasm.V128, nil
		case "funcref":
			return wasm.FuncRef, nil
		case "externref":
			return wasm.ExternRef, nil
		}
	}
	return 0, errAt(n, "unexpected token %q: expected a value type", tokenText(n))
}

func refType(n *Node) (wasm.ValType, error) {
	t, err := valType(n)
	if err != nil || !t.IsRef() {
		return 0, errAt(n, "unexpected token %q: expected funcref or externref", tokenText(n))
	}
	return t, nil
}

// typeUse reads (type x)? (param ...)* (result ...)* from kids[i:] and
// returns the type index: x, checked against the inline signature if
// there is one, or the first type equal to the signature, added if none.
func (m *module) typeUse(kids []*Node, i int, names bool) (uint32, funcType, []*Node, int, error) {
	var ref *Node
	if i < len(kids) && isList(kids[i], "type") {
		t := kids[i]
		if len(t.Kids) != 2 {
			return 0, funcType{}, nil, 0, errAt(t, "malformed type use: expected (type $name) or (type index)")
		}
		ref = t.Kids[1]
		i++
	}
	ft, pnames, next, err := m.signature(kids, i, names)
	if err != nil {
		return 0, funcType{}, nil, 0, err
	}
	if ref != nil {
		x, err := m.typeNames.index(ref)
		if err != nil {
			return 0, funcType{}, nil, 0, err
		}
		if int(x) >= len(m.types) {
			if ref.Kind == Number && next == i {
				// A type index beyond the types is the validator's to
				// refuse (invalid, not malformed), unless an inline
				// signature was to be checked against it.
				return x, ft, pnames, next, nil
			}
			return 0, funcType{}, nil, 0, errAt(ref, "unknown type %s", ref.Text)
		}
		if next > i && !ft.equal(m.types[x]) {
			return 0, funcType{}, nil, 0, errAt(ref, "inline function type does not match type %s", ref.Text)
		}
		return x, m.types[x], pnames, next, nil
	}
	return m.typeIndex(ft), ft, pnames, next, nil
}

// typeIndex finds or adds a type.
func (m *module) typeIndex(ft funcType) uint32 {
	for i, t := range m.types {
		if t.equal(ft) {
			return uint32(i)
		}
	}
	m.types = append(m.types, ft)
	return uint32(len(m.types) - 1)
}

func checkName(n *Node) error {
	if n.Kind != String {
		return errAt(n, "unexpected token %q: expected a name string", tokenText(n))
	}
	if !utf8.ValidString(n.Text) {
		return errAt(n, "malformed UTF-8 encoding in name %q", n.Text)
	}
	return nil
}

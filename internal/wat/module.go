package wat

import (
	"fmt"
	"unicode/utf8"

	"github.com/ferryvm/ferry/internal/wasm"
)

// Parse reads a text-format module and returns it in the binary format.
// The text is either one (module ...) or the module's fields alone, as
// wat2wasm accepts. The bytes are well-formed; whether they are valid is
// the validator's business, as for any binary module.
func Parse(src []byte) ([]byte, error) {
	nodes, err := ReadAll(src)
	if err != nil {
		return nil, err
	}
	if len(nodes) == 1 && isList(nodes[0], "module") {
		return EncodeModule(nodes[0])
	}
	if len(nodes) == 0 {
		return nil, &Error{Line: 1, Col: 1, Msg: "no module: the text is empty"}
	}
	for _, n := range nodes {
		if n.Kind != List {
			return nil, errAt(n, "unexpected token %q: expected a module field such as (func ...)", n.Text)
		}
		if isList(n, "module") {
			return nil, errAt(n, "a module file holds one (module ...), not several")
		}
	}
	return encodeFields(nodes)
}

// EncodeModule encodes a (module $id? field*) list. Script forms
// (module binary ...) and (module quote ...) are the script reader's.
func EncodeModule(n *Node) ([]byte, error) {
	if !isList(n, "module") {
		return nil, errAt(n, "expected (module ...)")
	}
	fields := n.Kids[1:]
	if len(fields) > 0 && fields[0].Kind == ID {
		fields = fields[1:]
	}
	return encodeFields(fields)
}

// encodeFields encodes a module's fields, catching any panic as an error
// so that a bug here fails one module rather than the process.
func encodeFields(fields []*Node) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, &internalError{p}
		}
	}()
	m := &module{
		funcs: newSpace("func"), tables: newSpace("table"), mems: newSpace("memory"),
		globals: newSpace("global"), elems: newSpace("elem"), datas: newSpace("data"),
		typeNames: newSpace("type"),
	}
	if err := m.declare(fields); err != nil {
		return nil, err
	}
	if err := m.define(); err != nil {
		return nil, err
	}
	return m.bytes(), nil
}

// internalError is a panic of the encoder, turned into an error: a bug,
// which FuzzParse looks for.
type internalError struct{ p any }

func (e *internalError) Error() string {
	return fmt.Sprintf("internal error in the text-format encoder: %v", e.p)
}

func isList(n *Node, head string) bool {
	return n.Kind == List && len(n.Kids) > 0 && n.Kids[0].Kind == Keyword && n.Kids[0].Text == head
}

// head is a list's first keyword, or "".
func head(n *Node) string {
	if n.Kind == List && len(n.Kids) > 0 && n.Kids[0].Kind == Keyword {
		return n.Kids[0].Text
	}
	return ""
}

// space is one index space (functions, tables, ...) with its $names.
type space struct {
	kind  string
	names map[string]uint32
	n     uint32
}

func newSpace(kind string) *space { return &space{kind: kind, names: map[string]uint32{}} }

// add gives the next index, named by id when id is an ID node.
func (s *space) add(id *Node) (uint32, error) {
	if id != nil && id.Kind == ID {
		if _, dup := s.names[id.Text]; dup {
			return 0, errAt(id, "duplicate %s %s", s.kind, id.Text)
		}
		s.names[id.Text] = s.n
	}
	s.n++
	return s.n - 1, nil
}

// index resolves a $name or a number.
func (s *space) index(n *Node) (uint32, error) {
	switch n.Kind {
	case ID:
		if i, ok := s.names[n.Text]; ok {
			return i, nil
		}
		return 0, errAt(n, "unknown %s %s", s.kind, n.Text)
	case Number:
		v, err := parseUnsigned(n.Text, 32)
		if err != nil {
			return 0, errAt(n, "malformed %s index %q: %v", s.kind, n.Text, err)
		}
		return uint32(v), nil
	}
	return 0, errAt(n, "unexpected token %q: expected a %s index", n.Text, s.kind)
}

type funcType struct{ params, results []wasm.ValType }

func (f funcType) equal(g funcType) bool {
	return (&wasm.FuncType{Params: f.params, Results: f.results}).Equal(&wasm.FuncType{Params: g.params, Results: g.results})
}

// field is a module field kept for the second pass, with what the first
// pass learned about it.
type field struct {
	n    *Node
	kind string // "import", "func", "table", ...
	rest []*Node
	// For an inline import: its module and name nodes.
	imp *Node
	// For func, table, memory and global: the index the first pass gave.
	idx uint32
}

type module struct {
	types                                      []funcType
	typeNames                                  *space
	funcs, tables, mems, globals, elems, datas *space

	fields []field
	// sawDef says a function, table, memory or global was defined: an
	// import after it is malformed.
	sawDef *Node

	imports, funcSec, tableSec, memSec, globalSec, exportSec, elemSec, dataSec, codeSec buf
	nImports, nFuncs, nTables, nMems, nGlobals, nExports, nElems, nDatas                int
	start                                                                               *uint32
	usesDataCount                                                                       bool
}

// declare is the first pass: every index space is numbered, so that the
// second pass can resolve names used before their definition.
func (m *module) declare(fields []*Node) error {
	for _, f := range fields {
		if f.Kind != List || len(f.Kids) == 0 || f.Kids[0].Kind != Keyword {
			return errAt(f, "unexpected token %q: expected a module field such as (func ...)", tokenText(f))
		}
		kind := f.Kids[0].Text
		rest := f.Kids[1:]
		fd := field{n: f, kind: kind, rest: rest}
		var id *Node
		if len(rest) > 0 && rest[0].Kind == ID {
			id = rest[0]
		}
		switch kind {
		case "type":
			if err := m.declareType(f, rest); err != nil {
				return err
			}
			continue
		case "import":
			if len(rest) != 3 || rest[0].Kind != String || rest[1].Kind != String || rest[2].Kind != List {
				return errAt(f, "malformed import: expected (import \"module\" \"name\" (func|table|memory|global ...))")
			}
			desc := rest[2]
			sp := m.spaceOf(head(desc))
			if sp == nil {
				return errAt(desc, "unexpected token %q: expected func, table, memory or global", head(desc))
			}
			if m.sawDef != nil {
				return errAt(f, "import after %s: imports come before every definition of a function, table, memory or global", head(m.sawDef))
			}
			var did *Node
			if len(desc.Kids) > 1 && desc.Kids[1].Kind == ID {
				did = desc.Kids[1]
			}
			if _, err := sp.add(did); err != nil {
				return err
			}
		case "func", "table", "memory", "global":
			sp := m.spaceOf(kind)
			x, err := sp.add(id)
			if err != nil {
				return err
			}
			fd.idx = x
			// Inline exports and an inline import come first.
			i := 0
			if id != nil {
				i = 1
			}
			for i < len(rest) && isList(rest[i], "export") {
				i++
			}
			if i < len(rest) && isList(rest[i], "import") {
				fd.imp = rest[i]
				if m.sawDef != nil {
					return errAt(rest[i], "import after %s: imports come before every definition of a function, table, memory or global", head(m.sawDef))
				}
			} else {
				if m.sawDef == nil {
					m.sawDef = f
				}
				// An inline elem or data segment takes the next index
				// of its space, unnamed.
				for _, k := range rest[i:] {
					if kind == "table" && isList(k, "elem") {
						m.elems.add(nil)
					}
					if kind == "memory" && isList(k, "data") {
						m.datas.add(nil)
					}
				}
			}
		case "elem":
			if _, err := m.elems.add(id); err != nil {
				return err
			}
		case "data":
			if _, err := m.datas.add(id); err != nil {
				return err
			}
		case "export", "start":
		default:
			return errAt(f.Kids[0], "unexpected token %q: unknown module field", kind)
		}
		m.fields = append(m.fields, fd)
	}
	return nil
}

func tokenText(n *Node) string {
	if n.Kind == List {
		if h := head(n); h != "" {
			return "(" + h
		}
		return "("
	}
	return n.Text
}

func (m *module) spaceOf(kind string) *space {
	switch kind {
	case "func":
		return m.funcs
	case "table":
		return m.tables
	case "memory":
		return m.mems
	case "global":
		return m.globals
	}
	return nil
}

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

// define is the second pass: fields are encoded in order.
func (m *module) define() error {
	for _, f := range m.fields {
		var err error
		switch f.kind {
		case "import":
			err = m.importField(f.rest[0], f.rest[1], f.rest[2])
		case "func":
			err = m.funcField(f)
		case "table":
			err = m.tableField(f)
		case "memory":
			err = m.memoryField(f)
		case "global":
			err = m.globalField(f)
		case "export":
			err = m.exportField(f.n, f.rest)
		case "start":
			err = m.startField(f.n, f.rest)
		case "elem":
			err = m.elemField(f.n, f.rest)
		case "data":
			err = m.dataField(f.n, f.rest)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// importField encodes an import of desc, a (func|table|memory|global
// $id? ...) whose name was declared in the first pass.
func (m *module) importField(mod, name, desc *Node) error {
	if err := checkName(mod); err != nil {
		return err
	}
	if err := checkName(name); err != nil {
		return err
	}
	kids := desc.Kids[1:]
	if len(kids) > 0 && kids[0].Kind == ID {
		kids = kids[1:]
	}
	var b buf
	b.name(mod.Text)
	b.name(name.Text)
	switch head(desc) {
	case "func":
		x, _, _, i, err := m.typeUse(kids, 0, true)
		if err != nil {
			return err
		}
		if i < len(kids) {
			return errAt(kids[i], "unexpected token %q in an imported function", tokenText(kids[i]))
		}
		b.byte(0)
		b.u32(x)
	case "table":
		b.byte(1)
		if err := tableType(&b, desc, kids); err != nil {
			return err
		}
	case "memory":
		b.byte(2)
		if err := limits(&b, desc, kids, 32); err != nil {
			return err
		}
	case "global":
		if len(kids) != 1 {
			return errAt(desc, "malformed imported global: expected a global type")
		}
		b.byte(3)
		if err := globalType(&b, kids[0]); err != nil {
			return err
		}
	}
	m.imports.bytes(b)
	m.nImports++
	return nil
}

// limits encodes min max? as a limits of bits-bit values.
func limits(b *buf, at *Node, kids []*Node, bits int) error {
	if len(kids) < 1 || len(kids) > 2 {
		return errAt(at, "malformed limits: expected a minimum and an optional maximum")
	}
	var v [2]uint64
	for i, k := range kids {
		if k.Kind != Number {
			return errAt(k, "unexpected token %q: expected a number", tokenText(k))
		}
		n, err := parseUnsigned(k.Text, bits)
		if err != nil {
			return errAt(k, "i%d constant %q: %v", bits, k.Text, err)
		}
		v[i] = n
	}
	if len(kids) == 1 {
		b.byte(0)
		b.uleb(v[0])
	} else {
		b.byte(1)
		b.uleb(v[0])
		b.uleb(v[1])
	}
	return nil
}

// tableType encodes limits reftype.
func tableType(b *buf, at *Node, kids []*Node) error {
	if len(kids) < 2 {
		return errAt(at, "malformed table type: expected limits and funcref or externref")
	}
	t, err := refType(kids[len(kids)-1])
	if err != nil {
		return err
	}
	b.byte(byte(t))
	return limits(b, at, kids[:len(kids)-1], 32)
}

// globalType encodes t or (mut t).
func globalType(b *buf, n *Node) error {
	if isList(n, "mut") {
		if len(n.Kids) != 2 {
			return errAt(n, "malformed global type: expected (mut type)")
		}
		t, err := valType(n.Kids[1])
		if err != nil {
			return err
		}
		b.byte(byte(t))
		b.byte(1)
		return nil
	}
	t, err := valType(n)
	if err != nil {
		return err
	}
	b.byte(byte(t))
	b.byte(0)
	return nil
}

// inline reads the $id? (export "n")* (import "m" "n")? prefix of a
// func, table, memory or global field, encodes its exports for index x
// and returns the rest.
func (m *module) inline(f field, kind byte, x uint32) ([]*Node, error) {
	rest := f.rest
	if len(rest) > 0 && rest[0].Kind == ID {
		rest = rest[1:]
	}
	for len(rest) > 0 && isList(rest[0], "export") {
		e := rest[0]
		if len(e.Kids) != 2 {
			return nil, errAt(e, "malformed inline export: expected (export \"name\")")
		}
		if err := checkName(e.Kids[1]); err != nil {
			return nil, err
		}
		m.exportSec.name(e.Kids[1].Text)
		m.exportSec.byte(kind)
		m.exportSec.u32(x)
		m.nExports++
		rest = rest[1:]
	}
	if f.imp != nil {
		imp := f.imp
		if len(imp.Kids) != 3 {
			return nil, errAt(imp, "malformed inline import: expected (import \"module\" \"name\")")
		}
		desc := &Node{Kind: List, Line: f.n.Line, Col: f.n.Col, Kids: append([]*Node{f.n.Kids[0]}, rest[1:]...)}
		if err := m.importField(imp.Kids[1], imp.Kids[2], desc); err != nil {
			return nil, err
		}
		return nil, nil
	}
	return rest, nil
}

func (m *module) funcField(f field) error {
	x := f.idx
	rest, err := m.inline(f, 0, x)
	if err != nil || f.imp != nil {
		return err
	}
	ti, ft, pnames, i, err := m.typeUse(rest, 0, true)
	if err != nil {
		return err
	}
	fc := newFuncCtx(m)
	for j := range ft.params {
		var id *Node
		if j < len(pnames) {
			id = pnames[j]
		}
		if err := fc.addLocal(id); err != nil {
			return err
		}
	}
	var locals []wasm.ValType
	for i < len(rest) && isList(rest[i], "local") {
		ts, id, err := valTypes(rest[i], true)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if err := fc.addLocal(id); err != nil {
				return err
			}
			locals = append(locals, t)
		}
		i++
	}
	if err := fc.instrs(rest[i:]); err != nil {
		return err
	}
	if err := fc.finish(f.n); err != nil {
		return err
	}
	var body buf
	// Locals are grouped into runs of one type.
	var groups buf
	ng := 0
	for j := 0; j < len(locals); {
		k := j
		for k < len(locals) && locals[k] == locals[j] {
			k++
		}
		groups.u32(uint32(k - j))
		groups.byte(byte(locals[j]))
		ng++
		j = k
	}
	body.vec(groups, ng)
	body.bytes(fc.code)
	body.byte(0x0B)
	m.codeSec.u32(uint32(len(body)))
	m.codeSec.bytes(body)
	m.funcSec.u32(ti)
	m.nFuncs++
	return nil
}

func (m *module) tableField(f field) error {
	x := f.idx
	rest, err := m.inline(f, 1, x)
	if err != nil || f.imp != nil {
		return err
	}
	// reftype (elem ...): a table exactly as large as its segment.
	if len(rest) == 2 && isList(rest[1], "elem") {
		t, err := refType(rest[0])
		if err != nil {
			return err
		}
		items := rest[1].Kids[1:]
		var seg buf
		n, exprs, err := m.elemItems(&seg, rest[1], items, t, len(items) > 0 && items[0].Kind == List)
		if err != nil {
			return err
		}
		m.tableSec.byte(byte(t))
		m.tableSec.byte(1)
		m.tableSec.u32(uint32(n))
		m.tableSec.u32(uint32(n))
		m.nTables++
		m.elemSegment(segActive, x, []byte{0x41, 0, 0x0B}, t, exprs, n, seg)
		return nil
	}
	if err := tableType(&m.tableSec, f.n, rest); err != nil {
		return err
	}
	m.nTables++
	return nil
}

func (m *module) memoryField(f field) error {
	x := f.idx
	rest, err := m.inline(f, 2, x)
	if err != nil || f.imp != nil {
		return err
	}
	if len(rest) == 1 && isList(rest[0], "data") {
		var data []byte
		for _, s := range rest[0].Kids[1:] {
			if s.Kind != String {
				return errAt(s, "unexpected token %q: expected a data string", tokenText(s))
			}
			data = append(data, s.Text...)
		}
		pages := (uint64(len(data)) + 65535) / 65536
		m.memSec.byte(1)
		m.memSec.uleb(pages)
		m.memSec.uleb(pages)
		m.nMems++
		var d buf
		if x == 0 {
			d.byte(0)
		} else {
			d.byte(2)
			d.u32(x)
		}
		d.bytes([]byte{0x41, 0, 0x0B})
		d.vec(data, len(data))
		m.dataSec.bytes(d)
		m.nDatas++
		return nil
	}
	if err := limits(&m.memSec, f.n, rest, 32); err != nil {
		return err
	}
	m.nMems++
	return nil
}

func (m *module) globalField(f field) error {
	x := f.idx
	rest, err := m.inline(f, 3, x)
	if err != nil || f.imp != nil {
		return err
	}
	if len(rest) < 1 {
		return errAt(f.n, "malformed global: expected a global type and an initialiser")
	}
	if err := globalType(&m.globalSec, rest[0]); err != nil {
		return err
	}
	if err := m.constExpr(&m.globalSec, rest[1:]); err != nil {
		return err
	}
	m.nGlobals++
	return nil
}

// constExpr encodes an initialiser or offset: instructions and end.
func (m *module) constExpr(b *buf, instrs []*Node) error {
	fc := newFuncCtx(m)
	if err := fc.instrs(instrs); err != nil {
		return err
	}
	if len(fc.labels) > 0 {
		return errAt(fc.labels[len(fc.labels)-1].at, "unexpected end: block not closed")
	}
	b.bytes(fc.code)
	b.byte(0x0B)
	return nil
}

func (m *module) exportField(n *Node, rest []*Node) error {
	if len(rest) != 2 || rest[1].Kind != List || len(rest[1].Kids) != 2 {
		return errAt(n, "malformed export: expected (export \"name\" (func|table|memory|global x))")
	}
	if err := checkName(rest[0]); err != nil {
		return err
	}
	desc := rest[1]
	sp := m.spaceOf(head(desc))
	if sp == nil {
		return errAt(desc, "unexpected token %q: expected func, table, memory or global", tokenText(desc))
	}
	x, err := sp.index(desc.Kids[1])
	if err != nil {
		return err
	}
	kind := map[string]byte{"func": 0, "table": 1, "memory": 2, "global": 3}[head(desc)]
	m.exportSec.name(rest[0].Text)
	m.exportSec.byte(kind)
	m.exportSec.u32(x)
	m.nExports++
	return nil
}

func (m *module) startField(n *Node, rest []*Node) error {
	if len(rest) != 1 {
		return errAt(n, "malformed start: expected (start function)")
	}
	if m.start != nil {
		return errAt(n, "multiple start sections")
	}
	x, err := m.funcs.index(rest[0])
	if err != nil {
		return err
	}
	m.start = &x
	return nil
}

// offset reads (offset instr*) or a single folded instruction at kids[i].
func (m *module) offset(b *buf, n *Node) error {
	if isList(n, "offset") {
		return m.constExpr(b, n.Kids[1:])
	}
	return m.constExpr(b, []*Node{n})
}

func (m *module) elemField(n *Node, rest []*Node) error {
	if len(rest) > 0 && rest[0].Kind == ID {
		rest = rest[1:]
	}
	mode := segPassive
	var table uint32
	explicitTable := false
	var offset buf
	if len(rest) > 0 && rest[0].Kind == Keyword && rest[0].Text == "declare" {
		mode, rest = segDeclarative, rest[1:]
	} else {
		if len(rest) > 0 && isList(rest[0], "table") {
			if len(rest[0].Kids) != 2 {
				return errAt(rest[0], "malformed table use: expected (table x)")
			}
			x, err := m.tables.index(rest[0].Kids[1])
			if err != nil {
				return err
			}
			table, explicitTable, rest = x, true, rest[1:]
		} else if len(rest) > 1 && (rest[0].Kind == Number || rest[0].Kind == ID) && rest[1].Kind == List {
			// The MVP form (elem x (offset) ...) names the table bare.
			x, err := m.tables.index(rest[0])
			if err != nil {
				return err
			}
			table, explicitTable, rest = x, true, rest[1:]
		}
		if len(rest) > 0 && rest[0].Kind == List && !isList(rest[0], "item") {
			if err := m.offset(&offset, rest[0]); err != nil {
				return err
			}
			mode, rest = segActive, rest[1:]
		} else if explicitTable {
			return errAt(n, "malformed elem: a table use needs an offset")
		}
	}
	// The element list: funcref/externref elemexpr*, func x*, or (active,
	// abbreviated) x*.
	var t wasm.ValType = wasm.FuncRef
	exprs := false
	if len(rest) > 0 && rest[0].Kind == Keyword && rest[0].Text == "func" {
		rest = rest[1:]
	} else if len(rest) > 0 && rest[0].Kind == Keyword {
		rt, err := refType(rest[0])
		if err != nil {
			return err
		}
		t, exprs, rest = rt, true, rest[1:]
	} else if mode != segActive || explicitTable {
		if len(rest) > 0 {
			return errAt(rest[0], "unexpected token %q: expected func, funcref or externref", tokenText(rest[0]))
		}
	}
	var items buf
	count, exprs, err := m.elemItems(&items, n, rest, t, exprs)
	if err != nil {
		return err
	}
	m.elemSegment(mode, table, offset, t, exprs, count, items)
	return nil
}

// Element segment modes.
const (
	segPassive = iota
	segActive
	segDeclarative
)

// elemSegment encodes a segment in the shortest of the binary format's
// eight forms that holds it.
func (m *module) elemSegment(mode int, table uint32, offset []byte, t wasm.ValType, exprs bool, count int, items []byte) {
	var e buf
	switch {
	case mode == segActive && !exprs && table == 0:
		e.byte(0)
		e.bytes(offset)
	case mode == segActive && !exprs:
		e.byte(2)
		e.u32(table)
		e.bytes(offset)
		e.byte(0)
	case mode == segPassive && !exprs:
		e.bytes([]byte{1, 0})
	case mode == segDeclarative && !exprs:
		e.bytes([]byte{3, 0})
	case mode == segActive && table == 0 && t == wasm.FuncRef:
		e.byte(4)
		e.bytes(offset)
	case mode == segActive:
		e.byte(6)
		e.u32(table)
		e.bytes(offset)
		e.byte(byte(t))
	case mode == segPassive:
		e.byte(5)
		e.byte(byte(t))
	default:
		e.byte(7)
		e.byte(byte(t))
	}
	e.u32(uint32(count))
	e.bytes(items)
	m.elemSec.bytes(e)
	m.nElems++
}

// elemItems encodes a segment's items: function indices, or (exprs)
// expressions, each (item instr*) or one folded instruction.
func (m *module) elemItems(b *buf, at *Node, items []*Node, t wasm.ValType, exprs bool) (int, bool, error) {
	for _, it := range items {
		if !exprs {
			x, err := m.funcs.index(it)
			if err != nil {
				return 0, false, err
			}
			b.u32(x)
			continue
		}
		if it.Kind != List {
			return 0, false, errAt(it, "unexpected token %q: expected an element expression", tokenText(it))
		}
		if isList(it, "item") {
			if err := m.constExpr(b, it.Kids[1:]); err != nil {
				return 0, false, err
			}
		} else if err := m.constExpr(b, []*Node{it}); err != nil {
			return 0, false, err
		}
	}
	return len(items), exprs, nil
}

func (m *module) dataField(n *Node, rest []*Node) error {
	if len(rest) > 0 && rest[0].Kind == ID {
		rest = rest[1:]
	}
	var d buf
	var mem uint32
	explicit := false
	if len(rest) > 0 && isList(rest[0], "memory") {
		if len(rest[0].Kids) != 2 {
			return errAt(rest[0], "malformed memory use: expected (memory x)")
		}
		x, err := m.mems.index(rest[0].Kids[1])
		if err != nil {
			return err
		}
		mem, explicit, rest = x, true, rest[1:]
	} else if len(rest) > 1 && (rest[0].Kind == Number || rest[0].Kind == ID) && rest[1].Kind == List {
		x, err := m.mems.index(rest[0])
		if err != nil {
			return err
		}
		mem, explicit, rest = x, true, rest[1:]
	}
	if len(rest) > 0 && rest[0].Kind == List {
		if mem == 0 {
			d.byte(0)
		} else {
			d.byte(2)
			d.u32(mem)
		}
		if err := m.offset(&d, rest[0]); err != nil {
			return err
		}
		rest = rest[1:]
	} else if explicit {
		return errAt(n, "malformed data: a memory use needs an offset")
	} else {
		d.byte(1)
	}
	var data []byte
	for _, s := range rest {
		if s.Kind != String {
			return errAt(s, "unexpected token %q: expected a data string", tokenText(s))
		}
		data = append(data, s.Text...)
	}
	d.vec(data, len(data))
	m.dataSec.bytes(d)
	m.nDatas++
	return nil
}

// bytes assembles the binary module.
func (m *module) bytes() []byte {
	out := buf("\x00asm\x01\x00\x00\x00")
	if len(m.types) > 0 {
		var s buf
		s.u32(uint32(len(m.types)))
		for _, t := range m.types {
			s.byte(0x60)
			s.u32(uint32(len(t.params)))
			for _, p := range t.params {
				s.byte(byte(p))
			}
			s.u32(uint32(len(t.results)))
			for _, r := range t.results {
				s.byte(byte(r))
			}
		}
		out.section(1, s)
	}
	sec := func(id byte, n int, body buf) {
		if n > 0 {
			var s buf
			s.vec(body, n)
			out.section(id, s)
		}
	}
	sec(2, m.nImports, m.imports)
	sec(3, m.nFuncs, m.funcSec)
	sec(4, m.nTables, m.tableSec)
	sec(5, m.nMems, m.memSec)
	sec(6, m.nGlobals, m.globalSec)
	sec(7, m.nExports, m.exportSec)
	if m.start != nil {
		var s buf
		s.u32(*m.start)
		out.section(8, s)
	}
	sec(9, m.nElems, m.elemSec)
	if m.nDatas > 0 || m.usesDataCount {
		var s buf
		s.u32(uint32(m.nDatas))
		out.section(12, s)
	}
	sec(10, m.nFuncs, m.codeSec)
	sec(11, m.nDatas, m.dataSec)
	// A name section with the functions' $names, so that trap traces
	// show the names the author wrote.
	if len(m.funcs.names) > 0 {
		byIndex := make([]string, m.funcs.n)
		for name, x := range m.funcs.names {
			byIndex[x] = name[1:]
		}
		var names buf
		n := 0
		for x, name := range byIndex {
			if name != "" {
				names.u32(uint32(x))
				names.name(name)
				n++
			}
		}
		var sub buf
		sub.vec(names, n)
		var s buf
		s.name("name")
		s.byte(1)
		s.u32(uint32(len(sub)))
		s.bytes(sub)
		out.section(0, s)
	}
	return out
}

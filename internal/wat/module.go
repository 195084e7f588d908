package wat

import (
	"fmt"

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

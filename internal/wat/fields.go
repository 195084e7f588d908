package wat

import (
	"github.com/ferryvm/ferry/internal/wasm"
)

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

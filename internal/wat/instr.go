package wat

import (
	"strconv"
	"strings"

	"github.com/ferryvm/ferry/internal/wasm"
)

// opByName maps instruction names to opcodes; built from the opcode
// table the decoder uses, so the two cannot disagree on a name.
var opByName = func() map[string]wasm.Opcode {
	m := make(map[string]wasm.Opcode, 600)
	for op := wasm.Opcode(0); op < wasm.NumOpcodes; op++ {
		if op.Known() && op != wasm.OpSelectT {
			m[op.String()] = op
		}
	}
	return m
}()

// label is an enclosing block of the instruction being read.
type label struct {
	name   string // "" when unnamed
	at     *Node
	kind   string // block, loop, if, else
	folded bool   // opened by (block ...): a flat end cannot close it
}

// funcCtx encodes one function body or constant expression.
type funcCtx struct {
	m      *module
	locals *space
	labels []label
	code   buf
}

func newFuncCtx(m *module) *funcCtx { return &funcCtx{m: m, locals: newSpace("local")} }

func (fc *funcCtx) addLocal(id *Node) error {
	_, err := fc.locals.add(id)
	return err
}

// finish checks that every flat block was closed.
func (fc *funcCtx) finish(at *Node) error {
	if len(fc.labels) > 0 {
		l := fc.labels[len(fc.labels)-1]
		return errAt(l.at, "unexpected end of function: %s not closed (missing end)", l.kind)
	}
	return nil
}

// instrs encodes a sequence of flat and folded instructions.
func (fc *funcCtx) instrs(list []*Node) error {
	for i := 0; i < len(list); {
		n := list[i]
		if n.Kind == List {
			if err := fc.folded(n); err != nil {
				return err
			}
			i++
			continue
		}
		next, err := fc.flat(list, i)
		if err != nil {
			return err
		}
		i = next
	}
	return nil
}

// flat encodes the plain instruction at list[i], including the block
// structure of flat block, loop, if, else and end.
func (fc *funcCtx) flat(list []*Node, i int) (int, error) {
	kw := list[i]
	if kw.Kind != Keyword {
		return 0, errAt(kw, "unexpected token %q: expected an instruction", kw.Text)
	}
	switch kw.Text {
	case "block", "loop", "if":
		i++
		name := ""
		if i < len(list) && list[i].Kind == ID {
			name = list[i].Text
			i++
		}
		bt, next, err := fc.blockType(list, i)
		if err != nil {
			return 0, err
		}
		fc.code.byte(map[string]byte{"block": 0x02, "loop": 0x03, "if": 0x04}[kw.Text])
		fc.code.bytes(bt)
		fc.labels = append(fc.labels, label{name: name, at: kw, kind: kw.Text})
		return next, nil
	case "else", "end":
		if len(fc.labels) == 0 || fc.labels[len(fc.labels)-1].folded {
			return 0, errAt(kw, "unexpected token %s: no block to close", kw.Text)
		}
		top := &fc.labels[len(fc.labels)-1]
		i++
		if i < len(list) && list[i].Kind == ID {
			if list[i].Text != top.name {
				return 0, errAt(list[i], "mismatching label %s: the %s is labelled %q", list[i].Text, top.kind, top.name)
			}
			i++
		}
		if kw.Text == "else" {
			if top.kind != "if" {
				return 0, errAt(kw, "unexpected token else: not in an if")
			}
			top.kind = "else"
			fc.code.byte(0x05)
			return i, nil
		}
		fc.labels = fc.labels[:len(fc.labels)-1]
		fc.code.byte(0x0B)
		return i, nil
	case "then":
		return 0, errAt(kw, "unexpected token then")
	}
	return fc.plain(list, i, &fc.code)
}

// folded encodes a parenthesised instruction: its operands first, then
// the instruction.
func (fc *funcCtx) folded(n *Node) error {
	kids := n.Kids
	if len(kids) == 0 || kids[0].Kind != Keyword {
		return errAt(n, "unexpected token %q: expected an instruction", tokenText(n))
	}
	kw := kids[0]
	switch kw.Text {
	case "block", "loop", "if":
		i := 1
		name := ""
		if i < len(kids) && kids[i].Kind == ID {
			name = kids[i].Text
			i++
		}
		bt, i, err := fc.blockType(kids, i)
		if err != nil {
			return err
		}
		if kw.Text == "if" {
			// The condition comes before the if.
			for i < len(kids) && kids[i].Kind == List && !isList(kids[i], "then") {
				if err := fc.folded(kids[i]); err != nil {
					return err
				}
				i++
			}
			if i >= len(kids) || !isList(kids[i], "then") {
				at := n
				if i < len(kids) {
					at = kids[i]
				}
				return errAt(at, "unexpected token: expected (then ...) in a folded if")
			}
		}
		depth := len(fc.labels)
		fc.code.byte(map[string]byte{"block": 0x02, "loop": 0x03, "if": 0x04}[kw.Text])
		fc.code.bytes(bt)
		fc.labels = append(fc.labels, label{name: name, at: kw, kind: kw.Text, folded: true})
		if kw.Text == "if" {
			then := kids[i]
			if err := fc.nested(then.Kids[1:], depth); err != nil {
				return err
			}
			i++
			if i < len(kids) && isList(kids[i], "else") {
				fc.code.byte(0x05)
				if err := fc.nested(kids[i].Kids[1:], depth); err != nil {
					return err
				}
				i++
			}
			if i < len(kids) {
				return errAt(kids[i], "unexpected token %q after the branches of an if", tokenText(kids[i]))
			}
		} else if err := fc.nested(kids[i:], depth); err != nil {
			return err
		}
		fc.labels = fc.labels[:depth]
		fc.code.byte(0x0B)
		return nil
	case "else", "end", "then":
		return errAt(kw, "unexpected token %s", kw.Text)
	}
	var op buf
	i, err := fc.plain(kids, 0, &op)
	if err != nil {
		return err
	}
	for _, k := range kids[i:] {
		if k.Kind != List {
			return errAt(k, "unexpected token %q: expected an immediate of %s or a folded operand", k.Text, kw.Text)
		}
		if err := fc.folded(k); err != nil {
			return err
		}
	}
	fc.code.bytes(op)
	return nil
}

// nested encodes a folded block's instructions, which must close every
// flat block they open.
func (fc *funcCtx) nested(list []*Node, depth int) error {
	if err := fc.instrs(list); err != nil {
		return err
	}
	if len(fc.labels) != depth+1 {
		l := fc.labels[len(fc.labels)-1]
		return errAt(l.at, "unexpected end: %s not closed (missing end)", l.kind)
	}
	return nil
}

// blockType reads a block's type: nothing, one result, or a type use.
func (fc *funcCtx) blockType(list []*Node, i int) ([]byte, int, error) {
	var b buf
	if i < len(list) && isList(list[i], "type") {
		x, _, _, next, err := fc.m.typeUse(list, i, false)
		if err != nil {
			return nil, 0, err
		}
		b.sleb(int64(x))
		return b, next, nil
	}
	ft, _, next, err := fc.m.signature(list, i, false)
	if err != nil {
		return nil, 0, err
	}
	switch {
	case len(ft.params) == 0 && len(ft.results) == 0:
		b.byte(0x40)
	case len(ft.params) == 0 && len(ft.results) == 1:
		b.byte(byte(ft.results[0]))
	default:
		b.sleb(int64(fc.m.typeIndex(ft)))
	}
	return b, next, nil
}

func emitOp(b *buf, op wasm.Opcode) {
	switch {
	case op < 0x100:
		b.byte(byte(op))
	case op < 0x200:
		b.byte(0xFC)
		b.u32(uint32(op - 0x100))
	default:
		b.byte(0xFD)
		b.u32(uint32(op - 0x200))
	}
}

// isIndex says whether a token can be an index: a number or a $name.
func isIndex(n *Node) bool { return n.Kind == Number || n.Kind == ID }

// plain encodes the plain (non-block) instruction at list[i] and its
// immediates into b, returning the index after them.
func (fc *funcCtx) plain(list []*Node, i int, b *buf) (int, error) {
	kw := list[i]
	i++
	if kw.Kind != Keyword {
		return 0, errAt(kw, "unexpected token %q: expected an instruction", kw.Text)
	}
	name := kw.Text
	if name == "select" {
		var ts []wasm.ValType
		typed := false
		for i < len(list) && isList(list[i], "result") {
			typed = true
			for _, k := range list[i].Kids[1:] {
				t, err := valType(k)
				if err != nil {
					return 0, err
				}
				ts = append(ts, t)
			}
			i++
		}
		if !typed {
			b.byte(0x1B)
			return i, nil
		}
		b.byte(0x1C)
		b.u32(uint32(len(ts)))
		for _, t := range ts {
			b.byte(byte(t))
		}
		return i, nil
	}
	op, ok := opByName[name]
	if !ok {
		return 0, errAt(kw, "unknown operator %s", name)
	}
	// need returns the next token, which must exist.
	need := func(what string) (*Node, error) {
		if i >= len(list) || list[i].Kind == List {
			return nil, errAt(kw, "unexpected token: %s needs %s", name, what)
		}
		i++
		return list[i-1], nil
	}
	idx := func(s *space) error {
		n, err := need("a " + s.kind + " index")
		if err != nil {
			return err
		}
		x, err := s.index(n)
		if err != nil {
			return err
		}
		b.u32(x)
		return nil
	}
	optIdx := func(s *space) error {
		if i < len(list) && isIndex(list[i]) {
			return idx(s)
		}
		b.u32(0)
		return nil
	}
	emitOp(b, op)
	switch op {
	case wasm.OpBr, wasm.OpBrIf:
		n, err := need("a label")
		if err != nil {
			return 0, err
		}
		l, err := fc.label(n)
		if err != nil {
			return 0, err
		}
		b.u32(l)
		return i, nil
	case wasm.OpBrTable:
		var ls []uint32
		for i < len(list) && isIndex(list[i]) {
			l, err := fc.label(list[i])
			if err != nil {
				return 0, err
			}
			ls = append(ls, l)
			i++
		}
		if len(ls) == 0 {
			return 0, errAt(kw, "unexpected token: br_table needs at least one label")
		}
		b.u32(uint32(len(ls) - 1))
		for _, l := range ls {
			b.u32(l)
		}
		return i, nil
	case wasm.OpCall, wasm.OpRefFunc:
		return i, idx(fc.m.funcs)
	case wasm.OpLocalGet, wasm.OpLocalSet, wasm.OpLocalTee:
		return i, idx(fc.locals)
	case wasm.OpGlobalGet, wasm.OpGlobalSet:
		return i, idx(fc.m.globals)
	case wasm.OpTableGet, wasm.OpTableSet, wasm.OpTableSize, wasm.OpTableGrow, wasm.OpTableFill:
		return i, optIdx(fc.m.tables)
	case wasm.OpCallIndirect:
		table := uint32(0)
		if i < len(list) && isIndex(list[i]) {
			x, err := fc.m.tables.index(list[i])
			if err != nil {
				return 0, err
			}
			table = x
			i++
		}
		x, _, _, next, err := fc.m.typeUse(list, i, false)
		if err != nil {
			return 0, err
		}
		b.u32(x)
		b.u32(table)
		return next, nil
	case wasm.OpTableInit:
		var xs []uint32
		for len(xs) < 2 && i < len(list) && isIndex(list[i]) {
			s := fc.m.elems
			if len(xs) == 0 && i+1 < len(list) && isIndex(list[i+1]) {
				s = fc.m.tables
			}
			x, err := s.index(list[i])
			if err != nil {
				return 0, err
			}
			xs = append(xs, x)
			i++
		}
		switch len(xs) {
		case 1:
			b.u32(xs[0])
			b.u32(0)
		case 2:
			b.u32(xs[1])
			b.u32(xs[0])
		default:
			return 0, errAt(kw, "unexpected token: table.init needs an element segment")
		}
		return i, nil
	case wasm.OpTableCopy:
		if i < len(list) && isIndex(list[i]) {
			if err := idx(fc.m.tables); err != nil {
				return 0, err
			}
			return i, idx(fc.m.tables)
		}
		b.u32(0)
		b.u32(0)
		return i, nil
	case wasm.OpElemDrop:
		return i, idx(fc.m.elems)
	case wasm.OpMemoryInit:
		fc.m.usesDataCount = true
		if err := idx(fc.m.datas); err != nil {
			return 0, err
		}
		b.byte(0)
		return i, nil
	case wasm.OpDataDrop:
		fc.m.usesDataCount = true
		return i, idx(fc.m.datas)
	case wasm.OpMemorySize, wasm.OpMemoryGrow, wasm.OpMemoryFill:
		b.byte(0)
		return i, nil
	case wasm.OpMemoryCopy:
		b.bytes([]byte{0, 0})
		return i, nil
	case wasm.OpRefNull:
		n, err := need("a heap type (func or extern)")
		if err != nil {
			return 0, err
		}
		switch n.Text {
		case "func":
			b.byte(byte(wasm.FuncRef))
		case "extern":
			b.byte(byte(wasm.ExternRef))
		default:
			return 0, errAt(n, "unexpected token %q: expected func or extern", n.Text)
		}
		return i, nil
	case wasm.OpI32Const, wasm.OpI64Const, wasm.OpF32Const, wasm.OpF64Const:
		n, err := need("a constant")
		if err != nil {
			return 0, err
		}
		return i, constant(b, op, n)
	case wasm.OpV128Const:
		return fc.v128Const(list, i, kw, b)
	case wasm.OpI8x16Shuffle:
		for k := 0; k < 16; k++ {
			n, err := need("16 lane indices")
			if err != nil {
				return 0, err
			}
			v, err := laneIndex(n)
			if err != nil {
				return 0, err
			}
			b.byte(v)
		}
		return i, nil
	}
	switch {
	case op >= wasm.OpI8x16ExtractLaneS && op <= wasm.OpF64x2ReplaceLane:
		n, err := need("a lane index")
		if err != nil {
			return 0, err
		}
		v, err := laneIndex(n)
		if err != nil {
			return 0, err
		}
		b.byte(v)
		return i, nil
	case strings.Contains(name, ".load") || strings.Contains(name, ".store"):
		next, err := memarg(list, i, name, b)
		if err != nil {
			return 0, err
		}
		i = next
		if op >= wasm.OpV128Load8Lane && op <= wasm.OpV128Store64Lane {
			n, err := need("a lane index")
			if err != nil {
				return 0, err
			}
			v, err := laneIndex(n)
			if err != nil {
				return 0, err
			}
			b.byte(v)
		}
		return i, nil
	}
	return i, nil
}

// label resolves a branch target: a $name (innermost first) or a depth.
func (fc *funcCtx) label(n *Node) (uint32, error) {
	if n.Kind == ID {
		for d := len(fc.labels) - 1; d >= 0; d-- {
			if fc.labels[d].name == n.Text {
				return uint32(len(fc.labels) - 1 - d), nil
			}
		}
		return 0, errAt(n, "unknown label %s", n.Text)
	}
	v, err := parseUnsigned(n.Text, 32)
	if err != nil {
		return 0, errAt(n, "malformed label %q: %v", n.Text, err)
	}
	return uint32(v), nil
}

func laneIndex(n *Node) (byte, error) {
	if n.Kind != Number {
		return 0, errAt(n, "malformed lane index %q", n.Text)
	}
	v, err := parseUnsigned(n.Text, 8)
	if err != nil {
		return 0, errAt(n, "malformed lane index %q: %v", n.Text, err)
	}
	return byte(v), nil
}

// constant encodes the immediate of i32/i64/f32/f64.const.
func constant(b *buf, op wasm.Opcode, n *Node) error {
	if n.Kind != Number && n.Kind != Keyword {
		return errAt(n, "unexpected token %q: expected a number", n.Text)
	}
	switch op {
	case wasm.OpI32Const:
		v, err := ParseInt(n.Text, 32)
		if err != nil {
			return errAt(n, "i32 constant %q: %v", n.Text, err)
		}
		b.sleb(int64(int32(uint32(v))))
	case wasm.OpI64Const:
		v, err := ParseInt(n.Text, 64)
		if err != nil {
			return errAt(n, "i64 constant %q: %v", n.Text, err)
		}
		b.sleb(int64(v))
	case wasm.OpF32Const:
		v, err := ParseF32(n.Text)
		if err != nil {
			return errAt(n, "f32 constant %q: %v", n.Text, err)
		}
		b.fixed(uint64(v), 4)
	default:
		v, err := ParseF64(n.Text)
		if err != nil {
			return errAt(n, "f64 constant %q: %v", n.Text, err)
		}
		b.fixed(v, 8)
	}
	return nil
}

// V128Lanes parses the lanes of a v128 constant of shape (i8x16, ...,
// f64x2) into its 16 bytes.
func V128Lanes(shape *Node, lanes []*Node) ([16]byte, error) {
	var out [16]byte
	n, width, float := shapeOf(shape.Text)
	if n == 0 {
		return out, errAt(shape, "unexpected token %q: expected a v128 shape (i8x16, i16x8, i32x4, i64x2, f32x4, f64x2)", shape.Text)
	}
	if len(lanes) != n {
		at := shape
		if len(lanes) > n {
			at = lanes[n]
		}
		return out, errAt(at, "wrong number of lane literals: %s takes %d, got %d", shape.Text, n, len(lanes))
	}
	for k, l := range lanes {
		if l.Kind != Number && l.Kind != Keyword {
			return out, errAt(l, "unexpected token %q: expected a lane literal", tokenText(l))
		}
		var v uint64
		var err error
		switch {
		case float && width == 4:
			var f uint32
			f, err = ParseF32(l.Text)
			v = uint64(f)
		case float:
			v, err = ParseF64(l.Text)
		default:
			v, err = ParseInt(l.Text, width*8)
		}
		if err != nil {
			laneType, _, _ := strings.Cut(shape.Text, "x")
			return out, errAt(l, "%s lane %q: %v", laneType, l.Text, err)
		}
		for j := 0; j < width; j++ {
			out[k*width+j] = byte(v >> (8 * j))
		}
	}
	return out, nil
}

// shapeOf gives a v128 shape's lane count, lane width in bytes and
// whether its lanes are floats; 0 lanes for an unknown shape.
func shapeOf(s string) (int, int, bool) {
	switch s {
	case "i8x16":
		return 16, 1, false
	case "i16x8":
		return 8, 2, false
	case "i32x4":
		return 4, 4, false
	case "i64x2":
		return 2, 8, false
	case "f32x4":
		return 4, 4, true
	case "f64x2":
		return 2, 8, true
	}
	return 0, 0, false
}

func (fc *funcCtx) v128Const(list []*Node, i int, kw *Node, b *buf) (int, error) {
	if i >= len(list) || list[i].Kind != Keyword {
		return 0, errAt(kw, "unexpected token: v128.const needs a shape (i8x16, ..., f64x2)")
	}
	shape := list[i]
	n, _, _ := shapeOf(shape.Text)
	end := i + 1
	for end < len(list) && end-(i+1) < n && list[end].Kind != List {
		end++
	}
	lanes, err := V128Lanes(shape, list[i+1:end])
	if err != nil {
		return 0, err
	}
	b.bytes(lanes[:])
	return end, nil
}

// memarg encodes offset=N? align=N? with the instruction's natural
// alignment as the default.
func memarg(list []*Node, i int, name string, b *buf) (int, error) {
	natural := naturalAlign(name)
	align, offset := natural, uint64(0)
	if i < len(list) && list[i].Kind == Keyword && strings.HasPrefix(list[i].Text, "offset=") {
		v, err := parseUnsigned(strings.TrimPrefix(list[i].Text, "offset="), 32)
		if err != nil {
			return 0, errAt(list[i], "malformed memory offset %q: %v", list[i].Text, err)
		}
		offset = v
		i++
	}
	if i < len(list) && list[i].Kind == Keyword && strings.HasPrefix(list[i].Text, "align=") {
		v, err := parseUnsigned(strings.TrimPrefix(list[i].Text, "align="), 32)
		if err != nil {
			return 0, errAt(list[i], "malformed alignment %q: %v", list[i].Text, err)
		}
		if v == 0 || v&(v-1) != 0 {
			return 0, errAt(list[i], "alignment %s must be a power of two", list[i].Text)
		}
		align = 0
		for v > 1 {
			v >>= 1
			align++
		}
		i++
	}
	b.u32(align)
	b.uleb(offset)
	return i, nil
}

// naturalAlign is log2 of the bytes a load or store accesses, read from
// its name: i64.load32_u -> 32 bits, v128.load8x8_s -> 64, f64.store -> 64.
func naturalAlign(name string) uint32 {
	typ, op, _ := strings.Cut(name, ".")
	rest := strings.TrimPrefix(strings.TrimPrefix(op, "load"), "store")
	bits := 0
	switch {
	case strings.Contains(rest, "x"): // 8x8, 16x4, 32x2
		bits = 64
	default:
		end := 0
		for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
			end++
		}
		if end > 0 {
			bits, _ = strconv.Atoi(rest[:end])
		} else {
			bits, _ = strconv.Atoi(typ[1:])
		}
	}
	a := uint32(0)
	for bits > 8 {
		bits >>= 1
		a++
	}
	return a
}

package validate

import (
	"errors"
	"fmt"

	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/wasm"
)

// MaxNestingDepth bounds how deep blocks, loops and ifs nest in one
// function (the function's own block not counted). The binary format alone
// bounds it only by the body size, which let 3 million nested blocks make
// validation and lowering hold a control frame per level (1.9 GB). Real
// compilers nest a block per switch target at most, far below this;
// docs/limits.md gives the numbers.
const MaxNestingDepth = 65536

// unknown is the bottom type of the appendix's algorithm: what a pop from the
// polymorphic stack of unreachable code yields. It matches every type.
const unknown wasm.ValType = 0

// single[t:t+1] is a one-element slice holding t, so that pushing one result
// type needs no allocation.
var single = func() (a [256]wasm.ValType) {
	for i := range a {
		a[i] = wasm.ValType(i)
	}
	return a
}()

// ctrlFrame is an entry of the control stack.
type ctrlFrame struct {
	op              wasm.Opcode // OpBlock (also the function's frame), OpLoop, OpIf or OpElse
	params, results []wasm.ValType
	height          int  // operand-stack height at entry, params excluded
	unreachable     bool // the rest of the block is dead code
	// dead marks a block opened in dead code: all of it is dead, whatever
	// its own unreachable flag says. liveBase is then the height below which
	// the stack holds the types of live code (the polymorphic base of the
	// outermost unreachable block).
	dead     bool
	liveBase int
}

// polyBase is the height below which the stack holds proven types, for a
// frame whose code is dead at the current point.
func (f *ctrlFrame) polyBase() int {
	if f.dead {
		return f.liveBase
	}
	return f.height
}

// labelTypes is what a branch to the frame carries.
func (f *ctrlFrame) labelTypes() []wasm.ValType {
	if f.op == wasm.OpLoop {
		return f.params
	}
	return f.results
}

// funcValidator holds the state of the appendix's validation algorithm. One
// is used for every function of a module so that its stacks are allocated
// once and reused.
type funcValidator struct {
	m       *wasm.Module
	visitor Visitor
	refs    []bool // C.refs: function indices a ref.func may name

	reader wasm.InstrReader
	in     wasm.Instr
	vals   []wasm.ValType
	ctrls  []ctrlFrame

	params, locals []wasm.ValType

	// Effects the current instruction applies after the visitor saw it.
	pending   []wasm.ValType // types to push
	deadAfter bool           // the rest of the block becomes unreachable
}

func (v *funcValidator) function(idx uint32, f *wasm.Func) error {
	sig := &v.m.Types[f.TypeIndex]
	v.params, v.locals = sig.Params, f.Locals
	v.vals = v.vals[:0]
	v.ctrls = append(v.ctrls[:0], ctrlFrame{op: wasm.OpBlock, results: sig.Results})
	if v.visitor != nil {
		if err := v.visitor.BeginFunc(v.m, idx, sig, f.Locals); err != nil {
			return err
		}
	}
	// Offsets count from BodyStart when the decoder recorded it.
	base := bodyBase(f)
	v.reader.Reset(f.Body)
	for len(v.ctrls) > 0 {
		pos := v.reader.Pos()
		if v.reader.Done() {
			return wrap(int(idx), base+pos, malformed("END opcode expected: unexpected end of function body"))
		}
		if err := v.reader.Next(&v.in); err != nil {
			return wrap(int(idx), base+pos, malformedError{err})
		}
		top := &v.ctrls[len(v.ctrls)-1]
		before, poly, reachable := len(v.vals), top.polyBase(), !top.unreachable && !top.dead
		v.pending, v.deadAfter = nil, false
		if err := v.check(); err != nil {
			return wrap(int(idx), base+pos, err)
		}
		if v.visitor != nil {
			stack := v.vals[:before]
			if !reachable {
				stack = v.vals[:poly]
			}
			if err := v.visitor.Instr(&v.in, stack, reachable); err != nil {
				return err
			}
		}
		v.vals = append(v.vals, v.pending...)
		if v.deadAfter {
			top := &v.ctrls[len(v.ctrls)-1]
			v.vals = v.vals[:top.height]
			top.unreachable = true
		}
	}
	if !v.reader.Done() {
		return wrap(int(idx), base+v.reader.Pos(), malformed("section size mismatch: bytes after the function's final end"))
	}
	if v.visitor != nil {
		return v.visitor.EndFunc()
	}
	return nil
}

// bodyBase converts offsets in Body to Ferry's offsets from BodyStart; a
// module built without file offsets keeps offsets in Body.
func bodyBase(f *wasm.Func) int {
	if f.BodyOffset >= f.BodyStart {
		return int(f.BodyOffset - f.BodyStart)
	}
	return 0
}

var errStackEmpty = errors.New("nothing")

// pop removes the top operand; it never writes to the stack's backing array,
// which is what lets the visitor see the stack as it was before the
// instruction.
func (v *funcValidator) pop() (wasm.ValType, error) {
	top := &v.ctrls[len(v.ctrls)-1]
	if len(v.vals) == top.height {
		if top.unreachable {
			return unknown, nil
		}
		return 0, errStackEmpty
	}
	t := v.vals[len(v.vals)-1]
	v.vals = v.vals[:len(v.vals)-1]
	return t, nil
}

func (v *funcValidator) popExpect(want wasm.ValType) error {
	got, err := v.pop()
	if err != nil {
		return typeMismatch(want.String(), "nothing on the stack")
	}
	if got != want && got != unknown && want != unknown {
		return typeMismatch(want.String(), got.String())
	}
	return nil
}

func (v *funcValidator) popVals(ts []wasm.ValType) error {
	for i := len(ts) - 1; i >= 0; i-- {
		if err := v.popExpect(ts[i]); err != nil {
			return err
		}
	}
	return nil
}

// pushCtrl opens a block whose params have just been popped.
func (v *funcValidator) pushCtrl(op wasm.Opcode, params, results []wasm.ValType) {
	f := ctrlFrame{op: op, params: params, results: results, height: len(v.vals)}
	if p := &v.ctrls[len(v.ctrls)-1]; p.dead || p.unreachable {
		f.dead, f.liveBase = true, p.polyBase()
	}
	v.ctrls = append(v.ctrls, f)
	v.pending = params
}

// popCtrl closes the innermost block, checking that exactly its results are
// on the stack.
func (v *funcValidator) popCtrl() (ctrlFrame, error) {
	f := v.ctrls[len(v.ctrls)-1]
	if err := v.popVals(f.results); err != nil {
		return f, err
	}
	if len(v.vals) != f.height {
		return f, fmt.Errorf("type mismatch: %d values remain on the stack at the end of the block", len(v.vals)-f.height)
	}
	v.ctrls = v.ctrls[:len(v.ctrls)-1]
	return f, nil
}

func (v *funcValidator) label(depth uint32) (*ctrlFrame, error) {
	if uint64(depth) >= uint64(len(v.ctrls)) {
		return nil, fmt.Errorf("unknown label %d", depth)
	}
	return &v.ctrls[len(v.ctrls)-1-int(depth)], nil
}

func (v *funcValidator) local(idx uint32) (wasm.ValType, error) {
	if n := uint32(len(v.params)); idx < n {
		return v.params[idx], nil
	} else if idx-n < uint32(len(v.locals)) {
		return v.locals[idx-n], nil
	}
	return 0, fmt.Errorf("unknown local %d", idx)
}

func (v *funcValidator) blockType(bt wasm.BlockType) (params, results []wasm.ValType, err error) {
	switch {
	case bt == wasm.BlockEmpty:
		return nil, nil, nil
	case bt < 0:
		t, _ := bt.ValType()
		if bt < -0x40 || !t.Valid() {
			return nil, nil, malformed("malformed value type: block type %d", int64(bt))
		}
		return nil, single[t : t+1], nil
	case bt < wasm.BlockType(len(v.m.Types)):
		ft := &v.m.Types[bt]
		return ft.Params, ft.Results, nil
	}
	return nil, nil, fmt.Errorf("unknown type %d", int64(bt))
}

func (v *funcValidator) needMemory(idx uint32) error {
	if idx >= v.m.NumMemories() {
		return fmt.Errorf("unknown memory %d", idx)
	}
	return nil
}

func (v *funcValidator) table(idx uint32) (wasm.TableType, error) {
	if idx >= v.m.NumTables() {
		return wasm.TableType{}, fmt.Errorf("unknown table %d", idx)
	}
	return v.m.TableType(idx), nil
}

// needDataCount checks a data index used in a body. The binary format wants
// the data count section before the code that uses one, so that a one-pass
// validator knows the index space; without it an index that a data section
// would satisfy is malformed (as the reference interpreter and binary.wast
// have it), and one beyond every segment is simply unknown.
func (v *funcValidator) needDataCount(idx uint32) error {
	n := uint32(len(v.m.Datas))
	if v.m.HasDataCount {
		n = v.m.DataCount
	}
	if idx >= n {
		return fmt.Errorf("unknown data segment %d", idx)
	}
	if !v.m.HasDataCount {
		return malformed("data count section required")
	}
	return nil
}

func (v *funcValidator) elem(idx uint32) (*wasm.Elem, error) {
	if idx >= uint32(len(v.m.Elems)) {
		return nil, fmt.Errorf("unknown elem segment %d", idx)
	}
	return &v.m.Elems[idx], nil
}

// check types the current instruction: it pops its operands (checking them)
// and records in v.pending and v.deadAfter what remains to be applied.
func (v *funcValidator) check() error {
	in := &v.in
	op := in.Op
	if s := &opSigs[op]; s.nin != 0 || s.out != 0 || s.align != 0 {
		if s.align != 0 {
			if err := v.needMemory(0); err != nil {
				return err
			}
			if in.A >= uint32(s.align) {
				return errors.New("alignment must not be larger than natural")
			}
		}
		if s.lanes != 0 {
			l := in.A
			if s.align != 0 {
				l = in.B
			}
			if l >= uint32(s.lanes) {
				return fmt.Errorf("invalid lane index %d", l)
			}
		}
		if op == wasm.OpI8x16Shuffle {
			for i := 0; i < 8; i++ {
				if byte(in.Imm>>(8*i)) >= 32 || byte(in.Imm2>>(8*i)) >= 32 {
					return errors.New("invalid lane index")
				}
			}
		}
		if err := v.popVals(s.in[:s.nin]); err != nil {
			return err
		}
		if s.out != 0 {
			v.pending = single[s.out : s.out+1]
		}
		return nil
	}

	switch op {
	case wasm.OpUnreachable:
		v.deadAfter = true
	case wasm.OpNop:
	case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
		params, results, err := v.blockType(in.BlockType)
		if err != nil {
			return err
		}
		if op == wasm.OpIf {
			if err := v.popExpect(i32); err != nil {
				return err
			}
		}
		if err := v.popVals(params); err != nil {
			return err
		}
		if len(v.ctrls) > MaxNestingDepth {
			return malformed("%w: blocks nested more than %d deep", binary.ErrLimit, MaxNestingDepth)
		}
		v.pushCtrl(op, params, results)
	case wasm.OpElse:
		if v.ctrls[len(v.ctrls)-1].op != wasm.OpIf {
			return malformed("else without a matching if")
		}
		f, err := v.popCtrl()
		if err != nil {
			return err
		}
		v.pushCtrl(wasm.OpElse, f.params, f.results)
	case wasm.OpEnd:
		f, err := v.popCtrl()
		if err != nil {
			return err
		}
		if f.op == wasm.OpIf && !sameTypes(f.params, f.results) {
			// An if without else has an implicit empty else branch,
			// which must turn the params into the results.
			return fmt.Errorf("type mismatch: if without else must have matching params and results, %v vs %v", f.params, f.results)
		}
		v.pending = f.results
	case wasm.OpBr:
		l, err := v.label(in.A)
		if err != nil {
			return err
		}
		if err := v.popVals(l.labelTypes()); err != nil {
			return err
		}
		v.deadAfter = true
	case wasm.OpBrIf:
		l, err := v.label(in.A)
		if err != nil {
			return err
		}
		if err := v.popExpect(i32); err != nil {
			return err
		}
		ts := l.labelTypes()
		if err := v.popVals(ts); err != nil {
			return err
		}
		v.pending = ts
	case wasm.OpBrTable:
		return v.brTable()
	case wasm.OpReturn:
		if err := v.popVals(v.ctrls[0].results); err != nil {
			return err
		}
		v.deadAfter = true
	case wasm.OpCall:
		if in.A >= v.m.NumFuncs() {
			return fmt.Errorf("unknown function %d", in.A)
		}
		ft := v.m.FuncType(in.A)
		if err := v.popVals(ft.Params); err != nil {
			return err
		}
		v.pending = ft.Results
	case wasm.OpCallIndirect:
		tt, err := v.table(in.B)
		if err != nil {
			return err
		}
		if tt.Elem != wasm.FuncRef {
			return fmt.Errorf("type mismatch: call_indirect needs a funcref table, table %d holds %v", in.B, tt.Elem)
		}
		if in.A >= uint32(len(v.m.Types)) {
			return fmt.Errorf("unknown type %d", in.A)
		}
		ft := &v.m.Types[in.A]
		if err := v.popExpect(i32); err != nil {
			return err
		}
		if err := v.popVals(ft.Params); err != nil {
			return err
		}
		v.pending = ft.Results
	case wasm.OpDrop:
		if _, err := v.pop(); err != nil {
			return typeMismatch("a value", "nothing on the stack")
		}
	case wasm.OpSelect:
		if err := v.popExpect(i32); err != nil {
			return err
		}
		t1, err1 := v.pop()
		t2, err2 := v.pop()
		if err1 != nil || err2 != nil {
			return typeMismatch("two operands", "fewer")
		}
		if t1.IsRef() || t2.IsRef() {
			return errors.New("type mismatch: select without a type needs numeric or vector operands")
		}
		if t1 != t2 && t1 != unknown && t2 != unknown {
			return typeMismatch(t1.String(), t2.String())
		}
		if t1 == unknown {
			t1 = t2
		}
		v.pending = single[t1 : t1+1]
	case wasm.OpSelectT:
		if len(in.Types) != 1 {
			return fmt.Errorf("invalid result arity %d for select", len(in.Types))
		}
		t := in.Types[0]
		if !t.Valid() {
			return malformed("malformed value type 0x%02x", byte(t))
		}
		if err := v.popExpect(i32); err != nil {
			return err
		}
		if err := v.popExpect(t); err != nil {
			return err
		}
		if err := v.popExpect(t); err != nil {
			return err
		}
		v.pending = single[t : t+1]
	case wasm.OpLocalGet, wasm.OpLocalSet, wasm.OpLocalTee:
		t, err := v.local(in.A)
		if err != nil {
			return err
		}
		if op != wasm.OpLocalGet {
			if err := v.popExpect(t); err != nil {
				return err
			}
		}
		if op != wasm.OpLocalSet {
			v.pending = single[t : t+1]
		}
	case wasm.OpGlobalGet, wasm.OpGlobalSet:
		if in.A >= v.m.NumGlobals() {
			return fmt.Errorf("unknown global %d", in.A)
		}
		gt := v.m.GlobalType(in.A)
		if op == wasm.OpGlobalGet {
			v.pending = single[gt.Type : gt.Type+1]
			return nil
		}
		if !gt.Mutable {
			return fmt.Errorf("global is immutable: global %d", in.A)
		}
		return v.popExpect(gt.Type)
	case wasm.OpTableGet, wasm.OpTableSet, wasm.OpTableSize, wasm.OpTableGrow, wasm.OpTableFill:
		tt, err := v.table(in.A)
		if err != nil {
			return err
		}
		return v.tableOp(op, tt.Elem)
	case wasm.OpTableCopy:
		dst, err := v.table(in.A)
		if err != nil {
			return err
		}
		src, err := v.table(in.B)
		if err != nil {
			return err
		}
		if dst.Elem != src.Elem {
			return typeMismatch(dst.Elem.String(), src.Elem.String()+" table")
		}
		return v.popVals(threeI32[:])
	case wasm.OpTableInit:
		tt, err := v.table(in.B)
		if err != nil {
			return err
		}
		e, err := v.elem(in.A)
		if err != nil {
			return err
		}
		if tt.Elem != e.Type {
			return typeMismatch(tt.Elem.String(), e.Type.String()+" segment")
		}
		return v.popVals(threeI32[:])
	case wasm.OpElemDrop:
		_, err := v.elem(in.A)
		return err
	case wasm.OpMemorySize:
		if err := v.needMemory(0); err != nil {
			return err
		}
		v.pending = single[i32 : i32+1]
	case wasm.OpMemoryGrow:
		if err := v.needMemory(0); err != nil {
			return err
		}
		if err := v.popExpect(i32); err != nil {
			return err
		}
		v.pending = single[i32 : i32+1]
	case wasm.OpMemoryInit:
		if err := v.needMemory(0); err != nil {
			return err
		}
		if err := v.needDataCount(in.A); err != nil {
			return err
		}
		return v.popVals(threeI32[:])
	case wasm.OpDataDrop:
		return v.needDataCount(in.A)
	case wasm.OpMemoryCopy, wasm.OpMemoryFill:
		if err := v.needMemory(0); err != nil {
			return err
		}
		// copy: dest, src, n; fill: dest, byte value, n.
		return v.popVals(threeI32[:])
	case wasm.OpRefNull:
		t := wasm.ValType(in.A)
		if !t.IsRef() {
			return malformed("malformed reference type 0x%02x", in.A)
		}
		v.pending = single[t : t+1]
	case wasm.OpRefIsNull:
		t, err := v.pop()
		if err != nil {
			return typeMismatch("a reference", "nothing on the stack")
		}
		if t != unknown && !t.IsRef() {
			return typeMismatch("a reference", t.String())
		}
		v.pending = single[i32 : i32+1]
	case wasm.OpRefFunc:
		if in.A >= v.m.NumFuncs() {
			return fmt.Errorf("unknown function %d", in.A)
		}
		if !v.refs[in.A] {
			return fmt.Errorf("undeclared function reference %d", in.A)
		}
		v.pending = single[wasm.FuncRef : wasm.FuncRef+1]
	default:
		// The reader only returns known opcodes, all of which are typed
		// above or in opSigs; reaching here is a bug in this package.
		return fmt.Errorf("validator does not know %v", op)
	}
	return nil
}

var threeI32 = [3]wasm.ValType{i32, i32, i32}

func (v *funcValidator) tableOp(op wasm.Opcode, elem wasm.ValType) error {
	switch op {
	case wasm.OpTableGet:
		if err := v.popExpect(i32); err != nil {
			return err
		}
		v.pending = single[elem : elem+1]
	case wasm.OpTableSet:
		if err := v.popExpect(elem); err != nil {
			return err
		}
		return v.popExpect(i32)
	case wasm.OpTableSize:
		v.pending = single[i32 : i32+1]
	case wasm.OpTableGrow:
		if err := v.popExpect(i32); err != nil {
			return err
		}
		if err := v.popExpect(elem); err != nil {
			return err
		}
		v.pending = single[i32 : i32+1]
	case wasm.OpTableFill:
		if err := v.popExpect(i32); err != nil {
			return err
		}
		if err := v.popExpect(elem); err != nil {
			return err
		}
		return v.popExpect(i32)
	}
	return nil
}

// brTable follows the appendix: every label must have the default's arity
// and accept the operands. In unreachable code an operand below the
// polymorphic base is unknown and accepts any label's type; it is not refined
// by one label for the next, so labels of different types are allowed there.
func (v *funcValidator) brTable() error {
	if err := v.popExpect(i32); err != nil {
		return err
	}
	labels := v.in.Labels
	def, err := v.label(labels[len(labels)-1])
	if err != nil {
		return err
	}
	arity := len(def.labelTypes())
	top := &v.ctrls[len(v.ctrls)-1]
	for _, depth := range labels {
		l, err := v.label(depth)
		if err != nil {
			return err
		}
		ts := l.labelTypes()
		if len(ts) != arity {
			return fmt.Errorf("type mismatch: br_table labels have arities %d and %d", arity, len(ts))
		}
		// Peek rather than pop: the operands stay for the next label.
		for k, want := range ts {
			i := len(v.vals) - arity + k
			switch {
			case i >= top.height:
				if got := v.vals[i]; got != want && got != unknown {
					return typeMismatch(want.String(), got.String())
				}
			case !top.unreachable:
				return typeMismatch(fmt.Sprint(ts), "fewer values on the stack")
			}
		}
	}
	v.deadAfter = true
	return nil
}

func sameTypes(a, b []wasm.ValType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

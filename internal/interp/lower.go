package interp

import (
	"fmt"
	"runtime"
	"slices"

	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/pause"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/validate"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Compiled is a module lowered for the interpreter.
type Compiled struct {
	funcs []*funcCode
	// byIndex is funcs by function index: nil for the imported functions,
	// so that a call finds a callee of its own module with one index.
	byIndex []*funcCode
	armState
	// tier is the compiled tier of the engine that lowered the module
	// (nil: none); its code is in each funcCode, and in codes, which
	// frees it with the module.
	tier  *tierState
	codes *codeSet
	// lazy is set when the code comes from a code cache entry read one
	// function at a time (cached.go, FromSource).
	lazy *lazyCode
}

// Compile validates m and lowers every defined function in the same pass.
func Compile(m *wasm.Module) (*Compiled, error) { return compile(m, false) }

// CompileWithoutPolls is Compile without poll instructions: pause points
// are still recorded (for host calls, which stay pausable) but function
// entries and loops never poll, so running code can be neither paused nor
// stopped by its context between host calls. It exists for
// RuntimeConfig.WithPausePolling(false), against which the cost of armed
// polling is measured (bench/cmd/ckptbench, section poll).
func CompileWithoutPolls(m *wasm.Module) (*Compiled, error) { return compile(m, true) }

// compile is Compile, or CompileWithoutPolls when noPoll is set.
func compile(m *wasm.Module, noPoll bool) (*Compiled, error) {
	return lower(m, noPoll, compileWorkers(m))
}

// lower validates and lowers m on workers goroutines.
func lower(m *wasm.Module, noPoll bool, workers int) (*Compiled, error) {
	out := make([]*funcCode, len(m.Funcs))
	newLowerer := func() validate.Visitor {
		return &lowerer{m: m, out: out, noPoll: noPoll, rec: pause.NewRecorder(m)}
	}
	var err error
	if workers > 1 {
		err = validate.ModuleConcurrent(m, workers, newLowerer)
	} else {
		err = validate.Module(m, newLowerer())
	}
	if err != nil {
		return nil, err
	}
	c := newCompiled(out, m.NumImportedFuncs())
	if alwaysArmed && !noPoll {
		c.setArmed(true)
	}
	return c, nil
}

// Code returns one lowered body per defined function, in order, for
// store.Function.Code. An instance's code comes from one Compiled: a call
// between functions of one instance finds its callee's body in byIndex.
func (c *Compiled) Code() []store.Code {
	out := make([]store.Code, len(c.funcs))
	for i, f := range c.funcs {
		out[i] = f
	}
	return out
}

// Location kinds of an operand-stack entry during lowering. Values produced
// by local.get and constants stay "pending" (not yet written to their home
// slot) so that consumers read the local or the immediate directly; they are
// materialized before any pause point, label or instruction that needs them
// in their slot.
const (
	inSlot  = iota // the value is in its home slot
	inLocal        // the value is local slot src
	isConst        // the value is imm (never v128)
)

type entry struct {
	kind     uint8
	wide     bool // v128: two slots
	src      uint32
	imm      uint64
	slot     uint32 // home slot
	producer int    // IR index of the instruction that wrote it, or -1
}

type ctrlFrame struct {
	op        wasm.Opcode
	dead      bool // the whole construct is unreachable code (not lowered)
	unreach   bool // the rest of the construct is unreachable
	height    int  // operand entries below the params
	slot      uint32
	params    []wasm.ValType
	results   []wasm.ValType
	loopPC    uint32 // a loop's first body instruction
	loop      int    // a loop's index in lowerer.loops
	elseFix   int    // for if: IR index of the branch to else, -1 once resolved
	fixups    []fixup
	typeStack []wasm.ValType // operand types below the params (for pause points)
}

type fixup struct {
	at    int
	table bool
}

// lowerer implements validate.Visitor.
type lowerer struct {
	m     *wasm.Module
	out   []*funcCode // by defined function index, shared by concurrent lowerers
	f     *funcCode
	bias  uint32 // add to Instr.Pos to get an offset from BodyStart
	off   uint32 // offset of the current instruction
	local []uint32
	vs    []entry
	ctrls []ctrlFrame
	// noPoll omits ir.Poll (see compile).
	noPoll bool
	// loops are the current function's loops, whose poll stubs EndFunc
	// emits; stubFix are branches to be aimed at a loop's stub then.
	loops   []loopStub
	stubFix []stubFix
	// code, offsets and pauseIR are the scratch arrays a function is
	// lowered into (reused from function to function); EndFunc gives the
	// function copies of exactly its size, so lowering a large module
	// does not spend its time growing slices.
	code    []ir.Instr
	offsets []uint32
	pauseIR []uint32
	// rec makes the function's tier-neutral pause-point table; the
	// lowerer adds only where each point is in the IR (funcCode.PauseIR).
	rec *pause.Recorder
}

// loopStub is a loop's out-of-line pause point: its ir.Poll and a branch
// to the loop's body, emitted after the function's code so that entering
// the loop costs nothing.
type loopStub struct {
	body  uint32 // the loop's first body instruction
	poll  uint32 // the stub's ir.Poll, set by EndFunc
	pause int    // the loop's pause point
	off   uint32 // the loop's Wasm offset
}

// stubFix aims code[at] (a branch that always polls: it carries loop
// parameters) or a back-edge's stub field at loops[loop].poll.
type stubFix struct {
	at, loop int
	back     bool // set the back-edge's stub field, not its target
}

func (l *lowerer) BeginFunc(m *wasm.Module, idx uint32, sig *wasm.FuncType, locals []wasm.ValType) error {
	def := &m.Funcs[idx-m.NumImportedFuncs()]
	f := &funcCode{Func: ir.Func{Index: idx, Sig: sig, BodyStart: def.BodyStart, Code: l.code[:0], Offsets: l.offsets[:0]}}
	f.Locals = append(append([]wasm.ValType(nil), sig.Params...), locals...)
	l.local = l.local[:0]
	var n uint32
	for i, t := range f.Locals {
		if i == len(sig.Params) {
			f.ParamSlots = n
		}
		l.local = append(l.local, n)
		n += uint32(t.Slots())
	}
	if len(sig.Params) == len(f.Locals) {
		f.ParamSlots = n
	}
	f.LocalSlots, f.FrameSlots = n, n
	f.pauses = l.rec.Begin(idx, f.Locals)
	for _, t := range sig.Results {
		f.FrameSlots += uint32(t.Slots())
	}
	l.f, l.bias = f, def.BodyOffset-def.BodyStart
	l.vs = l.vs[:0]
	l.ctrls = l.ctrls[:0]
	l.pushCtrl(ctrlFrame{op: wasm.OpBlock, slot: n, results: sig.Results, elseFix: -1})
	l.off = def.BodyOffset - def.BodyStart
	f.PauseIR = append(l.pauseIR[:0], 0) // the entry is pause point 0, at IR 0
	const id = 0
	if !l.noPoll {
		l.emit(ir.Instr{Op: ir.Poll, A: id})
		f.EntryPoll, f.start = true, 1
	}
	return nil
}

func (l *lowerer) EndFunc() error {
	l.emitLoopStubs()
	f := l.f
	l.code, l.offsets, l.pauseIR = f.Code[:0], f.Offsets[:0], f.PauseIR[:0]
	f.Code, f.Offsets, f.PauseIR = slices.Clone(f.Code), slices.Clone(f.Offsets), slices.Clone(f.PauseIR)
	l.rec.End(&f.pauses)
	l.out[f.Index-l.m.NumImportedFuncs()] = f
	l.f = nil
	return nil
}

// concurrentCode is the amount of function code (bytes of bodies) from
// which lowering is spread over the CPUs: below it, starting goroutines
// costs more than it saves (the spec suite's thousands of tiny modules).
const concurrentCode = 256 << 10

// compileWorkers is how many goroutines lower m.
func compileWorkers(m *wasm.Module) int {
	n := 0
	for i := range m.Funcs {
		n += len(m.Funcs[i].Body)
	}
	if n < concurrentCode {
		return 1
	}
	return min(runtime.GOMAXPROCS(0), n/(concurrentCode/4))
}

// emitLoopStubs appends every loop's poll stub (ir.Poll, then a branch to
// the loop's body), points the loop's pause point at it and resolves the
// branches that need it.
func (l *lowerer) emitLoopStubs() {
	f := l.f
	if l.noPoll || len(l.loops) == 0 {
		l.loops, l.stubFix = l.loops[:0], l.stubFix[:0]
		return
	}
	for i := range l.loops {
		s := &l.loops[i]
		l.off = s.off
		s.poll = uint32(l.emit(ir.Instr{Op: ir.Poll, A: uint32(s.pause)}))
		l.emit(ir.Instr{Op: ir.Br, A: s.body})
		f.PauseIR[s.pause] = s.poll
	}
	f.LoopPolls = make([]uint32, len(l.loops))
	for i, s := range l.loops {
		f.LoopPolls[i] = s.poll
	}
	for _, fx := range l.stubFix {
		in := &f.Code[fx.at]
		if fx.back {
			ir.SetStubField(in, l.loops[fx.loop].poll)
		} else {
			in.A = l.loops[fx.loop].poll
		}
	}
	l.loops, l.stubFix = l.loops[:0], l.stubFix[:0]
}

func (l *lowerer) emit(in ir.Instr) int {
	l.f.Code = append(l.f.Code, in)
	l.f.Offsets = append(l.f.Offsets, l.off)
	return len(l.f.Code) - 1
}

// pushCtrl pushes a control frame, reusing the fixup array of the frame
// that last stood at that depth (a branch per block would otherwise cost
// an allocation).
func (l *lowerer) pushCtrl(c ctrlFrame) {
	if n := len(l.ctrls); n < cap(l.ctrls) {
		c.fixups = l.ctrls[:n+1][n].fixups[:0]
	}
	l.ctrls = append(l.ctrls, c)
}

// record has the recorder make the pause point of in (a loop or a call,
// in reachable code), implemented by the next IR instruction, and returns
// its id. The recorder numbers points in the body's order, whatever the
// IR's layout (a loop's poll stub comes later).
func (l *lowerer) record(in *wasm.Instr, stack []wasm.ValType) (uint32, error) {
	f := l.f
	id, ok := l.rec.Instr(&f.pauses, in, stack, true)
	if !ok || int(id) != len(f.PauseIR) {
		return 0, fmt.Errorf("interp: internal error: pause point %d (%v) at +0x%x out of step with the IR's %d", id, ok, l.off, len(f.PauseIR))
	}
	f.PauseIR = append(f.PauseIR, uint32(len(f.Code)))
	return id, nil
}

// top returns the home slot the next pushed value would take.
func (l *lowerer) nextSlot() uint32 {
	if n := len(l.vs); n > 0 {
		e := &l.vs[n-1]
		if e.wide {
			return e.slot + 2
		}
		return e.slot + 1
	}
	return l.f.LocalSlots
}

func (l *lowerer) push(e entry) *entry {
	e.slot = l.nextSlot()
	end := e.slot + 1
	if e.wide {
		end++
	}
	if end > l.f.FrameSlots {
		l.f.FrameSlots = end
	}
	l.vs = append(l.vs, e)
	return &l.vs[len(l.vs)-1]
}

func (l *lowerer) pop() entry {
	e := l.vs[len(l.vs)-1]
	l.vs = l.vs[:len(l.vs)-1]
	return e
}

// pushResult pushes a value that instruction at IR index p writes to its
// home slot (the slot the caller must have used as p's destination).
func (l *lowerer) pushResult(wide bool, p int) {
	l.push(entry{kind: inSlot, wide: wide, producer: p})
}

// materialize writes a pending entry to its home slot.
func (l *lowerer) materialize(e *entry) {
	switch e.kind {
	case inLocal:
		if e.wide {
			l.emit(ir.Instr{Op: ir.Mov2, A: e.slot, B: e.src})
		} else {
			l.emit(ir.Instr{Op: ir.Mov, A: e.slot, B: e.src})
		}
	case isConst:
		l.emit(ir.Instr{Op: ir.Const, A: e.slot, Imm: e.imm})
	default:
		return
	}
	e.kind, e.producer = inSlot, -1
}

func (l *lowerer) flush() {
	for i := range l.vs {
		l.materialize(&l.vs[i])
	}
}

// use returns the slot an operand can be read from, materializing a
// constant in its home slot.
func (l *lowerer) use(e *entry) uint32 {
	switch e.kind {
	case inLocal:
		return e.src
	case isConst:
		l.materialize(e)
	}
	return e.slot
}

func (l *lowerer) blockSig(bt wasm.BlockType) ([]wasm.ValType, []wasm.ValType) {
	p, r, _ := bt.Signature(l.m)
	return p, r
}

// slotOf returns the home slot of operand entry i (len(vs) for the next one).
func (l *lowerer) slotOf(i int) uint32 {
	if i < len(l.vs) {
		return l.vs[i].slot
	}
	return l.nextSlot()
}

func slotsOf(ts []wasm.ValType) uint32 {
	var n uint32
	for _, t := range ts {
		n += uint32(t.Slots())
	}
	return n
}

// branch emits a branch to label depth; cond is the condition slot, or -1
// for an unconditional branch. All operands must be materialized.
func (l *lowerer) branch(depth uint32, cond int64) {
	c := &l.ctrls[len(l.ctrls)-1-int(depth)]
	vals := c.results
	if c.op == wasm.OpLoop {
		vals = c.params
	}
	n := slotsOf(vals)
	src := l.slotOf(len(l.vs) - len(vals))
	var in ir.Instr
	switch {
	case cond < 0 && (n == 0 || src == c.slot):
		in = ir.Instr{Op: ir.Br}
	case cond < 0:
		in = ir.Instr{Op: ir.BrCopy, B: src, C: c.slot, Imm: uint64(n)}
	case n == 0 || src == c.slot:
		in = ir.Instr{Op: ir.BrIf, B: uint32(cond)}
	default:
		in = ir.Instr{Op: ir.BrIfCopy, B: uint32(cond), C: src, Imm: uint64(c.slot) | uint64(n)<<32}
	}
	l.target(c, l.emit(in), false)
}

// target points the branch at IR index at (or brTargets[at]) to label c.
func (l *lowerer) target(c *ctrlFrame, at int, table bool) {
	if c.op == wasm.OpLoop {
		// A back-edge goes straight to the loop's body; arming makes it
		// go to the loop's poll stub when the interrupt word is set
		// (arm.go). A branch with no back-edge form (it copies loop
		// parameters) always goes through the stub.
		if table {
			l.f.BrTargets[at].PC = c.loopPC
			if !l.noPoll {
				l.f.backEdges = append(l.f.backEdges, backEdge{at: uint32(at), table: true, loop: uint32(c.loop)})
			}
			return
		}
		in := &l.f.Code[at]
		in.A = c.loopPC
		if l.noPoll {
			return
		}
		if _, ok := ir.BackOp(in.Op); ok {
			l.f.backEdges = append(l.f.backEdges, backEdge{at: uint32(at), plain: in.Op, loop: uint32(c.loop)})
			l.stubFix = append(l.stubFix, stubFix{at: at, loop: c.loop, back: true})
		} else {
			l.stubFix = append(l.stubFix, stubFix{at: at, loop: c.loop})
		}
		return
	}
	c.fixups = append(c.fixups, fixup{at, table})
}

func (l *lowerer) resolve(c *ctrlFrame) {
	here := uint32(len(l.f.Code))
	for _, fx := range c.fixups {
		if fx.table {
			l.f.BrTargets[fx.at].PC = here
		} else {
			l.f.Code[fx.at].A = here
		}
	}
	c.fixups = c.fixups[:0]
}

// resetTo drops the operand entries above height and pushes ts as values in
// their home slots (the state at a label).
func (l *lowerer) resetTo(height int, ts []wasm.ValType) {
	l.vs = l.vs[:height]
	for _, t := range ts {
		l.push(entry{kind: inSlot, wide: t == wasm.V128, producer: -1})
	}
}

// condBranch pops an i32 condition and emits a branch taken when it is
// non-zero (negate=false) or zero (negate=true), fusing a comparison that
// produced it when nothing else needs to be emitted in between. It returns
// the branch's IR index. Used for br_if without values and for if.
func (l *lowerer) condBranch(negate bool) int {
	cond := l.pop()
	pending := false
	for i := range l.vs {
		if l.vs[i].kind != inSlot {
			pending = true
		}
	}
	last := len(l.f.Code) - 1
	if !pending && cond.kind == inSlot && cond.producer == last && last >= 0 {
		p := &l.f.Code[last]
		if bo, ok := ir.BranchOp(p.Op, negate); ok {
			p.Op = bo
			p.A = 0
			return last
		}
		if p.Op == ir.Op(wasm.OpI32Eqz) {
			o := ir.BrIfNot
			if negate {
				o = ir.BrIf
			}
			p.Op, p.A = o, 0
			return last
		}
	}
	var src uint32
	switch cond.kind {
	case isConst:
		src = l.use(&cond)
	default:
		src = l.use(&cond)
	}
	l.flush()
	o := ir.BrIf
	if negate {
		o = ir.BrIfNot
	}
	return l.emit(ir.Instr{Op: o, B: src})
}

func (l *lowerer) Instr(in *wasm.Instr, stack []wasm.ValType, reachable bool) error {
	l.off = in.Pos + l.bias
	cur := &l.ctrls[len(l.ctrls)-1]
	if cur.unreach || cur.dead {
		switch in.Op {
		case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
			l.pushCtrl(ctrlFrame{op: in.Op, dead: true, unreach: true, elseFix: -1})
			return nil
		case wasm.OpElse, wasm.OpEnd:
		default:
			return nil
		}
	} else if len(stack) != len(l.vs) {
		return fmt.Errorf("interp: internal error: operand height %d, lowering has %d at +0x%x", len(stack), len(l.vs), l.off)
	}
	f := l.f
	switch w := in.Op; {
	case w == wasm.OpNop:
	case w == wasm.OpUnreachable:
		l.emit(ir.Instr{Op: ir.Unreachable})
		cur.unreach = true
	case w == wasm.OpBlock || w == wasm.OpLoop:
		params, results := l.blockSig(in.BlockType)
		l.flush()
		h := len(l.vs) - len(params)
		c := ctrlFrame{op: w, height: h, slot: l.slotOf(h), params: params, results: results, elseFix: -1}
		if w == wasm.OpLoop {
			c.loopPC = uint32(len(f.Code))
			c.loop = len(l.loops)
			id, err := l.record(in, stack)
			if err != nil {
				return err
			}
			l.loops = append(l.loops, loopStub{body: c.loopPC, pause: int(id), off: l.off})
		}
		l.pushCtrl(c)
	case w == wasm.OpIf:
		params, results := l.blockSig(in.BlockType)
		at := l.condBranch(true)
		l.flush()
		h := len(l.vs) - len(params)
		l.pushCtrl(ctrlFrame{op: w, height: h, slot: l.slotOf(h), params: params, results: results, elseFix: at})
	case w == wasm.OpElse:
		if cur.dead {
			return nil
		}
		if !cur.unreach {
			l.flush()
			l.target(cur, l.emit(ir.Instr{Op: ir.Br}), false)
		}
		f.Code[cur.elseFix].A = uint32(len(f.Code))
		cur.elseFix = -1
		cur.unreach = false
		l.resetTo(cur.height, cur.params)
	case w == wasm.OpEnd:
		if cur.dead {
			l.ctrls = l.ctrls[:len(l.ctrls)-1]
			return nil
		}
		if len(l.ctrls) == 1 && !cur.unreach && len(cur.fixups) == 0 && len(cur.results) == 1 && !l.vs[len(l.vs)-1].wide {
			// The function's end, reached only by falling through: return
			// the result from wherever it is (a local, say).
			e := l.pop()
			l.emit(ir.Instr{Op: ir.Return, B: l.use(&e), C: 1})
			l.ctrls = l.ctrls[:0]
			return nil
		}
		if !cur.unreach {
			l.flush()
		}
		if cur.elseFix >= 0 {
			f.Code[cur.elseFix].A = uint32(len(f.Code))
		}
		l.resolve(cur)
		if len(l.ctrls) == 1 {
			// The function's end: results are at the label slot.
			l.emit(ir.Instr{Op: ir.Return, B: cur.slot, C: slotsOf(cur.results)})
			l.ctrls = l.ctrls[:0]
			return nil
		}
		h, rs := cur.height, cur.results
		l.ctrls = l.ctrls[:len(l.ctrls)-1]
		l.resetTo(h, rs)
	case w == wasm.OpBr:
		l.flush()
		l.branch(in.A, -1)
		cur.unreach = true
	case w == wasm.OpBrIf:
		c := &l.ctrls[len(l.ctrls)-1-int(in.A)]
		vals := c.results
		if c.op == wasm.OpLoop {
			vals = c.params
		}
		if n := len(vals); n == 0 || l.slotOf(len(l.vs)-1-n) == c.slot {
			at := l.condBranch(false)
			l.target(c, at, false)
			return nil
		}
		cond := l.pop()
		src := l.use(&cond)
		l.flush()
		l.branch(in.A, int64(src))
	case w == wasm.OpBrTable:
		idx := l.pop()
		src := l.use(&idx)
		l.flush()
		start := len(f.BrTargets)
		for _, d := range in.Labels {
			c := &l.ctrls[len(l.ctrls)-1-int(d)]
			vals := c.results
			if c.op == wasm.OpLoop {
				vals = c.params
			}
			f.BrTargets = append(f.BrTargets, ir.BrTarget{Src: l.slotOf(len(l.vs) - len(vals)), Dst: c.slot, N: slotsOf(vals)})
		}
		for i, d := range in.Labels {
			l.target(&l.ctrls[len(l.ctrls)-1-int(d)], start+i, true)
		}
		l.emit(ir.Instr{Op: ir.BrTable, A: src, B: uint32(start), C: uint32(len(in.Labels))})
		cur.unreach = true
	case w == wasm.OpReturn:
		rs := l.ctrls[0].results
		if len(rs) == 1 && !l.vs[len(l.vs)-1].wide {
			e := l.pop()
			l.emit(ir.Instr{Op: ir.Return, B: l.use(&e), C: 1})
			cur.unreach = true
			return nil
		}
		l.flush()
		l.emit(ir.Instr{Op: ir.Return, B: l.slotOf(len(l.vs) - len(rs)), C: slotsOf(rs)})
		cur.unreach = true
	case w == wasm.OpCall || w == wasm.OpCallIndirect:
		var ft *wasm.FuncType
		nops := 0
		if w == wasm.OpCall {
			ft = l.m.FuncType(in.A)
		} else {
			ft = &l.m.Types[in.A]
			nops = 1
		}
		l.flush()
		nops += len(ft.Params)
		id, err := l.record(in, stack)
		if err != nil {
			return err
		}
		argSlot := l.slotOf(len(l.vs) - nops)
		if w == wasm.OpCall {
			l.emit(ir.Instr{Op: ir.Call, A: in.A, B: argSlot, C: id})
		} else {
			l.emit(ir.Instr{Op: ir.CallIndirect, A: in.A, B: in.B, C: argSlot, Imm: uint64(l.vs[len(l.vs)-1].slot) | uint64(id)<<32})
		}
		l.vs = l.vs[:len(l.vs)-nops]
		for _, t := range ft.Results {
			l.push(entry{kind: inSlot, wide: t == wasm.V128, producer: -1})
		}
	case w == wasm.OpDrop:
		l.pop()
	case w == wasm.OpSelect || w == wasm.OpSelectT:
		cond := l.pop()
		y := l.pop()
		x := l.pop()
		cs := l.use(&cond)
		ys := l.use(&y)
		xs := l.use(&x)
		o := ir.Select
		if x.wide {
			o = ir.Select2
		}
		l.pushResult(x.wide, l.emit(ir.Instr{Op: o, A: x.slot, B: xs, C: ys, Imm: uint64(cs)}))
	case w == wasm.OpLocalGet:
		t := f.Locals[in.A]
		l.push(entry{kind: inLocal, wide: t == wasm.V128, src: l.local[in.A], producer: -1})
	case w == wasm.OpLocalSet || w == wasm.OpLocalTee:
		t := f.Locals[in.A]
		dst := l.local[in.A]
		e := l.pop()
		// A pending read of this local below must see the old value.
		for i := range l.vs {
			if l.vs[i].kind == inLocal && l.vs[i].src == dst {
				l.materialize(&l.vs[i])
			}
		}
		last := len(f.Code) - 1
		switch {
		case e.kind == inSlot && e.producer == last && last >= 0 && (!e.wide || writesOnlyDst(f.Code[last].Op)):
			f.Code[last].A = dst
		case e.kind == inLocal && e.src == dst:
		case e.kind == isConst:
			l.emit(ir.Instr{Op: ir.Const, A: dst, Imm: e.imm})
		case t == wasm.V128:
			l.emit(ir.Instr{Op: ir.Mov2, A: dst, B: l.use(&e)})
		default:
			l.emit(ir.Instr{Op: ir.Mov, A: dst, B: l.use(&e)})
		}
		if w == wasm.OpLocalTee {
			l.push(entry{kind: inLocal, wide: e.wide, src: dst, producer: -1})
		}
	case w == wasm.OpGlobalGet:
		if l.m.GlobalType(in.A).Type == wasm.V128 {
			s := l.nextSlot()
			l.pushResult(true, l.emit(ir.Instr{Op: ir.GlobalGet2, A: s, B: in.A}))
		} else {
			s := l.nextSlot()
			l.pushResult(false, l.emit(ir.Instr{Op: ir.GlobalGet, A: s, B: in.A}))
		}
	case w == wasm.OpGlobalSet:
		e := l.pop()
		o := ir.GlobalSet
		if e.wide {
			o = ir.GlobalSet2
		}
		l.emit(ir.Instr{Op: o, A: in.A, B: l.use(&e)})
	case w >= wasm.OpI32Load && w <= wasm.OpI64Load32U:
		a := l.pop()
		s := l.use(&a)
		l.pushResult(false, l.emit(ir.Instr{Op: ir.I32Load + opcodeDelta(w, wasm.OpI32Load), A: a.slot, B: s, Imm: in.Offset}))
	case w >= wasm.OpI32Store && w <= wasm.OpI64Store32:
		v := l.pop()
		a := l.pop()
		if v.kind == isConst {
			if so, ok := storeImm(w, v.imm); ok {
				l.emit(ir.Instr{Op: so, A: l.use(&a), C: uint32(v.imm), Imm: in.Offset})
				return nil
			}
		}
		vs := l.use(&v)
		as := l.use(&a)
		l.emit(ir.Instr{Op: ir.I32Store + opcodeDelta(w, wasm.OpI32Store), A: as, B: vs, Imm: in.Offset})
	case w == wasm.OpMemorySize:
		l.pushResult(false, l.emit(ir.Instr{Op: ir.MemorySize, A: l.nextSlot()}))
	case w == wasm.OpMemoryGrow:
		d := l.pop()
		s := l.use(&d)
		l.pushResult(false, l.emit(ir.Instr{Op: ir.MemoryGrow, A: d.slot, B: s}))
	case w == wasm.OpI32Const || w == wasm.OpI64Const || w == wasm.OpF32Const || w == wasm.OpF64Const:
		v := in.Imm
		if w == wasm.OpI32Const {
			v = uint64(uint32(v))
		}
		l.push(entry{kind: isConst, imm: v, producer: -1})
	case w == wasm.OpRefNull:
		l.push(entry{kind: isConst, imm: 0, producer: -1})
	case w == wasm.OpRefIsNull:
		x := l.pop()
		s := l.use(&x)
		l.pushResult(false, l.emit(ir.Instr{Op: op_(wasm.OpI64Eqz), A: x.slot, B: s}))
	case w == wasm.OpRefFunc:
		l.pushResult(false, l.emit(ir.Instr{Op: ir.RefFunc, A: l.nextSlot(), B: in.A}))
	case w == wasm.OpV128Const:
		e := l.push(entry{kind: inSlot, wide: true, producer: -1})
		s := e.slot
		l.emit(ir.Instr{Op: ir.Const, A: s, Imm: in.Imm})
		l.emit(ir.Instr{Op: ir.Const, A: s + 1, Imm: in.Imm2})
	case w >= wasm.OpI32Eqz && w <= wasm.OpI64Extend32S:
		l.numeric(w)
	case w >= wasm.OpI32TruncSatF32S && w <= wasm.OpI64TruncSatF64U:
		x := l.pop()
		s := l.use(&x)
		l.pushResult(false, l.emit(ir.Instr{Op: ir.SatBase + opcodeDelta(w, wasm.OpI32TruncSatF32S), A: x.slot, B: s}))
	case w == wasm.OpMemoryInit || w == wasm.OpMemoryCopy || w == wasm.OpMemoryFill:
		l.flush()
		base := l.slotOf(len(l.vs) - 3)
		l.vs = l.vs[:len(l.vs)-3]
		o := map[wasm.Opcode]ir.Op{wasm.OpMemoryInit: ir.MemoryInit, wasm.OpMemoryCopy: ir.MemoryCopy, wasm.OpMemoryFill: ir.MemoryFill}[w]
		l.emit(ir.Instr{Op: o, A: in.A, B: base})
	case w == wasm.OpDataDrop:
		l.emit(ir.Instr{Op: ir.DataDrop, A: in.A})
	case w == wasm.OpElemDrop:
		l.emit(ir.Instr{Op: ir.ElemDrop, A: in.A})
	case w == wasm.OpTableGet:
		i := l.pop()
		s := l.use(&i)
		l.pushResult(false, l.emit(ir.Instr{Op: ir.TableGet, A: i.slot, B: in.A, C: s}))
	case w == wasm.OpTableSet:
		v := l.pop()
		i := l.pop()
		vs := l.use(&v)
		is := l.use(&i)
		l.emit(ir.Instr{Op: ir.TableSet, A: in.A, B: is, C: vs})
	case w == wasm.OpTableSize:
		l.pushResult(false, l.emit(ir.Instr{Op: ir.TableSize, A: l.nextSlot(), B: in.A}))
	case w == wasm.OpTableGrow:
		l.flush()
		base := l.slotOf(len(l.vs) - 2)
		l.vs = l.vs[:len(l.vs)-2]
		l.emit(ir.Instr{Op: ir.TableGrow, A: in.A, B: base})
		l.pushResult(false, -1)
	case w == wasm.OpTableFill:
		l.flush()
		base := l.slotOf(len(l.vs) - 3)
		l.vs = l.vs[:len(l.vs)-3]
		l.emit(ir.Instr{Op: ir.TableFill, A: in.A, B: base})
	case w == wasm.OpTableCopy || w == wasm.OpTableInit:
		l.flush()
		base := l.slotOf(len(l.vs) - 3)
		l.vs = l.vs[:len(l.vs)-3]
		o := ir.TableCopy
		if w == wasm.OpTableInit {
			o = ir.TableInit
		}
		l.emit(ir.Instr{Op: o, A: in.A, B: in.B, C: base})
	case w >= 0x200:
		return l.lowerSIMD(in)
	default:
		return fmt.Errorf("interp: unsupported instruction %v at +0x%x", w, l.off)
	}
	return nil
}

// storeImm returns the constant-value form of a store, if v fits it.
func storeImm(w wasm.Opcode, v uint64) (ir.Op, bool) {
	switch w {
	case wasm.OpI32Store, wasm.OpF32Store:
		return ir.I32StoreI, true
	case wasm.OpI32Store8:
		return ir.I32Store8I, true
	case wasm.OpI32Store16:
		return ir.I32Store16I, true
	case wasm.OpI64Store, wasm.OpF64Store:
		if int64(v) == int64(int32(v)) {
			return ir.I64StoreI, true
		}
	}
	return 0, false
}

func op_(w wasm.Opcode) ir.Op { return ir.Op(w) }

func opcodeDelta(a, b wasm.Opcode) ir.Op { return ir.Op(a - b) }

// isBinary reports whether a numeric opcode takes two operands.
func isBinary(w wasm.Opcode) bool {
	switch {
	case w >= wasm.OpI32Eq && w <= wasm.OpI32GeU, w >= wasm.OpI64Eq && w <= wasm.OpF64Ge,
		w >= wasm.OpI32Add && w <= wasm.OpI32Rotr, w >= wasm.OpI64Add && w <= wasm.OpI64Rotr,
		w >= wasm.OpF32Add && w <= wasm.OpF32Copysign, w >= wasm.OpF64Add && w <= wasm.OpF64Copysign:
		return true
	}
	return false
}

func (l *lowerer) numeric(w wasm.Opcode) {
	if !isBinary(w) {
		x := l.pop()
		s := l.use(&x)
		l.pushResult(false, l.emit(ir.Instr{Op: ir.Op(w), A: x.slot, B: s}))
		return
	}
	y := l.pop()
	x := l.pop()
	if io, ok := ir.ImmOp(w); ok && y.kind == isConst {
		s := l.use(&x)
		l.pushResult(false, l.emit(ir.Instr{Op: io, A: x.slot, B: s, Imm: y.imm}))
		return
	}
	xs := l.use(&x)
	ys := l.use(&y)
	l.pushResult(false, l.emit(ir.Instr{Op: ir.Op(w), A: x.slot, B: xs, C: ys}))
}

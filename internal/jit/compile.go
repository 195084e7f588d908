package jit

import (
	"fmt"

	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/native"
	. "github.com/ferryvm/ferry/internal/native/amd64asm"
)

// The fixed registers (docs/compiler.md "Frame and registers").
const (
	regBlock = RBX // context block
	regStack = R12 // value-stack base
	regMem   = R13 // linear-memory base
	regFrame = R15 // frame base: regStack + 8*block.frame
)

// compiler is the state of one Compile.
type compiler struct {
	a     *Asm
	f     *ir.Func
	feats cpu.Set

	noPolls bool // Options.noPolls

	labels []Label // the start of each IR instruction
	cur    uint32  // IR index being compiled (traps and back-edges refer to it)

	// loopOf maps a loop body's IR index to the loop's pause id, from
	// Func.LoopPolls: a back-edge to that body exits with that id.
	loopOf   map[uint32]uint32
	loopStub map[uint32]bool // IR indices of the loop poll stubs
	edges    map[uint32]*pollStub
	polls    []*pollStub

	// Trap stubs: one per trapping site and code, each jumping to a tail
	// per code that stores the kind and leaves.
	traps     []trapStub
	siteTraps [trapCodes]Label // this instruction's stubs (-1: none yet)
	trapTails [trapCodes]Label

	tables  []jumpTable
	blocks  []edgeBlock
	contLbl []Label // per pause id, -1 when none

	// raxSlot is the slot whose value RAX holds after the instruction
	// just compiled (-1: none); cached is that slot as the current
	// instruction may use it, -1 at a branch target. Reusing it saves a
	// load and a store-to-load forwarding delay on the hot path of
	// straight-line code (a tee'd counter, then its compare).
	raxSlot, cached int64
	isTarget        []bool

	// homes are the locals kept in registers (regs.go); nil: none.
	homes *regHomes

	sels    []Selection
	seen    map[ir.Op]bool
	textEnd int
	// entry is where Go enters the function; the native call entry
	// (call.go) is at offset 0, before it.
	entry Label
}

// pollStub is the out-of-line part of a budget poll: it exits with
// ExitBudget and arg id; its continuation recomputes the frame base and
// jumps to resume.
type pollStub struct {
	stub, cont, resume Label
	id                 uint32
}

type trapStub struct {
	l    Label
	at   uint32
	code TrapCode
}

// jumpTable is a br_table's table of label differences.
type jumpTable struct {
	l       Label
	entries []Label
}

// edgeBlock is a br_table destination that needs code of its own (slot
// copies, or the poll of a back-edge) before it jumps.
type edgeBlock struct {
	l  Label
	at uint32 // the br_table's IR index
	t  ir.BrTarget
}

// Compile translates f into amd64 code for the features in opt and maps
// it with alloc. An error wrapping ErrUnsupported means f stays
// interpreted (see Supported); any other error is a failure to map the
// code (native.ErrCodeLimit, native.ErrNotSupported) or an inconsistency
// in f.
func Compile(f *ir.Func, opt Options, alloc *native.Allocator) (*Code, error) {
	as, err := assemble(f, opt)
	if err != nil {
		return nil, err
	}
	u, err := alloc.Map(as.code)
	if err != nil {
		return nil, err
	}
	return &Code{unit: u, Entry: as.entry, Cont: as.cont, Selections: as.sels, feats: as.feats}, nil
}

// assembly is a compiled function before it is mapped.
type assembly struct {
	code    []byte
	textEnd int // code before textEnd is instructions; after it, jump tables
	entry   int // Code.Entry; the native call entry is at 0
	cont    []int32
	// raxSlot is the slot whose value RAX holds after the instruction
	// just compiled (-1: none); cached is that slot as the current
	// instruction may use it, -1 at a branch target. Reusing it saves a
	// load and a store-to-load forwarding delay on the hot path of
	// straight-line code (a tee'd counter, then its compare).
	raxSlot, cached int64
	isTarget        []bool

	sels  []Selection
	feats cpu.Set
}

func assemble(f *ir.Func, opt Options) (*assembly, error) {
	if err := Supported(f); err != nil {
		return nil, err
	}
	a := new(Asm)
	c := &compiler{a: a, f: f, feats: opt.Features, noPolls: opt.noPolls}
	if err := c.compile(); err != nil {
		return nil, err
	}
	code, err := a.Finish()
	if err != nil {
		return nil, fmt.Errorf("jit: function %d: %w", f.Index, err)
	}
	if !a.Features().SubsetOf(opt.Features.Union(cpu.NewSet(cpu.X86SSE2))) {
		// A lowering chose a form outside the mask: a compiler bug, and
		// running it could SIGILL or silently misbehave (lzcnt as bsr).
		return nil, fmt.Errorf("jit: function %d: code uses %v outside the features %v", f.Index, a.Features().Subtract(opt.Features), opt.Features)
	}
	as := &assembly{code: code, textEnd: c.textEnd, entry: a.LabelOffset(c.entry), cont: make([]int32, len(f.PauseIR)), sels: c.sels, feats: a.Features()}
	for id := range as.cont {
		as.cont[id] = -1
		if l := c.contLbl[id]; l >= 0 {
			as.cont[id] = int32(a.LabelOffset(l))
		}
	}
	return as, nil
}

func (c *compiler) fail(format string, args ...any) error {
	return fmt.Errorf("%w: function %d, IR %d: %s", ErrUnsupported, c.f.Index, c.cur, fmt.Sprintf(format, args...))
}

func (c *compiler) compile() error {
	a, f := c.a, c.f
	n := len(f.Code)
	c.labels = make([]Label, n)
	for i := range c.labels {
		c.labels[i] = a.NewLabel()
	}
	for i := range c.trapTails {
		c.trapTails[i] = -1
	}
	c.contLbl = make([]Label, len(f.PauseIR))
	for i := range c.contLbl {
		c.contLbl[i] = -1
	}
	c.loopOf = make(map[uint32]uint32, len(f.LoopPolls))
	c.loopStub = make(map[uint32]bool, len(f.LoopPolls))
	c.edges = make(map[uint32]*pollStub)
	for k, stub := range f.LoopPolls {
		if int(stub)+1 >= n || f.Code[stub].Op != ir.Poll {
			return c.fail("loop %d's poll stub %d is not a Poll followed by a Br", k, stub)
		}
		br := plain(f.Code[stub+1])
		if br.Op != ir.Br || int(br.A) >= n {
			return c.fail("loop %d's poll stub %d is not followed by a Br to the body", k, stub)
		}
		c.loopOf[br.A] = f.Code[stub].A
		c.loopStub[stub] = true
	}

	c.callEntry()
	c.entry = a.NewLabel()
	a.Bind(c.entry)
	c.markTargets()
	c.homes = allocHomes(f)
	c.frameBase()
	c.reloadRegs()
	c.raxSlot = -1
	for i := range f.Code {
		c.cur = uint32(i)
		c.cached = c.raxSlot
		if c.isTarget[i] {
			c.cached = -1
		}
		c.raxSlot = -1
		for k := range c.siteTraps {
			c.siteTraps[k] = -1
		}
		a.Bind(c.labels[i])
		if err := c.instr(plain(f.Code[i])); err != nil {
			return err
		}
		if a.Err() != nil {
			return fmt.Errorf("jit: function %d, IR %d: %w", f.Index, i, a.Err())
		}
		if a.Offset() > maxCodeBytes {
			return c.fail("more than %d bytes of code", maxCodeBytes)
		}
	}
	// The last instruction is a Return, Br or Unreachable (validation
	// ends every body with one); a trap keeps falling off the end from
	// running into the stubs if that ever is not so.
	c.trapHere(TrapUnreachable)

	// A loop the body never branches back to still gets its continuation,
	// so that every loop pause id can be entered.
	for k := range f.LoopPolls {
		body := plain(f.Code[f.LoopPolls[k]+1]).A
		c.cur = body
		c.edgeStub(body)
	}
	for _, b := range c.blocks {
		c.cur = b.at
		a.Bind(b.l)
		if err := c.copySlots(b.t.Dst, b.t.Src, b.t.N); err != nil {
			return err
		}
		c.jumpTo(b.t.PC)
	}
	for _, p := range c.polls {
		a.Bind(p.stub)
		c.exit(native.ExitBudget, p.id, p.cont)
		a.Bind(p.cont)
		c.frameBase()
		c.reloadRegs()
		a.Jmp(p.resume)
	}
	for _, t := range c.traps {
		a.Bind(t.l)
		a.StoreImm(W32, M(regBlock, native.OffExitArg), int32(t.at))
		if c.trapTails[t.code] < 0 {
			c.trapTails[t.code] = a.NewLabel()
		}
		a.Jmp(c.trapTails[t.code])
	}
	for code, l := range c.trapTails {
		if l < 0 {
			continue
		}
		a.Bind(l)
		a.StoreImm(W32, M(regBlock, native.OffExit), int32(native.ExitTrap))
		a.StoreImm(W32, M(regBlock, native.OffAux), int32(code))
		c.leave()
	}
	c.textEnd = a.Offset()
	a.Align(4)
	for _, t := range c.tables {
		a.Bind(t.l)
		for _, e := range t.entries {
			a.TableEntry(e, t.l)
		}
	}
	if a.Err() != nil {
		return fmt.Errorf("jit: function %d: %w", f.Index, a.Err())
	}
	return nil
}

// markTargets finds the IR indices control reaches other than by falling
// through, where no register value may be assumed.
func (c *compiler) markTargets() {
	n := len(c.f.Code)
	c.isTarget = make([]bool, n)
	mark := func(t uint32) {
		if int(t) < n {
			c.isTarget[t] = true
		}
	}
	mark(0)
	for i := range c.f.Code {
		switch in := plain(c.f.Code[i]); {
		case in.Op == ir.Br || in.Op == ir.BrCopy || in.Op == ir.BrIf || in.Op == ir.BrIfNot || in.Op == ir.BrIfCopy,
			in.Op >= ir.BrI32Eq && in.Op <= ir.BrI32GeUI:
			mark(in.A)
		}
	}
	for _, t := range c.f.BrTargets {
		mark(t.PC)
	}
	for body := range c.loopOf {
		mark(body)
	}
}

// loadRAX loads slot s into RAX, or reuses RAX when the previous
// instruction left s there. Only the first RAX write of an instruction
// may use it (cached is consumed). A 32-bit load of a cached 64-bit value
// still truncates, with a register move.
func (c *compiler) loadRAX(w Width, s uint32) {
	hit := c.cached == int64(s)
	c.cached = -1
	switch {
	case !hit:
		c.a.Load(w, RAX, slot(s))
	case w == W32:
		c.a.Mov(W32, RAX, RAX)
	}
}

// storeRAX stores RAX, the full 64-bit value of slot s, and records that
// RAX holds it.
func (c *compiler) storeRAX(s uint32) {
	c.a.Store(W64, slot(s), RAX)
	c.raxSlot = int64(s)
}

// plain returns in with an armed back-edge form replaced by the plain
// branch it stands for (the interpreter rewrites them in place).
func plain(in ir.Instr) ir.Instr {
	switch o := in.Op; {
	case o == ir.BrBack:
		in.Op = ir.Br
	case o == ir.BrIfBack:
		in.Op = ir.BrIf
	case o == ir.BrIfNotBack:
		in.Op = ir.BrIfNot
	case o >= ir.BrI32EqBack && o <= ir.BrI32GeUIBack:
		in.Op = ir.BrI32Eq + (o - ir.BrI32EqBack)
	}
	return in
}

// slot is the memory operand of frame slot i.
func slot(i uint32) Mem { return M(regFrame, int32(i)*8) }

// frameBase computes R15 from the block: done at the entry and at every
// continuation, since Go may have moved the stack or changed the frame.
func (c *compiler) frameBase() {
	c.a.Load(W64, regFrame, M(regBlock, native.OffFrame))
	c.a.Lea(W64, regFrame, MI(regStack, regFrame, 8, 0))
}

// leave returns to the trampoline (docs/native.md "Leaving: exits").
func (c *compiler) leave() {
	c.a.Load(W64, RSP, M(regBlock, native.OffEntrySP))
	c.a.Load(W64, RBP, M(regBlock, native.OffEntryBP))
	c.a.Ret()
}

// exit leaves with kind and arg; the exit continues at cont, which the
// caller binds (and where it recomputes the frame base).
func (c *compiler) exit(kind native.ExitKind, arg uint32, cont Label) {
	a := c.a
	c.spillRegs()
	a.StoreImm(W32, M(regBlock, native.OffExit), int32(kind))
	a.StoreImm(W32, M(regBlock, native.OffExitArg), int32(arg))
	a.LeaLabel(RAX, cont)
	a.Store(W64, M(regBlock, native.OffResume), RAX)
	c.leave()
}

// exitHere is an exit that continues right after it, at a continuation
// recorded for pause id (or none when id is NoPause).
func (c *compiler) exitHere(kind native.ExitKind, arg, id uint32) {
	cont := c.a.NewLabel()
	c.exit(kind, arg, cont)
	c.a.Bind(cont)
	c.frameBase()
	c.reloadRegs()
	if id != NoPause && int(id) < len(c.contLbl) {
		c.contLbl[id] = cont
	}
}

// trap returns the label of this instruction's stub for code.
func (c *compiler) trap(code TrapCode) Label {
	if code <= TrapNone || code >= trapCodes {
		code = TrapUnreachable
	}
	if l := c.siteTraps[code]; l >= 0 {
		return l
	}
	l := c.a.NewLabel()
	c.siteTraps[code] = l
	c.traps = append(c.traps, trapStub{l: l, at: c.cur, code: code})
	return l
}

func (c *compiler) trapHere(code TrapCode) { c.a.Jmp(c.trap(code)) }

// poll decrements the budget and exits to stub when it goes negative.
func (c *compiler) poll(p *pollStub) {
	if c.noPolls {
		return // the stub stays, unreachable: the baseline of a benchmark
	}
	c.a.ALUMemImm(SUB, W64, M(regBlock, native.OffBudget), 1)
	c.a.Jcc(CondS, p.stub)
}

func (c *compiler) newPoll(id uint32, resume Label) *pollStub {
	p := &pollStub{stub: c.a.NewLabel(), cont: c.a.NewLabel(), resume: resume, id: id}
	c.polls = append(c.polls, p)
	return p
}

// edgeStub is the poll stub shared by every back-edge to body: it exits
// with the loop's pause id and continues at the body.
func (c *compiler) edgeStub(body uint32) *pollStub {
	if p := c.edges[body]; p != nil {
		return p
	}
	id, ok := c.loopOf[body]
	if !ok {
		id = NoPause
	}
	p := c.newPoll(id, c.labels[body])
	c.edges[body] = p
	if ok && int(id) < len(c.contLbl) {
		c.contLbl[id] = p.cont
	}
	return p
}

// jumpTo jumps to IR index t, polling first when the jump goes backward.
func (c *compiler) jumpTo(t uint32) {
	if t <= c.cur {
		c.poll(c.edgeStub(t))
	}
	c.a.Jmp(c.labels[t])
}

// branchIf jumps to t when cc holds.
func (c *compiler) branchIf(cc Cond, t uint32) {
	if t > c.cur {
		c.a.Jcc(cc, c.labels[t])
		return
	}
	skip := c.a.NewLabel()
	c.a.Jcc(cc^1, skip)
	c.jumpTo(t)
	c.a.Bind(skip)
}

func (c *compiler) target(t uint32) error {
	if int(t) >= len(c.f.Code) {
		return c.fail("branch target %d out of range", t)
	}
	return nil
}

// copySlots copies n slots from src to dst with memmove semantics. Both
// ranges must lie in the frame: a count from a corrupt IR would otherwise
// unroll into gigabytes of code before the size check sees it.
func (c *compiler) copySlots(dst, src, n uint32) error {
	fs := uint64(c.f.FrameSlots)
	if uint64(dst)+uint64(n) > fs || uint64(src)+uint64(n) > fs {
		return c.fail("copy of %d slots from %d to %d outside the frame's %d slots", n, src, dst, fs)
	}
	if n == 0 || dst == src {
		return nil
	}
	for k := uint32(0); k < n; k++ {
		i := k
		if dst > src {
			i = n - 1 - k
		}
		c.cached = -1
		c.readGPR(W64, RAX, src+i)
		c.writeGPR(dst+i, RAX)
		c.raxSlot = -1
	}
	return nil
}

func (c *compiler) selected(op ir.Op, lowering string, needs ...cpu.Feature) {
	if c.seen == nil {
		c.seen = make(map[ir.Op]bool)
	}
	if c.seen[op] {
		return
	}
	c.seen[op] = true
	c.sels = append(c.sels, Selection{Op: op, Lowering: lowering, Needs: cpu.NewSet(needs...)})
}

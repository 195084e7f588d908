package jit

import (
	"sort"

	"github.com/ferryvm/ferry/internal/ir"
	. "github.com/ferryvm/ferry/internal/native/amd64asm"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Register homes (docs/compiler.md "Frame and registers"): a few locals
// of a function live in a machine register for the whole function
// instead of in their slot. The register is the value; the slot is stale
// except at exits, where spillRegs writes every home back, so that Go, a
// callee and a checkpoint only ever see slots. A trap discards the frame
// and needs no spill.
//
// Whole-function homes need no liveness analysis and no merging of
// register states at branch targets: every instruction finds a home slot
// in the same register, so a back-edge carries its loop's values in
// registers for free. Only locals get homes: their type is fixed, which
// decides the register class, and the operand temporaries, reused by
// values of every type, stay in memory (with the RAX cache).

// Registers available for homes. RAX, RCX and RDX stay the lowering's
// scratch, RBX, R12, R13 and R15 are fixed, RSP is the trampoline's; the
// trampoline restores RBP at every exit, and the ABI wrapper of its Go
// caller R14 and X15. X0-X4 are float.go's scratch.
var (
	gprPool = []Reg{RSI, RDI, RBP, R8, R9, R10, R11, R14}
	xmmPool = []XReg{X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15}
)

type homeKind uint8

const (
	noHome homeKind = iota
	gprHome
	xmmHome
)

// regHomes is the allocation of one function: kind, gpr and xmm are
// indexed by slot and cover the locals only.
type regHomes struct {
	kind  []homeKind
	gpr   []Reg
	xmm   []XReg
	slots []uint32 // the slots that have a home, in slot order
}

func (h *regHomes) gprOf(s uint32) (Reg, bool) {
	if h == nil || int(s) >= len(h.kind) || h.kind[s] != gprHome {
		return 0, false
	}
	return h.gpr[s], true
}

func (h *regHomes) xmmOf(s uint32) (XReg, bool) {
	if h == nil || int(s) >= len(h.kind) || h.kind[s] != xmmHome {
		return 0, false
	}
	return h.xmm[s], true
}

func (h *regHomes) has(s uint32) bool {
	return h != nil && int(s) < len(h.kind) && h.kind[s] != noHome
}

// maxHomeSlots bounds the slots considered for homes (and the
// allocator's tables): a frame larger than this keeps the rest in memory.
const maxHomeSlots = 4096

// allocHomes picks the homes of f: its slots ranked by the number of
// instructions naming them, each weighted by 8^(loop depth), the most
// used first while registers of their class last. A local's class is its
// type's (reference locals get none); an operand temporary, which holds
// values of any type over the function, takes the class most of the
// instructions naming it read or write it as (any instruction may still
// use a home of the other class, through a move or the slot). A function
// with v128 code gets no homes (that code reads its operands from slots),
// nor does one whose local types do not account for its local slots.
func allocHomes(f *ir.Func) *regHomes {
	n := len(f.Code)
	if n == 0 || f.FrameSlots == 0 {
		return nil
	}
	ns := f.FrameSlots
	if ns > maxHomeSlots {
		ns = maxHomeSlots
	}
	locals := f.LocalSlots
	if locals > ns {
		locals = ns
	}
	kind := make([]homeKind, ns)
	var s uint32
	for _, t := range f.Locals {
		if s >= f.LocalSlots {
			return nil
		}
		if s < ns {
			switch t {
			case wasm.I32, wasm.I64:
				kind[s] = gprHome
			case wasm.F32, wasm.F64:
				kind[s] = xmmHome
			}
		}
		if t == wasm.V128 {
			s++ // two slots, no home
		}
		s++
	}
	if s != f.LocalSlots {
		return nil
	}
	for i := range f.Code {
		if op := f.Code[i].Op; op >= ir.V128Unary && op <= ir.V128Relaxed ||
			op == ir.Mov2 || op == ir.Select2 || op == ir.GlobalGet2 || op == ir.GlobalSet2 {
			return nil
		}
	}

	depth := loopDepths(f)
	weight := make([]float64, ns)
	votes := make([][2]float64, ns) // temporaries: GPR and XMM uses
	var ops [4]operand
	for i := range f.Code {
		w := 1.0
		for d := int32(0); d < depth[i] && d < 6; d++ {
			w *= 8
		}
		for _, o := range operandsOf(plain(f.Code[i]), ops[:0]) {
			if o.slot >= ns {
				continue
			}
			weight[o.slot] += w
			if o.slot >= locals {
				switch o.class {
				case gprHome:
					votes[o.slot][0] += w
				case xmmHome:
					votes[o.slot][1] += w
				}
			}
		}
	}
	for s := locals; s < ns; s++ {
		kind[s] = gprHome
		if votes[s][1] > votes[s][0] {
			kind[s] = xmmHome
		}
	}
	order := make([]uint32, 0, len(weight))
	for s, w := range weight {
		if w > 0 && kind[s] != noHome {
			order = append(order, uint32(s))
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return weight[order[i]] > weight[order[j]] })

	h := &regHomes{kind: make([]homeKind, ns), gpr: make([]Reg, ns), xmm: make([]XReg, ns)}
	ng, nx := 0, 0
	for _, s := range order {
		switch kind[s] {
		case gprHome:
			if ng < len(gprPool) {
				h.kind[s], h.gpr[s] = gprHome, gprPool[ng]
				ng++
			}
		case xmmHome:
			if nx < len(xmmPool) {
				h.kind[s], h.xmm[s] = xmmHome, xmmPool[nx]
				nx++
			}
		}
	}
	for s, k := range h.kind {
		if k != noHome {
			h.slots = append(h.slots, uint32(s))
		}
	}
	if len(h.slots) == 0 {
		return nil
	}
	return h
}

// operand is a slot an instruction names, with the register class it
// reads or writes the slot as (noHome: either, as a move does).
type operand struct {
	slot  uint32
	class homeKind
}

// operandsOf appends the slots in names explicitly. Ranges of slots an
// op implies (call arguments, branch and return copies, bulk-memory
// operands) are left out: those go through spills and reloads or the
// per-slot copy, whatever the slot's home.
func operandsOf(in ir.Instr, out []operand) []operand {
	g := func(s uint32) { out = append(out, operand{s, gprHome}) }
	x := func(s uint32) { out = append(out, operand{s, xmmHome}) }
	any := func(s uint32) { out = append(out, operand{s, noHome}) }
	op := in.Op
	w := func(o wasm.Opcode) ir.Op { return ir.Op(o) }
	switch {
	case op == w(wasm.OpI32Eqz) || op == w(wasm.OpI64Eqz):
		g(in.A)
		g(in.B)
	case op >= w(wasm.OpI32Eq) && op <= w(wasm.OpI32GeU), op >= w(wasm.OpI64Eq) && op <= w(wasm.OpI64GeU),
		op >= w(wasm.OpI32Add) && op <= w(wasm.OpI32Rotr), op >= w(wasm.OpI64Add) && op <= w(wasm.OpI64Rotr):
		g(in.A)
		g(in.B)
		g(in.C)
	case op >= w(wasm.OpI32Clz) && op <= w(wasm.OpI32Popcnt), op >= w(wasm.OpI64Clz) && op <= w(wasm.OpI64Popcnt),
		op >= ir.I32EqI && op <= ir.I64RotrI,
		op == w(wasm.OpI32WrapI64), op == w(wasm.OpI64ExtendI32S), op == w(wasm.OpI64ExtendI32U),
		op >= w(wasm.OpI32Extend8S) && op <= w(wasm.OpI64Extend32S):
		g(in.A)
		g(in.B)
	case op >= w(wasm.OpF32Eq) && op <= w(wasm.OpF64Ge):
		g(in.A)
		x(in.B)
		x(in.C)
	case op >= w(wasm.OpF32Abs) && op <= w(wasm.OpF64Copysign):
		x(in.A)
		x(in.B)
		if k := (op - w(wasm.OpF32Abs)) % 14; k >= 7 {
			x(in.C)
		}
	case op >= w(wasm.OpI32TruncF32S) && op <= w(wasm.OpI32TruncF64U),
		op >= w(wasm.OpI64TruncF32S) && op <= w(wasm.OpI64TruncF64U),
		op >= ir.SatBase && op <= ir.SatBase+7,
		op == w(wasm.OpI32ReinterpretF32), op == w(wasm.OpI64ReinterpretF64):
		g(in.A)
		x(in.B)
	case op >= w(wasm.OpF32ConvertI32S) && op <= w(wasm.OpF32ConvertI64U),
		op >= w(wasm.OpF64ConvertI32S) && op <= w(wasm.OpF64ConvertI64U),
		op == w(wasm.OpF32ReinterpretI32), op == w(wasm.OpF64ReinterpretI64):
		x(in.A)
		g(in.B)
	case op == w(wasm.OpF32DemoteF64), op == w(wasm.OpF64PromoteF32):
		x(in.A)
		x(in.B)
	case op >= ir.I32Load && op <= ir.I64Load32U:
		if op == ir.F32Load || op == ir.F64Load {
			x(in.A)
		} else {
			g(in.A)
		}
		g(in.B)
	case op >= ir.I32Store && op <= ir.I64Store32:
		g(in.A)
		if op == ir.F32Store || op == ir.F64Store {
			x(in.B)
		} else {
			g(in.B)
		}
	case op >= ir.I32StoreI && op <= ir.I64StoreI:
		g(in.A)
	case op == ir.BrIf || op == ir.BrIfNot || op == ir.BrIfCopy, op >= ir.BrI32EqI && op <= ir.BrI32GeUI:
		g(in.B)
	case op >= ir.BrI32Eq && op <= ir.BrI32GeU:
		g(in.B)
		g(in.C)
	case op == ir.BrTable, op == ir.MemorySize:
		g(in.A)
	case op == ir.Mov:
		any(in.A)
		any(in.B)
	case op == ir.Select:
		any(in.A)
		any(in.B)
		any(in.C)
		g(uint32(in.Imm))
	case op == ir.Const, op == ir.GlobalGet:
		any(in.A)
	case op == ir.GlobalSet:
		any(in.B)
	}
	return out
}

// loopDepths returns the loop nesting depth of every IR index: a backward
// branch from e to b makes [b, e] a loop. The loops' poll stubs, after the
// function's code, branch back too but are not loops.
func loopDepths(f *ir.Func) []int32 {
	n := len(f.Code)
	stubBr := make(map[int]bool, len(f.LoopPolls))
	for _, p := range f.LoopPolls {
		stubBr[int(p)+1] = true
	}
	// The last back-edge to each body closes its loop.
	end := make(map[uint32]int)
	back := func(e int, t uint32) {
		if int(t) <= e && !stubBr[e] && end[t] < e+1 {
			end[t] = e + 1
		}
	}
	for e := range f.Code {
		switch in := plain(f.Code[e]); {
		case in.Op == ir.Br || in.Op == ir.BrCopy || in.Op == ir.BrIf || in.Op == ir.BrIfNot || in.Op == ir.BrIfCopy,
			in.Op >= ir.BrI32Eq && in.Op <= ir.BrI32GeUI:
			back(e, in.A)
		case in.Op == ir.BrTable:
			for k := uint64(in.B); k < uint64(in.B)+uint64(in.C) && k < uint64(len(f.BrTargets)); k++ {
				back(e, f.BrTargets[k].PC)
			}
		}
	}
	diff := make([]int32, n+1)
	for b, e := range end {
		diff[b]++
		diff[e]--
	}
	depth := make([]int32, n)
	var d int32
	for i := range depth {
		d += diff[i]
		depth[i] = d
	}
	return depth
}

// spillRegs writes every slot value the code keeps only in a register back
// to its slot. It runs before every exit (and before a native call): Go,
// a callee and a checkpoint see slots only, so every pause point stays
// exact.
func (c *compiler) spillRegs() {
	h := c.homes
	if h == nil {
		return
	}
	for _, s := range h.slots {
		c.spillHome(s)
	}
}

// reloadRegs loads the registers that hold slot values from their slots:
// at the function's entry (the caller wrote the arguments and zeroed the
// other locals), at every continuation (entered from Go, which may have
// changed slots) and after a native call returns.
func (c *compiler) reloadRegs() {
	h := c.homes
	if h == nil {
		return
	}
	for _, s := range h.slots {
		c.reloadHome(s)
	}
}

// spillHome stores slot s's home, if it has one, to the slot: always
// harmless, since the home is the value. An f32 home has bits 32-63
// clear, so the 8-byte store writes the interpreter's zero-extended slot.
func (c *compiler) spillHome(s uint32) {
	if r, ok := c.homes.gprOf(s); ok {
		c.a.Store(W64, slot(s), r)
	} else if x, ok := c.homes.xmmOf(s); ok {
		c.a.MovsdStore(slot(s), x)
	}
}

// reloadHome loads slot s's home, if it has one, from the slot.
func (c *compiler) reloadHome(s uint32) {
	if r, ok := c.homes.gprOf(s); ok {
		c.a.Load(W64, r, slot(s))
	} else if x, ok := c.homes.xmmOf(s); ok {
		c.a.SSELoad(MOVSD, x, slot(s))
	}
}

// memIn returns slot s as a memory operand to read: a home is stored to
// its slot first. The fallback for operand forms that have no register
// variant.
func (c *compiler) memIn(s uint32) Mem {
	c.spillHome(s)
	return slot(s)
}

// readGPR puts the value of slot s in r: w = W32 reads the low half
// zero-extended. RAX reuses the cached value of the previous instruction.
func (c *compiler) readGPR(w Width, r Reg, s uint32) {
	if r == RAX && c.homes.has(s) {
		c.cached = -1
	}
	if h, ok := c.homes.gprOf(s); ok {
		// In place, r is left as it is: the 32-bit operation that
		// follows ignores and clears the upper half (a wrap, which
		// only moves, clears it itself).
		if h != r {
			c.a.Mov(w, r, h)
		}
		return
	}
	if x, ok := c.homes.xmmOf(s); ok {
		c.a.MovFromX(w, r, x)
		return
	}
	if r == RAX {
		c.loadRAX(w, s)
		return
	}
	c.a.Load(w, r, slot(s))
}

// writeGPR makes r the full 64-bit value of slot s (a 32-bit value with
// its upper half clear). Written from RAX to memory, RAX stays cached.
func (c *compiler) writeGPR(s uint32, r Reg) {
	if h, ok := c.homes.gprOf(s); ok {
		if h != r {
			c.a.Mov(W64, h, r)
		}
		return
	}
	if x, ok := c.homes.xmmOf(s); ok {
		c.a.MovToX(W64, x, r)
		return
	}
	if r == RAX {
		c.storeRAX(s)
		return
	}
	c.a.Store(W64, slot(s), r)
}

// aluSlot applies op to dst and slot s: the home register, or the slot
// in memory.
func (c *compiler) aluSlot(op ALUOp, w Width, dst Reg, s uint32) {
	if h, ok := c.homes.gprOf(s); ok {
		c.a.ALU(op, w, dst, h)
		return
	}
	c.a.ALULoad(op, w, dst, c.memIn(s))
}

// srcReg returns a register holding slot s for an operation of width w
// that only reads it: the home, or RAX loaded with it.
func (c *compiler) srcReg(w Width, s uint32) Reg {
	if h, ok := c.homes.gprOf(s); ok {
		return h
	}
	c.readGPR(w, RAX, s)
	return RAX
}

// saveHomesIn stores to their slots the homes kept in regs, which the
// code about to be emitted clobbers; restoreHomesIn reloads them.
func (c *compiler) saveHomesIn(regs ...Reg) {
	for _, r := range regs {
		for _, s := range c.homeSlotsIn(r) {
			c.spillHome(s)
		}
	}
}

func (c *compiler) restoreHomesIn(regs ...Reg) {
	for _, r := range regs {
		for _, s := range c.homeSlotsIn(r) {
			c.reloadHome(s)
		}
	}
}

func (c *compiler) homeSlotsIn(r Reg) []uint32 {
	h := c.homes
	if h == nil {
		return nil
	}
	var out []uint32
	for _, s := range h.slots {
		if h.kind[s] == gprHome && h.gpr[s] == r {
			out = append(out, s)
		}
	}
	return out
}

// returnCopy copies the n results from slot src to slot 0.. in memory,
// where Go reads them: a result is taken from its home when it has one,
// and a result already in place is spilled from its home. The homes of
// slots 0.. are not updated, since the frame is left for good.
func (c *compiler) returnCopy(src, n uint32) error {
	fs := uint64(c.f.FrameSlots)
	if uint64(src)+uint64(n) > fs || uint64(n) > fs {
		return c.fail("return of %d slots from %d outside the frame's %d slots", n, src, fs)
	}
	c.cached = -1
	for k := uint32(0); k < n; k++ {
		if src == 0 {
			c.spillHome(k)
			continue
		}
		// dst < src: the forward order is memmove's. A home source is
		// unaffected by the stores.
		c.readGPR(W64, RAX, src+k)
		c.cached = -1
		c.a.Store(W64, slot(k), RAX)
	}
	return nil
}

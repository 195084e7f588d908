package jit

import (
	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/native"
	. "github.com/ferryvm/ferry/internal/native/amd64asm"
	"github.com/ferryvm/ferry/internal/wasm"
)

// The v128 lowering, first version (docs/compiler.md "SIMD"). A v128
// value lives in its two slots between instructions, as every scalar
// does in v1: each instruction loads its operands into X0..X7, operates
// and stores the result with one MOVDQU, so every pause point is exact by
// construction. An op without a native form for the features at hand
// (and every relaxed-SIMD op, whose result is a decision of the
// runtime's callsite table) exits to Go, which runs the interpreter's
// implementation of that one instruction (native.ExitInterp,
// interp/simd_rare.go): such a function still compiles.
//
// The legacy SSE memory forms need 16-byte alignment, and slots are only
// 8-byte aligned, so every operand goes through a register.

// simd compiles the v128 IR ops; ok is false for any other op.
func (c *compiler) simd(in *ir.Instr) (ok bool, err error) {
	switch in.Op {
	case ir.Mov2, ir.Select2, ir.GlobalGet2, ir.GlobalSet2:
	default:
		if in.Op < ir.V128Unary || in.Op > ir.V128Relaxed {
			return false, nil
		}
	}
	if err := c.checkVSlots(in); err != nil {
		return true, err
	}
	a := c.a
	switch in.Op {
	case ir.Mov2:
		if in.A != in.B {
			c.vload(X0, in.B)
			c.vstore(in.A, X0)
		}
	case ir.Select2:
		// The address of the chosen pair, then one load: no branch.
		a.Lea(W64, RCX, slot(in.B))
		a.Lea(W64, RDX, slot(in.C))
		a.Load(W32, RAX, slot(uint32(in.Imm)))
		a.Test(W32, RAX, RAX)
		a.Cmov(CondE, W64, RCX, RDX)
		a.VecLoad(MOVDQU, X0, M(RCX, 0))
		c.vstore(in.A, X0)
	case ir.GlobalGet2:
		if in.B >= maxSlots {
			return true, c.fail("global %d out of range", in.B)
		}
		// The table holds &Global.Lo, and Hi follows it.
		a.Load(W64, RAX, M(regBlock, native.OffGlobals))
		a.Load(W64, RAX, M(RAX, int32(in.B)*8))
		a.VecLoad(MOVDQU, X0, M(RAX, 0))
		c.vstore(in.A, X0)
	case ir.GlobalSet2:
		if in.A >= maxSlots {
			return true, c.fail("global %d out of range", in.A)
		}
		c.vload(X0, in.B)
		a.Load(W64, RAX, M(regBlock, native.OffGlobals))
		a.Load(W64, RAX, M(RAX, int32(in.A)*8))
		a.VecStore(MOVDQU, M(RAX, 0), X0)
	case ir.V128Load:
		m, err := c.address(in.B, in.Imm, 16)
		if err != nil {
			return true, err
		}
		a.VecLoad(MOVDQU, X0, m)
		c.vstore(in.A, X0)
	case ir.V128Store:
		c.vload(X0, in.B) // before address, which leaves the index in RAX
		m, err := c.address(in.A, in.Imm, 16)
		if err != nil {
			return true, err
		}
		a.VecStore(MOVDQU, m, X0)
	case ir.V128LoadX:
		return true, c.loadX(in)
	case ir.V128LoadLane:
		return true, c.loadLane(in)
	case ir.V128StoreLane:
		return true, c.storeLane(in)
	case ir.V128Extract:
		c.extract(in)
	case ir.V128Replace:
		c.replace(in)
	case ir.V128Splat:
		c.splat(in)
	case ir.V128Test:
		c.vtest(in)
	case ir.V128Bitselect:
		c.selectedV(in.Op, "pxor+pand+pxor")
		c.vload(X0, in.B)
		c.vload(X1, in.C)
		c.vload(X2, uint32(in.Imm))
		a.Vec(PXOR, X0, X1)
		a.Vec(PAND, X0, X2)
		a.Vec(PXOR, X0, X1)
		c.vstore(in.A, X0)
	case ir.V128Shuffle:
		return true, c.shuffle(in)
	case ir.V128Shift, ir.V128ShiftI:
		c.vshift(in)
	case ir.V128Unary:
		c.vload(X0, in.B)
		if r, ok := c.vunary(in.Op, wasm.Opcode(0x200+uint16(uint8(in.C)))); ok {
			c.vstore(in.A, r)
			return true, nil
		}
		c.vexit(in.Op)
	case ir.V128Binary:
		if wasm.Opcode(0x200+uint16(uint8(in.Imm))) == wasm.OpI8x16Swizzle && !c.has(cpu.X86SSSE3) {
			c.swizzleBytes(in)
			return true, nil
		}
		c.vload(X0, in.B)
		c.vload(X1, in.C)
		if r, ok := c.vbinary(in.Op, wasm.Opcode(0x200+uint16(uint8(in.Imm)))); ok {
			c.vstore(in.A, r)
			return true, nil
		}
		c.vexit(in.Op)
	default: // V128Relaxed: the table's decision, run by Go
		c.vexit(in.Op)
	}
	return true, nil
}

// checkVSlots refuses an instruction whose vector operands would reach
// past the frame (a corrupt IR): the code would read or write the next
// frame's slots.
func (c *compiler) checkVSlots(in *ir.Instr) error {
	fs := uint64(c.f.FrameSlots)
	pair := func(s uint32) error {
		if uint64(s)+2 > fs {
			return c.fail("v128 operand at slot %d outside the frame's %d slots", s, fs)
		}
		return nil
	}
	one := func(s uint32) error {
		if uint64(s) >= fs {
			return c.fail("operand at slot %d outside the frame's %d slots", s, fs)
		}
		return nil
	}
	var errs []error
	switch in.Op {
	case ir.Mov2:
		errs = append(errs, pair(in.A), pair(in.B))
	case ir.Select2:
		errs = append(errs, pair(in.A), pair(in.B), pair(in.C), one(uint32(in.Imm)))
	case ir.GlobalGet2:
		errs = append(errs, pair(in.A))
	case ir.GlobalSet2:
		errs = append(errs, pair(in.B))
	case ir.V128Unary, ir.V128Splat, ir.V128Shift, ir.V128ShiftI:
		errs = append(errs, pair(in.A))
		if in.Op == ir.V128Splat {
			errs = append(errs, one(in.B))
		} else {
			errs = append(errs, pair(in.B))
		}
		if in.Op == ir.V128Shift {
			errs = append(errs, one(in.C))
		}
	case ir.V128Binary, ir.V128Shuffle:
		errs = append(errs, pair(in.A), pair(in.B), pair(in.C))
	case ir.V128Bitselect, ir.V128Relaxed:
		errs = append(errs, pair(in.A), pair(in.B), pair(in.C), pair(uint32(in.Imm)))
	case ir.V128Test, ir.V128Extract:
		errs = append(errs, one(in.A), pair(in.B))
	case ir.V128Replace:
		errs = append(errs, pair(in.A), pair(in.B), one(in.C))
	case ir.V128Load, ir.V128LoadX:
		errs = append(errs, pair(in.A), one(in.B))
	case ir.V128LoadLane:
		errs = append(errs, pair(in.A), one(in.B), pair(in.C))
	case ir.V128Store, ir.V128StoreLane:
		errs = append(errs, one(in.A), pair(in.B))
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// vload loads the v128 in slots s, s+1 into x. A v128.const is two
// scalar Consts, and a 16-byte load of two 8-byte stores cannot be
// forwarded (the load waits for both stores to reach the cache): when
// the two instructions just before this one wrote the pair, in
// straight-line code, x is built from their immediates instead. It may
// use RAX and X7.
func (c *compiler) vload(x XReg, s uint32) {
	if lo, hi, ok := c.constPair(s); ok {
		switch {
		case lo == 0 && hi == 0:
			c.a.Vec(PXOR, x, x)
		case lo == ^uint64(0) && hi == lo:
			c.a.Vec(PCMPEQD, x, x)
		default:
			c.vconst(x, lo, hi)
		}
		return
	}
	c.a.VecLoad(MOVDQU, x, slot(s))
}

// constPair reports the constant the two preceding instructions stored
// in slots s, s+1, if they did and control cannot enter between them.
func (c *compiler) constPair(s uint32) (lo, hi uint64, ok bool) {
	i := int(c.cur)
	if i < 2 || c.isTarget[i] || c.isTarget[i-1] {
		return 0, 0, false
	}
	p, q := c.f.Code[i-2], c.f.Code[i-1]
	if p.Op != ir.Const || q.Op != ir.Const {
		return 0, 0, false
	}
	switch {
	case p.A == s && q.A == s+1:
		return p.Imm, q.Imm, true
	case q.A == s && p.A == s+1:
		return q.Imm, p.Imm, true
	}
	return 0, 0, false
}

func (c *compiler) vstore(s uint32, x XReg) { c.a.VecStore(MOVDQU, slot(s), x) }

// laneMem is byte off of the v128 in slots s, s+1.
func laneMem(s uint32, off int32) Mem { return M(regFrame, int32(s)*8+off) }

// vexit leaves the instruction to Go (the interpreter's implementation).
func (c *compiler) vexit(op ir.Op) {
	c.selectedV(op, "go")
	c.exitHere(native.ExitInterp, c.cur, NoPause)
}

// selectedV records a v128 lowering once per (op, lowering): unlike the
// scalar ops, one IR op stands for many instructions here.
func (c *compiler) selectedV(op ir.Op, lowering string, needs ...cpu.Feature) {
	for _, s := range c.sels {
		if s.Op == op && s.Lowering == lowering {
			return
		}
	}
	c.sels = append(c.sels, Selection{Op: op, Lowering: lowering, Needs: cpu.NewSet(needs...)})
}

func (c *compiler) has(f cpu.Feature) bool { return c.feats.Has(f) }

// vconst puts the constant hi:lo in x (through RAX and X7).
func (c *compiler) vconst(x XReg, lo, hi uint64) {
	a := c.a
	c.cached = -1 // RAX no longer holds the previous instruction's value
	a.MovImm64(RAX, int64(lo))
	a.MovToX(W64, x, RAX)
	if hi == lo {
		a.Vec(PUNPCKLQDQ, x, x)
		return
	}
	a.MovImm64(RAX, int64(hi))
	a.MovToX(W64, X7, RAX)
	a.Vec(PUNPCKLQDQ, x, X7)
}

// vsplat8 / vsplat16 / vsplat32 put a constant lane in every lane of x.
func (c *compiler) vsplat8(x XReg, b uint8) { c.vsplat64(x, uint64(b)*0x0101010101010101) }
func (c *compiler) vsplat16(x XReg, h uint16) {
	c.vsplat64(x, uint64(h)*0x0001000100010001)
}
func (c *compiler) vsplat32(x XReg, w uint32) { c.vsplat64(x, uint64(w)*0x0000000100000001) }
func (c *compiler) vsplat64(x XReg, q uint64) {
	switch q {
	case 0:
		c.a.Vec(PXOR, x, x)
	case ^uint64(0):
		c.a.Vec(PCMPEQD, x, x)
	default:
		c.vconst(x, q, q)
	}
}

// loadX is v128.loadNxM_s/u, loadN_splat and loadN_zero.
func (c *compiler) loadX(in *ir.Instr) error {
	a := c.a
	n := int32(in.Imm >> 32)
	w := wasm.Opcode(0x200 + uint16(uint8(in.C)))
	switch w {
	case wasm.OpV128Load8x8S, wasm.OpV128Load8x8U, wasm.OpV128Load16x4S, wasm.OpV128Load16x4U,
		wasm.OpV128Load32x2S, wasm.OpV128Load32x2U, wasm.OpV128Load64Splat, wasm.OpV128Load64Zero:
		n = 8
	case wasm.OpV128Load32Splat, wasm.OpV128Load32Zero:
		n = 4
	case wasm.OpV128Load16Splat:
		n = 2
	case wasm.OpV128Load8Splat:
		n = 1
	default:
		return c.fail("v128 load sub-op %#x", in.C)
	}
	m, err := c.address(in.B, uint64(uint32(in.Imm)), n)
	if err != nil {
		return err
	}
	switch w {
	case wasm.OpV128Load8Splat, wasm.OpV128Load16Splat:
		a.MovzxLoad(W32, Width(n), RCX, m)
		a.MovToX(W32, X0, RCX)
		c.splatLow(X0, Width(n))
	case wasm.OpV128Load32Splat, wasm.OpV128Load32Zero:
		a.VecLoad(MOVD, X0, m)
		if w == wasm.OpV128Load32Splat {
			c.splatLow(X0, W32)
		}
	default:
		a.VecLoad(MOVQ, X0, m)
		switch w {
		case wasm.OpV128Load64Splat:
			a.Vec(PUNPCKLQDQ, X0, X0)
		case wasm.OpV128Load64Zero:
		default:
			// The extending loads: extend_low of the eight bytes read.
			ext := map[wasm.Opcode]wasm.Opcode{
				wasm.OpV128Load8x8S: wasm.OpI16x8ExtendLowI8x16S, wasm.OpV128Load8x8U: wasm.OpI16x8ExtendLowI8x16U,
				wasm.OpV128Load16x4S: wasm.OpI32x4ExtendLowI16x8S, wasm.OpV128Load16x4U: wasm.OpI32x4ExtendLowI16x8U,
				wasm.OpV128Load32x2S: wasm.OpI64x2ExtendLowI32x4S, wasm.OpV128Load32x2U: wasm.OpI64x2ExtendLowI32x4U,
			}[w]
			r, _ := c.extend(ir.V128LoadX, ext)
			c.vstore(in.A, r)
			return nil
		}
	}
	c.selectedV(ir.V128LoadX, "sse2")
	c.vstore(in.A, X0)
	return nil
}

// splatLow copies the low lane of width w of x into all its lanes.
func (c *compiler) splatLow(x XReg, w Width) {
	a := c.a
	switch w {
	case W8:
		if c.has(cpu.X86SSSE3) {
			c.selectedV(ir.V128Splat, "pshufb", cpu.X86SSSE3)
			a.Vec(PXOR, X7, X7)
			a.Vec(PSHUFB, x, X7)
			return
		}
		c.selectedV(ir.V128Splat, "punpcklbw+pshuflw")
		a.Vec(PUNPCKLBW, x, x)
		fallthrough
	case W16:
		a.VecImm(PSHUFLW, x, x, 0)
		a.Vec(PUNPCKLQDQ, x, x)
	case W32:
		a.VecImm(PSHUFD, x, x, 0)
	default:
		a.Vec(PUNPCKLQDQ, x, x)
	}
}

func (c *compiler) splat(in *ir.Instr) {
	a := c.a
	switch wasm.Opcode(0x200 + uint16(uint8(in.C))) {
	case wasm.OpI8x16Splat:
		a.VecLoad(MOVD, X0, slot(in.B))
		c.splatLow(X0, W8)
	case wasm.OpI16x8Splat:
		a.VecLoad(MOVD, X0, slot(in.B))
		c.splatLow(X0, W16)
	case wasm.OpI32x4Splat, wasm.OpF32x4Splat:
		a.VecLoad(MOVD, X0, slot(in.B))
		c.splatLow(X0, W32)
	default: // i64x2, f64x2
		a.VecLoad(MOVQ, X0, slot(in.B))
		c.splatLow(X0, W64)
	}
	c.vstore(in.A, X0)
}

// extract reads the lane from the slots: the value was stored whole, and
// a narrow load inside a wide store forwards.
func (c *compiler) extract(in *ir.Instr) {
	a := c.a
	lane := int32(uint8(in.Imm))
	switch wasm.Opcode(0x200 + uint16(uint8(in.C))) {
	case wasm.OpI8x16ExtractLaneS:
		a.MovsxLoad(W32, W8, RAX, laneMem(in.B, lane&15))
	case wasm.OpI8x16ExtractLaneU:
		a.MovzxLoad(W32, W8, RAX, laneMem(in.B, lane&15))
	case wasm.OpI16x8ExtractLaneS:
		a.MovsxLoad(W32, W16, RAX, laneMem(in.B, 2*(lane&7)))
	case wasm.OpI16x8ExtractLaneU:
		a.MovzxLoad(W32, W16, RAX, laneMem(in.B, 2*(lane&7)))
	case wasm.OpI32x4ExtractLane, wasm.OpF32x4ExtractLane:
		a.Load(W32, RAX, laneMem(in.B, 4*(lane&3)))
	default:
		a.Load(W64, RAX, laneMem(in.B, 8*(lane&1)))
	}
	c.storeRAX(in.A)
}

// laneWidth is the lane size of a replace_lane or of a lane load/store.
func replaceWidth(w wasm.Opcode) Width {
	switch w {
	case wasm.OpI8x16ReplaceLane:
		return W8
	case wasm.OpI16x8ReplaceLane:
		return W16
	case wasm.OpI32x4ReplaceLane, wasm.OpF32x4ReplaceLane:
		return W32
	}
	return W64
}

func (c *compiler) replace(in *ir.Instr) {
	a := c.a
	w := replaceWidth(wasm.Opcode(0x200 + uint16(uint8(in.Imm))))
	lane := int32(uint8(in.Imm>>8)) & (16/int32(w) - 1)
	// The scalar first: it may sit in the destination's slots.
	a.Load(W64, RCX, slot(in.C))
	if in.A != in.B {
		c.vload(X0, in.B)
		c.vstore(in.A, X0)
	}
	a.Store(w, laneMem(in.A, lane*int32(w)), RCX)
}

func (c *compiler) loadLane(in *ir.Instr) error {
	a := c.a
	n := int32(uint8(in.Imm >> 32))
	if n != 1 && n != 2 && n != 4 && n != 8 {
		return c.fail("v128 lane load of %d bytes", n)
	}
	lane := int32(uint8(in.Imm>>40)) & (16/n - 1)
	m, err := c.address(in.B, uint64(uint32(in.Imm)), n)
	if err != nil {
		return err
	}
	switch n {
	case 1, 2:
		a.MovzxLoad(W32, Width(n), RCX, m)
	default:
		a.Load(Width(n), RCX, m)
	}
	if in.A != in.C {
		c.vload(X0, in.C)
		c.vstore(in.A, X0)
	}
	a.Store(Width(n), laneMem(in.A, lane*n), RCX)
	return nil
}

func (c *compiler) storeLane(in *ir.Instr) error {
	a := c.a
	n := int32(uint8(in.Imm >> 32))
	if n != 1 && n != 2 && n != 4 && n != 8 {
		return c.fail("v128 lane store of %d bytes", n)
	}
	lane := int32(uint8(in.Imm>>40)) & (16/n - 1)
	m, err := c.address(in.A, uint64(uint32(in.Imm)), n)
	if err != nil {
		return err
	}
	switch n {
	case 1, 2:
		a.MovzxLoad(W32, Width(n), RCX, laneMem(in.B, lane*n))
	default:
		a.Load(Width(n), RCX, laneMem(in.B, lane*n))
	}
	a.Store(Width(n), m, RCX)
	return nil
}

// vtest compiles any_true, all_true and bitmask (an i32 result).
func (c *compiler) vtest(in *ir.Instr) {
	a := c.a
	switch w := wasm.Opcode(0x200 + uint16(uint8(in.C))); w {
	case wasm.OpV128AnyTrue:
		a.Load(W64, RAX, slot(in.B))
		a.ALULoad(OR, W64, RAX, slot(in.B+1))
		c.setcc(CondNE, in.A)
	case wasm.OpI64x2AllTrue:
		done := a.NewLabel()
		a.ALU(XOR, W32, RAX, RAX)
		a.ALUMemImm(CMP, W64, slot(in.B), 0)
		a.Jcc(CondE, done)
		a.ALUMemImm(CMP, W64, slot(in.B+1), 0)
		a.Setcc(CondNE, RAX)
		a.Bind(done)
		c.storeRAX(in.A)
	case wasm.OpI8x16AllTrue, wasm.OpI16x8AllTrue, wasm.OpI32x4AllTrue:
		eq := map[wasm.Opcode]VecOp{wasm.OpI8x16AllTrue: PCMPEQB, wasm.OpI16x8AllTrue: PCMPEQW, wasm.OpI32x4AllTrue: PCMPEQD}[w]
		c.vload(X0, in.B)
		a.Vec(PXOR, X1, X1)
		a.Vec(eq, X1, X0)
		a.Movmsk(PMOVMSKB, RAX, X1)
		a.Test(W32, RAX, RAX)
		c.setcc(CondE, in.A)
	case wasm.OpI8x16Bitmask:
		c.vload(X0, in.B)
		a.Movmsk(PMOVMSKB, RAX, X0)
		c.storeRAX(in.A)
	case wasm.OpI16x8Bitmask:
		c.vload(X0, in.B)
		a.Vec(PACKSSWB, X0, X0)
		a.Movmsk(PMOVMSKB, RAX, X0)
		a.Movzx(W32, W8, RAX, RAX)
		c.storeRAX(in.A)
	case wasm.OpI32x4Bitmask:
		c.vload(X0, in.B)
		a.Movmsk(MOVMSKPS, RAX, X0)
		c.storeRAX(in.A)
	default: // i64x2.bitmask
		c.vload(X0, in.B)
		a.Movmsk(MOVMSKPD, RAX, X0)
		c.storeRAX(in.A)
	}
}

// shuffle is i8x16.shuffle with the mask known at compile time: two
// PSHUFBs with SSSE3, else sixteen byte moves through two registers.
func (c *compiler) shuffle(in *ir.Instr) error {
	a := c.a
	if in.Imm >= uint64(len(c.f.VConsts)) {
		return c.fail("shuffle mask %d of %d", in.Imm, len(c.f.VConsts))
	}
	k := c.f.VConsts[in.Imm]
	var idx [16]uint8
	for i := range 8 {
		idx[i], idx[8+i] = uint8(k.Lo>>(8*i)), uint8(k.Hi>>(8*i))
	}
	if c.has(cpu.X86SSSE3) {
		c.selectedV(ir.V128Shuffle, "pshufb", cpu.X86SSSE3)
		var mx, my [2]uint64
		usesX, usesY := false, false
		for i, m := range idx {
			bx, by := uint64(0x80), uint64(0x80)
			if m&31 < 16 {
				bx, usesX = uint64(m&15), true
			} else {
				by, usesY = uint64(m&15), true
			}
			mx[i/8] |= bx << (8 * (i % 8))
			my[i/8] |= by << (8 * (i % 8))
		}
		r := X0
		if usesX {
			c.vload(X0, in.B)
			c.vconst(X2, mx[0], mx[1])
			a.Vec(PSHUFB, X0, X2)
		}
		if usesY {
			c.vload(X1, in.C)
			c.vconst(X3, my[0], my[1])
			a.Vec(PSHUFB, X1, X3)
			if usesX {
				a.Vec(POR, X0, X1)
			} else {
				r = X1
			}
		}
		c.vstore(in.A, r)
		return nil
	}
	c.selectedV(ir.V128Shuffle, "bytes")
	for h, dst := range []Reg{RCX, RSI} {
		for j := 7; j >= 0; j-- {
			m := idx[8*h+j] & 31
			src := in.B
			if m >= 16 {
				src = in.C
			}
			a.MovzxLoad(W32, W8, RDX, laneMem(src, int32(m&15)))
			if j == 7 {
				a.Mov(W32, dst, RDX)
				continue
			}
			a.ShiftImm(SHL, W64, dst, 8)
			a.ALU(OR, W64, dst, RDX)
		}
	}
	a.Store(W64, slot(in.A), RCX)
	a.Store(W64, slot(in.A+1), RSI)
	return nil
}

// swizzleBytes is i8x16.swizzle without PSHUFB: each byte read from the
// slots at its index (mod 16), replaced by 0 for an index from 16 on,
// gathered in two registers and stored once all are read (the result
// may overwrite an operand).
func (c *compiler) swizzleBytes(in *ir.Instr) {
	a := c.a
	c.selectedV(in.Op, "swizzle: bytes")
	a.ALU(XOR, W32, R9, R9)
	for h, dst := range []Reg{R10, R11} {
		for j := 7; j >= 0; j-- {
			a.MovzxLoad(W32, W8, RDX, laneMem(in.C, int32(8*h+j)))
			a.Mov(W32, RSI, RDX)
			a.ALUImm(AND, W32, RSI, 15)
			a.MovzxLoad(W32, W8, R8, MI(regFrame, RSI, 1, int32(in.B)*8))
			a.ALUImm(CMP, W32, RDX, 16)
			a.Cmov(CondAE, W32, R8, R9)
			if j == 7 {
				a.Mov(W32, dst, R8)
				continue
			}
			a.ShiftImm(SHL, W64, dst, 8)
			a.ALU(OR, W64, dst, R8)
		}
	}
	a.Store(W64, slot(in.A), R10)
	a.Store(W64, slot(in.A+1), R11)
}

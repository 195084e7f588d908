package jit

import (
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/native"
	. "github.com/ferryvm/ferry/internal/native/amd64asm"
)

// Native calls between compiled functions (docs/compiler.md "Calls").
//
// A Call to a function of the same module goes through the block's
// dispatch table (two words per function index: the callee's call entry,
// 0 when the call must exit to Go, and its frame slots). When the entry
// is there, the native depth is under its bound and the callee's frame
// fits the value stack, the caller records the call for Go (the IR index
// of the Call at the current native depth), moves block.frame and R15 to
// the callee's frame (caller base + argument slot, as the interpreter's
// call does) and CALLs the entry on the native stack. Otherwise the call
// is the v1 ExitCall. Both ways continue at the same point: after a
// native return the caller undoes the frame move first; from Go
// (Cont[id]) Go has set block.frame to the caller's base already.

// maxCallee bounds the function index a Call may name: the dispatch
// table's entry must be a disp32 from its base (16 bytes per function).
const maxCallee = 1 << 26

// callEntry is the native call entry, emitted first: a native caller has
// set block.frame and R15 to the new frame with the arguments in place,
// so what remains of the interpreter's call sequence is clearing the
// non-parameter locals. It falls through into the entry Go uses, which
// recomputes R15 as every entry does.
func (c *compiler) callEntry() {
	a, f := c.a, c.f
	lo, hi := f.ParamSlots, f.LocalSlots
	if hi <= lo || hi > f.FrameSlots {
		return
	}
	n := hi - lo
	if n <= 8 {
		for s := lo; s < hi; s++ {
			a.StoreImm(W64, slot(s), 0)
		}
		return
	}
	// A loop for long runs of locals keeps the code size bounded for
	// functions with thousands of them: RCX counts up from -n to 0.
	a.MovImm64(RCX, -int64(n))
	loop := a.NewLabel()
	a.Bind(loop)
	a.StoreImm(W64, MI(regFrame, RCX, 8, int32(hi)*8), 0)
	a.ALUImm(ADD, W64, RCX, 1)
	a.Jcc(CondNE, loop)
}

// call compiles a Call (a = callee, b = argument slot, c = pause id).
func (c *compiler) call(in ir.Instr) error {
	a := c.a
	if in.A >= maxCallee {
		return c.fail("call of function %d out of range", in.A)
	}
	if in.B > c.f.FrameSlots {
		return c.fail("call's arguments at slot %d outside the frame's %d slots", in.B, c.f.FrameSlots)
	}
	slow, cont := a.NewLabel(), a.NewLabel()
	c.spillRegs()
	// RAX: the callee's entry; RDX: the slot one past its frame; RCX: the
	// native depth.
	a.Load(W64, RAX, M(regBlock, native.OffFuncs))
	a.Test(W64, RAX, RAX)
	a.Jcc(CondE, slow)
	a.Load(W64, RDX, M(RAX, int32(in.A)*16+8))
	a.Load(W64, RAX, M(RAX, int32(in.A)*16))
	a.Test(W64, RAX, RAX)
	a.Jcc(CondE, slow)
	a.Load(W64, RCX, M(regBlock, native.OffDepth))
	a.ALULoad(CMP, W64, RCX, M(regBlock, native.OffDepthMax))
	a.Jcc(CondAE, slow)
	a.ALULoad(ADD, W64, RDX, M(regBlock, native.OffFrame))
	a.ALUImm(ADD, W64, RDX, int32(in.B))
	a.ALULoad(CMP, W64, RDX, M(regBlock, native.OffStackLen))
	a.Jcc(CondA, slow)
	// The record Go reads if anything exits before this call returns.
	a.Load(W64, RDX, M(regBlock, native.OffCalls))
	a.StoreImm(W32, MI(RDX, RCX, 4, 0), int32(c.cur))
	a.ALUImm(ADD, W64, RCX, 1)
	a.Store(W64, M(regBlock, native.OffDepth), RCX)
	a.ALUMemImm(ADD, W64, M(regBlock, native.OffFrame), int32(in.B))
	a.Lea(W64, regFrame, M(regFrame, int32(in.B)*8))
	a.CallReg(RAX)
	a.ALUMemImm(SUB, W64, M(regBlock, native.OffDepth), 1)
	a.ALUMemImm(SUB, W64, M(regBlock, native.OffFrame), int32(in.B))
	a.Jmp(cont)
	a.Bind(slow)
	c.exit(native.ExitCall, c.cur, cont)
	a.Bind(cont)
	c.frameBase()
	c.reloadRegs()
	if int(in.C) < len(c.contLbl) {
		c.contLbl[in.C] = cont
	}
	return nil
}

// retToNativeCaller ends a Return whose results are in slots 0.. when
// the function was called natively: it RETs to its caller. A function Go
// entered or continued (depth 0: the trampoline clears it) falls through
// to the ExitReturn that follows.
func (c *compiler) retToNativeCaller() {
	a := c.a
	toGo := a.NewLabel()
	a.ALUMemImm(CMP, W64, M(regBlock, native.OffDepth), 0)
	a.Jcc(CondE, toGo)
	a.Ret()
	a.Bind(toGo)
}

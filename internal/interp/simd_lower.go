package interp

import (
	"fmt"

	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/v128"
	"github.com/ferryvm/ferry/internal/wasm"
)

// simd is the portable table of SIMD implementations, indexed by
// sub-opcode: the lowering reads shapes and sizes from it, the loop calls
// its shapes without builtins. Each runtime's Builtins holds a copy whose
// builtin entries call through that runtime's callsite table.
var simd = v128.Portable()

// lowerSIMD lowers one 0xFD instruction (v128.const excepted, which Instr
// handles). Operands are read where they are (a local's slots for a pending
// local.get), the result goes to the first operand's home slot, as for the
// scalar numeric operations.
func (l *lowerer) lowerSIMD(in *wasm.Instr) error {
	w := in.Op
	if w.IsRelaxed() {
		return l.lowerRelaxed(in)
	}
	s := uint32(v128.Sub(w))
	switch simd.KindOf(w) {
	case v128.KindUnary:
		x := l.pop()
		xs := l.use(&x)
		l.pushResult(true, l.emit(ir.Instr{Op: ir.V128Unary, A: x.slot, B: xs, C: s}))
	case v128.KindBinary:
		y := l.pop()
		x := l.pop()
		xs := l.use(&x)
		ys := l.use(&y)
		l.pushResult(true, l.emit(ir.Instr{Op: ir.V128Binary, A: x.slot, B: xs, C: ys, Imm: uint64(s)}))
	case v128.KindTernary: // v128.bitselect
		c := l.pop()
		y := l.pop()
		x := l.pop()
		xs := l.use(&x)
		ys := l.use(&y)
		cs := l.use(&c)
		l.pushResult(true, l.emit(ir.Instr{Op: ir.V128Bitselect, A: x.slot, B: xs, C: ys, Imm: uint64(cs)}))
	case v128.KindShuffle:
		y := l.pop()
		x := l.pop()
		xs := l.use(&x)
		ys := l.use(&y)
		l.f.VConsts = append(l.f.VConsts, v128.V128{Lo: in.Imm, Hi: in.Imm2})
		idx := uint64(len(l.f.VConsts) - 1)
		l.pushResult(true, l.emit(ir.Instr{Op: ir.V128Shuffle, A: x.slot, B: xs, C: ys, Imm: idx}))
	case v128.KindShift:
		n := l.pop()
		x := l.pop()
		xs := l.use(&x)
		if n.kind == isConst {
			l.pushResult(true, l.emit(ir.Instr{Op: ir.V128ShiftI, A: x.slot, B: xs, C: uint32(n.imm), Imm: uint64(s)}))
			return nil
		}
		ns := l.use(&n)
		l.pushResult(true, l.emit(ir.Instr{Op: ir.V128Shift, A: x.slot, B: xs, C: ns, Imm: uint64(s)}))
	case v128.KindTest:
		x := l.pop()
		xs := l.use(&x)
		l.pushResult(false, l.emit(ir.Instr{Op: ir.V128Test, A: x.slot, B: xs, C: s}))
	case v128.KindSplat:
		x := l.pop()
		xs := l.use(&x)
		l.pushResult(true, l.emit(ir.Instr{Op: ir.V128Splat, A: x.slot, B: xs, C: s}))
	case v128.KindExtract:
		x := l.pop()
		xs := l.use(&x)
		l.pushResult(false, l.emit(ir.Instr{Op: ir.V128Extract, A: x.slot, B: xs, C: s, Imm: uint64(in.A)}))
	case v128.KindReplace:
		v := l.pop()
		x := l.pop()
		xs := l.use(&x)
		vs := l.use(&v)
		l.pushResult(true, l.emit(ir.Instr{Op: ir.V128Replace, A: x.slot, B: xs, C: vs, Imm: uint64(s) | uint64(in.A)<<8}))
	case v128.KindLoad:
		a := l.pop()
		as := l.use(&a)
		if w == wasm.OpV128Load {
			l.pushResult(true, l.emit(ir.Instr{Op: ir.V128Load, A: a.slot, B: as, Imm: in.Offset}))
			return nil
		}
		n := uint64(simd.Size(w))
		l.pushResult(true, l.emit(ir.Instr{Op: ir.V128LoadX, A: a.slot, B: as, C: s, Imm: in.Offset | n<<32}))
	case v128.KindLoadLane:
		v := l.pop()
		a := l.pop()
		as := l.use(&a)
		vs := l.use(&v)
		n := uint64(simd.Size(w))
		imm := in.Offset | n<<32 | uint64(in.B)<<40 | uint64(s)<<48
		l.pushResult(true, l.emit(ir.Instr{Op: ir.V128LoadLane, A: a.slot, B: as, C: vs, Imm: imm}))
	case v128.KindStore:
		v := l.pop()
		a := l.pop()
		vs := l.use(&v)
		as := l.use(&a)
		l.emit(ir.Instr{Op: ir.V128Store, A: as, B: vs, Imm: in.Offset})
	case v128.KindStoreLane:
		v := l.pop()
		a := l.pop()
		vs := l.use(&v)
		as := l.use(&a)
		n := uint64(simd.Size(w))
		l.emit(ir.Instr{Op: ir.V128StoreLane, A: as, B: vs, C: s, Imm: in.Offset | n<<32 | uint64(in.B)<<40})
	default:
		return fmt.Errorf("interp: unsupported SIMD instruction %v at +0x%x", w, l.off)
	}
	return nil
}

// writesOnlyDst reports whether an IR op writes nothing but its slot a (one
// or two slots) after reading all its operands, so that its destination can
// be retargeted to a local by a following local.set.
func writesOnlyDst(o ir.Op) bool {
	switch o {
	case ir.V128Unary, ir.V128Binary, ir.V128Bitselect, ir.V128Shuffle, ir.V128Shift, ir.V128ShiftI,
		ir.V128Splat, ir.V128Replace, ir.V128Load, ir.V128LoadX, ir.V128LoadLane, ir.V128Relaxed:
		return true
	}
	return false
}

package interp

import (
	"github.com/ferryvm/ferry/internal/builtins"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/v128"
	"github.com/ferryvm/ferry/internal/wasm"
)

// bindRelaxed binds the relaxed-SIMD instructions in tab (Builtins.relaxed).
func bindRelaxed(tab *builtins.CallsiteTable) (fns [wasm.NumRelaxed]v128.TernaryFunc) {
	for i, op := range builtins.Relaxed {
		switch {
		case op.Unary != nil:
			slot := builtins.Bind(tab, op.Unary)
			fns[i] = func(x, _, _ v128.V128) v128.V128 { return slot.Func()(x) }
		case op.Binary != nil:
			slot := builtins.Bind(tab, op.Binary)
			fns[i] = func(x, y, _ v128.V128) v128.V128 { return slot.Func()(x, y) }
		case op.Ternary != nil:
			slot := builtins.Bind(tab, op.Ternary)
			fns[i] = func(x, y, z v128.V128) v128.V128 { return slot.Func()(x, y, z) }
		}
	}
	return fns
}

// lowerRelaxed lowers a relaxed-SIMD instruction to ir.V128Relaxed.
func (l *lowerer) lowerRelaxed(in *wasm.Instr) error {
	r := uint64(in.Op - wasm.OpRelaxedFirst)
	op := builtins.Relaxed[r]
	var p int
	switch {
	case op.Unary != nil:
		x := l.pop()
		xs := l.use(&x)
		p = l.emit(ir.Instr{Op: ir.V128Relaxed, A: x.slot, B: xs, C: xs, Imm: uint64(xs) | r<<32})
	case op.Binary != nil:
		y := l.pop()
		x := l.pop()
		xs := l.use(&x)
		ys := l.use(&y)
		p = l.emit(ir.Instr{Op: ir.V128Relaxed, A: x.slot, B: xs, C: ys, Imm: uint64(xs) | r<<32})
	default:
		z := l.pop()
		y := l.pop()
		x := l.pop()
		xs := l.use(&x)
		ys := l.use(&y)
		zs := l.use(&z)
		p = l.emit(ir.Instr{Op: ir.V128Relaxed, A: x.slot, B: xs, C: ys, Imm: uint64(zs) | r<<32})
	}
	l.pushResult(true, p)
	return nil
}

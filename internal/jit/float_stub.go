package jit

// TEMPORARY — the lead deletes this file at the merge with branch
// jitfloat, whose float.go defines the real emitFloat. Until then no
// float op compiles: a function using one stays interpreted.

import (
	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/native/amd64asm"
)

// emitFloat is the placeholder for jitfloat's lowering of float
// operations and conversions: it handles nothing.
func emitFloat(a *amd64asm.Asm, feats cpu.Set, in *ir.Instr, slot func(uint32) amd64asm.Mem, trap func(TrapCode) amd64asm.Label) bool {
	return false
}

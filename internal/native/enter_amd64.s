#include "go_asm.h"
#include "textflag.h"

// func enter(b *block, pc uintptr)
//
// ABI0: every register but SP and BP is the caller's to lose, and the
// ABI wrapper restores R14 (g) and X15 (zero) for ABIInternal callers,
// so generated code may use all general and vector registers freely.
// NOSPLIT with no frame: the only stack generated code sees is the
// return address the CALL pushes, and it must not push more (the
// nosplit stack reserve is not its to use). The code returns here by an
// exit: RSP := block.entrySP, RBP := block.entryBP, RET. Saving RBP in
// the block rather than trusting the code keeps Go's frame-pointer chain
// intact even if an exit is taken from a state where RBP was reused.
TEXT ·enter(SB), NOSPLIT, $0-16
	MOVQ b+0(FP), BX
	MOVQ pc+8(FP), AX
	MOVL $0, block_exit(BX)
	MOVL $0, block_exitArg(BX)
	MOVL $0, block_aux(BX)
	MOVQ block_stack(BX), R12
	MOVQ block_memory(BX), R13
	MOVQ BP, block_entryBP(BX)
	LEAQ -8(SP), CX
	MOVQ CX, block_entrySP(BX)
	CALL AX
	RET

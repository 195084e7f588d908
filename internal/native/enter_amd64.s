#include "go_asm.h"
#include "textflag.h"

// func enter(b *block, pc uintptr)
//
// ABI0: every register but SP and BP is the caller's to lose, and the
// ABI wrapper restores R14 (g) and X15 (zero) for ABIInternal callers,
// so generated code may use all general and vector registers freely.
// NOSPLIT with no frame: the only thing it leaves on the goroutine stack
// is the return address the CALL pushes (the nosplit stack reserve is not
// generated code's to use). Generated code runs on the context's own
// native stack, where native calls push their return addresses. The code
// returns here by an exit: RSP := block.entrySP, RBP := block.entryBP,
// RET, which discards the native stack. Saving RBP in the block rather
// than trusting the code keeps Go's frame-pointer chain intact even if an
// exit is taken from a state where RBP was reused.
TEXT ·enter(SB), NOSPLIT, $0-16
	MOVQ b+0(FP), BX
	MOVQ pc+8(FP), AX
	MOVL $0, block_exit(BX)
	MOVL $0, block_exitArg(BX)
	MOVL $0, block_aux(BX)
	MOVQ $0, block_depth(BX)
	MOVQ block_stack(BX), R12
	MOVQ block_memory(BX), R13
	MOVQ BP, block_entryBP(BX)
	CALL switchStack<>(SB)
	// Exits restore RBP already; a bare RET (bareReturn) does not.
	MOVQ b+0(FP), BX
	MOVQ block_entryBP(BX), BP
	RET

// switchStack runs with the return address into enter on top of the
// goroutine stack: that RSP is what every exit restores. It moves RSP to
// the native stack and jumps to the code, so the goroutine stack holds
// nothing more than before native calls existed. On the native stack it
// leaves the block's address and, on top, the address of bareReturn, so
// that code which returns with a plain RET (not an exit) still comes back
// to Go, where the missing exit kind is reported.
TEXT switchStack<>(SB), NOSPLIT|NOFRAME, $0-0
	MOVQ SP, block_entrySP(BX)
	MOVQ block_nstackTop(BX), CX
	MOVQ BX, -8(CX)
	MOVQ $bareReturn<>(SB), DX
	MOVQ DX, -16(CX)
	LEAQ -16(CX), SP
	JMP AX

// bareReturn is where a RET to the bottom of the native stack lands: it
// takes the exit path with the block the entry left below its address
// (enter restores RBP).
TEXT bareReturn<>(SB), NOSPLIT|NOFRAME, $0-0
	MOVQ 0(SP), BX
	MOVQ block_entrySP(BX), SP
	RET

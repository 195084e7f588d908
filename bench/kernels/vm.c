/* vm: a small stack-machine bytecode interpreter, the dispatch loop that
 * language runtimes compiled to WebAssembly spend their time in. */
#include "rt.h"

enum {
	OP_PUSH,  /* push imm */
	OP_LOAD,  /* push reg[imm] */
	OP_STORE, /* reg[imm] = pop */
	OP_ADD, OP_SUB, OP_MUL, OP_XOR, OP_SHR, OP_AND,
	OP_LT,    /* a b -> a < b */
	OP_JNZ,   /* if pop != 0 goto imm */
	OP_JMP,   /* goto imm */
	OP_HALT,  /* return pop */
};

typedef struct { u8 op; int imm; } insn;

/* The program (registers: 0 = i, 1 = n, 2 = acc, 3 = x):
 *   i = 0; acc = 1; x = 7
 *   loop: x = (x * 1103515245 + 12345); acc = acc ^ (x >> 3) + i
 *         if (x & 1) acc = acc + x   (skipped on even)
 *         i = i + 1; if i < n goto loop
 *   return acc */
static const insn program[] = {
	{OP_PUSH, 0}, {OP_STORE, 0},
	{OP_PUSH, 1}, {OP_STORE, 2},
	{OP_PUSH, 7}, {OP_STORE, 3},
	/* 6: loop */
	{OP_LOAD, 3}, {OP_PUSH, 1103515245}, {OP_MUL, 0}, {OP_PUSH, 12345}, {OP_ADD, 0}, {OP_STORE, 3},
	{OP_LOAD, 2}, {OP_LOAD, 3}, {OP_PUSH, 3}, {OP_SHR, 0}, {OP_XOR, 0}, {OP_LOAD, 0}, {OP_ADD, 0}, {OP_STORE, 2},
	/* 20 */
	{OP_LOAD, 3}, {OP_PUSH, 1}, {OP_AND, 0}, {OP_JNZ, 25},
	{OP_JMP, 29},
	/* 25: odd */
	{OP_LOAD, 2}, {OP_LOAD, 3}, {OP_ADD, 0}, {OP_STORE, 2},
	/* 29: next */
	{OP_LOAD, 0}, {OP_PUSH, 1}, {OP_ADD, 0}, {OP_STORE, 0},
	{OP_LOAD, 0}, {OP_LOAD, 1}, {OP_LT, 0}, {OP_JNZ, 6},
	{OP_LOAD, 2}, {OP_HALT, 0},
};

static u32 execute(const insn *code, u32 n) {
	u32 reg[4] = {0, n, 0, 0};
	u32 stack[16];
	int sp = 0;
	u32 pc = 0;
	for (;;) {
		const insn in = code[pc++];
		switch (in.op) {
		case OP_PUSH: stack[sp++] = (u32)in.imm; break;
		case OP_LOAD: stack[sp++] = reg[in.imm]; break;
		case OP_STORE: reg[in.imm] = stack[--sp]; break;
		case OP_ADD: sp--; stack[sp - 1] += stack[sp]; break;
		case OP_SUB: sp--; stack[sp - 1] -= stack[sp]; break;
		case OP_MUL: sp--; stack[sp - 1] *= stack[sp]; break;
		case OP_XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
		case OP_SHR: sp--; stack[sp - 1] >>= (stack[sp] & 31); break;
		case OP_AND: sp--; stack[sp - 1] &= stack[sp]; break;
		case OP_LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
		case OP_JNZ: if (stack[--sp]) pc = (u32)in.imm; break;
		case OP_JMP: pc = (u32)in.imm; break;
		case OP_HALT: return stack[sp - 1];
		default: return 0xDEADBEEF;
		}
	}
}

/* run(n) executes the program for n loop iterations and returns acc. */
EXPORT("run") u32 run(u32 n) { return execute(program, n); }

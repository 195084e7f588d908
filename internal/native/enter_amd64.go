package native

// enter runs generated code at pc with b in RBX, b.stack in R12 and
// b.memory in R13, and returns when the code takes an exit. It is not
// marked go:noescape on purpose: b must live in the heap, where it does
// not move (see Context).
func enter(b *block, pc uintptr)

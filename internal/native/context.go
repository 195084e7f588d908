package native

import (
	"sync/atomic"
	"unsafe"
)

// block is the context block generated code sees, through RBX on amd64.
// It holds no Go pointers: the GC never has to find anything in it, and
// the code may write any field. Its field order is the contract with the
// compiler (the Off* constants) and with enter_amd64.s (go_asm.h); a
// test checks that they agree.
type block struct {
	stack    uintptr // value-stack base, loaded into R12 at every entry
	memory   uintptr // linear-memory base, loaded into R13 at every entry
	budget   int64   // polls left before an ExitBudget
	exit     uint32  // ExitKind, cleared by the trampoline on entry
	exitArg  uint32  // argument of the exit
	resume   uintptr // continuation address, for exits that continue
	entrySP  uintptr // RSP at the start of generated code (return address on top)
	entryBP  uintptr // RBP at entry, restored by every exit
	stackLen uint64  // slots in the value stack, for growth checks
	memLen   uint64  // bytes of linear memory, for bounds checks
	frame    uint64  // slot index of the running frame's base: code sets R15 = R12 + 8*frame
	globals  uintptr // address of the instance's global table (Context.SetGlobals)
	aux      uint32  // second exit argument (the trap code of an ExitTrap)
	_        uint32
}

// Offsets of the context block fields, as displacements from the context
// register (RBX). Each fits in a signed byte, so every access is a short
// disp8 form.
const (
	OffStack    = 0
	OffMemory   = 8
	OffBudget   = 16
	OffExit     = 24
	OffExitArg  = 28
	OffResume   = 32
	OffEntrySP  = 40
	OffEntryBP  = 48
	OffStackLen = 56
	OffMemLen   = 64
	OffFrame    = 72
	OffGlobals  = 80
	OffAux      = 88
)

// Context is the state one goroutine uses to run generated code: the
// context block plus the Go references that keep the value stack and
// linear memory alive while the block holds only their addresses. A
// Context runs one entry at a time; use one per goroutine.
//
// The block must not move while code runs. Go's heap is non-moving, and a
// Context always lives in the heap: NewContext's result reaches the
// trampoline, whose pointer argument escapes, so escape analysis never
// places a Context (or the slices it holds) on a goroutine stack, which
// could move between entries.
type Context struct {
	blk     block // first, so the block's address is the Context's own
	stack   []uint64
	memory  []byte
	globals []uintptr
	running atomic.Bool
}

// NewContext returns a context with an empty value stack, no memory and a
// budget of zero (the first poll exits).
func NewContext() *Context { return &Context{} }

// SetStack makes s the value stack generated code sees (R12 at the next
// entry). Go calls it before the first entry and after growing the stack
// for ExitGrowStack; the continuation reloads its registers from R12.
func (c *Context) SetStack(s []uint64) {
	c.stack = s
	c.blk.stack, c.blk.stackLen = 0, uint64(len(s))
	if len(s) > 0 {
		c.blk.stack = uintptr(unsafe.Pointer(&s[0]))
	}
}

// Stack returns the current value stack.
func (c *Context) Stack() []uint64 { return c.stack }

// SetMemory makes m the linear memory generated code sees (R13 at the
// next entry). m may be Go-allocated or mapped outside the heap; either
// way the Context keeps the reference that keeps it valid.
func (c *Context) SetMemory(m []byte) {
	c.memory = m
	c.blk.memory, c.blk.memLen = 0, uint64(len(m))
	if len(m) > 0 {
		c.blk.memory = uintptr(unsafe.Pointer(&m[0]))
	}
}

// SetBudget sets the number of polls (function entries and loop
// back-edges) generated code runs before it exits with ExitBudget. Go
// refills it after each budget exit.
func (c *Context) SetBudget(n int64) { atomic.StoreInt64(&c.blk.budget, n) }

// Budget returns the polls left.
func (c *Context) Budget() int64 { return atomic.LoadInt64(&c.blk.budget) }

// RequestExit asks code running on c, from any goroutine, to exit at its
// next poll by zeroing the budget. The code's decrement is a plain
// read-modify-write, so the store can be lost when it lands between the
// read and the write; the code then still exits when the budget it had
// runs out. A requester therefore keeps its own flag and checks it on
// every exit: the request is honoured within one budget.
func (c *Context) RequestExit() { atomic.StoreInt64(&c.blk.budget, 0) }

// Continuation returns the address at which the last exit continues (0
// when it does not).
func (c *Context) Continuation() uintptr { return c.blk.resume }

// SetFrame sets the slot index of the frame the code runs in: compiled
// code computes its frame base as stack base + 8*frame at every entry and
// continuation, so Go may move the stack or switch frames between exits.
func (c *Context) SetFrame(slot uint64) { c.blk.frame = slot }

// Frame returns the frame's slot index.
func (c *Context) Frame() uint64 { return c.blk.frame }

// SetGlobals makes t the global table compiled code reads and writes
// through: entry i is the address of global i's 64-bit value (for the
// store, &store.Global.Lo). The addresses are not Go pointers to the GC,
// so whoever builds t keeps the globals alive (the instance does); the
// Context keeps t itself alive.
func (c *Context) SetGlobals(t []uintptr) {
	c.globals = t
	c.blk.globals = 0
	if len(t) > 0 {
		c.blk.globals = uintptr(unsafe.Pointer(&t[0]))
	}
}

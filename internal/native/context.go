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
	// Native calls between compiled functions (docs/native.md "Native
	// calls"). funcs is the address of the module's dispatch table (two
	// words per function index: call entry address or 0, frame slots);
	// depth counts the native calls under way, cleared by the trampoline
	// at every entry; depthMax bounds it (Go sets it from the call-depth
	// limit left and the native stack's capacity); calls is the address
	// of the call records, one uint32 per native depth: the IR index of
	// the Call the caller at that depth made.
	funcs    uintptr
	depth    uint64
	depthMax uint64
	calls    uintptr
	// nstackTop is the 16-byte-aligned top of the native stack the
	// trampoline switches RSP to; generated code never reads it.
	nstackTop uintptr
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
	OffFuncs    = 96
	OffDepth    = 104
	OffDepthMax = 112
	OffCalls    = 120
)

// MaxCallDepth is how many native calls may nest in one entry: the native
// stack holds one return address per call (generated code pushes nothing
// else), so it takes 8 bytes per call. Deeper calls take the slow path
// (an exit to Go), which unwinds the native stack.
const MaxCallDepth = 1 << 13

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
	funcs   []uint64
	// nstack is the native stack (return addresses of native calls) and
	// calls the call records; both are allocated at the first
	// SetCallDepth that allows native calls.
	nstack  []uint64
	calls   []uint32
	running atomic.Bool
}

// NewContext returns a context with an empty value stack, no memory and a
// budget of zero (the first poll exits).
func NewContext() *Context {
	c := &Context{}
	// The trampoline switches to this stack at every entry, so it exists
	// from the start even where no native call is allowed: a return
	// address and 16 bytes of alignment.
	c.setNativeStack(make([]uint64, 4))
	return c
}

func (c *Context) setNativeStack(s []uint64) {
	c.nstack = s
	top := uintptr(unsafe.Pointer(&s[0])) + uintptr(len(s))*8
	c.blk.nstackTop = top &^ 15
}

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

// SetDispatch makes t the dispatch table native calls go through (the
// block's funcs): word 2i is the address of function i's native call
// entry, 0 when a call of i must exit to Go (no code, imported, not
// entrant); word 2i+1 is its frame slots, for the caller's value-stack
// check. The Context keeps t alive; whoever owns t updates entries with
// atomic stores while code may run.
func (c *Context) SetDispatch(t []uint64) {
	c.funcs = t
	c.blk.funcs = 0
	if len(t) > 0 {
		c.blk.funcs = uintptr(unsafe.Pointer(&t[0]))
	}
}

// SetCallDepth bounds the native calls the next entry may nest, capped at
// MaxCallDepth: Go gives the call-depth limit left above the frames it
// holds, so that a call past the limit exits and traps as the
// interpreter's would. 0 makes every call exit.
func (c *Context) SetCallDepth(n int) {
	n = min(max(n, 0), MaxCallDepth)
	if n > 0 && len(c.calls) == 0 {
		// One return address per call, plus alignment slack.
		c.setNativeStack(make([]uint64, MaxCallDepth+4))
		c.calls = make([]uint32, MaxCallDepth)
		c.blk.calls = uintptr(unsafe.Pointer(&c.calls[0]))
	}
	c.blk.depthMax = uint64(n)
}

// CallDepth returns how many native calls were under way at the last
// exit: the exit was taken in the innermost callee, and CallRecord(0..n-1)
// name the calls from the entered function inwards.
func (c *Context) CallDepth() int { return int(min(c.blk.depth, uint64(len(c.calls)))) }

// CallRecord returns the IR index of the Call the frame at native depth k
// made (k = 0: the function Go entered).
func (c *Context) CallRecord(k int) uint32 { return c.calls[k] }

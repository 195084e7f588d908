package interp

import (
	"fmt"
	"unsafe"

	"github.com/ferryvm/ferry/internal/engine"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/native"
	"github.com/ferryvm/ferry/internal/store"
)

// The driver of the compiled tier (docs/compiler.md, "Driver"). A frame is
// an interpreter frame or a compiled one; both are the same header over
// the same slots, so a compiled frame becomes an interpreter frame by a
// header write, and the other way round. The interpreter's loop (run)
// and the native loop (runNative) take turns under drive: neither calls
// the other, so no WebAssembly call recurses on the Go stack.
//
// The machine keeps the indices of its compiled frames (natives) and sets
// floor one above the innermost: the interpreter's Return that reaches
// floor returns to drive, which continues the compiled caller natively,
// at no cost to the interpreter's return path.

// frameTier is how a frame continues.
type frameTier uint8

const (
	// frameInterp: the interpreter runs the frame from pc.
	frameInterp frameTier = iota
	// frameEnter: a call of a compiled function, entered at Code.Entry.
	frameEnter
	// frameAtCall: a compiled caller whose callee (the frame above) is
	// running; pc is past the call, and the frame continues at the call's
	// continuation when the callee returns.
	frameAtCall
	// frameAtPause: a compiled frame that left its code at the poll at
	// pc, the poll done, every value in its slot; it continues at that
	// pause point's continuation (on-stack replacement).
	frameAtPause
	// framePoll: a compiled frame standing at the poll at pc, which has
	// not run yet (a resumed checkpoint's innermost frame): the poll runs
	// as the interpreter's would, then the frame continues at its
	// continuation.
	framePoll
)

// nativeBudget is how many polls compiled code runs between two budget
// exits: about a hundred microseconds of a tight loop, so that Go's
// scheduler, the GC and a pause request get control back in time.
const nativeBudget = 1 << 16

// drive runs the machine's frames, each in its tier, until none is left
// (returning false) or the run stops at a pause point (returning true).
func (m *machine) drive() bool {
	for len(m.frames) > 0 {
		if m.frames[len(m.frames)-1].tier != frameInterp {
			if m.runNative() {
				return true
			}
			continue
		}
		if m.run() {
			return true
		}
	}
	return false
}

// tierCall is pushCode's part for a function whose calls leave the fast
// path (funcCode.tiered): the new frame runs compiled code if the function
// has entrant code; otherwise the policy counts the call.
func (m *machine) tierCall(c *funcCode) {
	if m.nctx != nil && c.native.Load() != nil {
		m.markNative(len(m.frames)-1, frameEnter)
		return
	}
	if t := c.owner.tier; t.on() {
		t.onCall(c)
	}
}

// markNative makes frame i, the new innermost compiled frame, continue as
// t says.
func (m *machine) markNative(i int, t frameTier) {
	m.frames[i].tier = t
	m.natives = append(m.natives, int32(i))
	m.floor = i + 1
}

// unmarkNative forgets the innermost compiled frame (popped, or now an
// interpreter frame).
func (m *machine) unmarkNative() {
	m.natives = m.natives[:len(m.natives)-1]
	m.floor = 0
	if n := len(m.natives); n > 0 {
		m.floor = int(m.natives[n-1]) + 1
	}
}

// toInterp makes the innermost frame, a compiled one, an interpreter frame
// that continues at its pc: the deoptimization of a frame standing at a
// pause point or a call is this header write.
func (m *machine) toInterp(fr *frame) {
	fr.tier = frameInterp
	m.unmarkNative()
}

// memBuf is the linear memory compiled code of inst sees: memory 0.
func memBuf(inst *store.Instance) []byte {
	if len(inst.Memories) > 0 {
		return inst.Memories[0].Buf
	}
	return nil
}

// budget is the budget the next entry gets: the normal one, or fewer polls
// when a counted pause (Counting) or a forced deoptimization (deopt
// stress) is due earlier, so that compiled code exits exactly at that
// poll, as the interpreter would stop there.
func (m *machine) budget() int64 {
	b := int64(nativeBudget)
	if m.intr.Load()&^store.InterruptStep != 0 {
		// A pause, cancellation or abort is pending: stop at the first
		// poll, as the interpreter's armed code does.
		return 0
	}
	if m.countdown > 0 {
		b = min(b, m.countdown-1)
	}
	if m.stress != nil {
		b = min(b, m.stress.left-1)
	}
	return b
}

// account charges polls that compiled code passed without exiting to the
// pause count and the stress countdown, as the interpreter's polls would
// have been charged.
func (m *machine) account(passed int64) {
	if m.countdown > 0 {
		m.countdown -= passed
	}
	if m.stress != nil {
		m.stress.left -= passed
	}
}

// runNative runs the innermost frame, a compiled one, until the run
// stops at a pause point (true) or the innermost frame is an interpreter
// frame (false): a call of an interpreted function, a return to an
// interpreted caller, a fall-back. Calls and returns between compiled
// frames stay in this loop.
func (m *machine) runNative() bool {
	// memInst is the instance whose memory the context holds, current
	// while only compiled frames run here (exits that may change it set
	// it again); an interpreter frame ran before this call, so not yet.
	var memInst *store.Instance
next:
	fr := &m.frames[len(m.frames)-1]
	c := fr.code
	code := c.native.Load()
	var id uint32
	switch fr.tier {
	case frameAtCall:
		id, _ = c.PauseAt(fr.pc - 1)
	case frameAtPause, framePoll:
		id, _ = c.PauseAt(fr.pc)
	}
	if code == nil || (fr.tier != frameEnter && !code.CanEnterAt(id)) {
		// Non-entrant since the frame was pushed or stopped: the
		// interpreter continues it where it stands.
		m.toInterp(fr)
		return false
	}
	if fr.tier == framePoll {
		// The interpreter's Poll at pc, counted as it counts it.
		if m.intr.Load() != 0 && m.interrupted() {
			m.toInterp(fr)
			return true
		}
		fr.tier = frameAtPause
	}
	inst := fr.fn.Instance
	nc := m.nctx
	nc.SetStack(m.stack) // a callee may have grown it
	nc.SetFrame(uint64(fr.base))
	if inst != m.gInst {
		m.gInst = inst
		nc.SetGlobals(c.owner.tier.globalTable(inst))
	}
	if inst != memInst {
		memInst = inst
		nc.SetMemory(memBuf(inst))
	}
	b := m.budget()
	nc.SetBudget(b)
	var ex native.Exit
	var err error
	if fr.tier == frameEnter {
		ex, err = code.Enter(nc)
	} else {
		ex, err = code.EnterAt(nc, id)
	}
	for {
		if err != nil {
			panic(engine.Trap{Kind: fmt.Errorf("%w: compiled code of function %d: %v", ErrInternal, c.Index, err)})
		}
		spent := b - nc.Budget() // polls run, an exiting one included
		switch ex.Kind {
		case native.ExitReturn:
			m.account(spent)
			m.frames = m.frames[:len(m.frames)-1]
			m.unmarkNative()
			if n := len(m.frames); n > 0 && m.frames[n-1].tier == frameAtCall {
				goto next // a compiled caller
			}
			return false
		case native.ExitTrap:
			m.account(spent)
			kind := c.owner.tier.comp.TrapErr(ex.Aux)
			if kind == nil {
				kind = fmt.Errorf("%w: compiled code of function %d: trap code %d", ErrInternal, c.Index, ex.Aux)
			}
			m.trap(fr, ex.Arg+1, kind) // traces point one past the fault, as the interpreter's
		case native.ExitBudget:
			m.account(spent - 1) // the exiting poll is charged below
			if ex.Arg != c.owner.tier.comp.NoPause {
				stop, leave := m.nativePoll(fr, code, ex.Arg)
				if stop {
					return true
				}
				if leave {
					return false
				}
			}
		case native.ExitCall:
			m.account(spent)
			if int(ex.Arg) >= len(c.Code) {
				panic(engine.Trap{Kind: fmt.Errorf("%w: compiled code of function %d: call exit at IR %d", ErrInternal, c.Index, ex.Arg)})
			}
			if c.native.Load() != code || m.stressed() {
				// Non-entrant (or a forced deoptimization): every
				// value is in its slot at a call, so the interpreter
				// makes the call and continues the frame.
				fr.pc = ex.Arg
				m.toInterp(fr)
				return false
			}
			in := &c.Code[ex.Arg]
			pc := ex.Arg + 1
			fr.pc = pc
			var f *store.Function
			var base int
			if in.Op == ir.Call {
				f, base = inst.Funcs[in.A], fr.base+int(in.B)
			} else {
				f = m.indirectCallee(fr, pc, in, unsafe.Pointer(&m.stack[fr.base]), inst)
				base = fr.base + int(in.C)
			}
			if f.Host == nil {
				fr.tier = frameAtCall
				m.push(f, base)
				if m.frames[len(m.frames)-1].tier == frameEnter {
					goto next // a compiled callee
				}
				return false // drive runs the callee in the interpreter
			}
			if m.callHost(fr, pc, f, inst, base) {
				m.toInterp(fr) // stopped before the host call, which a resume issues
				return true
			}
			nc.SetMemory(memBuf(inst)) // the host may have grown it
		case native.ExitInterp:
			m.account(spent)
			if int(ex.Arg) >= len(c.Code) {
				panic(engine.Trap{Kind: fmt.Errorf("%w: compiled code of function %d: interp exit at IR %d", ErrInternal, c.Index, ex.Arg)})
			}
			m.execRare(fr, ex.Arg+1, &c.Code[ex.Arg], unsafe.Pointer(&m.stack[fr.base]), inst)
			nc.SetMemory(memBuf(inst))
		default:
			panic(engine.Trap{Kind: fmt.Errorf("%w: compiled code of function %d: unexpected exit %v", ErrInternal, c.Index, ex)})
		}
		b = m.budget()
		nc.SetBudget(b)
		ex, err = code.Continue(nc)
	}
}

// nativePoll handles compiled code's exit at poll id, every value in its
// slot: it runs the interpreter's pause path when the interrupt word is
// set (stop: the frame is an interpreter frame at the pause point), or
// leaves the code (leave) when it became non-entrant or deopt stress asks
// for it.
func (m *machine) nativePoll(fr *frame, code *compiledCode, id uint32) (stop, leave bool) {
	c := fr.code
	if int(id) >= len(c.PauseIR) {
		panic(engine.Trap{Kind: fmt.Errorf("%w: compiled code of function %d: poll exit with pause id %d", ErrInternal, c.Index, id)})
	}
	if m.intr.Load() != 0 {
		fr.pc = c.PauseIR[id]
		if m.interrupted() {
			m.toInterp(fr)
			return true, false
		}
	}
	// Leaving, the frame continues past the poll, which has run (and was
	// counted): the instruction after an entry poll, the branch to the
	// body after a loop's.
	if c.native.Load() != code {
		fr.pc = c.PauseIR[id] + 1
		m.toInterp(fr)
		return false, true
	}
	if m.stressed() {
		fr.pc = c.PauseIR[id] + 1
		if m.stress.coin() {
			// Re-enter at once through the pause point's continuation:
			// the path of on-stack replacement and of a resume.
			fr.pc = c.PauseIR[id]
			fr.tier = frameAtPause
		} else {
			m.toInterp(fr) // the interpreter runs it until it returns
		}
		return false, true
	}
	return false, false
}

// markLoaded makes the frames a resume loaded continue in compiled code
// where their function has some: callers at their call's continuation
// when the callee returns, the innermost at its poll's continuation (OSR).
// An innermost frame stopped before a host call stays interpreted, so that
// the interpreter issues the call again.
func (m *machine) markLoaded() {
	if m.nctx == nil {
		return
	}
	last := len(m.frames) - 1
	for i := range m.frames {
		fr := &m.frames[i]
		code := fr.code.native.Load()
		if code == nil {
			continue
		}
		if i < last {
			if id, ok := fr.code.PauseAt(fr.pc - 1); ok && code.CanEnterAt(id) {
				m.markNative(i, frameAtCall)
			}
			continue
		}
		if fr.code.Code[fr.pc].Op != ir.Poll {
			continue
		}
		if id, ok := fr.code.PauseAt(fr.pc); ok && code.CanEnterAt(id) {
			m.markNative(i, framePoll)
		}
	}
}

// stressed charges a pause point to deopt stress and reports whether the
// frame must leave its compiled code there.
func (m *machine) stressed() bool {
	if !m.stress.tick() {
		return false
	}
	m.e.tier.stressDeopts.Add(1)
	return true
}

package interp

import (
	"sync"

	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/store"
)

// Armed pause points (docs/interpreter.md): a loop back-edge is lowered to
// its plain branch op to the loop's body, which does not look at the
// interrupt word; a loop's pause point is a stub out of line; a function
// is entered past its entry ir.Poll. While some instance of a store that
// holds this code has interrupt bits set, the store arms the code: every
// back-edge becomes its polling form (ir.Br...Back, which goes to the
// loop's stub when the word is set), every br_table target that enters a
// loop goes to the stub, and calls start at the entry ir.Poll. Disarming undoes that. A running machine sees
// the rewritten instruction the next time it dispatches it, so the time
// between a request and the pause is at most one loop iteration or call
// longer than with permanent polling, and the loop costs nothing while no
// one asks for a pause.
//
// The rewrites are plain stores to op codes and start indices that another
// goroutine's loop reads without synchronisation: Go's memory model makes
// such a word-sized racy read return either the old or the new value, and
// both are correct (the polling form only adds a check). Race-detector
// builds keep the code armed for good instead (arm_race.go), so that they
// report real races only.

// backEdge is a loop back-edge branch: code[at] (or brTargets[at] when
// table) whose target is a loop's body.
type backEdge struct {
	at    uint32
	loop  uint32 // the loop's index (funcCode.LoopPolls)
	table bool
	plain ir.Op // the unarmed op; the armed one is ir.BackOp(plain)
}

// Arm makes the code poll at every pause point. Calls nest: the code stays
// armed until Disarm has been called as often as Arm.
func (c *Compiled) Arm() {
	c.armMu.Lock()
	defer c.armMu.Unlock()
	c.armCount++
	if c.armCount == 1 && !alwaysArmed {
		c.setArmed(true)
	}
	if c.tier.on() {
		// Compiled code polls only its budget: make it exit now.
		c.tier.requestExits()
	}
}

// Disarm undoes one Arm.
func (c *Compiled) Disarm() {
	c.armMu.Lock()
	defer c.armMu.Unlock()
	if c.armCount == 0 {
		return
	}
	c.armCount--
	if c.armCount == 0 && !alwaysArmed {
		c.setArmed(false)
	}
}

func (c *Compiled) setArmed(on bool) {
	for _, f := range c.funcs {
		f.setArmed(on)
	}
}

// setArmed rewrites f's back-edges and entry.
func (f *funcCode) setArmed(on bool) {
	for _, e := range f.backEdges {
		if e.table {
			// Armed, the target is the loop's stub, whose branch leads
			// to the body; unarmed, the body itself.
			t := &f.BrTargets[e.at]
			if on {
				t.PC = f.LoopPolls[e.loop]
			} else {
				t.PC = f.Code[f.LoopPolls[e.loop]+1].A
			}
			continue
		}
		o := e.plain
		if on {
			o, _ = ir.BackOp(o)
		}
		f.Code[e.at].Op = o
	}
	if f.EntryPoll {
		if on {
			f.start = 0
		} else {
			f.start = 1
		}
	}
}

// CodeArmer lets the store find the Armer of an instance's code
// (store.Instance.SetInterrupt arms it).
func (f *funcCode) CodeArmer() store.Armer {
	if f.owner == nil {
		return nil
	}
	return f.owner
}

// armState is the arming bookkeeping of a Compiled.
type armState struct {
	armMu    sync.Mutex
	armCount int
}

package interp

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/store"
)

// Loops that reach their header by every kind of back-edge: br, br_if,
// a fused compare-and-branch, and br_table.
const armWat = `(module
  (func (export "br") (loop $l (br $l)))
  (func (export "br_if") (param i32) (loop $l (br_if $l (i32.eqz (local.get 0)))))
  (func (export "lt") (param i32) (loop $l (br_if $l (i32.lt_s (local.get 0) (i32.const 5)))))
  (func (export "table") (loop $l (br_table $l $l (i32.const 0))))
  (func $rec (export "rec") (call $rec)))`

// armedOps counts f's back-edges in their polling form.
func armedOps(f *funcCode) (armed, total int) {
	for _, e := range f.backEdges {
		total++
		if e.table {
			if f.BrTargets[e.at].PC == f.LoopPolls[e.loop] {
				armed++
			}
			continue
		}
		if f.Code[e.at].Op != e.plain {
			armed++
		}
	}
	return armed, total
}

func TestArmingRewritesBackEdges(t *testing.T) {
	if alwaysArmed {
		t.Skip("race-detector builds keep code armed")
	}
	tm := load(t, armWat)
	inst := tm.instance(t, nil)
	check := func(want bool) {
		t.Helper()
		for _, f := range tm.comp.funcs {
			armed, total := armedOps(f)
			if (want && armed != total) || (!want && armed != 0) {
				t.Errorf("func %d: %d of %d back-edges armed, want armed=%v", f.Index, armed, total, want)
			}
			if f.EntryPoll && (f.start == 0) != want {
				t.Errorf("func %d: start %d, want armed=%v", f.Index, f.start, want)
			}
		}
	}
	check(false)
	inst.SetInterrupt(store.InterruptPause)
	check(true)
	inst.SetInterrupt(store.InterruptCancel) // a second bit arms nothing more
	inst.ClearInterrupt(store.InterruptPause)
	check(true)
	inst.ClearInterrupt(store.InterruptCancel)
	check(false)

	// Two stores sharing the code: each keeps it armed while it needs it.
	other := store.NewStore()
	inst2, err := other.Instantiate(tm.mod, "other", tm.comp.Code(), func(string, string) (store.Extern, bool) { return store.Extern{}, false })
	if err != nil {
		t.Fatal(err)
	}
	inst.SetInterrupt(store.InterruptPause)
	inst2.SetInterrupt(store.InterruptPause)
	inst.ClearInterrupt(store.InterruptPause)
	check(true)
	inst2.ClearInterrupt(store.InterruptPause)
	check(false)
}

// Every kind of back-edge, and a recursion without loops, stops for a pause
// request from another goroutine, and for a cancelled context.
func TestArmedLoopsStop(t *testing.T) {
	tm := load(t, armWat)
	for _, name := range []string{"br", "br_if", "lt", "table", "rec"} {
		inst := tm.instance(t, nil)
		e := NewEngine(Config{PausePolling: true, MaxCallDepth: 1 << 30})
		go func() {
			time.Sleep(10 * time.Millisecond)
			inst.SetInterrupt(store.InterruptPause)
		}()
		// The timeout is only a safety net: unarmed code would spin on.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := e.Call(ctx, export(t, inst, name), []uint64{0}[:len(export(t, inst, name).Type.Params)])
		cancel()
		var s *Suspended
		if name == "rec" {
			// Deep recursion may exhaust the stack before the request
			// lands; either way it must stop.
			if !errors.As(err, &s) && !errors.Is(err, api.ErrCallStackExhausted) {
				t.Errorf("%s: %v", name, err)
			}
		} else if !errors.As(err, &s) || s.Frames[len(s.Frames)-1].Kind != api.PauseLoop {
			t.Errorf("%s: want a pause at the loop, got %v", name, err)
		}
		if w := inst.InterruptWord().Load(); w != 0 {
			t.Errorf("%s: interrupt word left at %#x", name, w)
		}

		ctx, cancel = context.WithTimeout(context.Background(), 10*time.Millisecond)
		_, err = e.Call(ctx, export(t, inst, name), []uint64{0}[:len(export(t, inst, name).Type.Params)])
		cancel()
		if name != "rec" && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: want the deadline, got %v", name, err)
		}
	}
}

// Several instances of one module in one store run at once while pauses
// are requested at random (arming and disarming the shared code over and
// over) and every paused call is resumed: each finishes with the result an
// uninterrupted run gives, and the code ends disarmed.
func TestArmingStress(t *testing.T) {
	const src = `(module
	  (func (export "sum") (param $n i32) (result i64)
	    (local $i i32) (local $acc i64)
	    (loop $l
	      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (i32.mul (local.get $i) (local.get $i)))))
	      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
	    (local.get $acc)))`
	tm := load(t, src)
	n := uint64(20_000_000)
	if alwaysArmed {
		n = 2_000_000 // race-detector builds run much slower
	}
	var want uint64
	for i := range n {
		want += uint64(uint32(i * i))
	}
	e := NewEngine(Config{PausePolling: true})
	insts := make([]*store.Instance, 4)
	for i := range insts {
		insts[i] = tm.instance(t, nil)
	}
	stop := make(chan struct{})
	go func() {
		for k := 0; ; k++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(k%3) * time.Millisecond):
				insts[k%len(insts)].SetInterrupt(store.InterruptPause)
			}
		}
	}()
	type result struct {
		got    uint64
		pauses int
		err    error
	}
	results := make(chan result, len(insts))
	for _, inst := range insts {
		go func() {
			r := result{}
			out, err := e.Call(context.Background(), export(t, inst, "sum"), []uint64{n})
			for {
				var s *Suspended
				if !errors.As(err, &s) {
					break
				}
				r.pauses++
				out, err = e.Resume(context.Background(), inst, s.Frames)
			}
			if err == nil {
				r.got = out[0]
			}
			r.err = err
			results <- r
		}()
	}
	total := 0
	for range insts {
		r := <-results
		if r.err != nil || r.got != want {
			t.Errorf("got %d, %v; want %d", r.got, r.err, want)
		}
		total += r.pauses
	}
	close(stop)
	for _, inst := range insts {
		inst.ClearInterrupt(store.InterruptPause) // a request that came after the end
	}
	if !alwaysArmed {
		for _, f := range tm.comp.funcs {
			if armed, _ := armedOps(f); armed != 0 || tm.comp.armCount != 0 {
				t.Errorf("func %d: %d back-edges still armed, arm count %d", f.Index, armed, tm.comp.armCount)
			}
		}
	}
	if total == 0 {
		t.Error("no call was ever paused")
	}
	t.Logf("%d pauses over %d instances", total, len(insts))
}

package ferry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/engine"
	"github.com/ferryvm/ferry/internal/pause"
	"github.com/ferryvm/ferry/internal/store"
)

// A *Paused resumed a second time used to re-run from its old pause point
// against the state the first resume had already advanced (ckpt.wasm's
// global g ended at 33 instead of 27, without an error).
func TestPausedResumedTwiceRefused(t *testing.T) {
	ctx := context.Background()
	rt, inst, _, err := runCkpt(t, 20, 1, CallOptions{PauseAfter: 30})
	defer rt.Close(ctx)
	var p *Paused
	if !errors.As(err, &p) {
		t.Fatalf("run(20, 1) with PauseAfter 30: %v, want a *Paused", err)
	}
	for k := 0; k < 2; k++ { // writing before resuming is repeatable
		if _, err := p.WriteCheckpoint(&bytes.Buffer{}, NewCheckpointConfig()); err != nil {
			t.Fatalf("WriteCheckpoint %d before Resume: %v", k+1, err)
		}
	}
	if _, err := p.Resume(ctx, CallOptions{}); err != nil {
		t.Fatal(err)
	}
	if g := inst.Global("g").Get(); g != 27 {
		t.Fatalf("g = %d after the resume, want 27", g)
	}
	if _, err := p.Resume(ctx, CallOptions{}); !errors.Is(err, ErrPausedConsumed) {
		t.Errorf("second Resume: %v, want ErrPausedConsumed", err)
	}
	if g := inst.Global("g").Get(); g != 27 {
		t.Errorf("g = %d after the refused resume, want 27", g)
	}
	if _, err := p.WriteCheckpoint(&bytes.Buffer{}, NewCheckpointConfig()); !errors.Is(err, ErrPausedConsumed) {
		t.Errorf("WriteCheckpoint after Resume: %v, want ErrPausedConsumed", err)
	}
	if _, err := p.Capture(NewCheckpointConfig(), nil); !errors.Is(err, ErrPausedConsumed) {
		t.Errorf("Capture after Resume: %v, want ErrPausedConsumed", err)
	}
}

// busyRuntime is a runtime with busy.wasm's imports: ready reports on the
// channel that a call got going, block blocks until its context ends (then
// gives up with the cause, as WASI's blocking calls do), and reenter calls
// (*target).get under the context it was given.
func busyRuntime(t *testing.T) (rt *Runtime, m *CompiledModule, ready chan struct{}, target **Instance) {
	t.Helper()
	ctx := context.Background()
	rt = NewRuntime(NewRuntimeConfig())
	t.Cleanup(func() { rt.Close(ctx) })
	ready = make(chan struct{}, 16)
	target = new(*Instance)
	i32 := []api.ValueType{api.ValueTypeI32}
	_, err := rt.NewHostModule("env").
		Func("ready", nil, nil, func(context.Context, api.Module, []uint64) { ready <- struct{}{} }).
		Func("block", nil, nil, func(ctx context.Context, _ api.Module, _ []uint64) {
			<-ctx.Done()
			panic(context.Cause(ctx))
		}).
		Func("reenter", nil, i32, func(ctx context.Context, _ api.Module, stack []uint64) {
			res, err := (*target).Function("get").Call(ctx)
			if err != nil {
				panic(err)
			}
			stack[0] = res[0]
		}).
		Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m, err = rt.Compile(ctx, load(t, "busy")); err != nil {
		t.Fatal(err)
	}
	return rt, m, ready, target
}

// startCall calls fn on a new goroutine and waits until it runs.
func startCall(t *testing.T, fn *Function, ready chan struct{}) chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := fn.Call(context.Background())
		done <- err
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("call returned before running: %v", err)
	}
	return done
}

// wantClosedTrap waits for a call stopped by a close.
func wantClosedTrap(t *testing.T, done chan error) {
	t.Helper()
	select {
	case err := <-done:
		var trap *api.TrapError
		if !errors.Is(err, ErrClosed) || !errors.As(err, &trap) || trap.Kind != ErrClosed {
			t.Fatalf("call stopped by Close: %v, want a trap of kind ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("call still running 10 s after Close")
	}
}

// Closing an instance while a call ran in it used to unmap the memory
// under the running code: a SIGSEGV in 7 of 20 runs, a data race under
// -race, otherwise a spurious out-of-bounds trap. Now the call stops with
// ErrClosed, and the memory is unmapped once it has left.
func TestCloseDuringCall(t *testing.T) {
	ctx := context.Background()
	rt, m, ready, _ := busyRuntime(t)
	for k := 0; k < 25; k++ {
		inst, err := rt.Instantiate(ctx, m, "")
		if err != nil {
			t.Fatal(err)
		}
		mem := inst.Memory("mem")
		export := "busy"
		if k%2 == 1 { // blocked in a host function that honours its context
			export = "blocked"
		}
		done := startCall(t, inst.Function(export), ready)
		if k%3 == 0 {
			time.Sleep(time.Millisecond)
		}
		if err := inst.Close(ctx); err != nil {
			t.Fatal(err)
		}
		wantClosedTrap(t, done)
		if mem.Size() != 0 {
			t.Fatalf("iteration %d: memory still mapped after the call left the closed instance", k)
		}
		if _, err := inst.Function("get").Call(ctx); !errors.Is(err, ErrClosed) {
			t.Fatalf("call after Close: %v, want ErrClosed", err)
		}
	}
}

// Runtime.Close, like Instance.Close, stops every running call (here one
// per instance, three at a time) and frees memory only once they left.
func TestRuntimeCloseDuringCall(t *testing.T) {
	ctx := context.Background()
	for k := 0; k < 20; k++ {
		rt, m, ready, _ := busyRuntime(t)
		var dones []chan error
		var mems []api.Memory
		for j := 0; j < 3; j++ {
			inst, err := rt.Instantiate(ctx, m, "")
			if err != nil {
				t.Fatal(err)
			}
			mems = append(mems, inst.Memory("mem"))
			export := "busy"
			if (j+k)%3 == 2 {
				export = "blocked"
			}
			dones = append(dones, startCall(t, inst.Function(export), ready))
		}
		if err := rt.Close(ctx); err != nil {
			t.Fatal(err)
		}
		for _, d := range dones {
			wantClosedTrap(t, d)
		}
		for j, mem := range mems {
			if mem.Size() != 0 {
				t.Fatalf("iteration %d: memory %d still mapped after the runtime closed and its calls left", k, j)
			}
		}
		if n := rt.store.LiveFuncs(); n != 0 {
			t.Fatalf("iteration %d: %d function slots live in a closed runtime", k, n)
		}
	}
}

// Two goroutines calling one instance used to race silently on its memory
// and interrupt word. The second is now refused with ErrBusy while the
// first runs; a host function calling back into the instance under the
// context it was given nests; once the first call is over the instance
// takes calls again.
func TestConcurrentCallsOneInstance(t *testing.T) {
	ctx := context.Background()
	rt, m, ready, target := busyRuntime(t)
	inst, err := rt.Instantiate(ctx, m, "")
	if err != nil {
		t.Fatal(err)
	}
	*target = inst
	if res, err := inst.Function("outer").Call(ctx); err != nil || res[0] != 1 {
		t.Fatalf("re-entry from a host function: %v, %v; want [1]", res, err)
	}
	<-ready
	running, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := inst.Function("busy").Call(running)
		done <- err
	}()
	<-ready
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := inst.Function("get").Call(ctx); !errors.Is(err, ErrBusy) {
				t.Errorf("concurrent call: %v, want ErrBusy", err)
			}
		}()
	}
	wg.Wait()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v", err)
	}
	if res, err := inst.Function("get").Call(ctx); err != nil || res[0] != 1+uint64(readU32(inst, 8)) {
		t.Fatalf("call after the running one ended: %v, %v", res, err)
	}
}

func readU32(inst *Instance, off uint64) uint32 {
	b, _ := inst.Memory("mem").Read(off, 4)
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// liveHeap is the live heap after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// Closing an instance used to leave it in the runtime's list, and its
// functions in the store's function-reference space for good: 20,000
// instantiate-and-close cycles of a small module left 60,000 functions and
// about 27 MiB of live heap. The heap now stays flat, and the slots are
// reused.
func TestInstantiateCloseHeapFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 instantiations")
	}
	ctx := context.Background()
	rt := newRuntime(t, NewRuntimeConfig())
	m, err := rt.Compile(ctx, load(t, "ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	cycle := func(n int) {
		for k := 0; k < n; k++ {
			inst, err := rt.Instantiate(ctx, m, "")
			if err != nil {
				t.Fatal(err)
			}
			if k%1000 == 0 { // now and then, run it: a used instance is freed too
				if _, err := inst.Function("run").Call(ctx, 3, 1); err != nil {
					t.Fatal(err)
				}
			}
			inst.Close(ctx)
		}
	}
	cycle(1000)
	before := liveHeap()
	start := time.Now()
	const n = 100_000
	cycle(n)
	after := liveHeap()
	growth := int64(after) - int64(before)
	t.Logf("%d instantiate-and-close cycles in %v: live heap %d -> %d bytes (%+d), %d function slots live, %d instances listed",
		n, time.Since(start).Round(time.Millisecond), before, after, growth, rt.store.LiveFuncs(), len(rt.instances))
	if growth > 2<<20 {
		t.Errorf("live heap grew by %d bytes over %d cycles", growth, n)
	}
	if live := rt.store.LiveFuncs(); live > 0 {
		t.Errorf("%d function slots still live with every instance closed", live)
	}
	if len(rt.instances) != 0 {
		t.Errorf("%d closed instances still listed in the runtime", len(rt.instances))
	}
}

// Engine bugs used to surface as interp.ErrInternal, which users cannot
// name, or, when a panic escaped the engine, as api.ErrHostPanic although
// no host function was involved. Every entry now classifies through
// engine.PanicTrap: an engine bug is a trap of kind ErrInternal.
// foreignCode is lowered code of a tier the runtime's engine is not.
type foreignCode struct{}

func (foreignCode) Pauses() *pause.Func    { return &pause.Func{} }
func (foreignCode) CodeArmer() store.Armer { return nil }

func TestEngineBugsAreErrInternal(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, NewRuntimeConfig())
	inst := instantiate(t, rt, "add", "")
	add := inst.Function("add").fn
	for _, c := range []struct {
		name string
		fn   *store.Function
	}{
		// Lowered code of another tier (or none): detected by the engine.
		{"no interpreter code", &store.Function{Type: add.Type, Instance: add.Instance, Code: foreignCode{}}},
		// A nil signature: a Go runtime panic before the engine's loop.
		{"no signature", &store.Function{Instance: add.Instance, Code: add.Code}},
	} {
		_, err := rt.call(ctx, c.fn, []uint64{1, 2})
		var trap *api.TrapError
		if !errors.As(err, &trap) || trap.Kind != ErrInternal || errors.Is(err, api.ErrHostPanic) {
			t.Errorf("%s: %v, want a trap of kind ErrInternal", c.name, err)
		}
		_, err = rt.run(ctx, CallOptions{PauseAfter: 1}, func(e engine.Engine) ([]uint64, error) {
			return e.Call(ctx, c.fn, []uint64{1, 2})
		})
		if !errors.As(err, &trap) || trap.Kind != ErrInternal {
			t.Errorf("%s, counting pause points: %v, want a trap of kind ErrInternal", c.name, err)
		}
	}
}

// A function an instance wrote into a table it imported stays callable
// through that table after the writer is closed, for as long as an
// instance sharing the table is open: the writer's lifetime is tied to
// the table's. Once they are all closed, every slot is free.
func TestFuncrefInSharedTableOutlivesWriter(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, NewRuntimeConfig())
	provider := instantiate(t, rt, "provider", "provider")
	writer := instantiate(t, rt, "tabwriter", "")
	reader := instantiate(t, rt, "tabreader", "")
	call := reader.Function("call")
	writer.Close(ctx)
	if res, err := call.Call(ctx, 1); err != nil || res[0] != 7 {
		t.Fatalf("writer closed: call_indirect into its function: %v, %v; want [7]", res, err)
	}
	provider.Close(ctx)
	if res, err := call.Call(ctx, 0); err != nil || res[0] != 1 {
		t.Fatalf("provider closed too: call_indirect into its inc: %v, %v; want [1]", res, err)
	}
	if res, err := call.Call(ctx, 1); err != nil || res[0] != 7 {
		t.Fatalf("provider closed too: call_indirect into the writer's function: %v, %v; want [7]", res, err)
	}
	if n := rt.store.LiveFuncs(); n == 0 {
		t.Fatal("function slots freed while an instance sharing the table is open")
	}
	reader.Close(ctx)
	if n := rt.store.LiveFuncs(); n != 0 {
		t.Errorf("%d function slots live after every instance closed", n)
	}
}

// A funcref the host carried from one instance to an unrelated one names
// nothing once the first is closed and released, even after its slot is
// reused: call_indirect through it traps instead of reaching whatever
// function took the slot.
func TestStaleFuncrefNamesNothing(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, NewRuntimeConfig())
	a := instantiate(t, rt, "funcrefs", "")
	b := instantiate(t, rt, "funcrefs", "")
	res, err := a.Function("ref").Call(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ref := res[0]
	callref := b.Function("callref")
	if res, err := callref.Call(ctx, ref); err != nil || res[0] != 42 {
		t.Fatalf("calling a live instance's funcref: %v, %v; want [42]", res, err)
	}
	a.Close(ctx)
	if _, err := callref.Call(ctx, ref); !errors.Is(err, api.ErrUninitializedElement) {
		t.Fatalf("calling a closed instance's funcref: %v, want ErrUninitializedElement", err)
	}
	c := instantiate(t, rt, "funcrefs", "") // takes a's slots back
	res, err = c.Function("ref").Call(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if uint32(res[0]) != uint32(ref) || res[0] == ref {
		t.Errorf("c's funcref %#x does not reuse a's slot %#x with a new generation", res[0], ref)
	}
	if _, err := callref.Call(ctx, ref); !errors.Is(err, api.ErrUninitializedElement) {
		t.Fatalf("calling a stale funcref whose slot was reused: %v, want ErrUninitializedElement", err)
	}
}

// A call running a closed instance's code through a funcref the host
// carried over (so the instances are not linked) keeps that instance's
// memory mapped until it returns: releasing waits for every call that was
// running when the instance died.
func TestEscapedFuncrefCallKeepsMemory(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, NewRuntimeConfig())
	entered, proceed := make(chan struct{}), make(chan struct{})
	_, err := rt.NewHostModule("env").
		Func("wait", nil, nil, func(context.Context, api.Module, []uint64) {
			entered <- struct{}{}
			<-proceed
		}).
		Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := instantiate(t, rt, "escaped", "")
	b := instantiate(t, rt, "escaped", "")
	res, err := a.Function("ref").Call(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mem := a.Memory("mem")
	done := make(chan error, 1)
	go func() {
		res, err := b.Function("callref").Call(ctx, res[0])
		if err == nil && res[0] != 5 {
			err = fmt.Errorf("result %v, want [5]", res)
		}
		done <- err
	}()
	<-entered // b's call runs a's function, waiting in the host
	a.Close(ctx)
	if mem.Size() == 0 {
		t.Fatal("a's memory unmapped while b's call runs a's code")
	}
	close(proceed)
	if err := <-done; err != nil {
		t.Fatalf("b's call through a's funcref: %v", err)
	}
	if mem.Size() != 0 {
		t.Error("a's memory still mapped after the call running its code returned")
	}
}

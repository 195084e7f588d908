package profile

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ferryvm/ferry/internal/pause"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

// body is a store.Code of its own for each test function.
type body struct{ n int }

func (*body) Pauses() *pause.Func    { return nil }
func (*body) CodeArmer() store.Armer { return nil }

func fns(n int) []*store.Function {
	out := make([]*store.Function, n)
	for i := range out {
		out[i] = &store.Function{Index: uint32(i), Code: &body{i}}
	}
	return out
}

func TestQueueHottestFirst(t *testing.T) {
	f := fns(4)
	gate := make(chan struct{})
	var mu sync.Mutex
	var order []uint32
	q := NewQueue(1, func(ctx context.Context, fn *store.Function) error {
		if fn.Index == 0 {
			<-gate // hold the one worker while the others queue up
		}
		mu.Lock()
		order = append(order, fn.Index)
		mu.Unlock()
		return nil
	})
	defer q.Close()
	q.Submit(f[0], 1)
	time.Sleep(10 * time.Millisecond) // let the worker take f[0]
	q.Submit(f[1], 5)
	q.Submit(f[2], 9)
	q.Submit(f[3], 2)
	q.Submit(f[3], 20) // reheated while pending
	close(gate)
	if err := q.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []uint32{0, 3, 2, 1}
	if len(order) != len(want) {
		t.Fatalf("compiled %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("compiled %v, want %v", order, want)
		}
	}
	if c, fl, p := q.Stats(); c != 4 || fl != 0 || p != 0 {
		t.Errorf("stats %d compiled %d failed %d pending", c, fl, p)
	}
}

func TestQueueCountsFailures(t *testing.T) {
	f := fns(1)
	refused := errors.New("uses v128")
	q := NewQueue(2, func(ctx context.Context, fn *store.Function) error { return refused })
	defer q.Close()
	q.Submit(f[0], 10)
	if err := q.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, fl, _ := q.Stats(); fl != 1 {
		t.Errorf("%d failures, want 1", fl)
	}
}

// The queue used to remember every body it had seen (and every failure)
// in maps keyed by the body, so a runtime that restored and closed an app
// over and over kept every module alive: 278 MB over 1,000 cycles of
// wasi's TestRestoreCloseHeapFlat under the race detector. Once compiled,
// a body is no longer the queue's.
func TestQueueKeepsNoCompiledBodyAlive(t *testing.T) {
	q := NewQueue(1, func(ctx context.Context, fn *store.Function) error { return errors.New("refused") })
	defer q.Close()
	collected := make(chan struct{}, 64)
	// Big enough to stay out of the tiny allocator, whose blocks may never
	// run their cleanups.
	type fatBody struct {
		body
		_ [128]byte
	}
	for range 64 {
		b := &fatBody{}
		fn := &store.Function{Code: b}
		runtime.AddCleanup(b, func(ch chan struct{}) { ch <- struct{}{} }, collected)
		q.Submit(fn, 1)
		if err := q.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for n := 0; n < 60; {
		runtime.GC()
		select {
		case <-collected:
			n++
		case <-time.After(10 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatalf("only %d of 64 compiled bodies were collected: the queue keeps them", n)
			}
		}
	}
}

// Close cancels a compilation under way, drops what is pending and
// returns only when every worker has.
func TestQueueCloseStopsWorkers(t *testing.T) {
	before := runtime.NumGoroutine()
	started := make(chan struct{})
	var once sync.Once
	q := NewQueue(3, func(ctx context.Context, fn *store.Function) error {
		once.Do(func() { close(started) })
		<-ctx.Done()
		return ctx.Err()
	})
	for _, f := range fns(10) {
		q.Submit(f, 1)
	}
	<-started
	done := make(chan struct{})
	go func() { q.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if q.Submit(fns(1)[0], 1) {
		t.Error("Submit after Close queued a job")
	}
	if err := q.Flush(context.Background()); err != nil {
		t.Errorf("Flush after Close: %v", err) // nothing pending: nothing to wait for
	}
	q.Close() // idempotent
	waitGoroutines(t, before)
}

func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want %d:\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSamplerCloseStopsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	q := NewQueue(2, func(ctx context.Context, fn *store.Function) error { return nil })
	s := NewSampler(SamplerConfig{Interval: time.Millisecond, Queue: q})
	inst := &store.Instance{Store: store.NewStore()}
	leave := s.Enter(inst) // starts the ticker
	time.Sleep(5 * time.Millisecond)
	if inst.InterruptWord().Load()&store.InterruptSample == 0 {
		t.Error("a running instance was not asked for a sample")
	}
	leave()
	if w := inst.InterruptWord().Load(); w != 0 {
		t.Errorf("interrupt word %#x after leave, want 0", w)
	}
	s.Close()
	s.Close()
	waitGoroutines(t, before)
}

func TestHotSetBoundedAndOrdered(t *testing.T) {
	m := NewModule()
	for fn := range uint32(MaxHotFuncs + 50) {
		for id := range uint32(MaxHotLoops + 5) {
			m.Record(fn, id, 2 /* api.PauseLoop */, uint64(fn+id+1))
		}
	}
	h := m.Hot(1)
	if len(h) != MaxHotFuncs {
		t.Fatalf("%d hot functions, want the cap %d", len(h), MaxHotFuncs)
	}
	for i := range h {
		if len(h[i].Loops) != MaxHotLoops {
			t.Fatalf("func %d: %d loops, want the cap %d", h[i].Func, len(h[i].Loops), MaxHotLoops)
		}
		if i > 0 && h[i].Samples > h[i-1].Samples {
			t.Fatalf("not hottest first at %d", i)
		}
	}
	if h[0].Func != MaxHotFuncs+49 || h[0].Loops[0].Pause != MaxHotLoops+4 {
		t.Errorf("hottest %d loop %d", h[0].Func, h[0].Loops[0].Pause)
	}
	// Merged into an empty profile, a hot set gives itself back.
	m2 := NewModule()
	m2.Merge(h)
	h2 := m2.Hot(1)
	if len(h2) != len(h) || h2[0].Samples != h[0].Samples || h2[0].Loops[0] != h[0].Loops[0] {
		t.Errorf("merge: %+v, want %+v", h2[0], h[0])
	}
}

// The profile of a module that is gone is dropped: a long-lived runtime
// compiling module after module does not keep them all.
func TestSamplerForgetsCollectedModules(t *testing.T) {
	s := NewSampler(SamplerConfig{})
	defer s.Close()
	for range 100 {
		s.Module(&wasm.Module{}).Record(1, 0, 1, 1)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		s.mu.Lock()
		n := len(s.modules)
		s.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d module profiles kept after their modules were collected", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

package interp

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

const waitWat = `(module
  (import "env" "wait" (func $wait (param i32) (result i32)))
  (func (export "f") (param i32) (result i32)
    (i32.add (i32.const 1) (call $wait (local.get 0)))))`

// waitHost instantiates env.wait as fn.
func waitHost(t *testing.T, fn api.HostFunc) map[string]store.Extern {
	t.Helper()
	st := store.NewStore()
	hm, err := st.InstantiateHost(&store.HostModule{Name: "env", Funcs: []store.HostFunc{{
		Name: "wait", Type: wasm.FuncType{Params: []wasm.ValType{wasm.I32}, Results: []wasm.ValType{wasm.I32}}, Fn: fn,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	ext, _ := hm.Export("wait")
	return map[string]store.Extern{"env.wait": ext}
}

// A pause requested while a host function blocks reaches it through its
// context; the host function gives up and the run stops at the call, which
// a resume issues again.
func TestPauseInBlockingHostCall(t *testing.T) {
	tm := load(t, waitWat)
	blocking := waitHost(t, func(ctx context.Context, _ api.Module, stack []uint64) {
		<-ctx.Done()
		panic(fmt.Errorf("wait gave up: %w", context.Cause(ctx)))
	})
	inst := tm.instance(t, blocking)
	go func() {
		time.Sleep(20 * time.Millisecond)
		inst.SetInterrupt(store.InterruptPause)
	}()
	_, err := invoke(t, NewEngine(Config{PausePolling: true}), inst, "f", 41)
	var s *Suspended
	if !errors.As(err, &s) {
		t.Fatalf("want a pause, got %v", err)
	}
	if n := len(s.Frames); n != 1 || s.Frames[0].Kind != api.PauseHostCall || len(s.Frames[0].Stack) != 2 || s.Frames[0].Stack[1].Lo != 41 {
		t.Fatalf("frames %+v", s.Frames)
	}
	if w := inst.InterruptWord().Load(); w != 0 {
		t.Fatalf("interrupt word left at %#x", w)
	}

	// Resume on a fresh instance whose wait answers at once: the call is
	// issued again with the same operand.
	fresh := tm.instance(t, waitHost(t, func(_ context.Context, _ api.Module, stack []uint64) {
		stack[0] = stack[0] * 2
	}))
	out, err := NewEngine(Config{PausePolling: true}).Resume(context.Background(), fresh, s.Frames)
	if err != nil || len(out) != 1 || uint32(out[0]) != 83 {
		t.Fatalf("resume: %v %v", out, err)
	}
}

// With pause polling off, a pause request does not disturb a host call.
func TestPauseRequestIgnoredInHostCallWithoutPolling(t *testing.T) {
	tm := load(t, waitWat)
	inst := tm.instance(t, waitHost(t, func(ctx context.Context, _ api.Module, stack []uint64) {
		select {
		case <-ctx.Done():
			panic(fmt.Errorf("wait gave up: %w", context.Cause(ctx)))
		case <-time.After(100 * time.Millisecond):
		}
		stack[0] = 7
	}))
	go func() {
		time.Sleep(20 * time.Millisecond)
		inst.SetInterrupt(store.InterruptPause)
	}()
	out, err := invoke(t, NewEngine(Config{PausePolling: false}), inst, "f", 1)
	if err != nil || uint32(out[0]) != 8 {
		t.Fatalf("%v %v", out, err)
	}
}

// Cancelling the call's context still traps a blocked host call with the
// context's error, not a pause.
func TestCancelInBlockingHostCall(t *testing.T) {
	tm := load(t, waitWat)
	inst := tm.instance(t, waitHost(t, func(ctx context.Context, _ api.Module, stack []uint64) {
		<-ctx.Done()
		panic(fmt.Errorf("wait gave up: %w", context.Cause(ctx)))
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := NewEngine(Config{PausePolling: true}).Call(ctx, export(t, inst, "f"), []uint64{1})
	var s *Suspended
	if errors.As(err, &s) || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, api.ErrHostPanic) {
		t.Fatalf("%v", err)
	}
}

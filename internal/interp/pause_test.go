package interp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

const pauseWat = `(module
  (import "env" "mix" (func $mix (param i32 i32) (result i32)))
  (type $t2 (func (param i32 i32) (result i32 i32)))
  (memory (export "mem") 1)
  (global $g (mut i64) (i64.const 0))
  (table 2 funcref)
  (elem (i32.const 0) $fib $divmod)
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_s (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func $fill (export "fill") (param $n i32) (result i32)
    (local $i i32) (local $h i32)
    (loop $l
      (i32.store (i32.shl (local.get $i) (i32.const 2))
                 (local.tee $h (call $mix (local.get $h) (local.get $i))))
      (global.set $g (i64.add (global.get $g) (i64.extend_i32_u (local.get $h))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $h))
  (func $divmod (param $a i32) (param $b i32) (result i32 i32)
    (i32.div_u (local.get $a) (local.get $b)) (i32.rem_u (local.get $a) (local.get $b)))
  (func $pair (param $a i32) (param $b i32) (result i32 i32)
    (call $divmod (local.get $a) (local.get $b)))
  (func $nested (export "nested") (param $n i32) (result i32 i64)
    (local $i i32) (local $q i32) (local $acc i64) (local $v v128)
    (local.set $v (v128.const i64x2 0x1122334455667788 0x99aabbccddeeff00))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $pair (i32.add (local.get $i) (i32.const 1000)) (i32.const 7))
        (local.set $q)
        (i64.extend_i32_u)
        (local.get $acc) (i64.add) (local.set $acc)
        (local.get $q) (i32.const 3)
        (call_indirect (type $t2) (i32.const 1))
        (i32.add) (i64.extend_i32_u) (local.get $acc) (i64.add) (local.set $acc)
        (i32.store offset=4096 (i32.shl (local.get $i) (i32.const 2)) (local.get $q))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i32.add (call_indirect (type $t1) (i32.const 12) (i32.const 0)) (local.get $i))
    (local.get $acc))
  (type $t1 (func (param i32) (result i32)))
  (func $vmix (param $a v128) (param $b v128) (result v128)
    (i32x4.add (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $a) (local.get $b))
               (i32x4.mul (local.get $b) (v128.const i32x4 3 5 7 9))))
  (func $simd (export "simd") (param $n i32) (result i64)
    (local $i i32) (local $v v128) (local $w v128)
    (local.set $v (v128.const i32x4 1 2 3 4))
    (local.set $w (i32x4.splat (local.get $n)))
    (loop $l
      ;; a v128 operand stays on the stack across the call
      (local.set $v (i32x4.sub (i16x8.add_sat_s (local.get $w) (local.get $v))
                               (call $vmix (local.get $v) (local.get $w))))
      (v128.store offset=8192 (i32.shl (local.get $i) (i32.const 4)) (local.get $v))
      (local.set $w (f32x4.add (local.get $w) (v128.load32_splat offset=8192 (i32.const 4))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (i64.add (i64x2.extract_lane 0 (local.get $v)) (i64x2.extract_lane 1 (local.get $w))))
)`

func mixHost() map[string]store.Extern {
	st := store.NewStore()
	hm, err := st.InstantiateHost(&store.HostModule{Name: "env", Funcs: []store.HostFunc{{
		Name: "mix",
		Type: wasm.FuncType{Params: []wasm.ValType{wasm.I32, wasm.I32}, Results: []wasm.ValType{wasm.I32}},
		Fn: func(_ context.Context, _ api.Module, s []uint64) {
			s[0] = uint64(uint32(s[0])*31 + uint32(s[1])*7 + 1)
		},
	}}})
	if err != nil {
		panic(err)
	}
	ext, _ := hm.Export("mix")
	return map[string]store.Extern{"env.mix": ext}
}

// copyState copies memory, globals and tables from src to a fresh instance
// of the same module; function references are translated by index.
func copyState(t *testing.T, src, dst *store.Instance) {
	for i, m := range src.Memories {
		d := dst.Memories[i]
		if extra := uint64(len(m.Buf)-len(d.Buf)) / wasm.PageSize; extra > 0 {
			if _, ok := d.Grow(extra); !ok {
				t.Fatal("grow failed")
			}
		}
		copy(d.Buf, m.Buf)
	}
	for i, g := range src.Globals {
		dst.Globals[i].Lo, dst.Globals[i].Hi = g.Lo, g.Hi
	}
	for i, tab := range src.Tables {
		elems := make([]uint64, len(tab.Elems))
		for j, ref := range tab.Elems {
			if f := src.Store.FuncByRef(ref); f != nil {
				elems[j] = dst.Funcs[f.Index].Ref
			}
		}
		dst.Tables[i].Elems = elems
	}
}

type pauseCase struct {
	name string
	arg  uint64
}

// TestPauseResumeEverywhere runs each program to completion, then again
// stopped at its N-th polled pause point for every N, exports the frames,
// restores them on a fresh instance and requires the same results, memory
// and globals. Chains of pauses are covered by resuming with a pause hook.
func TestPauseResumeEverywhere(t *testing.T) {
	tm := load(t, pauseWat)
	host := mixHost()
	cases := []pauseCase{{"fib", 12}, {"fill", 60}, {"nested", 25}, {"simd", 40}}
	for _, pc := range cases {
		t.Run(pc.name, func(t *testing.T) {
			ctx := context.Background()
			base := tm.instance(t, host)
			want, err := NewEngine(Config{}).Call(ctx, export(t, base, pc.name), []uint64{pc.arg})
			if err != nil {
				t.Fatal(err)
			}
			wantMem := append([]byte(nil), base.Memories[0].Buf...)
			wantG := base.Globals[0].Lo
			kinds := map[api.PauseKind]int{}
			for n := int64(1); ; n++ {
				inst := tm.instance(t, host)
				e := NewEngine(Config{PausePolling: true, PauseAfter: n})
				got, err := e.Call(ctx, export(t, inst, pc.name), []uint64{pc.arg})
				if err == nil {
					if n == 1 {
						t.Fatal("no pause point was polled")
					}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("unpaused run: %v, want %v", got, want)
					}
					t.Logf("%d pause points, kinds %v", n-1, kinds)
					return
				}
				var s *Suspended
				if !errors.As(err, &s) || !errors.Is(err, ErrSuspended) {
					t.Fatalf("N=%d: %v", n, err)
				}
				kinds[s.Frames[len(s.Frames)-1].Kind]++
				// Resume on a fresh instance, sometimes pausing again.
				cur, frames := inst, s.Frames
				chain := 0
				for {
					fresh := tm.instance(t, host)
					copyState(t, cur, fresh)
					re := NewEngine(Config{})
					if n%3 == 0 && chain < 5 {
						re = NewEngine(Config{PausePolling: true, PauseAfter: 2 + n%5})
					}
					got, err = re.Resume(ctx, fresh, frames)
					cur = fresh
					if errors.As(err, &s) {
						frames = s.Frames
						chain++
						continue
					}
					break
				}
				if err != nil {
					t.Fatalf("N=%d: resume: %v", n, err)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("N=%d: resumed result %v, want %v", n, got, want)
				}
				if !bytes.Equal(cur.Memories[0].Buf, wantMem) || cur.Globals[0].Lo != wantG {
					t.Fatalf("N=%d: memory or globals differ after resume", n)
				}
			}
		})
	}
}

func TestResumeRejectsBadFrames(t *testing.T) {
	tm := load(t, pauseWat)
	host := mixHost()
	inst := tm.instance(t, host)
	_, err := NewEngine(Config{PauseAfter: 40}).Call(context.Background(), export(t, inst, "nested"), []uint64{25})
	var s *Suspended
	if !errors.As(err, &s) || len(s.Frames) < 2 {
		t.Fatalf("want a suspension with 2+ frames, got %v", err)
	}
	clone := func() []api.Frame {
		out := make([]api.Frame, len(s.Frames))
		for i, f := range s.Frames {
			f.Locals = append([]api.Value(nil), f.Locals...)
			f.Stack = append([]api.Value(nil), f.Stack...)
			out[i] = f
		}
		return out
	}
	muts := map[string]func(fs []api.Frame) []api.Frame{
		"func":       func(fs []api.Frame) []api.Frame { fs[0].Func = 999; return fs },
		"host func":  func(fs []api.Frame) []api.Frame { fs[0].Func = 0; return fs },
		"offset":     func(fs []api.Frame) []api.Frame { fs[len(fs)-1].Offset += 1; return fs },
		"kind":       func(fs []api.Frame) []api.Frame { fs[0].Kind = api.PauseLoop; return fs },
		"bad kind":   func(fs []api.Frame) []api.Frame { fs[len(fs)-1].Kind = 77; return fs },
		"local type": func(fs []api.Frame) []api.Frame { fs[0].Locals[0].Type = api.ValueTypeF64; return fs },
		"locals":     func(fs []api.Frame) []api.Frame { fs[0].Locals = fs[0].Locals[:1]; return fs },
		"stack": func(fs []api.Frame) []api.Frame {
			fs[0].Stack = append(fs[0].Stack, api.Value{Type: api.ValueTypeI32})
			return fs
		},
		"callee": func(fs []api.Frame) []api.Frame { fs[1].Func = 1; return fs },
		"empty":  func(fs []api.Frame) []api.Frame { return nil },
		"outer entry": func(fs []api.Frame) []api.Frame {
			return append([]api.Frame{{Func: 1, Kind: api.PauseFuncEntry}}, fs...)
		},
	}
	for name, mut := range muts {
		fresh := tm.instance(t, host)
		if _, err := NewEngine(Config{}).Resume(context.Background(), fresh, mut(clone())); err == nil {
			t.Errorf("%s: resume accepted a bad frame description", name)
		}
	}
	fresh := tm.instance(t, host)
	copyState(t, inst, fresh)
	if _, err := NewEngine(Config{}).Resume(context.Background(), fresh, clone()); err != nil {
		t.Fatalf("unchanged frames: %v", err)
	}
}

const spinWat = `(module
  (func (export "spin") (loop $l (br $l))))`

func TestCancelStopsLoop(t *testing.T) {
	tm := load(t, spinWat)
	inst := tm.instance(t, nil)
	for _, polling := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err := NewEngine(Config{PausePolling: polling}).Call(ctx, export(t, inst, "spin"), nil)
		cancel()
		var te *api.TrapError
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &te) || len(te.Stack) != 1 {
			t.Fatalf("polling=%v: %v", polling, err)
		}
	}
}

func TestPauseRequest(t *testing.T) {
	tm := load(t, spinWat)
	inst := tm.instance(t, nil)
	go func() {
		time.Sleep(20 * time.Millisecond)
		inst.SetInterrupt(store.InterruptPause)
	}()
	_, err := NewEngine(Config{PausePolling: true}).Call(context.Background(), export(t, inst, "spin"), nil)
	var s *Suspended
	if !errors.As(err, &s) || s.Frames[0].Kind != api.PauseLoop {
		t.Fatalf("%v", err)
	}
}

type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func TestHostPanic(t *testing.T) {
	tm := load(t, `(module (import "env" "boom" (func $b)) (func $f (export "f") (call $b)))`)
	st := store.NewStore()
	hm, err := st.InstantiateHost(&store.HostModule{Name: "env", Funcs: []store.HostFunc{{
		Name: "boom",
		Fn:   func(context.Context, api.Module, []uint64) { panic(&exitError{3}) },
	}}})
	if err != nil {
		t.Fatal(err)
	}
	ext, _ := hm.Export("boom")
	inst := tm.instance(t, map[string]store.Extern{"env.boom": ext})
	_, err = invoke(t, NewEngine(Config{}), inst, "f")
	var ee *exitError
	var te *api.TrapError
	if !errors.Is(err, api.ErrHostPanic) || !errors.As(err, &ee) || ee.code != 3 || !errors.As(err, &te) || len(te.Stack) != 2 {
		t.Fatalf("%v", err)
	}
}

// TestResumeRandomFrames feeds Resume randomly corrupted frame descriptions:
// it must return an error or run (bounded by a deadline), never panic.
func TestResumeRandomFrames(t *testing.T) {
	tm := load(t, pauseWat)
	host := mixHost()
	var all [][]api.Frame
	for _, n := range []int64{3, 17, 40, 75} {
		inst := tm.instance(t, host)
		_, err := NewEngine(Config{PauseAfter: n}).Call(context.Background(), export(t, inst, "nested"), []uint64{25})
		var s *Suspended
		if !errors.As(err, &s) {
			t.Fatalf("N=%d: %v", n, err)
		}
		all = append(all, s.Frames)
	}
	rng := uint64(12345)
	next := func(n int) int {
		rng ^= rng << 13
		rng ^= rng >> 7
		rng ^= rng << 17
		return int(rng % uint64(n))
	}
	types := []api.ValueType{api.ValueTypeI32, api.ValueTypeI64, api.ValueTypeF32, api.ValueTypeF64, api.ValueTypeV128, api.ValueTypeFuncref, 0}
	for i := 0; i < 3000; i++ {
		src := all[next(len(all))]
		fs := make([]api.Frame, len(src))
		for j, f := range src {
			f.Locals = append([]api.Value(nil), f.Locals...)
			f.Stack = append([]api.Value(nil), f.Stack...)
			fs[j] = f
		}
		for k := 0; k <= next(3); k++ {
			f := &fs[next(len(fs))]
			switch next(7) {
			case 0:
				f.Func = uint32(next(8))
			case 1:
				f.Offset = uint32(next(200))
			case 2:
				f.Kind = api.PauseKind(next(6))
			case 3:
				if len(f.Locals) > 0 {
					f.Locals[next(len(f.Locals))].Type = types[next(len(types))]
				}
			case 4:
				if len(f.Stack) > 0 {
					f.Stack = f.Stack[:next(len(f.Stack))]
				} else {
					f.Stack = append(f.Stack, api.Value{Type: types[next(len(types))]})
				}
			case 5:
				if len(f.Locals) > 0 {
					f.Locals[next(len(f.Locals))].Lo = uint64(next(1 << 20))
				}
			case 6:
				fs = append(fs, fs[next(len(fs))])
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		_, _ = NewEngine(Config{}).Resume(ctx, tm.instance(t, host), fs)
		cancel()
	}
}

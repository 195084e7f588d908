package jit

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/ferryvm/ferry/internal/interp"
)

// kernelsWat holds loop kernels for the benchmarks (and the lint corpus).
const kernelsWat = `(module
  (memory 4)
  ;; sum of n 32-bit words, after filling them with i*7.
  (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $fill
      (i32.store (i32.shl (local.get $i) (i32.const 2)) (i32.mul (local.get $i) (i32.const 7)))
      (br_if $fill (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.set $i (i32.const 0))
    (loop $sum
      (local.set $s (i32.add (local.get $s) (i32.load (i32.shl (local.get $i) (i32.const 2)))))
      (br_if $sum (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $s))
  ;; primes below n with a byte sieve.
  (func (export "sieve") (param $n i32) (result i32) (local $i i32) (local $j i32) (local $c i32)
    (memory.fill (i32.const 0) (i32.const 0) (local.get $n))
    (local.set $i (i32.const 2))
    (block $done (loop $outer
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (if (i32.eqz (i32.load8_u (local.get $i))) (then
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (local.set $j (i32.mul (local.get $i) (local.get $i)))
        (block $d2 (loop $inner
          (br_if $d2 (i32.ge_u (local.get $j) (local.get $n)))
          (i32.store8 (local.get $j) (i32.const 1))
          (local.set $j (i32.add (local.get $j) (local.get $i)))
          (br $inner)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $outer)))
    (local.get $c))
  ;; an i64 hash mixing loop.
  (func (export "mix") (param $n i32) (result i64) (local $h i64)
    (local.set $h (i64.const 0x9E3779B97F4A7C15))
    (loop $l
      (local.set $h (i64.mul (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 29))) (i64.const 0xBF58476D1CE4E5B9)))
      (local.set $h (i64.add (local.get $h) (i64.extend_i32_u (local.get $n))))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $h))
)`

var kernelArgs = map[string]uint64{"sum": 60000, "sieve": 200000, "mix": 1000000}

func TestKernelsAgree(t *testing.T) {
	m := loadWat(t, kernelsWat)
	for name, n := range kernelArgs {
		want, _, wantErr := interpCall(m, name, []uint64{n})
		got, _, err := runExport(t, m, name, 1<<16, n)
		if !sameOutcome(want, wantErr, got, err) {
			t.Fatalf("%s(%d): interpreter %v, %v; compiled %v, %v", name, n, want, wantErr, got, err)
		}
	}
}

func BenchmarkKernels(b *testing.B) {
	m := loadWat(b, kernelsWat)
	alloc := newAlloc()
	for _, name := range []string{"sum", "sieve", "mix"} {
		n := kernelArgs[name]
		idx, _ := m.exportedFunc(name)
		b.Run(name+"/interp", func(b *testing.B) {
			inst, err := m.instance()
			if err != nil {
				b.Fatal(err)
			}
			e := interp.NewEngine(interp.Config{})
			fn := inst.Funcs[idx]
			for b.Loop() {
				if _, err := e.Call(context.Background(), fn, []uint64{n}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/compiled", func(b *testing.B) {
			code, err := Compile(m.ir[idx], Options{}.WithFeatures(hostFeatures()), alloc)
			if err != nil {
				b.Fatal(err)
			}
			defer code.Free()
			inst, err := m.instance()
			if err != nil {
				b.Fatal(err)
			}
			r := newRunner(inst, 1<<16)
			for b.Loop() {
				if _, err := r.call(code, m.ir[idx], []uint64{n}, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestCompiledCodeIsSharedAcrossGoroutines runs one compiled kernel from
// several goroutines at once, each with its own context and instance,
// while another goroutine forces collections: the code holds no state of
// its own, budget exits let the GC stop the world, and every result must
// equal the interpreter's.
func TestCompiledCodeIsSharedAcrossGoroutines(t *testing.T) {
	m := loadWat(t, kernelsWat)
	idx, _ := m.exportedFunc("mix")
	const n = 300000
	want, _, err := interpCall(m, "mix", []uint64{n})
	if err != nil {
		t.Fatal(err)
	}
	code := compileExport(t, m, "mix", newAlloc())
	stop := make(chan struct{})
	gcDone := make(chan int)
	go func() {
		gcs := 0
		for {
			select {
			case <-stop:
				gcDone <- gcs
				return
			default:
				runtime.GC()
				gcs++
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inst, err := m.instance()
			if err != nil {
				errs <- err
				return
			}
			r := newRunner(inst, 1<<12)
			for range 3 {
				got, err := r.call(code, m.ir[idx], []uint64{n}, 7)
				if err != nil || len(got) != 1 || got[0] != want[0] {
					errs <- fmt.Errorf("mix(%d) = %v, %v; want %v", n, got, err, want)
					return
				}
			}
			if r.budgets == 0 {
				errs <- fmt.Errorf("no budget exit in %d iterations", 3*n)
			}
		}()
	}
	wg.Wait()
	close(stop)
	t.Logf("%d collections during the runs", <-gcDone)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

package interp

import (
	"fmt"
	"math"
	"runtime"
	"runtime/metrics"
	"sort"
	"testing"
	"time"
)

// Go stops the world for a collection only once every goroutine has
// reached a safe point, and a goroutine in compiled code reaches one at its
// next exit: the budget (nativeBudget polls) bounds the time between two
// exits by polls, not by time. These programs show what that costs: a tight
// loop (one poll per few nanoseconds) and a loop whose every iteration fills
// 16 KiB with one memory.fill (REP STOSB, a microsecond or more per poll).
const gcPauseProg = `(module
  (memory 1)
  (func (export "spin") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.xor (i32.mul (local.get $s) (i32.const 31)) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s))
  (func (export "fill") (param $n i32) (result i32) (local $i i32)
    (loop $l
      (memory.fill (i32.const 0) (local.get $i) (i32.const 16384))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i)))`

// pauseStats summarises the stop-the-world pauses Go recorded between two
// readings of /sched/pauses/total/gc:seconds. The histogram's buckets are
// a few percent wide; each figure is its bucket's upper bound.
type pauseStats struct {
	n                  uint64
	p50, p90, p99, max time.Duration
}

func newPauses(a, b *metrics.Float64Histogram) pauseStats {
	var s pauseStats
	delta := make([]uint64, len(b.Counts))
	for i := range b.Counts {
		delta[i] = b.Counts[i] - a.Counts[i]
		s.n += delta[i]
	}
	if s.n == 0 {
		return s
	}
	upper := func(i int) time.Duration {
		u := b.Buckets[i+1]
		if math.IsInf(u, 1) {
			u = b.Buckets[i]
		}
		return time.Duration(u * float64(time.Second))
	}
	at := func(q float64) time.Duration {
		want := uint64(math.Ceil(q * float64(s.n)))
		var cum uint64
		for i, c := range delta {
			cum += c
			if cum >= want {
				return upper(i)
			}
		}
		return upper(len(delta) - 1)
	}
	s.p50, s.p90, s.p99, s.max = at(0.5), at(0.9), at(0.99), at(1)
	return s
}

func (s pauseStats) String() string {
	return fmt.Sprintf("%d pauses, p50 %v, p90 %v, p99 %v, max %v", s.n, s.p50, s.p90, s.p99, s.max)
}

// gcDuring runs f while another goroutine collects garbage back to back,
// and returns how long f took and the pauses the collections made.
func gcDuring(f func()) (time.Duration, pauseStats) {
	stop := make(chan struct{})
	done := make(chan struct{})
	before := gcPauses()
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	}()
	start := time.Now()
	f()
	d := time.Since(start)
	close(stop)
	<-done
	return d, newPauses(before, gcPauses())
}

// BenchmarkGCPauseLongLoop reports the GC's stop-the-world pauses
// (percentiles in ms) while one goroutine runs a long loop, interpreted
// and compiled, and the time compiled code runs between two budget exits
// (us/exit, the loop's time over its iterations/nativeBudget). The issue's
// target is pauses of milliseconds; the interpreter, which Go preempts
// anywhere, is the machine's floor (on a loaded machine the operating
// system's scheduling dominates every figure).
//
//	go test -run '^$' -bench GCPauseLongLoop -benchtime 3x ./internal/interp
func BenchmarkGCPauseLongLoop(b *testing.B) {
	for _, tc := range []struct {
		name string
		tier Tier
		fn   string
		n    uint64
	}{
		{"spin/interp", TierInterp, "spin", 20_000_000},
		{"spin/compiled", TierCompiled, "spin", 400_000_000},
		{"fill16k/interp", TierInterp, "fill", 500_000},
		{"fill16k/compiled", TierCompiled, "fill", 500_000},
	} {
		b.Run(tc.name, func(b *testing.B) {
			e := tierEngine(b, tc.tier, nil)
			inst, _ := tierInstance(b, e, gcPauseProg)
			var all []time.Duration
			var loop time.Duration
			var worst pauseStats
			for i := 0; i < b.N; i++ {
				d, s := gcDuring(func() { call(b, e, inst, tc.fn, tc.n) })
				loop += d
				all = append(all, s.p50, s.p90, s.p99, s.max)
				if s.max > worst.max {
					worst = s
				}
			}
			// Percentiles of each run, the worst run's max: medians over
			// runs of p50/p99, the max over all.
			med := func(k int) time.Duration {
				var v []time.Duration
				for j := k; j < len(all); j += 4 {
					v = append(v, all[j])
				}
				sort.Slice(v, func(x, y int) bool { return v[x] < v[y] })
				return v[len(v)/2]
			}
			ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
			b.ReportMetric(ms(med(0)), "p50-ms")
			b.ReportMetric(ms(med(2)), "p99-ms")
			b.ReportMetric(ms(worst.max), "max-ms")
			if tc.tier == TierCompiled {
				exits := float64(tc.n) / nativeBudget
				b.ReportMetric(float64(loop)/float64(b.N)/exits/1e3, "us/exit")
			}
			b.ReportMetric(float64(loop)/float64(b.N)/1e6, "loop-ms")
		})
	}
}

// The pause statistics read the histogram's buckets: a pause of a known
// length lands in the bucket that holds it.
func TestPauseStatsPercentiles(t *testing.T) {
	h := &metrics.Float64Histogram{
		Buckets: []float64{0, 1e-3, 2e-3, 4e-3, 8e-3, math.Inf(1)},
		Counts:  []uint64{0, 0, 0, 0, 0},
	}
	after := &metrics.Float64Histogram{Buckets: h.Buckets, Counts: []uint64{90, 8, 1, 0, 1}}
	s := newPauses(h, after)
	if s.n != 100 || s.p50 != time.Millisecond || s.p90 != time.Millisecond ||
		s.p99 != 4*time.Millisecond || s.max != 8*time.Millisecond {
		t.Fatalf("got %+v", s)
	}
}

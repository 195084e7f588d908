package profile

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryvm/ferry/internal/store"
)

// TestSamplerArmCostLivelock pins issue 11: the auto tier stalled Go
// standard-library test binaries on a loaded machine. Arming a store for a
// sample rewrites every back-edge of its code (milliseconds for a Go test
// binary), and the sampler armed every 5 ms of wall time however little
// CPU the process got, so the process spent its share arming and
// disarming (setArmed was 44 % of a stalled run's profile). Here arming
// costs 2 ms against a 1 ms interval: paced by the interval alone the
// sampler arms about 100 times in 300 ms; paced by the cost, at most
// 300 ms / (armCostRatio * 2 ms) + 1 = 4 times.
func TestSamplerArmCostLivelock(t *testing.T) {
	const cost = 2 * time.Millisecond
	var arms atomic.Int64
	s := NewSampler(SamplerConfig{Interval: time.Millisecond})
	s.cfg.arm = func(inst *store.Instance) {
		arms.Add(1)
		time.Sleep(cost)
		// The sample is taken at once, as a busy guest's next poll would.
	}
	inst := &store.Instance{Store: store.NewStore()}
	leave := s.Enter(inst)
	time.Sleep(300 * time.Millisecond)
	leave()
	s.Close()
	n := arms.Load()
	if n < 1 {
		t.Fatal("the sampler never armed a running instance")
	}
	if limit := int64(300*time.Millisecond/(armCostRatio*cost)) + 1; n > limit {
		t.Errorf("armed %d times in 300 ms at %v per arming, want at most %d: sampling costs more than 2/%d of the time", n, cost, limit, armCostRatio)
	}
}

func TestPacedInterval(t *testing.T) {
	for _, c := range []struct{ interval, cost, want time.Duration }{
		{5 * time.Millisecond, 10 * time.Microsecond, 5 * time.Millisecond}, // cheap: the interval
		{5 * time.Millisecond, time.Millisecond, 50 * time.Millisecond},     // costly: 50x the cost
		{5 * time.Millisecond, time.Minute, maxPacedInterval},               // capped
		{2 * time.Second, time.Minute, 2 * time.Second},                     // never below the interval
	} {
		if got := pacedInterval(c.interval, c.cost); got != c.want {
			t.Errorf("pacedInterval(%v, %v) = %v, want %v", c.interval, c.cost, got, c.want)
		}
	}
}

package profile

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Defaults of a Sampler.
const (
	// DefaultInterval is the time between two samples of a running
	// instance. Each tick arms and disarms the store's code once, a few
	// stores per loop back-edge of its modules: at 5 ms that stays far
	// below 1 % even for a large program (docs/compiler.md, "Tiering").
	DefaultInterval = 5 * time.Millisecond
	// DefaultThreshold is the samples a function needs to be submitted
	// for compilation: 4 samples at 5 ms is about 20 ms of its own
	// running time, which keeps short-lived startup code interpreted.
	DefaultThreshold = 4

	// armCostRatio bounds what sampling may cost: the next tick comes no
	// sooner than this many times the wall time the last arming took.
	// Arming rewrites every back-edge of the store's code, and the poll
	// that takes the sample rewrites them back, so a large module (a Go
	// test binary: thousands of functions) pays milliseconds per tick.
	// Paced by the interval alone, a process that gets a small share of a
	// loaded machine spent nearly all of it arming and disarming and made
	// no progress (issue 11); paced by the cost, sampling stays within
	// about 2/armCostRatio of the process's time however little it gets.
	armCostRatio = 50
	// maxPacedInterval caps the paced interval, so that a single slow
	// arming (the sampler descheduled in the middle) does not stop the
	// profile for long.
	maxPacedInterval = time.Second
)

// SamplerConfig configures a Sampler; the zero value means the defaults.
type SamplerConfig struct {
	Interval  time.Duration
	Threshold uint64
	// Queue, if set, gets every function whose samples reach Threshold.
	Queue *Queue

	// arm asks inst for a sample; nil means SetInterrupt. Tests replace
	// it to give arming a known cost.
	arm func(inst *store.Instance)
}

// Sampler is a runtime's profiler: while some instance runs, it sets
// store.InterruptSample on every running instance every Interval, and the
// tier's poll that sees the bit calls Sample. It keeps one Module profile
// per module. Idle, it sleeps (no timer runs while nothing is running).
type Sampler struct {
	cfg SamplerConfig

	mu      sync.Mutex
	running map[*store.Instance]int // running calls per instance
	// modules holds the profiles by module, weakly: a runtime that
	// compiles module after module keeps no profile of the ones gone.
	modules map[weak.Pointer[wasm.Module]]*Module
	wake    chan struct{} // running went from none to some
	stop    chan struct{}
	done    chan struct{}
	started bool
	closed  bool

	samples atomic.Uint64
}

// NewSampler returns a sampler; its goroutine starts with the first
// running instance, and Close stops it.
func NewSampler(cfg SamplerConfig) *Sampler {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Threshold == 0 {
		cfg.Threshold = DefaultThreshold
	}
	return &Sampler{
		cfg:     cfg,
		running: map[*store.Instance]int{},
		modules: map[weak.Pointer[wasm.Module]]*Module{},
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// Enter records that a call runs on inst until the returned function is
// called. The tier calls it once per entry from the host (not per Wasm
// call), so its cost is a mutex per Call.
func (s *Sampler) Enter(inst *store.Instance) (leave func()) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return func() {}
	}
	if !s.started {
		s.started = true
		go s.loop()
	}
	s.running[inst]++
	if len(s.running) == 1 && s.running[inst] == 1 {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		n := s.running[inst] - 1
		if n > 0 {
			s.running[inst] = n
			s.mu.Unlock()
			return
		}
		delete(s.running, inst)
		s.mu.Unlock()
		// A bit that no poll took would keep the store's code armed.
		inst.ClearInterrupt(store.InterruptSample)
	}
}

// loop ticks while some instance runs.
func (s *Sampler) loop() {
	defer close(s.done)
	t := time.NewTimer(s.cfg.Interval)
	defer t.Stop()
	var insts []*store.Instance
	for {
		s.mu.Lock()
		idle := len(s.running) == 0
		s.mu.Unlock()
		if idle {
			t.Stop()
			select {
			case <-s.stop:
				return
			case <-s.wake:
			}
			t.Reset(s.cfg.Interval)
		}
		select {
		case <-s.stop:
			return
		case <-s.wake:
			continue
		case <-t.C:
		}
		insts = insts[:0]
		s.mu.Lock()
		for inst := range s.running {
			insts = append(insts, inst)
		}
		s.mu.Unlock()
		start := time.Now()
		for _, inst := range insts {
			if inst.InterruptWord().Load()&store.InterruptSample == 0 {
				s.arm(inst)
			}
		}
		clear(insts)
		t.Reset(pacedInterval(s.cfg.Interval, time.Since(start)))
	}
}

func (s *Sampler) arm(inst *store.Instance) {
	if s.cfg.arm != nil {
		s.cfg.arm(inst)
		return
	}
	inst.SetInterrupt(store.InterruptSample)
}

// pacedInterval is the time until the next tick after an arming that
// took cost: the configured interval, or armCostRatio times the cost when
// that is longer (at most maxPacedInterval). The cost is wall time on
// purpose: on a loaded machine it includes the time the sampler waited
// for a CPU, so the fewer cycles the process gets, the less often it
// spends them on sampling.
func pacedInterval(interval, cost time.Duration) time.Duration {
	if p := min(cost*armCostRatio, maxPacedInterval); p > interval {
		return p
	}
	return interval
}

// Sample records one sample of fn stopped at its pause point id of kind
// k. The tier calls it from the poll that found store.InterruptSample
// set, after clearing the bit. A function whose samples reach the
// threshold is submitted to the queue, hottest first.
func (s *Sampler) Sample(fn *store.Function, id uint32, k api.PauseKind) {
	if fn == nil || fn.Instance == nil || fn.Host != nil {
		return
	}
	s.samples.Add(1)
	m := s.Module(fn.Instance.Module)
	n := m.Record(fn.Index, id, k, 1)
	if q := s.cfg.Queue; q != nil && n >= s.cfg.Threshold {
		q.Submit(fn, n)
	}
}

// Samples is the number of samples taken so far.
func (s *Sampler) Samples() uint64 { return s.samples.Load() }

// Module returns the profile of module m, made empty on first use and
// dropped once m is collected.
func (s *Sampler) Module(m *wasm.Module) *Module {
	k := weak.Make(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.modules[k]
	if p == nil {
		p = NewModule()
		s.modules[k] = p
		runtime.AddCleanup(m, s.forget, k)
	}
	return p
}

func (s *Sampler) forget(k weak.Pointer[wasm.Module]) {
	s.mu.Lock()
	delete(s.modules, k)
	s.mu.Unlock()
}

// Queue is the compile queue hot functions go to, or nil.
func (s *Sampler) Queue() *Queue { return s.cfg.Queue }

// Threshold is the samples a function needs to be submitted.
func (s *Sampler) Threshold() uint64 { return s.cfg.Threshold }

// Close stops the sampler's goroutine and waits for it, then closes the
// queue (its workers stop too). Instances still running are no longer
// sampled.
func (s *Sampler) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	started := s.started
	s.mu.Unlock()
	close(s.stop)
	if started {
		<-s.done
	}
	if s.cfg.Queue != nil {
		s.cfg.Queue.Close()
	}
}

// Package profile is the tier-up profile (docs/compiler.md, "Tiering"):
// where the guest's interpreted code spends its time, per function and
// per loop, gathered by sampling armed pause points, and the background
// compile queue the profile feeds.
//
// The profile is a sampling one on purpose. The interpreter's hot loop is
// register-sensitive and an unarmed loop back-edge is a plain branch
// (docs/interpreter.md, "Armed pause points"), so exact counters would put
// an increment on every call and every iteration. Instead a Sampler sets
// store.InterruptSample every few milliseconds on the instances that are
// running; their code arms, the next pause point it polls (a function
// entry or a loop header) records one sample for that function and pause
// id, clears the bit, and the code disarms. Between ticks the interpreter
// runs exactly the code it runs without a profile.
package profile

import (
	"cmp"
	"slices"
	"sync"

	"github.com/ferryvm/ferry/api"
)

// Limits of what a profile keeps, so that a long run of a program with
// many functions and loops holds bounded memory, and so that the hot set a
// checkpoint carries is small.
const (
	// MaxHotFuncs is the most functions a hot set holds.
	MaxHotFuncs = 256
	// MaxHotLoops is the most loops a hot set holds per function.
	MaxHotLoops = 16
)

// Module is the profile of one module's functions, shared by every
// instance of the module that a Sampler samples. It is safe for
// concurrent use; recording takes a mutex, which is fine at a few hundred
// samples per second.
type Module struct {
	mu    sync.Mutex
	funcs map[uint32]*funcCounts
	total uint64
}

type funcCounts struct {
	samples uint64            // every sample taken in the function
	loops   map[uint32]uint64 // samples at loop headers, by pause id
}

// NewModule returns an empty profile.
func NewModule() *Module { return &Module{funcs: map[uint32]*funcCounts{}} }

// Record adds n samples taken in function fn (module function index) at
// pause point id of kind k, and returns the function's samples so far.
// Samples at a function entry or a call count for the function only;
// samples at a loop header count for that loop too.
func (m *Module) Record(fn uint32, id uint32, k api.PauseKind, n uint64) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.funcs[fn]
	if f == nil {
		f = &funcCounts{}
		m.funcs[fn] = f
	}
	f.samples += n
	m.total += n
	if k == api.PauseLoop {
		if f.loops == nil {
			f.loops = map[uint32]uint64{}
		}
		f.loops[id] += n
	}
	return f.samples
}

// Samples returns the samples recorded in function fn and the total of
// the module.
func (m *Module) Samples(fn uint32) (fnSamples, total uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f := m.funcs[fn]; f != nil {
		fnSamples = f.samples
	}
	return fnSamples, m.total
}

// HotFunc is one function of a hot set: its module function index, its
// samples, and its hottest loops.
type HotFunc struct {
	Func    uint32
	Samples uint64
	Loops   []HotLoop
}

// HotLoop is one loop of a hot function: the pause id of its header and
// the samples taken there.
type HotLoop struct {
	Pause   uint32
	Samples uint64
}

// Hot returns the module's hot set: the functions with at least
// minSamples samples, hottest first (ties by index, so the result is
// deterministic), at most MaxHotFuncs of them, each with at most
// MaxHotLoops loops, hottest first.
func (m *Module) Hot(minSamples uint64) []HotFunc {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []HotFunc
	for fn, f := range m.funcs {
		if f.samples < max(minSamples, 1) {
			continue
		}
		h := HotFunc{Func: fn, Samples: f.samples}
		for id, n := range f.loops {
			h.Loops = append(h.Loops, HotLoop{Pause: id, Samples: n})
		}
		slices.SortFunc(h.Loops, func(a, b HotLoop) int {
			return cmp.Or(cmp.Compare(b.Samples, a.Samples), cmp.Compare(a.Pause, b.Pause))
		})
		if len(h.Loops) > MaxHotLoops {
			h.Loops = h.Loops[:MaxHotLoops]
		}
		out = append(out, h)
	}
	SortHot(out)
	if len(out) > MaxHotFuncs {
		out = out[:MaxHotFuncs]
	}
	return out
}

// SortHot orders a hot set hottest first, ties by function index.
func SortHot(h []HotFunc) {
	slices.SortFunc(h, func(a, b HotFunc) int {
		return cmp.Or(cmp.Compare(b.Samples, a.Samples), cmp.Compare(a.Func, b.Func))
	})
}

// Merge adds a hot set (one a checkpoint carried) to the profile, so that
// a restored run goes on from the source's profile instead of starting
// cold.
func (m *Module) Merge(h []HotFunc) {
	for _, f := range h {
		rest := f.Samples
		for _, l := range f.Loops {
			n := min(l.Samples, rest)
			m.Record(f.Func, l.Pause, api.PauseLoop, n)
			rest -= n
		}
		if rest > 0 {
			m.Record(f.Func, 0, api.PauseFuncEntry, rest)
		}
	}
}

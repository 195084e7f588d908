package ferry

import (
	"context"
	"fmt"
	"time"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/profile"
	"github.com/ferryvm/ferry/internal/snapshot"
	"github.com/ferryvm/ferry/internal/store"
)

// The tier-up profile at the facade (docs/compiler.md, "Tiering"): the
// runtime's sampler, the hot set a checkpoint carries, and what a restore
// does with it.

// WithProfiling turns the tier-up profile on or off. A profiling runtime
// samples each running instance every 5 ms, which costs the interpreter a
// few percent at most (docs/compiler.md has the figures), and its
// checkpoints carry the hot set, so that a restore compiles it first. By
// default only the auto tier profiles, since it is the tier the profile
// drives; turn it on under another tier to hand a hot set to the runtimes
// that restore its checkpoints. Off, the runtime takes no samples,
// compiles nothing in the background, and its checkpoints carry no profile
// section. Profiling needs pause polling (WithPausePolling), since samples
// are taken at polled pause points.
func (c RuntimeConfig) WithProfiling(on bool) RuntimeConfig {
	c.profiling = profilingOff
	if on {
		c.profiling = profilingOn
	}
	return c
}

// profilingMode is WithProfiling's choice; the zero value follows the tier.
type profilingMode uint8

const (
	profilingByTier profilingMode = iota
	profilingOn
	profilingOff
)

// profiles reports whether a runtime of cfg profiles.
func (cfg RuntimeConfig) profiles() bool {
	if !cfg.pausePolling {
		return false
	}
	switch cfg.profiling {
	case profilingOn:
		return true
	case profilingOff:
		return false
	}
	return cfg.tier == TierAuto
}

// WithCompileWorkers sets how many goroutines may compile hot functions in
// the background at once (default 1, so that compiling never takes more
// than one core from the program); n < 1 means the default.
func (c RuntimeConfig) WithCompileWorkers(n int) RuntimeConfig {
	c.compileWorkers = n
	return c
}

// newSampler is the runtime's profiler, or nil when cfg turns it off.
// compile, when not nil, is the compiled tier's: hot functions go to a
// queue of cfg's workers that calls it.
func newSampler(cfg RuntimeConfig, compile *profile.CompileFunc) *profile.Sampler {
	if !cfg.profiles() {
		return nil
	}
	var q *profile.Queue
	if compile != nil {
		q = profile.NewQueue(max(cfg.compileWorkers, 1), *compile)
	}
	return profile.NewSampler(profile.SamplerConfig{Queue: q})
}

// recordProfile is the hot set of si's module as a checkpoint carries it,
// loops named by their header's byte offset; nil when the runtime does not
// profile.
func (r *Runtime) recordProfile(si *store.Instance) *snapshot.Profile {
	if r.sampler == nil {
		return nil
	}
	p := &snapshot.Profile{Funcs: []snapshot.ProfileFunc{}}
	for _, h := range r.sampler.Module(si.Module).Hot(1) {
		if int(h.Func) >= len(si.Funcs) || si.Funcs[h.Func].Code == nil {
			continue
		}
		pauses := si.Funcs[h.Func].Code.Pauses()
		f := snapshot.ProfileFunc{Func: h.Func, Samples: h.Samples}
		for _, l := range h.Loops {
			if int(l.Pause) < len(pauses.Points) {
				f.Loops = append(f.Loops, snapshot.ProfileLoop{Offset: pauses.Points[l.Pause].Offset, Samples: l.Samples})
			}
		}
		p.Funcs = append(p.Funcs, f)
	}
	return p
}

// restoreProfile checks a checkpoint's hot set against the restored
// instance si (every function defined by the module, every loop a loop
// header of it: else the file does not belong to the module, and
// ErrCheckpointMismatch), adds it to the runtime's profile, and compiles
// it for this runtime's CPU before the restored code runs, hottest first.
// It returns the time the compilation took.
func (r *Runtime) restoreProfile(ctx context.Context, si *store.Instance, p *snapshot.Profile) (time.Duration, error) {
	if p == nil || r.sampler == nil {
		return 0, nil
	}
	hot := make([]profile.HotFunc, 0, len(p.Funcs))
	for _, f := range p.Funcs {
		if int(f.Func) >= len(si.Funcs) || si.Funcs[f.Func].Code == nil || si.Funcs[f.Func].Instance != si {
			return 0, mismatch("profile: function %d is not defined by the module", f.Func)
		}
		pauses := si.Funcs[f.Func].Code.Pauses()
		h := profile.HotFunc{Func: f.Func, Samples: f.Samples}
		for _, l := range f.Loops {
			id, ok := pauses.Find(l.Offset, api.PauseLoop)
			if !ok {
				return 0, mismatch("profile: function %d has no loop at offset %d", f.Func, l.Offset)
			}
			h.Loops = append(h.Loops, profile.HotLoop{Pause: id, Samples: l.Samples})
		}
		hot = append(hot, h)
	}
	r.sampler.Module(si.Module).Merge(hot)
	q := r.sampler.Queue()
	if q == nil {
		return 0, nil
	}
	start := time.Now()
	for _, h := range hot {
		q.Submit(si.Funcs[h.Func], h.Samples)
	}
	if err := q.Flush(ctx); err != nil {
		return 0, fmt.Errorf("ferry: restore: compiling the hot set: %w", err)
	}
	return time.Since(start), nil
}

// ProfileInfo is a checkpoint's profile section (format 1.2): the hot set
// of the run, hottest first. Part of the `ferry inspect --json` schema.
type ProfileInfo struct {
	Funcs []HotFuncInfo `json:"funcs"`
}

// HotFuncInfo is one hot function and its hottest loops.
type HotFuncInfo struct {
	Func    uint32        `json:"func"`
	Name    string        `json:"name,omitempty"`
	Samples uint64        `json:"samples"`
	Loops   []HotLoopInfo `json:"loops,omitempty"`
}

// HotLoopInfo is a loop, named by its header's byte offset in the body.
type HotLoopInfo struct {
	Offset  uint32 `json:"offset"`
	Samples uint64 `json:"samples"`
}

// profileInfo describes p, nil for a file without a profile section;
// names maps function indices to names (may be nil).
func profileInfo(p *snapshot.Profile, names map[uint32]string) *ProfileInfo {
	if p == nil {
		return nil
	}
	out := &ProfileInfo{Funcs: []HotFuncInfo{}}
	for _, f := range p.Funcs {
		h := HotFuncInfo{Func: f.Func, Name: names[f.Func], Samples: f.Samples}
		for _, l := range f.Loops {
			h.Loops = append(h.Loops, HotLoopInfo{Offset: l.Offset, Samples: l.Samples})
		}
		out.Funcs = append(out.Funcs, h)
	}
	return out
}

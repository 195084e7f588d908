package builtins

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/ferryvm/ferry/internal/cpu"
)

// CallsiteTable is a set of call sites (slots) resolved against one set
// of effective features. A slot starts unresolved; its first call picks
// the implementation, patches the slot and records the decision.
// Afterwards a call costs one atomic pointer load (a plain load on amd64
// and arm64) and an indirect call. Re-resolving for other features swaps
// every resolved slot atomically; calls in flight finish on the old one.
type CallsiteTable struct {
	mu       sync.Mutex
	features cpu.Features
	slots    []slotter
	byName   map[string]slotter
	// pinned are semantic decisions carried over from a checkpoint: the
	// builtin must keep that behaviour whatever the features.
	pinned map[string]string
}

// slotter is a Slot of any signature.
type slotter interface {
	name() string
	resolved() (Decision, bool)
	serves(f cpu.Features, semantics string) bool
	resolveLocked(f cpu.Features, semantics string) (old, cur Decision, wasResolved bool, err error)
}

// NewCallsiteTable returns an empty table for the effective features f.
func NewCallsiteTable(f cpu.Features) *CallsiteTable {
	// Sized for every builtin: each runtime makes a table and binds them
	// all, and growing the map on the way was most of that cost.
	n := 4 + len(V128) + len(Relaxed)
	return &CallsiteTable{features: f, slots: make([]slotter, 0, n), byName: make(map[string]slotter, n), pinned: map[string]string{}}
}

// Features returns the effective features the table resolves against.
func (t *CallsiteTable) Features() cpu.Features {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.features
}

// Slot is the call site of one builtin in one table.
type Slot[F any] struct {
	fn atomic.Pointer[F] // the trampoline until resolved
	t  *CallsiteTable
	b  *Builtin[F]
	d  *Decision // guarded by t.mu
	// done is set once fn holds an implementation.
	done atomic.Bool
}

// Bind adds a call site of b to t (one per builtin: binding b again
// returns the existing slot).
func Bind[F any](t *CallsiteTable, b *Builtin[F]) *Slot[F] {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.byName[b.Name]; ok {
		return s.(*Slot[F])
	}
	s := &Slot[F]{t: t, b: b}
	if b.Trampoline == nil {
		panic("builtins: " + b.Name + " has no Trampoline")
	}
	first := b.Trampoline(s.resolveSlow)
	s.fn.Store(&first)
	t.slots = append(t.slots, s)
	t.byName[b.Name] = s
	return s
}

// Func returns the slot's implementation. Before the first call that is
// the builtin's trampoline, which resolves the slot, patches it and
// forwards the call; afterwards the chosen implementation itself.
func (s *Slot[F]) Func() F { return *s.fn.Load() }

func (s *Slot[F]) resolveSlow() F {
	if s.done.Load() {
		// A caller kept the trampoline from before the resolution.
		return *s.fn.Load()
	}
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	if s.d == nil {
		// A pinned semantics that the features cannot serve falls back
		// to any implementation: every builtin's portable version covers
		// each semantics it has, so this only happens for a table
		// misconfigured by hand.
		if _, _, _, err := s.resolveLocked(s.t.features, s.t.pinned[s.b.Name]); err != nil {
			s.resolveLocked(s.t.features, "")
		}
	}
	return *s.fn.Load()
}

func (s *Slot[F]) name() string { return s.b.Name }

func (s *Slot[F]) resolved() (Decision, bool) {
	if s.d != nil {
		return *s.d, true
	}
	return Decision{}, false
}

// serves reports whether an implementation with semantics runs on f.
func (s *Slot[F]) serves(f cpu.Features, semantics string) bool {
	return s.b.selectImpl(f, semantics) >= 0
}

// resolveLocked picks the implementation for f (restricted to semantics
// when not empty) and installs it. t.mu is held.
func (s *Slot[F]) resolveLocked(f cpu.Features, semantics string) (old, cur Decision, wasResolved bool, err error) {
	if s.d != nil {
		old, wasResolved = *s.d, true
	}
	i := s.b.selectImpl(f, semantics)
	if i < 0 {
		return old, old, wasResolved, fmt.Errorf("builtins: %s: no implementation with semantics %q runs on %v", s.b.Name, semantics, f)
	}
	im := s.b.Impls[i]
	d := s.b.decision(im)
	s.d = &d
	fn := im.Fn
	s.fn.Store(&fn)
	s.done.Store(true)
	return old, d, wasResolved, nil
}

// Decisions lists the resolved slots' decisions, by builtin name.
func (t *CallsiteTable) Decisions() []Decision {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Decision
	for _, s := range t.slots {
		if d, ok := s.resolved(); ok {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Builtin < out[j].Builtin })
	return out
}

// ResolveAll resolves every slot not resolved yet (for listing what this
// CPU would choose, or to take resolution off a latency-sensitive path).
func (t *CallsiteTable) ResolveAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.slots {
		if _, ok := s.resolved(); !ok {
			if _, _, _, err := s.resolveLocked(t.features, t.pinned[s.name()]); err != nil {
				s.resolveLocked(t.features, "")
			}
		}
	}
}

// Change is one decision re-made differently.
type Change struct {
	From, To Decision
}

func (c Change) String() string {
	return fmt.Sprintf("%s: %s -> %s", c.From.Builtin, c.From.Impl, c.To.Impl)
}

// Reresolve makes f the table's effective features and re-decides every
// resolved slot for it (unresolved ones will resolve lazily against f).
// Semantic decisions keep their Semantics: the slot gets the best
// implementation of f with the same observable behaviour (an emulation
// when f lacks the instruction). It returns the decisions that changed.
func (t *CallsiteTable) Reresolve(f cpu.Features) ([]Change, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.features = f
	var changes []Change
	for _, s := range t.slots {
		d, ok := s.resolved()
		if !ok {
			continue
		}
		sem := t.pinned[s.name()]
		if d.Semantic && sem == "" {
			sem = d.Semantics
		}
		old, cur, _, err := s.resolveLocked(f, sem)
		if err != nil {
			return changes, err
		}
		if !old.Same(cur) {
			changes = append(changes, Change{From: old, To: cur})
		}
	}
	return changes, nil
}

// SemanticConflictError is a restore refused because the table already
// decided another behaviour for a semantic builtin: some program of the
// table's runtime may rely on it, and a semantic decision never changes
// under a running program (ARCHITECTURE.md §1). The checkpoint can be
// restored into a runtime of its own.
type SemanticConflictError struct {
	Builtin string
	Have    string // the table's semantics
	Want    string // the checkpoint's
}

func (e *SemanticConflictError) Error() string {
	return fmt.Sprintf("builtins: checkpoint relies on %s %s, but this runtime already decided %s (restore it into another runtime)", e.Builtin, e.Want, e.Have)
}

// Restore prepares a table for a program restored from a checkpoint whose
// table held recorded: the semantic decisions are pinned (kept, by
// Semantics), the others re-made for the table's features. It returns,
// for every recorded decision, the change the table's features imply
// (decisions that stay the same are not listed). Unknown builtins (a
// checkpoint of another Ferry version) are an error only when semantic;
// a semantic decision the table already made otherwise is a
// *SemanticConflictError. On error the table is unchanged.
func (t *CallsiteTable) Restore(recorded []Decision) ([]Change, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	// Check everything first: a refused checkpoint must not have pinned
	// anything in a table other programs run on.
	for _, d := range recorded {
		s, ok := t.byName[d.Builtin]
		if !d.Semantic {
			continue
		}
		if !ok {
			return nil, fmt.Errorf("builtins: checkpoint relies on semantic builtin %s (%s), which this Ferry lacks", d.Builtin, d.Semantics)
		}
		have := t.pinned[d.Builtin]
		if cur, resolved := s.resolved(); resolved && have == "" {
			have = cur.Semantics
		}
		if have != "" && have != d.Semantics {
			return nil, &SemanticConflictError{Builtin: d.Builtin, Have: have, Want: d.Semantics}
		}
		if !s.serves(t.features, d.Semantics) {
			return nil, fmt.Errorf("builtins: %s: no implementation with semantics %q runs on %v", d.Builtin, d.Semantics, t.features)
		}
	}
	var changes []Change
	for _, d := range recorded {
		s, ok := t.byName[d.Builtin]
		if !ok {
			continue
		}
		sem := ""
		if d.Semantic {
			sem = d.Semantics
			t.pinned[d.Builtin] = sem
		}
		_, cur, _, err := s.resolveLocked(t.features, sem)
		if err != nil {
			return nil, err // checked above: a table misconfigured by hand
		}
		if !d.Same(cur) {
			changes = append(changes, Change{From: d, To: cur})
		}
	}
	return changes, nil
}

package ferry

import (
	"fmt"

	"github.com/ferryvm/ferry/internal/builtins"
	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/interp"
	"github.com/ferryvm/ferry/internal/snapshot"
)

// SetCPUFeatures masks the CPU features Ferry detected with spec
// ("native", a level such as "x86-64-v2", or a list such as
// "x86-64-v3,-avx2"; docs/cpu-features.md) and makes the result the
// effective features of the builtins of every runtime in this process:
// what they may use, and what a checkpoint records. Builtins already
// resolved are re-decided at once. A malformed spec returns a
// *cpu.SpecError, one asking for features this CPU lacks a
// *cpu.MissingFeaturesError; the effective features are then unchanged.
func SetCPUFeatures(spec string) error {
	eff, err := cpu.Host().Mask(spec)
	if err != nil {
		return err
	}
	_, err = interp.SetCPUFeatures(eff)
	return err
}

// EffectiveCPUFeatures returns the architecture and the names of the
// effective CPU features (after SetCPUFeatures), as a checkpoint records
// them.
func EffectiveCPUFeatures() (arch string, features []string) {
	f := interp.Callsites().Features()
	return f.Arch(), f.Names()
}

// DecisionInfo is one builtin decision a checkpoint records: the
// implementation the run used for a builtin, the CPU features it relies on,
// and whether its results are observable (semantic decisions are kept
// across a restore, emulated where the CPU lacks the instruction).
type DecisionInfo struct {
	Builtin   string   `json:"builtin"`
	Impl      string   `json:"impl"`
	Features  []string `json:"features"`
	Semantic  bool     `json:"semantic"`
	Semantics string   `json:"semantics,omitempty"`
}

// CallsiteChange is a builtin decision a restore made differently from the
// checkpointed run, for this CPU's effective features.
type CallsiteChange struct {
	Builtin  string `json:"builtin"`
	From     string `json:"from"`
	To       string `json:"to"`
	Semantic bool   `json:"semantic"`
}

func (c CallsiteChange) String() string { return fmt.Sprintf("%s: %s -> %s", c.Builtin, c.From, c.To) }

// CallsiteChanges lists the builtin decisions that the restore of this
// paused call re-made differently from the checkpointed run (none for a
// call that was not restored, or for a checkpoint of format 1.0, which
// records no decisions).
func (p *Paused) CallsiteChanges() []CallsiteChange { return p.callsites }

// recordCallsites returns the decisions of the interpreter's callsite
// table, as a checkpoint records them (never nil: an empty table is
// recorded as empty).
func recordCallsites() []snapshot.Decision {
	// The writer's own builtins are used while the checkpoint is written,
	// after this list is made: resolve them first so it records them.
	interp.IsZeroPage(nil)
	out := []snapshot.Decision{}
	for _, d := range interp.Callsites().Decisions() {
		out = append(out, snapshot.Decision{Builtin: d.Builtin, Impl: d.Impl,
			Features: d.Features, Semantic: d.Semantic, Semantics: d.Semantics})
	}
	return out
}

// restoreCallsites re-decides the recorded decisions for the effective
// features, keeping the semantic ones, and returns those that changed.
func restoreCallsites(rec []snapshot.Decision) ([]CallsiteChange, error) {
	if len(rec) == 0 {
		return nil, nil
	}
	ds := make([]builtins.Decision, len(rec))
	for i, d := range rec {
		ds[i] = builtins.Decision{Builtin: d.Builtin, Impl: d.Impl, Features: d.Features,
			Semantic: d.Semantic, Semantics: d.Semantics}
	}
	changes, err := interp.Callsites().Restore(ds)
	if err != nil {
		return nil, err
	}
	var out []CallsiteChange
	for _, c := range changes {
		out = append(out, CallsiteChange{Builtin: c.From.Builtin, From: c.From.Impl, To: c.To.Impl, Semantic: c.From.Semantic})
	}
	return out, nil
}

func decisionInfos(rec []snapshot.Decision) []DecisionInfo {
	out := make([]DecisionInfo, 0, len(rec))
	for _, d := range rec {
		out = append(out, DecisionInfo{Builtin: d.Builtin, Impl: d.Impl, Features: d.Features,
			Semantic: d.Semantic, Semantics: d.Semantics})
	}
	return out
}

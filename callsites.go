package ferry

import (
	"fmt"

	"github.com/ferryvm/ferry/internal/snapshot"
)

// CPUFeatures returns the architecture and the names of the runtime's
// effective CPU features (RuntimeConfig.WithCPUFeatures), as its
// checkpoints record them.
func (r *Runtime) CPUFeatures() (arch string, features []string) {
	f := r.builtins.Callsites().Features()
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
// checkpointed run, for the restoring runtime's effective features.
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

// recordCallsites returns the decisions of the runtime's callsite table,
// as a checkpoint records them (never nil: an empty table is recorded as
// empty).
func (r *Runtime) recordCallsites() []snapshot.Decision {
	// The writer's own builtins are used while the checkpoint is written,
	// after this list is made: resolve them first so it records them.
	r.builtins.IsZeroPage(nil)
	out := r.builtins.Callsites().Decisions()
	if out == nil {
		out = []snapshot.Decision{}
	}
	return out
}

// restoreCallsites re-decides the recorded decisions for the runtime's
// effective features, keeping (pinning) the semantic ones in this
// runtime's table only, and returns those that changed. A semantic
// decision this runtime already made otherwise is refused: it would
// change under the programs that run on it.
func (r *Runtime) restoreCallsites(rec []snapshot.Decision) ([]CallsiteChange, error) {
	if len(rec) == 0 {
		return nil, nil
	}
	changes, err := r.builtins.Callsites().Restore(rec)
	if err != nil {
		return nil, err // a *builtins.SemanticConflictError says what to do
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
		out = append(out, DecisionInfo(d))
	}
	return out
}

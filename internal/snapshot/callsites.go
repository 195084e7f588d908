package snapshot

import "github.com/ferryvm/ferry/internal/builtins"

// The callsites section (format 1.1): the resolved callsite table's
// decisions (ARCHITECTURE.md §1, docs/cpu-features.md), by name only.

// SectionCallsites holds the builtin decisions of the checkpointed run.
const SectionCallsites SectionType = 10

// MaxDecisions caps the decisions of one checkpoint.
const MaxDecisions = 1 << 12

// Decision is one recorded call site, the builtins package's own type: a
// checkpoint stores exactly what a callsite table decides, so there is
// nothing to convert (and nothing to drift apart) between the two.
type Decision = builtins.Decision

func encodeCallsites(ds []Decision) []byte {
	var e encoder
	e.uv(uint64(len(ds)))
	for _, d := range ds {
		e.str(d.Builtin)
		e.str(d.Impl)
		e.strs(d.Features)
		e.boolean(d.Semantic)
		e.str(d.Semantics)
	}
	return e.b
}

// decodeCallsites returns a non-nil slice (possibly empty): a file with
// the section recorded its table, even when no slot was resolved.
func decodeCallsites(b []byte) ([]Decision, error) {
	d := decoder{b: b, what: "callsites"}
	n := d.count("decisions", MaxDecisions, 5)
	out := make([]Decision, 0, n)
	seen := map[string]bool{}
	for i := 0; i < n && d.err == nil; i++ {
		var x Decision
		x.Builtin = d.str("builtin")
		x.Impl = d.str("implementation")
		x.Features = d.strs("features", MaxFeatures)
		x.Semantic = d.boolean()
		x.Semantics = d.str("semantics")
		switch {
		case d.err != nil:
		case x.Builtin == "" || x.Impl == "":
			d.fail("decision %d: empty builtin or implementation name", i)
		case seen[x.Builtin]:
			d.fail("decision %d: builtin %s recorded twice", i, x.Builtin)
		case !x.Semantic && x.Semantics != "":
			d.fail("decision %d: non-semantic builtin %s has semantics %q", i, x.Builtin, x.Semantics)
		}
		seen[x.Builtin] = true
		out = append(out, x)
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return out, nil
}

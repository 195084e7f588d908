package wast

import "strings"

// assertReturnEither checks an assert_return whose result is written
// (either v1 v2 ...), as relaxed-SIMD scripts do: wast2json lists the
// alternatives under "either", each one result; the single result must
// match at least one of them.
func (r *runner) assertReturnEither(c command) outcome {
	alts := make([]expectation, len(c.Either))
	for i, v := range c.Either {
		e, err := parseValue(v, true)
		if err != nil {
			return fail("either alternative %d: %v", i, err)
		}
		alts[i] = e
	}
	got, err := r.act(c.Action)
	if err != nil {
		return fail("expected %s, got error: %v", formatEither(alts), oneLine(err))
	}
	if len(got) == 1 {
		for _, e := range alts {
			if e.matches(got[0]) {
				return pass()
			}
		}
	}
	return fail("expected %s, got %s", formatEither(alts), formatResults(got, alts[:1]))
}

func formatEither(alts []expectation) string {
	parts := make([]string, len(alts))
	for i, e := range alts {
		parts[i] = e.String()
	}
	return "(either " + strings.Join(parts, " | ") + ")"
}

package cpu

import (
	"fmt"
	"strings"
)

// SpecError is a malformed mask spec: an unknown name, a name of another
// architecture, or an attempt to remove the baseline.
type SpecError struct {
	Spec   string
	Item   string
	Reason string
}

func (e *SpecError) Error() string {
	if e.Item == "" {
		return fmt.Sprintf("cpu: bad feature spec %q: %s", e.Spec, e.Reason)
	}
	return fmt.Sprintf("cpu: bad feature spec %q: %q: %s", e.Spec, e.Item, e.Reason)
}

// Mask restricts f by spec and returns the effective features.
//
// A spec is "native" (or ""), or comma-separated items, read left to right:
//
//	native        everything f has
//	LEVEL         the features of a level (x86-64-v3, armv8.1, baseline)
//	NAME, +NAME   one more feature (canonical name or alias: sse4.1, lse),
//	              with the features it requires
//	-NAME         one feature fewer, and every feature that requires it
//
// A spec whose first item is +NAME or -NAME starts from native; any other
// starts from the architecture baseline (which -NAME cannot remove). The
// result must be a subset of f: asking for a feature f lacks is a
// *MissingFeaturesError naming each one; malformed specs are *SpecError.
func (f Features) Mask(spec string) (Features, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "native" {
		return f, nil
	}
	items := strings.Split(spec, ",")
	base := Baseline(f.arch)
	want := base
	if first := strings.TrimSpace(items[0]); strings.HasPrefix(first, "+") || strings.HasPrefix(first, "-") {
		want = f.set
	}
	for _, raw := range items {
		item := strings.TrimSpace(raw)
		bad := func(reason string) error { return &SpecError{Spec: spec, Item: item, Reason: reason} }
		if item == "" {
			return Features{}, bad("empty item")
		}
		if item == "native" {
			want = want.Union(f.set)
			continue
		}
		op, name := byte('+'), strings.ToLower(item)
		if name[0] == '+' || name[0] == '-' {
			op, name = name[0], name[1:]
		}
		if l, ok := LookupLevel(f.arch, name); ok {
			if l.Arch != f.arch {
				return Features{}, bad(fmt.Sprintf("a level of %s, not of this %s CPU", l.Arch, f.arch))
			}
			if op == '-' {
				return Features{}, bad("a level cannot be removed; remove its features by name")
			}
			want = want.Union(l.Set)
			continue
		}
		ft, ok := Lookup(f.arch, name)
		if !ok {
			if other := otherArch(f.arch, name); other != "" {
				return Features{}, bad(fmt.Sprintf("a feature of %s, not of this %s CPU", other, f.arch))
			}
			return Features{}, bad(fmt.Sprintf("unknown %s feature or level", f.arch))
		}
		if op == '+' {
			want = want.Union(requirements(NewSet(ft)))
			continue
		}
		if base.Has(ft) {
			return Features{}, bad(fmt.Sprintf("part of the %s baseline Go itself needs; it cannot be removed", f.arch))
		}
		want = want.Subtract(dependents(NewSet(ft)))
	}
	if m := want.Subtract(f.set); !m.IsEmpty() {
		return Features{}, &MissingFeaturesError{Arch: f.arch, WantArch: f.arch, Missing: m.Slice(), Spec: spec}
	}
	return Features{arch: f.arch, set: want}, nil
}

func otherArch(arch, name string) string {
	for _, a := range []string{"amd64", "arm64"} {
		if a == arch {
			continue
		}
		if _, ok := Lookup(a, name); ok {
			return a
		}
	}
	return ""
}

package cpu

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// haswell and a53 are fixed CPUs, so the tests do not depend on the host.
var (
	haswell = New("amd64", x86v3.With(X86ERMS, X86AES, X86PCLMULQDQ))
	nehalem = New("amd64", x86v2)
	a53     = New("arm64", armv80.With(ARM64CRC32, ARM64AES, ARM64PMULL, ARM64SHA1, ARM64SHA2))
	v4host  = New("amd64", x86v4.With(X86ERMS))
)

func TestNamesRoundTrip(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		seen := map[string]bool{}
		for _, f := range All(arch) {
			if f.Arch() != arch {
				t.Errorf("%v: arch %q, want %q", f, f.Arch(), arch)
			}
			if seen[f.String()] {
				t.Errorf("%s: duplicate name %q", arch, f)
			}
			seen[f.String()] = true
			g, ok := Lookup(arch, f.String())
			if !ok || g != f {
				t.Errorf("Lookup(%s, %q) = %v, %v", arch, f, g, ok)
			}
			for _, r := range infos[f].requires {
				if r.Arch() != arch {
					t.Errorf("%v requires %v of another arch", f, r)
				}
			}
		}
	}
	for arch, m := range aliases {
		for alias, name := range m {
			a, ok1 := Lookup(arch, alias)
			n, ok2 := Lookup(arch, name)
			if !ok1 || !ok2 || a != n {
				t.Errorf("%s alias %q -> %q does not resolve", arch, alias, name)
			}
		}
	}
	if f, ok := Lookup("amd64", "SSE4.1"); !ok || f != X86SSE41 {
		t.Errorf("case-insensitive alias: %v %v", f, ok)
	}
	if _, ok := Lookup("amd64", "atomics"); ok {
		t.Error("arm64 name found on amd64")
	}
	// The same name on two architectures is two features.
	xa, _ := Lookup("amd64", "aes")
	aa, _ := Lookup("arm64", "aes")
	if xa == aa {
		t.Error("amd64 aes == arm64 aes")
	}
}

func TestSetOperations(t *testing.T) {
	a := NewSet(X86SSE2, X86AVX, X86AVX2)
	b := NewSet(X86AVX2, X86POPCNT, ARM64CRC32)
	if got := a.Intersect(b); got != NewSet(X86AVX2) {
		t.Errorf("intersect = %v", got)
	}
	if got := a.Union(b); got.Len() != 5 || !got.Has(ARM64CRC32) {
		t.Errorf("union = %v", got)
	}
	if got := a.Subtract(b); got != NewSet(X86SSE2, X86AVX) {
		t.Errorf("subtract = %v", got)
	}
	if !NewSet(X86AVX).SubsetOf(a) || a.SubsetOf(b) || !(Set{}).SubsetOf(a) {
		t.Error("SubsetOf")
	}
	if a.Without(X86AVX) != NewSet(X86SSE2, X86AVX2) || a.With(X86AVX) != a {
		t.Error("With/Without")
	}
	if got := a.String(); got != "avx,avx2,sse2" {
		t.Errorf("String = %q", got)
	}
	// Sets are values: operations never change their operands.
	_ = a.With(X86BMI2)
	if a.Has(X86BMI2) {
		t.Error("With mutated its receiver")
	}
}

func TestLevelsAreCumulativeAndSatisfied(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		ls := Levels(arch)
		for i := 1; i < len(ls); i++ {
			if !ls[i-1].Set.SubsetOf(ls[i].Set) || ls[i-1].Set == ls[i].Set {
				t.Errorf("%s ⊄ %s", ls[i-1].Name, ls[i].Name)
			}
		}
		if ls[0].Set != Baseline(arch) {
			t.Errorf("%s: first level is not the baseline", arch)
		}
	}
	names := func(f Features) (out []string) {
		for _, l := range f.Levels() {
			out = append(out, l.Name)
		}
		return out
	}
	if got := names(haswell); !slices.Equal(got, []string{"x86-64-v1", "x86-64-v2", "x86-64-v3"}) {
		t.Errorf("haswell levels %v", got)
	}
	if haswell.Level() != "x86-64-v3" || nehalem.Level() != "x86-64-v2" || v4host.Level() != "x86-64-v4" {
		t.Errorf("levels %q %q %q", haswell.Level(), nehalem.Level(), v4host.Level())
	}
	if got := names(a53); !slices.Equal(got, []string{"armv8.0"}) {
		t.Errorf("a53 levels %v (crc alone is not armv8.1)", got)
	}
	// Haswell without lzcnt (a hypervisor hiding ABM) is not v3.
	if l := New("amd64", haswell.Set().Without(X86LZCNT)).Level(); l != "x86-64-v2" {
		t.Errorf("no-lzcnt level %q", l)
	}
}

func TestMask(t *testing.T) {
	for _, tc := range []struct {
		cpu  Features
		spec string
		want Set
	}{
		{haswell, "native", haswell.Set()},
		{haswell, "", haswell.Set()},
		{haswell, "x86-64-v1", x86v1},
		{haswell, "baseline", x86v1},
		{haswell, "x86-64", x86v1},
		{haswell, "x86-64-v2", x86v2},
		{haswell, "x86-64-v3", x86v3},
		// -avx2 removes what needs avx2 (nothing in v3) and nothing else.
		{haswell, "x86-64-v3,-avx2", x86v3.Without(X86AVX2)},
		// -avx removes avx2, fma and f16c with it.
		{haswell, "x86-64-v3,-avx", x86v3.Without(X86AVX, X86AVX2, X86FMA, X86F16C)},
		{haswell, "x86-64-v1,+popcnt", x86v1.With(X86POPCNT)},
		{haswell, "x86-64-v1,+sse4.1", x86v1.With(X86SSE3, X86SSSE3, X86SSE41)},
		{haswell, "x86-64-v1,+avx2", x86v1.With(X86SSE3, X86SSSE3, X86SSE41, X86SSE42, X86OSXSAVE, X86AVX, X86AVX2)},
		{haswell, "-avx2,-erms", haswell.Set().Without(X86AVX2, X86ERMS)},
		{haswell, "+popcnt", haswell.Set()},
		{haswell, " x86-64-v2 , +ABM ", x86v2.With(X86LZCNT)},
		{haswell, "popcnt,sse4.2", x86v1.With(X86POPCNT, X86SSE3, X86SSSE3, X86SSE41, X86SSE42)},
		{haswell, "x86-64-v2,native", haswell.Set()},
		{v4host, "-avx512f", x86v3.With(X86ERMS)},
		{a53, "armv8.0", armv80},
		{a53, "armv8-a,+crc", armv80.With(ARM64CRC32)},
		{a53, "-aes,-sha1", a53.Set().Without(ARM64AES, ARM64SHA1)},
	} {
		got, err := tc.cpu.Mask(tc.spec)
		if err != nil {
			t.Errorf("%s Mask(%q): %v", tc.cpu.Arch(), tc.spec, err)
			continue
		}
		if got.Set() != tc.want || got.Arch() != tc.cpu.Arch() {
			t.Errorf("%s Mask(%q) = %v, want %v", tc.cpu.Arch(), tc.spec, got.Set(), tc.want)
		}
		if !got.Set().SubsetOf(tc.cpu.Set()) {
			t.Errorf("Mask(%q) is not a subset of the CPU", tc.spec)
		}
	}
}

func TestMaskMissingFeatures(t *testing.T) {
	for _, tc := range []struct {
		cpu     Features
		spec    string
		missing []Feature
	}{
		{haswell, "x86-64-v4", []Feature{X86AVX512F, X86AVX512CD, X86AVX512BW, X86AVX512DQ, X86AVX512VL}},
		{nehalem, "x86-64-v3", []Feature{X86LZCNT, X86BMI1, X86BMI2, X86AVX, X86AVX2, X86FMA, X86F16C, X86MOVBE, X86OSXSAVE}},
		{nehalem, "x86-64-v2,+avx2,-avx2,+erms", []Feature{X86AVX, X86OSXSAVE, X86ERMS}},
		{a53, "armv8.1", []Feature{ARM64ATOMICS, ARM64ASIMDRDM}},
		{a53, "+lse", []Feature{ARM64ATOMICS}},
	} {
		_, err := tc.cpu.Mask(tc.spec)
		var me *MissingFeaturesError
		if !errors.As(err, &me) {
			t.Errorf("Mask(%q) = %v, want a MissingFeaturesError", tc.spec, err)
			continue
		}
		if !slices.Equal(me.Missing, tc.missing) || me.Spec != tc.spec {
			t.Errorf("Mask(%q): missing %v, want %v", tc.spec, me.Missing, tc.missing)
		}
		for _, f := range tc.missing {
			if !strings.Contains(err.Error(), f.String()) {
				t.Errorf("%q does not name %v", err, f)
			}
		}
	}
}

func TestMaskSpecErrors(t *testing.T) {
	for _, tc := range []struct {
		cpu        Features
		spec, item string
		reason     string
	}{
		{haswell, "x86-64-v3,,-avx2", "", "empty item"},
		{haswell, "x86-64-v9", "x86-64-v9", "unknown amd64 feature"},
		{haswell, "+sse5", "+sse5", "unknown amd64 feature"},
		{haswell, "armv8.1", "armv8.1", "a level of arm64"},
		{haswell, "x86-64-v3,+lse", "+lse", "a feature of arm64"},
		{haswell, "-sse2", "-sse2", "baseline"},
		{haswell, "-x86-64-v3", "-x86-64-v3", "cannot be removed"},
		{a53, "-asimd", "-asimd", "baseline"},
		{a53, "x86-64-v2", "x86-64-v2", "a level of amd64"},
		{a53, "avx2", "avx2", "a feature of amd64"},
		{haswell, "-", "-", "unknown"},
	} {
		_, err := tc.cpu.Mask(tc.spec)
		var se *SpecError
		if !errors.As(err, &se) {
			t.Errorf("Mask(%q) = %v, want a SpecError", tc.spec, err)
			continue
		}
		if se.Item != tc.item || !strings.Contains(se.Reason, tc.reason) || se.Spec != tc.spec {
			t.Errorf("Mask(%q) = %+v, want item %q reason ~%q", tc.spec, se, tc.item, tc.reason)
		}
	}
}

func TestRequire(t *testing.T) {
	if err := haswell.Require(nehalem); err != nil {
		t.Errorf("haswell.Require(nehalem) = %v", err)
	}
	err := nehalem.Require(haswell)
	var me *MissingFeaturesError
	if !errors.As(err, &me) || len(me.Missing) != haswell.Set().Subtract(nehalem.Set()).Len() {
		t.Fatalf("nehalem.Require(haswell) = %v", err)
	}
	if !strings.Contains(err.Error(), "avx2") {
		t.Errorf("%q does not name avx2", err)
	}
	err = a53.Require(nehalem)
	if !errors.As(err, &me) || me.WantArch != "amd64" || me.Arch != "arm64" {
		t.Fatalf("cross-arch Require = %v", err)
	}
}

func TestFromNames(t *testing.T) {
	f, unknown := FromNames("amd64", append(haswell.Names(), "amx-tile", "rdrand"))
	if !f.Equal(haswell) {
		t.Errorf("FromNames = %v, want %v", f, haswell)
	}
	if !slices.Equal(unknown, []string{"amx-tile", "rdrand"}) {
		t.Errorf("unknown = %v", unknown)
	}
	if got := New("arm64", haswell.Set().With(ARM64CRC32)); got.Set() != NewSet(ARM64CRC32) {
		t.Errorf("New keeps only the arch's features: %v", got)
	}
	if s := a53.String(); !strings.HasPrefix(s, "arm64: ") || !strings.Contains(s, " crc32") {
		t.Errorf("String = %q", s)
	}
}

func TestHost(t *testing.T) {
	h := Host()
	if h.Arch() != runtime.GOARCH {
		t.Fatalf("arch %q", h.Arch())
	}
	if !Baseline(h.Arch()).SubsetOf(h.Set()) {
		t.Errorf("host %v lacks the baseline", h)
	}
	if !Host().Equal(h) {
		t.Error("Host is not stable")
	}
	if m, err := h.Mask("native"); err != nil || !m.Equal(h) {
		t.Errorf("native mask = %v, %v", m, err)
	}
	if l := h.Levels(); (runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64") && len(l) == 0 {
		t.Errorf("host satisfies no level: %v", h)
	}
	t.Logf("host: %v (level %s)", h, h.Level())
}

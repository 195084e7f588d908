package builtins

import (
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/v128"
)

// fixed CPUs, so the selections tested do not depend on the host.
var (
	haswell, _ = cpu.FromNames("amd64", []string{"sse2", "sse3", "ssse3", "sse41", "sse42", "popcnt", "cx16", "lahf",
		"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "lzcnt", "movbe", "osxsave", "erms"})
	nehalem, _ = cpu.FromNames("amd64", []string{"sse2", "sse3", "ssse3", "sse41", "sse42", "popcnt", "cx16", "lahf"})
	x86v1, _   = cpu.FromNames("amd64", []string{"sse2"})
	a53, _     = cpu.FromNames("arm64", []string{"fp", "asimd", "crc32", "aes", "pmull", "sha1", "sha2"})
)

func decisionOf(ds []Decision, name string) Decision {
	for _, d := range ds {
		if d.Builtin == name {
			return d
		}
	}
	return Decision{}
}

func TestSlotResolvesOnFirstCallAndRecords(t *testing.T) {
	tab := NewCallsiteTable(cpu.Host())
	s := Bind(tab, CRC32C)
	if Bind(tab, CRC32C) != s {
		t.Fatal("binding twice gave two slots")
	}
	if len(tab.Decisions()) != 0 {
		t.Fatal("an unresolved slot recorded a decision")
	}
	if got := s.Func()(0, []byte("123456789")); got != 0xe3069283 {
		t.Fatalf("crc32c check value %#x", got)
	}
	ds := tab.Decisions()
	want := CRC32C.Decide(cpu.Host())
	if len(ds) != 1 || !ds[0].Same(want) || !slices.Equal(ds[0].Features, want.Features) {
		t.Fatalf("decisions %+v, want %+v", ds, want)
	}
	for _, f := range ds[0].Features {
		ft, ok := cpu.Lookup(runtime.GOARCH, f)
		if !ok || !cpu.Host().Has(ft) {
			t.Errorf("decision relies on %q, which this CPU lacks", f)
		}
	}
}

func TestSelectionsPerCPU(t *testing.T) {
	type want struct {
		cpu           cpu.Features
		builtin, impl string
	}
	var cases []want
	switch runtime.GOARCH {
	case "amd64":
		cases = []want{
			{haswell, "memory.fill", "avx2"}, {nehalem, "memory.fill", "portable"},
			{haswell, "page.iszero", "avx2"}, {nehalem, "page.iszero", "sse2"}, {x86v1, "page.iszero", "sse2"},
			{haswell, "crc32c", "sse42"}, {x86v1, "crc32c", "portable"},
			{nehalem, "i8x16.swizzle", "ssse3"}, {x86v1, "i8x16.swizzle", "portable"},
			{nehalem, "f32x4.ceil", "sse41"}, {x86v1, "f64x2.nearest", "portable"},
			{haswell, "memory.copy", "go"},
			// arm64 features select nothing compiled for amd64.
			{a53, "crc32c", "portable"},
		}
	case "arm64":
		cases = []want{
			{a53, "crc32c", "crc32"}, {a53, "i8x16.swizzle", "neon"}, {a53, "f32x4.floor", "neon"},
			{haswell, "crc32c", "portable"},
		}
	}
	for _, c := range cases {
		var got Decision
		for _, d := range All() {
			if d.BuiltinName() == c.builtin {
				got = d.Decide(c.cpu)
			}
		}
		if got.Impl != c.impl {
			t.Errorf("%s on %v: %q, want %q", c.builtin, c.cpu.Level(), got.Impl, c.impl)
		}
	}
}

func TestReresolveReportsChanges(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("selections below are amd64's")
	}
	if err := cpu.Host().Require(haswell); err != nil {
		t.Skipf("needs a Haswell-class host: %v", err)
	}
	tab := NewCallsiteTable(haswell)
	fill, crc, ceil := Bind(tab, MemoryFill), Bind(tab, CRC32C), Bind(tab, V128[2].Unary)
	Bind(tab, PageIsZero)            // never called: stays unresolved
	fill.Func()(make([]byte, 40), 1) // first calls resolve
	crc.Func()(0, nil)
	ceil.Func()(v128.V128{})
	changes, err := tab.Reresolve(x86v1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, c.String())
	}
	want := []string{"memory.fill: avx2 -> portable", "crc32c: sse42 -> portable", "f32x4.ceil: sse41 -> portable"}
	if !slices.Equal(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
	if d := decisionOf(tab.Decisions(), "page.iszero"); d.Builtin != "" {
		t.Errorf("unresolved slot listed: %+v", d)
	}
	// The slots really run the new implementation: its result is right
	// and the recorded decisions say portable.
	b := make([]byte, 100)
	fill.Func()(b, 9)
	if b[99] != 9 || decisionOf(tab.Decisions(), "memory.fill").Impl != "portable" {
		t.Error("re-resolved slot not patched")
	}
	// Back up: the same decisions come back.
	changes, _ = tab.Reresolve(haswell)
	if len(changes) != 3 {
		t.Errorf("back to haswell: %v", changes)
	}
	// Restoring the recorded decisions of a v1 run on haswell reports the
	// upgrades; non-semantic decisions are re-made, not kept.
	tab2 := NewCallsiteTable(haswell)
	Bind(tab2, MemoryFill)
	Bind(tab2, CRC32C)
	ch, err := tab2.Restore([]Decision{MemoryFill.Decide(x86v1), CRC32C.Decide(x86v1), {Builtin: "from.the.future", Impl: "x"}})
	if err != nil || len(ch) != 2 || ch[0].To.Impl != "avx2" {
		t.Errorf("Restore: %v %v", ch, err)
	}
}

// A semantic builtin keeps its behaviour across a re-resolution: the
// destination gets the best implementation with the same Semantics.
func TestSemanticDecisionKept(t *testing.T) {
	fma := cpu.NewSet(cpu.X86FMA)
	if runtime.GOARCH == "arm64" {
		fma = cpu.NewSet(cpu.ARM64ASIMD)
	}
	calls := map[string]int{}
	mk := func(name string) v128.UnaryFunc {
		return func(x v128.V128) v128.V128 { calls[name]++; return x }
	}
	madd := &Builtin[v128.UnaryFunc]{Name: "f32x4.relaxed_madd", Semantic: true, Impls: []Impl[v128.UnaryFunc]{
		{Name: "hw-fma", Needs: fma, Semantics: "fused", Fn: mk("hw-fma")},
		{Name: "soft-fma", Semantics: "fused", Fn: mk("soft-fma")},
		{Name: "portable", Semantics: "unfused", Fn: mk("portable")},
	}, Trampoline: UnaryTrampoline}
	with := cpu.New(runtime.GOARCH, cpu.Baseline(runtime.GOARCH).Union(fma))
	without := cpu.New(runtime.GOARCH, cpu.Set{})
	tab := NewCallsiteTable(with)
	s := Bind(tab, madd)
	s.Func()(v128.V128{})
	ch, err := tab.Reresolve(without)
	if err != nil || len(ch) != 1 || ch[0].To.Impl != "soft-fma" || ch[0].To.Semantics != "fused" {
		t.Fatalf("semantic re-resolve: %v %v", ch, err)
	}
	// A run that started unfused stays unfused on an FMA machine.
	tab2 := NewCallsiteTable(with)
	s2 := Bind(tab2, madd)
	if _, err := tab2.Restore([]Decision{{Builtin: madd.Name, Impl: "portable", Semantic: true, Semantics: "unfused"}}); err != nil {
		t.Fatal(err)
	}
	s2.Func()(v128.V128{})
	if d := tab2.Decisions(); len(d) != 1 || d[0].Impl != "portable" {
		t.Fatalf("pinned unfused became %+v", d)
	}
	// A semantic builtin this Ferry lacks cannot be restored.
	if _, err := NewCallsiteTable(with).Restore([]Decision{{Builtin: "x.relaxed", Semantic: true, Semantics: "fused"}}); err == nil {
		t.Error("unknown semantic builtin accepted")
	}
}

func TestConcurrentFirstCalls(t *testing.T) {
	tab := NewCallsiteTable(cpu.Host())
	s := Bind(tab, CRC32C)
	var wg sync.WaitGroup
	results := make([]uint32, 16)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.Func()(0, []byte("123456789"))
			if i%4 == 0 {
				tab.Reresolve(cpu.Host())
			}
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r != 0xe3069283 {
			t.Fatalf("result %#x", r)
		}
	}
	if len(tab.Decisions()) != 1 {
		t.Fatalf("decisions %v", tab.Decisions())
	}
}

func TestHostRunsSomethingAccelerated(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skip("portable only")
	}
	// Every asm kernel is tested by the differential tests only if the
	// host can run it; say which were.
	for _, d := range All() {
		t.Logf("%-16s %s", d.BuiltinName(), d.Decide(cpu.Host()).Impl)
	}
	if PageIsZero.Decide(cpu.Host()).Impl == "portable" {
		t.Error("no accelerated zero scan on this host: baseline should give one")
	}
}

// Bug: Restore put a checkpoint's semantic decision over the one the table
// had already made, so a program running on the table switched from fused
// to unfused madd part-way. The restore is now refused with a
// *SemanticConflictError and leaves the table as it was; the same
// decision restores.
func TestRestoreRefusesChangingASemanticDecision(t *testing.T) {
	madd := maddOp(t)
	with, _ := fmaFeatures()
	tab := NewCallsiteTable(with)
	s := Bind(tab, madd)
	Bind(tab, MemoryFill)
	if got := s.Func()(maddX, maddY, maddZ); got != fused {
		t.Fatalf("fresh madd with FMA: %x, want fused %x", got, fused)
	}
	_, err := tab.Restore([]Decision{
		{Builtin: MemoryFill.Name, Impl: "from-the-past"},
		{Builtin: madd.Name, Impl: "unfused", Semantic: true, Semantics: SemUnfused},
	})
	var ce *SemanticConflictError
	if !errors.As(err, &ce) || ce.Builtin != madd.Name || ce.Have != SemFused || ce.Want != SemUnfused {
		t.Fatalf("restore of an unfused decision over a fused one: %v", err)
	}
	if got := s.Func()(maddX, maddY, maddZ); got != fused {
		t.Fatalf("madd after the refused restore: %x, want fused %x", got, fused)
	}
	if ds := tab.Decisions(); len(ds) != 1 || ds[0].Builtin != madd.Name {
		t.Fatalf("the refused restore changed the table: %+v", ds)
	}
	if _, err := tab.Restore([]Decision{{Builtin: madd.Name, Impl: "fma", Semantic: true, Semantics: SemFused}}); err != nil {
		t.Fatalf("restore of the table's own decision: %v", err)
	}
}

// Package builtins holds Ferry's multiversioned runtime operations: each
// builtin has a portable Go reference and CPU-specific implementations (Go
// assembly for amd64 and arm64), each declaring the CPU features it needs.
// Callers reach a builtin through a Slot of a CallsiteTable, which picks
// the implementation on first use for the table's effective features,
// records that decision by name, and re-decides on demand (a restore on
// another CPU). See docs/cpu-features.md.
package builtins

import (
	"github.com/ferryvm/ferry/internal/cpu"
)

// Impl is one implementation of a builtin.
type Impl[F any] struct {
	// Name identifies the implementation within its builtin ("avx2",
	// "sse41", "neon", "portable"); it is what a checkpoint records.
	Name string
	// Needs are the features the implementation executes instructions of.
	Needs cpu.Set
	// Semantics names the observable behaviour of a semantic builtin's
	// implementation ("fused", "unfused"); implementations with equal
	// Semantics give bit-identical results. Empty for non-semantic builtins.
	Semantics string
	Fn        F
}

// Builtin is a runtime operation with several implementations of the
// signature F.
type Builtin[F any] struct {
	Name string // "memory.fill", "f32x4.ceil"
	// Semantic builtins have implementations whose results differ (relaxed
	// SIMD, FMA): their decision is kept across a restore.
	Semantic bool
	// Impls in order of preference; the last one is portable (no Needs).
	Impls []Impl[F]
	// Trampoline returns an F that calls resolve and forwards its
	// arguments to the result: what an unresolved slot holds.
	Trampoline func(resolve func() F) F
}

// Select returns the index in b.Impls of the first implementation f can
// run. Semantic builtins may be restricted to one Semantics ("" = any).
func (b *Builtin[F]) selectImpl(f cpu.Features, semantics string) int {
	for i, im := range b.Impls {
		if !im.Needs.SubsetOf(f.Set()) {
			continue
		}
		if semantics != "" && im.Semantics != semantics {
			continue
		}
		return i
	}
	return -1
}

// Select returns the implementation a CPU with features f gets.
func (b *Builtin[F]) Select(f cpu.Features) Impl[F] {
	return b.Impls[b.selectImpl(f, "")]
}

// Runnable returns the implementations f can run, preferred first.
func (b *Builtin[F]) Runnable(f cpu.Features) []Impl[F] {
	var out []Impl[F]
	for _, im := range b.Impls {
		if im.Needs.SubsetOf(f.Set()) {
			out = append(out, im)
		}
	}
	return out
}

// Descriptor is a builtin of any signature, as a registry lists them.
type Descriptor interface {
	BuiltinName() string
	IsSemantic() bool
	// ImplNames lists the implementations, preferred first.
	ImplNames() []string
	// Decide returns the decision a CPU with features f gets.
	Decide(f cpu.Features) Decision
}

func (b *Builtin[F]) BuiltinName() string { return b.Name }
func (b *Builtin[F]) IsSemantic() bool    { return b.Semantic }
func (b *Builtin[F]) ImplNames() []string {
	out := make([]string, len(b.Impls))
	for i, im := range b.Impls {
		out[i] = im.Name
	}
	return out
}
func (b *Builtin[F]) Decide(f cpu.Features) Decision { return b.decision(b.Impls[b.selectImpl(f, "")]) }

func (b *Builtin[F]) decision(im Impl[F]) Decision {
	return Decision{Builtin: b.Name, Impl: im.Name, Features: im.Needs.Names(), Semantic: b.Semantic, Semantics: im.Semantics}
}

// Decision is one resolved call site: which implementation a builtin got
// and why. It is what a checkpoint stores, by name only.
type Decision struct {
	Builtin   string   // "memory.fill"
	Impl      string   // "erms"
	Features  []string // the features Impl relies on, sorted ("erms")
	Semantic  bool     // results observable: keep across a restore
	Semantics string   // for a semantic builtin, the behaviour Impl has
}

// Same reports whether d and e chose the same implementation.
func (d Decision) Same(e Decision) bool { return d.Builtin == e.Builtin && d.Impl == e.Impl }

// All returns every builtin this binary has, by name order of the tables.
func All() []Descriptor {
	out := []Descriptor{MemoryFill, MemoryCopy, PageIsZero, CRC32C}
	for _, v := range V128 {
		out = append(out, v.Descriptor())
	}
	for _, v := range Relaxed {
		out = append(out, v.Descriptor())
	}
	return out
}

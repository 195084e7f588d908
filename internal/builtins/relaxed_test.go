package builtins

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/v128"
	"github.com/ferryvm/ferry/internal/wasm"
)

// callRelaxed resolves every relaxed builtin in tab by calling it.
func callRelaxed(tab *CallsiteTable, x, y v128.V128) {
	for _, op := range Relaxed {
		switch {
		case op.Unary != nil:
			Bind(tab, op.Unary).Func()(x)
		case op.Binary != nil:
			Bind(tab, op.Binary).Func()(x, y)
		case op.Ternary != nil:
			Bind(tab, op.Ternary).Func()(x, y, x)
		}
	}
}

func TestRelaxedTable(t *testing.T) {
	if len(Relaxed) != wasm.NumRelaxed {
		t.Fatalf("%d relaxed builtins, %d opcodes", len(Relaxed), wasm.NumRelaxed)
	}
	for i, op := range Relaxed {
		d := op.Descriptor()
		if op.Op != wasm.OpRelaxedFirst+wasm.Opcode(i) || d.BuiltinName() != op.Op.String() || !d.IsSemantic() {
			t.Errorf("entry %d: %v named %s (semantic %v)", i, op.Op, d.BuiltinName(), d.IsSemantic())
		}
		if got, ok := RelaxedOp(op.Op); !ok || got.Op != op.Op {
			t.Errorf("RelaxedOp(%v)", op.Op)
		}
	}
}

// relaxedInputs are random vectors mixed with edge lanes.
func relaxedInputs() []v128.V128 {
	edges32 := []uint32{0, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000,
		0x7f800001, 0x7fa00000, 0x4f000000, 0xcf000000, 0x4f800000, 0xcf000001, 0x7f7fffff, 0x00000001, 0x3f000000, 0xbf7fffff}
	edges64 := []uint64{0, 1 << 63, 0x3ff0000000000000, 0x7ff0000000000000, 0xfff8000000000000, 0x7ff0000000000001,
		0x41e0000000000000, 0xc1e0000000200000, 0x41efffffffe00000, 0x41f0000000000000, 0xbfefffffffffffff, 0x7fefffffffffffff}
	r := rand.New(rand.NewPCG(1, 2))
	var out []v128.V128
	for i := 0; i < 3000; i++ {
		v := v128.V128{Lo: r.Uint64(), Hi: r.Uint64()}
		switch i % 4 {
		case 1:
			v.Lo = uint64(edges32[r.IntN(len(edges32))]) | uint64(edges32[r.IntN(len(edges32))])<<32
			v.Hi = uint64(edges32[r.IntN(len(edges32))]) | uint64(edges32[r.IntN(len(edges32))])<<32
		case 2:
			v.Lo, v.Hi = edges64[r.IntN(len(edges64))], edges64[r.IntN(len(edges64))]
		case 3:
			v.Lo &= 0x80ff00ff7f0f8f00
		}
		out = append(out, v)
	}
	return out
}

// Every semantics of a relaxed builtin has an implementation needing no
// more than the architecture's baseline (so a pinned decision runs on any
// CPU), and implementations with
// the same Semantics give identical bits.
func TestRelaxedEverySemanticsPortable(t *testing.T) {
	in := relaxedInputs()
	for _, op := range Relaxed {
		var impls []Impl[v128.TernaryFunc]
		switch {
		case op.Unary != nil:
			for _, im := range op.Unary.Impls {
				f := im.Fn
				impls = append(impls, Impl[v128.TernaryFunc]{Name: im.Name, Needs: im.Needs, Semantics: im.Semantics, Fn: func(x, _, _ v128.V128) v128.V128 { return f(x) }})
			}
		case op.Binary != nil:
			for _, im := range op.Binary.Impls {
				f := im.Fn
				impls = append(impls, Impl[v128.TernaryFunc]{Name: im.Name, Needs: im.Needs, Semantics: im.Semantics, Fn: func(x, y, _ v128.V128) v128.V128 { return f(x, y) }})
			}
		default:
			impls = op.Ternary.Impls
		}
		name := op.Descriptor().BuiltinName()
		free := map[string]Impl[v128.TernaryFunc]{}
		for _, im := range impls {
			if im.Semantics == "" {
				t.Errorf("%s/%s: no Semantics", name, im.Name)
			}
			if im.Needs.SubsetOf(cpu.Baseline(runtime.GOARCH)) { // runs on every CPU of this arch
				free[im.Semantics] = im
			}
		}
		if len(free) != 2 {
			t.Errorf("%s: portable semantics %v, want two", name, free)
		}
		for _, im := range impls {
			if !im.Needs.SubsetOf(cpu.Host().Set()) {
				continue // cannot run here
			}
			ref := free[im.Semantics]
			for i := 0; i+2 < len(in); i++ {
				if got, want := im.Fn(in[i], in[i+1], in[i+2]), ref.Fn(in[i], in[i+1], in[i+2]); got != want {
					t.Errorf("%s: %s gives %x, %s %x for %x %x %x", name, im.Name, got, ref.Name, want, in[i], in[i+1], in[i+2])
					break
				}
			}
		}
	}
}

// Inputs for which fused and unfused madd differ (relaxed_madd_nmadd.wast):
// f32 (1+2^-22)(1+2^-15) - (1+2^-15+2^-22) is 2^-37 fused, 0 unfused.
var (
	maddX = v128.V128{Lo: 0x3f8000023f800002, Hi: 0x3f8000023f800002}
	maddY = v128.V128{Lo: 0x3f8001003f800100, Hi: 0x3f8001003f800100}
	maddZ = v128.V128{Lo: 0xbf800102bf800102, Hi: 0xbf800102bf800102}
	fused = v128.V128{Lo: 0x2d0000002d000000, Hi: 0x2d0000002d000000} // 2^-37 in every lane
)

func fmaFeatures() (with, without cpu.Features) {
	base := cpu.Baseline(runtime.GOARCH)
	fma := cpu.NewSet(cpu.X86FMA)
	if runtime.GOARCH != "amd64" {
		fma = cpu.Set{} // arm64 has FMLA in its baseline
	}
	return cpu.New(runtime.GOARCH, base.Union(fma)), cpu.New(runtime.GOARCH, base)
}

func maddOp(t *testing.T) *Builtin[v128.TernaryFunc] {
	op, _ := RelaxedOp(wasm.OpF32x4RelaxedMadd)
	if math.Float32frombits(uint32(fused.Lo)) != 0x1p-37 {
		t.Fatal("test constant")
	}
	return op.Ternary
}

// A fused decision (made on a CPU with FMA) restored on a CPU without FMA
// keeps fusing, in software: the result is bit-identical.
func TestRelaxedMaddFusedKeptWithoutFMA(t *testing.T) {
	with, without := fmaFeatures()
	madd := maddOp(t)
	src := NewCallsiteTable(with)
	s := Bind(src, madd)
	before := s.Func()(maddX, maddY, maddZ)
	recorded := src.Decisions()
	if len(recorded) != 1 || recorded[0].Semantics != SemFused || !recorded[0].Semantic {
		t.Fatalf("fresh decision with FMA: %+v", recorded)
	}
	if before != fused {
		t.Fatalf("fused madd gave %x, want %x", before, fused)
	}
	// Without the restore, a CPU without FMA decides differently.
	if runtime.GOARCH == "amd64" {
		if d := madd.Decide(without); d.Semantics != SemUnfused {
			t.Fatalf("fresh decision without FMA: %+v", d)
		}
	}
	dst := NewCallsiteTable(without)
	d := Bind(dst, madd)
	changes, err := dst.Restore(recorded)
	if err != nil {
		t.Fatal(err)
	}
	after := d.Func()(maddX, maddY, maddZ)
	if after != before {
		t.Errorf("after restore without FMA: %x, before %x", after, before)
	}
	got := dst.Decisions()[0]
	if got.Semantics != SemFused || (runtime.GOARCH == "amd64" && len(got.Features) != 0) {
		t.Errorf("restored decision %+v relies on features or lost fusing", got)
	}
	if runtime.GOARCH == "amd64" && (len(changes) != 1 || changes[0].To.Impl != "soft-fma") {
		t.Errorf("changes %v, want fma -> soft-fma", changes)
	}
	// A later re-resolution (another restore) keeps it too.
	if _, err := dst.Reresolve(with); err != nil || d.Func()(maddX, maddY, maddZ) != before {
		t.Errorf("reresolve back to FMA: %v", err)
	}
}

// The reverse: an unfused decision (a CPU without FMA) restored on a CPU
// with FMA keeps rounding twice.
func TestRelaxedMaddUnfusedKeptWithFMA(t *testing.T) {
	with, without := fmaFeatures()
	madd := maddOp(t)
	src := NewCallsiteTable(without)
	s := Bind(src, madd)
	var recorded []Decision
	if runtime.GOARCH == "amd64" {
		s.Func()(maddX, maddY, maddZ)
		recorded = src.Decisions()
	} else {
		// arm64 and others never decide unfused by themselves: a
		// checkpoint from an x86 machine without FMA does.
		recorded = []Decision{{Builtin: madd.Name, Impl: "unfused", Semantic: true, Semantics: SemUnfused}}
	}
	if len(recorded) != 1 || recorded[0].Semantics != SemUnfused {
		t.Fatalf("recorded %+v", recorded)
	}
	dst := NewCallsiteTable(with)
	d := Bind(dst, madd)
	if _, err := dst.Restore(recorded); err != nil {
		t.Fatal(err)
	}
	if got := d.Func()(maddX, maddY, maddZ); got != (v128.V128{}) {
		t.Errorf("unfused madd after restore on an FMA CPU: %x, want +0", got)
	}
	if got := dst.Decisions()[0]; got.Semantics != SemUnfused {
		t.Errorf("restored decision %+v", got)
	}
	if madd.Decide(with).Semantics != SemFused {
		t.Error("an FMA CPU's own decision should be fused")
	}
}

// Every relaxed choice is kept the same way: x86 decisions restored on a
// CPU without the x86 instruction are emulated, Arm ones on x86 too.
func TestRelaxedChoicesKept(t *testing.T) {
	with, without := fmaFeatures()
	for _, sem := range []string{SemX86, SemArm} {
		var recorded []Decision
		for _, op := range Relaxed {
			if op.Ternary != nil && (op.Op >= wasm.OpF32x4RelaxedMadd && op.Op <= wasm.OpF64x2RelaxedNmadd) {
				continue
			}
			recorded = append(recorded, Decision{Builtin: op.Descriptor().BuiltinName(), Impl: "?", Semantic: true, Semantics: sem})
		}
		for _, f := range []cpu.Features{with, without} {
			tab := NewCallsiteTable(f)
			for _, op := range Relaxed {
				bindAny(tab, op)
			}
			if _, err := tab.Restore(recorded); err != nil {
				t.Fatalf("%s on %v: %v", sem, f, err)
			}
			for _, d := range tab.Decisions() {
				if d.Semantics != sem {
					t.Errorf("%s on %v: %+v", sem, f, d)
				}
			}
		}
	}
}

func bindAny(tab *CallsiteTable, op V128Op) {
	switch {
	case op.Unary != nil:
		Bind(tab, op.Unary)
	case op.Binary != nil:
		Bind(tab, op.Binary)
	default:
		Bind(tab, op.Ternary)
	}
}

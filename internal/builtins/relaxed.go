package builtins

import (
	"runtime"

	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/v128"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Semantics of the relaxed-SIMD builtins. Each relaxed instruction has two
// observable behaviours (v128/relaxed.go): the x86 one and the Arm one, or
// for madd/nmadd fused and unfused. A fresh decision takes the behaviour of
// the instruction this CPU has (x86-64: the x86 one where the instruction
// exists at the effective features, else the Arm one, which is also the
// portable Wasm 2.0 one; arm64: the Arm one; madd: fused with FMA or on
// arm64, unfused on x86 without FMA). The decision is semantic: a restore
// keeps it and, on a CPU without the instruction, runs the software
// emulation of the same behaviour ("x86-emulated", "soft-fma").
const (
	SemX86     = "x86"
	SemArm     = "arm"
	SemFused   = "fused"
	SemUnfused = "unfused"
)

// Relaxed lists the relaxed-SIMD instructions, all semantic builtins.
var Relaxed = []V128Op{
	{Op: wasm.OpI8x16RelaxedSwizzle, Binary: relaxedBinary("i8x16.relaxed_swizzle", cpu.X86SSSE3, v128.RelaxedSwizzleX86, v128.Swizzle)},
	{Op: wasm.OpI32x4RelaxedTruncF32x4S, Unary: relaxedUnary("i32x4.relaxed_trunc_f32x4_s", cpu.X86SSE2, v128.I32x4RelaxedTruncF32x4SX86, v128.I32x4TruncSatF32x4S)},
	{Op: wasm.OpI32x4RelaxedTruncF32x4U, Unary: relaxedUnary("i32x4.relaxed_trunc_f32x4_u", cpu.X86AVX512F, v128.I32x4RelaxedTruncF32x4UX86, v128.I32x4TruncSatF32x4U)},
	{Op: wasm.OpI32x4RelaxedTruncF64x2SZero, Unary: relaxedUnary("i32x4.relaxed_trunc_f64x2_s_zero", cpu.X86SSE2, v128.I32x4RelaxedTruncF64x2SZeroX86, v128.I32x4TruncSatF64x2SZero)},
	{Op: wasm.OpI32x4RelaxedTruncF64x2UZero, Unary: relaxedUnary("i32x4.relaxed_trunc_f64x2_u_zero", cpu.X86AVX512F, v128.I32x4RelaxedTruncF64x2UZeroX86, v128.I32x4TruncSatF64x2UZero)},
	{Op: wasm.OpF32x4RelaxedMadd, Ternary: relaxedMadd("f32x4.relaxed_madd", v128.F32x4RelaxedMaddFused, v128.F32x4RelaxedMaddFused, v128.F32x4RelaxedMaddUnfused)},
	{Op: wasm.OpF32x4RelaxedNmadd, Ternary: relaxedMadd("f32x4.relaxed_nmadd", v128.F32x4RelaxedNmaddFused, v128.F32x4RelaxedNmaddFused, v128.F32x4RelaxedNmaddUnfused)},
	{Op: wasm.OpF64x2RelaxedMadd, Ternary: relaxedMadd("f64x2.relaxed_madd", v128.F64x2RelaxedMaddFused, v128.F64x2RelaxedMaddFusedSoft, v128.F64x2RelaxedMaddUnfused)},
	{Op: wasm.OpF64x2RelaxedNmadd, Ternary: relaxedMadd("f64x2.relaxed_nmadd", v128.F64x2RelaxedNmaddFused, v128.F64x2RelaxedNmaddFusedSoft, v128.F64x2RelaxedNmaddUnfused)},
	{Op: wasm.OpI8x16RelaxedLaneselect, Ternary: relaxedTernary("i8x16.relaxed_laneselect", cpu.X86SSE41, v128.I8x16RelaxedLaneselectX86, v128.Bitselect)},
	{Op: wasm.OpI16x8RelaxedLaneselect, Ternary: relaxedTernary("i16x8.relaxed_laneselect", cpu.X86SSE41, v128.I16x8RelaxedLaneselectX86, v128.Bitselect)},
	{Op: wasm.OpI32x4RelaxedLaneselect, Ternary: relaxedTernary("i32x4.relaxed_laneselect", cpu.X86SSE41, v128.I32x4RelaxedLaneselectX86, v128.Bitselect)},
	{Op: wasm.OpI64x2RelaxedLaneselect, Ternary: relaxedTernary("i64x2.relaxed_laneselect", cpu.X86SSE41, v128.I64x2RelaxedLaneselectX86, v128.Bitselect)},
	{Op: wasm.OpF32x4RelaxedMin, Binary: relaxedBinary("f32x4.relaxed_min", cpu.X86SSE2, v128.F32x4RelaxedMinX86, v128.F32x4Min)},
	{Op: wasm.OpF32x4RelaxedMax, Binary: relaxedBinary("f32x4.relaxed_max", cpu.X86SSE2, v128.F32x4RelaxedMaxX86, v128.F32x4Max)},
	{Op: wasm.OpF64x2RelaxedMin, Binary: relaxedBinary("f64x2.relaxed_min", cpu.X86SSE2, v128.F64x2RelaxedMinX86, v128.F64x2Min)},
	{Op: wasm.OpF64x2RelaxedMax, Binary: relaxedBinary("f64x2.relaxed_max", cpu.X86SSE2, v128.F64x2RelaxedMaxX86, v128.F64x2Max)},
	{Op: wasm.OpI16x8RelaxedQ15mulrS, Binary: relaxedBinary("i16x8.relaxed_q15mulr_s", cpu.X86SSSE3, v128.I16x8RelaxedQ15mulrX86, v128.I16x8Q15mulrSatS)},
	{Op: wasm.OpI16x8RelaxedDotI8x16I7x16S, Binary: relaxedBinary("i16x8.relaxed_dot_i8x16_i7x16_s", cpu.X86SSSE3, v128.I16x8RelaxedDotX86, v128.I16x8RelaxedDotArm)},
	{Op: wasm.OpI32x4RelaxedDotI8x16I7x16AddS, Ternary: relaxedTernary("i32x4.relaxed_dot_i8x16_i7x16_add_s", cpu.X86SSSE3, v128.I32x4RelaxedDotAddX86, v128.I32x4RelaxedDotAddArm)},
}

// relaxedImpls orders a relaxed builtin's implementations for this
// architecture: the behaviour of the CPU's own instruction first (x86Needs
// names the x86 feature whose instruction has the x86 behaviour), then the
// other behaviours in software. Every behaviour has an implementation
// without Needs, so a pinned decision can always be honoured.
func relaxedImpls[F any](x86Needs cpu.Feature, x86, arm F) []Impl[F] {
	switch runtime.GOARCH {
	case "amd64":
		return []Impl[F]{
			{Name: cpu.NewSet(x86Needs).Names()[0], Needs: cpu.NewSet(x86Needs), Semantics: SemX86, Fn: x86},
			{Name: "portable", Semantics: SemArm, Fn: arm},
			{Name: "x86-emulated", Semantics: SemX86, Fn: x86},
		}
	case "arm64":
		return []Impl[F]{
			{Name: "neon", Needs: cpu.NewSet(cpu.ARM64ASIMD), Semantics: SemArm, Fn: arm},
			{Name: "x86-emulated", Semantics: SemX86, Fn: x86},
		}
	}
	return []Impl[F]{
		{Name: "portable", Semantics: SemArm, Fn: arm},
		{Name: "x86-emulated", Semantics: SemX86, Fn: x86},
	}
}

func relaxedUnary(name string, x86Needs cpu.Feature, x86, arm v128.UnaryFunc) *Builtin[v128.UnaryFunc] {
	return &Builtin[v128.UnaryFunc]{Name: name, Semantic: true, Impls: relaxedImpls(x86Needs, x86, arm), Trampoline: UnaryTrampoline}
}

func relaxedBinary(name string, x86Needs cpu.Feature, x86, arm v128.BinaryFunc) *Builtin[v128.BinaryFunc] {
	return &Builtin[v128.BinaryFunc]{Name: name, Semantic: true, Impls: relaxedImpls(x86Needs, x86, arm), Trampoline: BinaryTrampoline}
}

func relaxedTernary(name string, x86Needs cpu.Feature, x86, arm v128.TernaryFunc) *Builtin[v128.TernaryFunc] {
	return &Builtin[v128.TernaryFunc]{Name: name, Semantic: true, Impls: relaxedImpls(x86Needs, x86, arm), Trampoline: TernaryTrampoline}
}

// relaxedMadd orders madd/nmadd: fused with the FMA instruction (x86 FMA3,
// arm64 FMLA), else unfused on x86 (what SSE code computes), and fused in
// software for a restored fused decision on a CPU without FMA.
func relaxedMadd(name string, fusedHW, fusedSoft, unfused v128.TernaryFunc) *Builtin[v128.TernaryFunc] {
	var impls []Impl[v128.TernaryFunc]
	switch runtime.GOARCH {
	case "amd64":
		impls = []Impl[v128.TernaryFunc]{
			{Name: "fma", Needs: cpu.NewSet(cpu.X86FMA), Semantics: SemFused, Fn: fusedHW},
			{Name: "unfused", Semantics: SemUnfused, Fn: unfused},
			{Name: "soft-fma", Semantics: SemFused, Fn: fusedSoft},
		}
	case "arm64":
		impls = []Impl[v128.TernaryFunc]{
			{Name: "neon", Needs: cpu.NewSet(cpu.ARM64ASIMD), Semantics: SemFused, Fn: fusedHW},
			{Name: "unfused", Semantics: SemUnfused, Fn: unfused},
			{Name: "soft-fma", Semantics: SemFused, Fn: fusedSoft},
		}
	default:
		impls = []Impl[v128.TernaryFunc]{
			{Name: "soft-fma", Semantics: SemFused, Fn: fusedSoft},
			{Name: "unfused", Semantics: SemUnfused, Fn: unfused},
		}
	}
	return &Builtin[v128.TernaryFunc]{Name: name, Semantic: true, Impls: impls, Trampoline: TernaryTrampoline}
}

// RelaxedOp returns the relaxed builtin of op, if op is relaxed.
func RelaxedOp(op wasm.Opcode) (V128Op, bool) {
	if !op.IsRelaxed() {
		return V128Op{}, false
	}
	return Relaxed[op-wasm.OpRelaxedFirst], true
}

package jit

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/arch/x86/x86asm"

	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/native"
	"github.com/ferryvm/ferry/internal/spectest"
	"github.com/ferryvm/ferry/internal/wasm"
)

// lintMasks are the feature sets the lint compiles for.
func lintMasks(t *testing.T) map[string]cpu.Set {
	masks := map[string]cpu.Set{"native": cpu.Host().Set()}
	for _, name := range []string{"x86-64-v1", "x86-64-v2", "x86-64-v3", "x86-64-v4"} {
		l, ok := cpu.LookupLevel("amd64", name)
		if !ok {
			t.Fatalf("no level %s", name)
		}
		masks[name] = l.Set
	}
	return masks
}

// lintCorpus is every function of the spec scripts the differential test
// uses, plus the benchmark kernels.
func lintCorpus(t *testing.T) []*ir.Func {
	var out []*ir.Func
	dir := spectest.SuiteDir(t)
	for _, name := range append(specScripts, "conversions", "f32", "f64", "float_exprs") {
		path := filepath.Join(dir, name+".wast")
		if _, err := os.Stat(path); err != nil {
			continue
		}
		jsonPath := spectest.Convert(t, path)
		b, err := os.ReadFile(jsonPath)
		if err != nil {
			t.Fatal(err)
		}
		var s struct{ Commands []specCommand }
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		for _, c := range s.Commands {
			if c.Type != "module" {
				continue
			}
			bin, err := os.ReadFile(filepath.Join(filepath.Dir(jsonPath), c.Filename))
			if err != nil {
				t.Fatal(err)
			}
			m, err := lowerBinary(bin)
			if err != nil {
				continue
			}
			for _, f := range m.ir {
				out = append(out, f)
			}
		}
	}
	out = append(out, loadWat(t, kernelsWat).comp.IRFuncs()...)
	return out
}

// decodedFeature is the feature an instruction needs, from its decoded
// form (independent of the encoder's own tags); ok is false for a
// baseline instruction.
func decodedFeature(inst x86asm.Inst) (cpu.Feature, bool) {
	switch inst.Op {
	case x86asm.LZCNT:
		return cpu.X86LZCNT, true
	case x86asm.TZCNT, x86asm.ANDN:
		return cpu.X86BMI1, true
	case x86asm.SHLX, x86asm.SHRX, x86asm.SARX, x86asm.RORX:
		return cpu.X86BMI2, true
	case x86asm.POPCNT:
		return cpu.X86POPCNT, true
	case x86asm.ROUNDSS, x86asm.ROUNDSD:
		return cpu.X86SSE41, true
	}
	for _, arg := range inst.Args {
		if r, ok := arg.(x86asm.Reg); ok && r >= x86asm.X0 && r <= x86asm.X15 {
			return cpu.X86SSE2, true
		}
	}
	return 0, false
}

// TestFeatureLintEveryInstructionIsInTheMask compiles the corpus for each
// mask and decodes every emitted instruction: its feature (classified from
// the decoded opcode, not the encoder's tag) must be in the mask, and the
// unit's recorded features must be too.
func TestFeatureLintEveryInstructionIsInTheMask(t *testing.T) {
	corpus := lintCorpus(t)
	for name, mask := range lintMasks(t) {
		t.Run(name, func(t *testing.T) {
			compiled, refused, insts := 0, 0, 0
			used := cpu.Set{}
			for _, f := range corpus {
				as, err := assemble(f, Options{}.WithFeatures(mask))
				if errors.Is(err, ErrUnsupported) {
					refused++
					// Only v128 and (until jitfloat lands) float ops may
					// keep a function interpreted.
					if !usesFloatOrV128(f) {
						t.Errorf("function %d without float or v128 ops refused: %v", f.Index, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("function %d: %v", f.Index, err)
				}
				compiled++
				if !as.feats.SubsetOf(mask.With(cpu.X86SSE2)) {
					t.Errorf("function %d records %v outside %v", f.Index, as.feats, mask)
				}
				for _, s := range as.sels {
					if !s.Needs.SubsetOf(mask) {
						t.Errorf("function %d: op %#x lowered as %s needing %v", f.Index, uint16(s.Op), s.Lowering, s.Needs)
					}
				}
				for off := 0; off < as.textEnd; {
					inst, err := x86asm.Decode(as.code[off:as.textEnd], 64)
					if err != nil {
						t.Fatalf("function %d: undecodable code at %#x: % x", f.Index, off, as.code[off:min(off+16, as.textEnd)])
					}
					insts++
					if ft, ok := decodedFeature(inst); ok {
						used = used.With(ft)
						if ft != cpu.X86SSE2 && !mask.Has(ft) {
							t.Errorf("function %d at %#x: %v needs %v, not in %s", f.Index, off, inst, ft, name)
						}
					}
					off += inst.Len
				}
			}
			t.Logf("%s: %d functions compiled, %d left interpreted, %d instructions decoded, features used: %v", name, compiled, refused, insts, used)
			if compiled < 500 {
				t.Fatalf("only %d functions compiled", compiled)
			}
			// The corpus has clz, ctz and popcnt: a mask with the features
			// must get the specialized forms, or the lint proves nothing.
			for _, ft := range []cpu.Feature{cpu.X86LZCNT, cpu.X86BMI1, cpu.X86POPCNT} {
				if mask.Has(ft) != used.Has(ft) {
					t.Errorf("mask has %v: %v; code uses it: %v", ft, mask.Has(ft), used.Has(ft))
				}
			}
		})
	}
}

// usesFloatOrV128 reports whether f has an op emitFloat lowers or a v128
// op.
func usesFloatOrV128(f *ir.Func) bool {
	for _, in := range f.Code {
		switch o := in.Op; {
		case o >= 0x5B && o <= 0x66, o >= 0x8B && o <= 0xA6, o >= 0xA8 && o <= 0xBF && o != 0xAC && o != 0xAD,
			o >= ir.SatBase && o < ir.SatBase+8,
			o >= ir.V128Unary && o <= ir.V128Relaxed, o == ir.Mov2, o == ir.Select2, o == ir.GlobalGet2, o == ir.GlobalSet2:
			return true
		}
	}
	return false
}

// The rounding ops' lowering depends on SSE4.1, so it must be listed in
// Code.Selections (the record the lint and the notes read); floatLowering
// was once written but never called.
func TestFloatRoundingIsASelection(t *testing.T) {
	m := loadWat(t, `(module (func (export "f") (param f64) (result f64) (f64.floor (local.get 0))))`)
	idx, _ := m.exportedFunc("f")
	for name, mask := range lintMasks(t) {
		code, err := Compile(m.ir[idx], Options{}.WithFeatures(mask), newAlloc())
		if errors.Is(err, native.ErrNotSupported) {
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		want := "sse2 round sequence"
		if mask.Has(cpu.X86SSE41) {
			want = "roundsd"
		}
		found := false
		for _, s := range code.Selections {
			if s.Op == ir.Op(wasm.OpF64Floor) && s.Lowering == want && s.Needs.SubsetOf(mask) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: selections %v, want f64.floor as %q", name, code.Selections, want)
		}
		code.Free()
	}
}

package jit

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/wasm"
)

// TestCompileNeverPanicsOnMutatedIR compiles the lint corpus with random
// mutations (ops, operands, immediates, branch tables, loop stubs): each
// compile returns code or an error, never a panic. The code is not run.
func TestCompileNeverPanicsOnMutatedIR(t *testing.T) {
	corpus := lintCorpus(t)
	r := rand.New(rand.NewPCG(7, 7))
	vals := []uint32{0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 1 << 20, 1 << 28}
	field := func() uint32 {
		if r.IntN(2) == 0 {
			return vals[r.IntN(len(vals))]
		}
		return uint32(r.IntN(64))
	}
	compiled, refused := 0, 0
	for round := range 3 {
		for _, f := range corpus {
			g := *f
			g.Code = append([]ir.Instr(nil), f.Code...)
			g.LoopPolls = append([]uint32(nil), f.LoopPolls...)
			g.BrTargets = append([]ir.BrTarget(nil), f.BrTargets...)
			for range 1 + r.IntN(4) {
				in := &g.Code[r.IntN(len(g.Code))]
				switch r.IntN(6) {
				case 0:
					in.Op = ir.Op(r.IntN(int(ir.Count) + 4))
				case 1:
					in.A = field()
				case 2:
					in.B = field()
				case 3:
					in.C = field()
				case 4:
					in.Imm = r.Uint64()
				case 5:
					if len(g.LoopPolls) > 0 {
						g.LoopPolls[r.IntN(len(g.LoopPolls))] = field()
					} else if len(g.BrTargets) > 0 {
						g.BrTargets[r.IntN(len(g.BrTargets))].PC = field()
					}
				}
			}
			feats := cpu.Set{}
			if round == 1 {
				feats = cpu.Host().Set()
			}
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("function %d, round %d: panic %v", f.Index, round, p)
					}
				}()
				if _, err := assemble(&g, Options{}.WithFeatures(feats)); err != nil {
					refused++
				} else {
					compiled++
				}
			}()
		}
	}
	t.Logf("%d mutated functions compiled, %d refused", compiled, refused)
}

// TestHugeFunctionStaysInterpreted pins the size bound: a function past
// it is refused with ErrUnsupported before any code is emitted.
func TestHugeFunctionStaysInterpreted(t *testing.T) {
	f := &ir.Func{Sig: &wasm.FuncType{}, FrameSlots: 1, Code: make([]ir.Instr, maxIRInstrs+1)}
	for i := range f.Code {
		f.Code[i] = ir.Instr{Op: ir.Const, A: 0, Imm: 1}
	}
	f.Code[len(f.Code)-1] = ir.Instr{Op: ir.Return}
	if err := Supported(f); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Supported: %v, want ErrUnsupported", err)
	}
	if _, err := Compile(f, Options{}, newAlloc()); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Compile: %v, want ErrUnsupported", err)
	}
	f = &ir.Func{Sig: &wasm.FuncType{}, FrameSlots: maxSlots + 1, Code: []ir.Instr{{Op: ir.Return}}}
	if err := Supported(f); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Supported with %d slots: %v, want ErrUnsupported", f.FrameSlots, err)
	}
}

// TestV128FunctionsCompile: since the SIMD lowering (simd.go) every v128
// op, the two-slot moves and globals included, compiles.
func TestV128FunctionsCompile(t *testing.T) {
	m := loadWat(t, `(module
	  (global $g (mut v128) (v128.const i64x2 0 0))
	  (func (export "splat") (param i32) (result i32) (i32x4.extract_lane 0 (i32x4.splat (local.get 0))))
	  (func (export "glob") (global.set $g (global.get $g)))
	  (func (export "scalar") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1))))`)
	for name, want := range map[string]bool{"splat": true, "glob": true, "scalar": true} {
		idx, _ := m.exportedFunc(name)
		err := Supported(m.ir[idx])
		if (err == nil) != want || (err != nil && !errors.Is(err, ErrUnsupported)) {
			t.Errorf("Supported(%s) = %v, want compiled: %v", name, err, want)
		}
	}
}

// TestManyLocalsCompile: 50,000 locals (the decoder's limit) are slots like any other; the
// function compiles and runs with its result in slot 0.
func TestManyLocalsCompile(t *testing.T) {
	m := loadWat(t, `(module (func (export "f") (param i32) (result i32) (local i64)
	  (local i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)
	  `+manyLocals(49970)+`
	  (local.set 49980 (i32.add (local.get 0) (i32.const 41)))
	  (local.get 49980)))`)
	res, _, err := runExport(t, m, "f", 10, 1)
	if err != nil || len(res) != 1 || res[0] != 42 {
		t.Fatalf("f(1) = %v, %v; want [42]", res, err)
	}
}

func manyLocals(n int) string {
	b := make([]byte, 0, n*4)
	b = append(b, "(local"...)
	for range n {
		b = append(b, " i32"...)
	}
	return string(append(b, ')'))
}

// TestBrCopyOfHugeCountIsRefused pins a hang the mutation test found: a
// BrCopy count from a corrupt IR unrolled into billions of slot copies
// before the code-size check ran. Counts are now checked against the
// frame first.
func TestBrCopyOfHugeCountIsRefused(t *testing.T) {
	f := &ir.Func{Sig: &wasm.FuncType{}, FrameSlots: 4, Code: []ir.Instr{
		{Op: ir.BrCopy, A: 1, B: 0, C: 1, Imm: 1 << 31},
		{Op: ir.Return},
	}}
	if _, err := assemble(f, Options{}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("assemble: %v, want ErrUnsupported", err)
	}
}

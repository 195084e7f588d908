package jit

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	wbinary "github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/interp"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/native"
	"github.com/ferryvm/ferry/internal/spectest"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

// The SIMD tests compare compiled v128 code with the interpreter, the
// oracle: the spec scripts through the package's harness (whose
// ExitInterp runs the v128 instructions left to Go with the same
// implementations as the interpreter), and random instruction sequences
// through the engine itself (interp.Engine with the compiled tier, so
// the v128 exits go through interp/simd_rare.go as in a runtime).
// FERRY_JIT_MASK=x86-64-v1 (…v4) compiles for fewer features.

// simdScripts are the SIMD spec scripts, and the relaxed-SIMD proposal's.
func simdScripts(t *testing.T) []string {
	dir := spectest.SuiteDir(t)
	var paths []string
	for _, pat := range []string{"simd_*.wast", "proposals/relaxed-simd/*.wast"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	if len(paths) == 0 {
		t.Fatalf("no SIMD scripts under %s", dir)
	}
	return paths
}

func TestDifferentialSpecScriptsSIMD(t *testing.T) {
	ie, ce := simdEngines(t, simdFeatures(t))
	total := 0
	for _, path := range simdScripts(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".wast")
		if only := os.Getenv("FERRY_JIT_SCRIPTS"); only != "" && !strings.Contains(","+only+",", ","+name+",") {
			continue
		}
		t.Run(name, func(t *testing.T) { total += diffSIMDScript(t, ie, ce, path) })
	}
	t.Logf("%d invocations compared", total)
	if os.Getenv("FERRY_JIT_SCRIPTS") == "" && total < 10000 {
		t.Fatalf("only %d invocations compared", total)
	}
}

// simdInstance is one module of a script, instantiated by both engines.
type simdInstance struct {
	mod      *wasm.Module
	interp   *store.Instance
	compiled *store.Instance
}

// diffSIMDScript runs a script's invocations in both engines, each on
// its own instances of the script's modules (so both evolve alike), and
// compares results (bit for bit), traps and memory after each. It
// returns the number of invocations compared.
func diffSIMDScript(t *testing.T, ie, ce *interp.Engine, wastPath string) int {
	dir := t.TempDir()
	base := strings.TrimSuffix(filepath.Base(wastPath), ".wast")
	jsonPath := filepath.Join(dir, base+".json")
	src, err := os.ReadFile(wastPath)
	if err != nil {
		t.Fatal(err)
	}
	// wabt 1.0.32 spells the relaxed dot products without "relaxed_".
	src = bytes.ReplaceAll(src, []byte("relaxed_dot_i8x16_i7x16"), []byte("dot_i8x16_i7x16"))
	wast := filepath.Join(dir, base+".wast")
	if err := os.WriteFile(wast, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("wast2json", "--enable-relaxed-simd", wast, "-o", jsonPath).CombinedOutput(); err != nil {
		t.Fatalf("wast2json: %v\n%s", err, out)
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Commands []struct {
			Type     string `json:"type"`
			Line     int    `json:"line"`
			Filename string `json:"filename"`
			Name     string `json:"name"`
			Action   *struct {
				Type   string      `json:"type"`
				Module string      `json:"module"`
				Field  string      `json:"field"`
				Args   []simdValue `json:"args"`
			} `json:"action"`
		} `json:"commands"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	var cur *simdInstance
	named := map[string]*simdInstance{}
	compared := 0
	for _, c := range s.Commands {
		switch c.Type {
		case "module":
			cur = nil
			bin, err := os.ReadFile(filepath.Join(dir, c.Filename))
			if err != nil {
				t.Fatal(err)
			}
			m, err := wbinary.Decode(bin)
			if err != nil {
				continue
			}
			si := &simdInstance{mod: m}
			ok := true
			for _, e := range []*interp.Engine{ie, ce} {
				em, err := e.Compile(m)
				if err != nil {
					ok = false
					break
				}
				inst, err := store.NewStore().Instantiate(m, "test", em.(*interp.Compiled).Code(), func(string, string) (store.Extern, bool) { return store.Extern{}, false })
				if err != nil {
					ok = false
					break
				}
				if e == ie {
					si.interp = inst
				} else {
					si.compiled = inst
				}
			}
			if !ok {
				continue
			}
			cur = si
			if c.Name != "" {
				named[c.Name] = si
			}
		case "assert_return", "assert_trap", "action", "assert_exhaustion":
			if c.Action == nil || c.Action.Type != "invoke" {
				continue
			}
			si := cur
			if c.Action.Module != "" {
				si = named[c.Action.Module]
			}
			if si == nil {
				continue
			}
			var args []uint64
			ok := true
			for _, a := range c.Action.Args {
				v, good := a.slots()
				args, ok = append(args, v...), ok && good
			}
			idx, found := uint32(0), false
			for _, e := range si.mod.Exports {
				if e.Name == c.Action.Field && e.Kind == wasm.ExternFunc {
					idx, found = e.Index, true
				}
			}
			if !ok || !found {
				continue
			}
			want, werr := ie.Call(context.Background(), si.interp.Funcs[idx], args)
			got, gerr := ce.Call(context.Background(), si.compiled.Funcs[idx], args)
			compared++
			if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) || fmt.Sprint(want) != fmt.Sprint(got) {
				t.Errorf("line %d: %s%v: interpreter %#x, %v; compiled %#x, %v", c.Line, c.Action.Field, args, want, werr, got, gerr)
				continue
			}
			if len(si.interp.Memories) > 0 && !bytes.Equal(si.interp.Memories[0].Buf, si.compiled.Memories[0].Buf) {
				t.Errorf("line %d: %s%v: memory differs after the call", c.Line, c.Action.Field, args)
			}
		}
	}
	return compared
}

// simdValue is an argument of a wast2json command.
type simdValue struct {
	Type     string          `json:"type"`
	LaneType string          `json:"lane_type"`
	Value    json.RawMessage `json:"value"`
}

// slots encodes the value as the engine's argument slots (floats are
// given as their bits).
func (v simdValue) slots() ([]uint64, bool) {
	if v.Type != "v128" {
		var s string
		if json.Unmarshal(v.Value, &s) != nil {
			return nil, false
		}
		x, err := strconv.ParseUint(s, 10, 64)
		return []uint64{x}, err == nil
	}
	var lanes []string
	if json.Unmarshal(v.Value, &lanes) != nil || len(lanes) == 0 {
		return nil, false
	}
	var buf [16]byte
	size := 16 / len(lanes)
	for i, l := range lanes {
		x, err := strconv.ParseUint(l, 10, 64)
		if err != nil {
			return nil, false
		}
		for k := range size {
			buf[i*size+k] = byte(x >> (8 * k))
		}
	}
	return []uint64{binary.LittleEndian.Uint64(buf[:]), binary.LittleEndian.Uint64(buf[8:])}, true
}

// simdFeatures are the host's features masked by FERRY_JIT_MASK.
func simdFeatures(tb testing.TB) cpu.Features {
	f := cpu.Host()
	if spec := os.Getenv("FERRY_JIT_MASK"); spec != "" {
		m, err := f.Mask(spec)
		if err != nil {
			tb.Fatalf("FERRY_JIT_MASK=%q: %v", spec, err)
		}
		f = m
	}
	return f
}

type simdCode struct{ *Code }

func (c simdCode) CanEnterAt(id uint32) bool { return int(id) < len(c.Cont) && c.Cont[id] >= 0 }

// simdEngines returns an interpreter and a compiled-tier engine for the
// features f that share one callsite table, as two tiers of one runtime
// do (the relaxed-SIMD decisions are the same in both).
func simdEngines(tb testing.TB, f cpu.Features) (interpE, compiledE *interp.Engine) {
	tb.Helper()
	b := interp.NewBuiltins(f)
	opts := Options{}.WithFeatures(f.Set())
	comp := &interp.Compiler{
		Compile: func(fn *ir.Func, alloc *native.Allocator) (interp.NativeCode, error) {
			c, err := Compile(fn, opts, alloc)
			if err != nil {
				return nil, err
			}
			return simdCode{c}, nil
		},
		TrapErr: func(aux uint32) error { return TrapCode(aux).Err() },
		NoPause: NoPause,
	}
	interpE = interp.NewEngine(interp.Config{PausePolling: true, Builtins: b})
	compiledE = interp.NewEngine(interp.Config{PausePolling: true, Builtins: b, Tier: interp.TierCompiled, Compiler: comp})
	if compiledE.EffectiveTier() != interp.TierCompiled {
		tb.Skip(compiledE.Note())
	}
	return interpE, compiledE
}

// simdGen writes random WebAssembly functions of v128 instructions: each
// is a few stores of random expression trees over vectors loaded from
// memory (random and edge lanes), locals, a global, constants and
// scalars taken from lanes.
type simdGen struct {
	r       *rand.Rand
	relaxed bool
	b       strings.Builder
}

var (
	simdUnary = strings.Fields(`v128.not i8x16.abs i8x16.neg i8x16.popcnt i16x8.abs i16x8.neg i32x4.abs i32x4.neg
		i64x2.abs i64x2.neg f32x4.abs f32x4.neg f32x4.sqrt f32x4.ceil f32x4.floor f32x4.trunc f32x4.nearest
		f64x2.abs f64x2.neg f64x2.sqrt f64x2.ceil f64x2.floor f64x2.trunc f64x2.nearest
		i16x8.extend_low_i8x16_s i16x8.extend_high_i8x16_s i16x8.extend_low_i8x16_u i16x8.extend_high_i8x16_u
		i32x4.extend_low_i16x8_s i32x4.extend_high_i16x8_s i32x4.extend_low_i16x8_u i32x4.extend_high_i16x8_u
		i64x2.extend_low_i32x4_s i64x2.extend_high_i32x4_s i64x2.extend_low_i32x4_u i64x2.extend_high_i32x4_u
		i16x8.extadd_pairwise_i8x16_s i16x8.extadd_pairwise_i8x16_u i32x4.extadd_pairwise_i16x8_s i32x4.extadd_pairwise_i16x8_u
		f32x4.convert_i32x4_s f32x4.convert_i32x4_u i32x4.trunc_sat_f32x4_s i32x4.trunc_sat_f32x4_u
		f64x2.convert_low_i32x4_s f64x2.convert_low_i32x4_u i32x4.trunc_sat_f64x2_s_zero i32x4.trunc_sat_f64x2_u_zero
		f32x4.demote_f64x2_zero f64x2.promote_low_f32x4`)
	simdBinary = strings.Fields(`i8x16.swizzle
		i8x16.eq i8x16.ne i8x16.lt_s i8x16.lt_u i8x16.gt_s i8x16.gt_u i8x16.le_s i8x16.le_u i8x16.ge_s i8x16.ge_u
		i16x8.eq i16x8.ne i16x8.lt_s i16x8.lt_u i16x8.gt_s i16x8.gt_u i16x8.le_s i16x8.le_u i16x8.ge_s i16x8.ge_u
		i32x4.eq i32x4.ne i32x4.lt_s i32x4.lt_u i32x4.gt_s i32x4.gt_u i32x4.le_s i32x4.le_u i32x4.ge_s i32x4.ge_u
		i64x2.eq i64x2.ne i64x2.lt_s i64x2.gt_s i64x2.le_s i64x2.ge_s
		f32x4.eq f32x4.ne f32x4.lt f32x4.gt f32x4.le f32x4.ge f64x2.eq f64x2.ne f64x2.lt f64x2.gt f64x2.le f64x2.ge
		v128.and v128.andnot v128.or v128.xor
		i8x16.narrow_i16x8_s i8x16.narrow_i16x8_u i16x8.narrow_i32x4_s i16x8.narrow_i32x4_u
		i8x16.add i8x16.add_sat_s i8x16.add_sat_u i8x16.sub i8x16.sub_sat_s i8x16.sub_sat_u
		i8x16.min_s i8x16.min_u i8x16.max_s i8x16.max_u i8x16.avgr_u
		i16x8.add i16x8.add_sat_s i16x8.add_sat_u i16x8.sub i16x8.sub_sat_s i16x8.sub_sat_u i16x8.mul
		i16x8.min_s i16x8.min_u i16x8.max_s i16x8.max_u i16x8.avgr_u i16x8.q15mulr_sat_s
		i16x8.extmul_low_i8x16_s i16x8.extmul_high_i8x16_s i16x8.extmul_low_i8x16_u i16x8.extmul_high_i8x16_u
		i32x4.add i32x4.sub i32x4.mul i32x4.min_s i32x4.min_u i32x4.max_s i32x4.max_u i32x4.dot_i16x8_s
		i32x4.extmul_low_i16x8_s i32x4.extmul_high_i16x8_s i32x4.extmul_low_i16x8_u i32x4.extmul_high_i16x8_u
		i64x2.add i64x2.sub i64x2.mul
		i64x2.extmul_low_i32x4_s i64x2.extmul_high_i32x4_s i64x2.extmul_low_i32x4_u i64x2.extmul_high_i32x4_u
		f32x4.add f32x4.sub f32x4.mul f32x4.div f32x4.min f32x4.max f32x4.pmin f32x4.pmax
		f64x2.add f64x2.sub f64x2.mul f64x2.div f64x2.min f64x2.max f64x2.pmin f64x2.pmax`)
	simdShift      = strings.Fields(`i8x16.shl i8x16.shr_s i8x16.shr_u i16x8.shl i16x8.shr_s i16x8.shr_u i32x4.shl i32x4.shr_s i32x4.shr_u i64x2.shl i64x2.shr_s i64x2.shr_u`)
	simdTest       = strings.Fields(`v128.any_true i8x16.all_true i16x8.all_true i32x4.all_true i64x2.all_true i8x16.bitmask i16x8.bitmask i32x4.bitmask i64x2.bitmask`)
	relaxedUnary   = strings.Fields(`i32x4.relaxed_trunc_f32x4_s i32x4.relaxed_trunc_f32x4_u i32x4.relaxed_trunc_f64x2_s_zero i32x4.relaxed_trunc_f64x2_u_zero`)
	relaxedBinary  = strings.Fields(`i8x16.relaxed_swizzle f32x4.relaxed_min f32x4.relaxed_max f64x2.relaxed_min f64x2.relaxed_max i16x8.relaxed_q15mulr_s i16x8.dot_i8x16_i7x16_s`)
	relaxedTernary = strings.Fields(`f32x4.relaxed_madd f32x4.relaxed_nmadd f64x2.relaxed_madd f64x2.relaxed_nmadd i8x16.relaxed_laneselect i16x8.relaxed_laneselect i32x4.relaxed_laneselect i64x2.relaxed_laneselect i32x4.dot_i8x16_i7x16_add_s`)
)

// lanes of each shape, for extract and replace.
var simdShapes = []struct {
	shape, scalar string
	lanes         int
}{{"i8x16", "i32", 16}, {"i16x8", "i32", 8}, {"i32x4", "i32", 4}, {"i64x2", "i64", 2}, {"f32x4", "f32", 4}, {"f64x2", "f64", 2}}

func (g *simdGen) pick(s []string) string { return s[g.r.IntN(len(s))] }

// addr is an in-bounds input address, now and then one that traps.
func (g *simdGen) addr() string {
	if g.r.IntN(200) == 0 {
		return fmt.Sprintf("(i32.const %d)", 65536-g.r.IntN(8))
	}
	return fmt.Sprintf("(i32.const %d)", g.r.IntN(1024-16))
}

func (g *simdGen) vexpr(d int) string {
	if d <= 0 {
		switch g.r.IntN(4) {
		case 0:
			return fmt.Sprintf("(local.get %d)", g.r.IntN(3))
		case 1:
			return "(global.get 0)"
		case 2:
			return fmt.Sprintf("(v128.const i32x4 %d %d %d %d)", int32(g.r.Uint32()), int32(edge32(g.r)), int32(g.r.Uint32()), int32(edge32(g.r)))
		}
		return fmt.Sprintf("(v128.load offset=%d %s)", g.r.IntN(16), g.addr())
	}
	switch k := g.r.IntN(20); {
	case k < 5:
		return fmt.Sprintf("(%s %s)", g.pick(simdUnary), g.vexpr(d-1))
	case k < 11:
		return fmt.Sprintf("(%s %s %s)", g.pick(simdBinary), g.vexpr(d-1), g.vexpr(d-1))
	case k == 11:
		if g.r.IntN(2) == 0 {
			return fmt.Sprintf("(%s %s (i32.const %d))", g.pick(simdShift), g.vexpr(d-1), g.r.IntN(140)-6)
		}
		return fmt.Sprintf("(%s %s (i32.load %s))", g.pick(simdShift), g.vexpr(d-1), g.addr())
	case k == 12:
		return fmt.Sprintf("(v128.bitselect %s %s %s)", g.vexpr(d-1), g.vexpr(d-1), g.vexpr(d-1))
	case k == 13:
		var idx []string
		for range 16 {
			idx = append(idx, fmt.Sprint(g.r.IntN(32)))
		}
		return fmt.Sprintf("(i8x16.shuffle %s %s %s)", strings.Join(idx, " "), g.vexpr(d-1), g.vexpr(d-1))
	case k == 14:
		s := simdShapes[g.r.IntN(len(simdShapes))]
		suffix := ""
		if s.lanes > 4 {
			suffix = [2]string{"_s", "_u"}[g.r.IntN(2)]
		}
		// A lane out of one vector, replaced into another, splatted.
		x := fmt.Sprintf("(%s.extract_lane%s %d %s)", s.shape, suffix, g.r.IntN(s.lanes), g.vexpr(d-1))
		if g.r.IntN(2) == 0 {
			return fmt.Sprintf("(%s.replace_lane %d %s %s)", s.shape, g.r.IntN(s.lanes), g.vexpr(d-1), x)
		}
		return fmt.Sprintf("(%s.splat %s)", s.shape, x)
	case k == 15:
		return fmt.Sprintf("(i32x4.splat (%s %s))", g.pick(simdTest), g.vexpr(d-1))
	case k == 16:
		ops := strings.Fields(`v128.load8x8_s v128.load8x8_u v128.load16x4_s v128.load16x4_u v128.load32x2_s v128.load32x2_u
			v128.load8_splat v128.load16_splat v128.load32_splat v128.load64_splat v128.load32_zero v128.load64_zero`)
		return fmt.Sprintf("(%s offset=%d %s)", g.pick(ops), g.r.IntN(8), g.addr())
	case k == 17:
		n := []int{8, 16, 32, 64}[g.r.IntN(4)]
		return fmt.Sprintf("(v128.load%d_lane %d %s %s)", n, g.r.IntN(128/n), g.addr(), g.vexpr(d-1))
	case k == 18:
		return fmt.Sprintf("(select (result v128) %s %s (i32.load %s))", g.vexpr(d-1), g.vexpr(d-1), g.addr())
	}
	if !g.relaxed {
		return g.vexpr(d)
	}
	switch g.r.IntN(3) {
	case 0:
		return fmt.Sprintf("(%s %s)", g.pick(relaxedUnary), g.vexpr(d-1))
	case 1:
		return fmt.Sprintf("(%s %s %s)", g.pick(relaxedBinary), g.vexpr(d-1), g.vexpr(d-1))
	}
	return fmt.Sprintf("(%s %s %s %s)", g.pick(relaxedTernary), g.vexpr(d-1), g.vexpr(d-1), g.vexpr(d-1))
}

// edge32 is a lane value where implementations tend to differ: NaNs
// with payloads (quiet and signalling, both signs), zeros, infinities,
// integer bounds and lane boundaries.
func edge32(r *rand.Rand) uint32 {
	e := []uint32{0, 0x80000000, 0x7FC00000, 0xFFC00000, 0x7FC00001, 0xFFA12345, 0x7F800001, 0x7F800000, 0xFF800000,
		0x7FFFFFFF, 0x80000001, 0xFFFFFFFF, 1, 0x00800000, 0x4F000000, 0xCF000000, 0x4F800000, 0x3F000000, 0x3FC00000,
		0x00007FFF, 0x00008000, 0x7FFF8000, 0x80007FFF, 0x00FF00FF, 0xFF00FF00, 0x7F7F7F7F, 0x80808080, 0x0000FFFF,
		0x100F1011, 0x0F10201F, 0x8F70FF00} // swizzle indices around 16
	return e[r.IntN(len(e))]
}

func edge64(r *rand.Rand) uint64 {
	e := []uint64{0, 1 << 63, 0x7FF8000000000000, 0xFFF8000000000000, 0x7FF8000000000001, 0xFFF4000000000123,
		0x7FF0000000000001, 0x7FF0000000000000, 0xFFF0000000000000, 0x41E0000000000000, 0xC1E0000000000000,
		0x41DFFFFFFFC00000, 0x41EFFFFFFFE00000, 0xC1E0000000200000, 0x3FE0000000000000, 0x4330000000000000,
		0x7FFFFFFFFFFFFFFF, 0x8000000000000001, 0xFFFFFFFFFFFFFFFF, 0x47EFFFFFE0000000, 0x36A0000000000000}
	return e[r.IntN(len(e))]
}

// module writes a module of n functions f0.. over one page of memory
// whose first KiB is random and edge lanes; results are stored from 4096 on.
func (g *simdGen) module(n int) string {
	g.b.Reset()
	b := &g.b
	b.WriteString("(module (memory 1)\n (global (mut v128) (v128.const i64x2 0x7ff8000000000001 0x8000000000000000))\n")
	var data bytes.Buffer
	for data.Len() < 1024 {
		switch g.r.IntN(3) {
		case 0:
			binary.Write(&data, binary.LittleEndian, edge32(g.r))
		case 1:
			binary.Write(&data, binary.LittleEndian, edge64(g.r))
		default:
			binary.Write(&data, binary.LittleEndian, g.r.Uint32())
		}
	}
	b.WriteString(" (data (i32.const 0) \"")
	for _, c := range data.Bytes()[:1024] {
		fmt.Fprintf(b, "\\%02x", c)
	}
	b.WriteString("\")\n")
	for i := range n {
		fmt.Fprintf(b, " (func (export \"f%d\") (local v128 v128 v128)\n", i)
		for l := range 3 {
			fmt.Fprintf(b, "  (local.set %d (v128.load %s))\n", l, g.addr())
		}
		for s := range 1 + g.r.IntN(4) {
			out := 4096 + 16*(s+4*i)
			switch g.r.IntN(6) {
			case 0:
				fmt.Fprintf(b, "  (local.set %d %s)\n", g.r.IntN(3), g.vexpr(1+g.r.IntN(4)))
			case 1:
				fmt.Fprintf(b, "  (global.set 0 %s)\n", g.vexpr(1+g.r.IntN(3)))
			case 2:
				n := []int{8, 16, 32, 64}[g.r.IntN(4)]
				fmt.Fprintf(b, "  (v128.store%d_lane offset=%d %d (i32.const %d) %s)\n", n, out, g.r.IntN(128/n), g.r.IntN(8), g.vexpr(1+g.r.IntN(3)))
			default:
				fmt.Fprintf(b, "  (v128.store offset=%d (i32.const 0) %s)\n", out, g.vexpr(1+g.r.IntN(4)))
			}
		}
		fmt.Fprintf(b, "  (v128.store offset=%d (i32.const 0) (local.get %d)))\n", 8192+16*i, g.r.IntN(3))
	}
	b.WriteString(")\n")
	return b.String()
}

// watRelaxed compiles text that may use relaxed SIMD.
func watRelaxed(tb testing.TB, src string) []byte {
	tb.Helper()
	bin, err := exec.LookPath("wat2wasm")
	if err != nil {
		tb.Fatal("wat2wasm not found on PATH: install wabt")
	}
	dir := tb.TempDir()
	in, out := filepath.Join(dir, "m.wat"), filepath.Join(dir, "m.wasm")
	if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
	if b, err := exec.Command(bin, "--enable-relaxed-simd", in, "-o", out).CombinedOutput(); err != nil {
		tb.Fatalf("wat2wasm: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// diffSIMDModule runs every function of the module in both engines on
// fresh instances and compares errors, memory and the global.
func diffSIMDModule(tb testing.TB, ie, ce *interp.Engine, src string, n int) {
	tb.Helper()
	m, err := wbinary.Decode(watRelaxed(tb, src))
	if err != nil {
		tb.Fatal(err)
	}
	inst := func(e *interp.Engine) *store.Instance {
		em, err := e.Compile(m)
		if err != nil {
			tb.Fatal(err)
		}
		in, err := store.NewStore().Instantiate(m, "test", em.(*interp.Compiled).Code(), func(string, string) (store.Extern, bool) { return store.Extern{}, false })
		if err != nil {
			tb.Fatal(err)
		}
		return in
	}
	before, _ := ce.Counts()
	ii, ci := inst(ie), inst(ce)
	// Closing releases the memories' address-space reservations: a
	// fuzzing worker that kept them died after a few thousand inputs.
	defer ii.Close()
	defer ci.Close()
	if after, refused := ce.Counts(); after-before != int64(n) || refused != 0 {
		tb.Fatalf("compiled %d of %d functions (%d refused)", after-before, n, refused)
	}
	for i := range n {
		_, werr := ie.Call(context.Background(), ii.Funcs[i], nil)
		_, gerr := ce.Call(context.Background(), ci.Funcs[i], nil)
		fn := funcSource(src, i)
		if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			tb.Fatalf("f%d: interpreter %v, compiled %v\n%s", i, werr, gerr, fn)
		}
		if !bytes.Equal(ii.Memories[0].Buf, ci.Memories[0].Buf) {
			a, b := ii.Memories[0].Buf, ci.Memories[0].Buf
			k := 0
			for a[k] == b[k] {
				k++
			}
			k &^= 15
			tb.Fatalf("f%d: memory differs at %d: interpreter % x, compiled % x\n%s", i, k, a[k:k+16], b[k:k+16], fn)
		}
		if g, h := ii.Globals[0], ci.Globals[0]; g.Lo != h.Lo || g.Hi != h.Hi {
			tb.Fatalf("f%d: global: interpreter %#x %#x, compiled %#x %#x\n%s", i, g.Hi, g.Lo, h.Hi, h.Lo, fn)
		}
	}
}

// TestDifferentialSIMDSequences compares random v128 instruction
// sequences compiled and interpreted. FERRY_SIMD_ROUNDS raises the count
// (the acceptance run); go test -fuzz FuzzSIMDSequences explores seeds.
func TestDifferentialSIMDSequences(t *testing.T) {
	rounds := 12
	if s := os.Getenv("FERRY_SIMD_ROUNDS"); s != "" {
		fmt.Sscan(s, &rounds)
	}
	ie, ce := simdEngines(t, simdFeatures(t))
	for seed := range uint64(rounds) {
		g := &simdGen{r: rand.New(rand.NewPCG(seed, 0x51D)), relaxed: seed%2 == 1}
		diffSIMDModule(t, ie, ce, g.module(16), 16)
	}
}

func FuzzSIMDSequences(f *testing.F) {
	for s := range uint64(4) {
		f.Add(s, s%2 == 1)
	}
	// One pair of engines per process: each engine maps its own
	// executable memory, and a fuzzing worker runs thousands of inputs.
	ie, ce := simdEngines(f, simdFeatures(f))
	f.Fuzz(func(t *testing.T, seed uint64, relaxed bool) {
		g := &simdGen{r: rand.New(rand.NewPCG(seed, 0x51D)), relaxed: relaxed}
		diffSIMDModule(t, ie, ce, g.module(8), 8)
	})
}

// TestSIMDBaselineHasNoGoExits checks that under the SSE2 baseline only
// the ops documented as left to Go exit (docs/compiler.md "SIMD"): a
// lowering that silently falls back would pass every differential test.
func TestSIMDBaselineHasNoGoExits(t *testing.T) {
	src := `(module (memory 1)
	  (func (export "f") (param i32) (result i32)
	    (v128.store (i32.const 0)
	      (i32x4.add (i8x16.eq (v128.load (local.get 0)) (i8x16.splat (local.get 0)))
	        (f32x4.mul (f32x4.add (v128.load offset=16 (local.get 0)) (v128.load32_splat (local.get 0)))
	          (i32x4.dot_i16x8_s (v128.xor (v128.load (i32.const 32)) (v128.const i64x2 1 2)) (i32x4.mul (v128.load (i32.const 48)) (v128.load (i32.const 64)))))))
	    (i32.add (i8x16.bitmask (v128.load (i32.const 0)))
	      (i32.add (v128.any_true (v128.load (i32.const 16))) (i32x4.extract_lane 3 (i8x16.shuffle 0 17 2 19 4 21 6 23 8 25 10 27 12 29 14 31 (v128.load (i32.const 0)) (v128.load (i32.const 16))))))))`
	m := loadWat(t, src)
	idx, _ := m.exportedFunc("f")
	as, err := assemble(m.ir[idx], Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range as.sels {
		if s.Lowering == "go" {
			t.Errorf("op %#x exits to Go under the baseline", uint16(s.Op))
		}
	}
}

// TestSIMDLoweringsMatchPortable runs every natively lowered unary and
// binary op on edge and random lanes against internal/v128's portable
// implementation, bit for bit: a direct check per op that does not
// depend on the random trees reaching it.
func TestSIMDLoweringsMatchPortable(t *testing.T) {
	ie, ce := simdEngines(t, simdFeatures(t))
	r := rand.New(rand.NewPCG(7, 7))
	var b strings.Builder
	b.WriteString("(module (memory 1)\n")
	var names []string
	for _, op := range simdUnary {
		fmt.Fprintf(&b, " (func (export %q) (param i32) (v128.store offset=4096 (local.get 0) (%s (v128.load (local.get 0)))))\n", op, op)
		names = append(names, op)
	}
	for _, op := range simdBinary {
		fmt.Fprintf(&b, " (func (export %q) (param i32) (v128.store offset=4096 (local.get 0) (%s (v128.load (local.get 0)) (v128.load offset=512 (local.get 0)))))\n", op, op)
		names = append(names, op)
	}
	b.WriteString(")")
	m, err := wbinary.Decode(watRelaxed(t, b.String()))
	if err != nil {
		t.Fatal(err)
	}
	inst := func(e *interp.Engine) *store.Instance {
		em, err := e.Compile(m)
		if err != nil {
			t.Fatal(err)
		}
		in, err := store.NewStore().Instantiate(m, "test", em.(*interp.Compiled).Code(), func(string, string) (store.Extern, bool) { return store.Extern{}, false })
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	ii, ci := inst(ie), inst(ce)
	for _, in := range []*store.Instance{ii, ci} {
		buf := in.Memories[0].Buf
		rr := rand.New(rand.NewPCG(1, 1))
		for k := 0; k < 1024; k += 8 {
			var v uint64
			switch rr.IntN(3) {
			case 0:
				v = uint64(edge32(rr)) | uint64(edge32(rr))<<32
			case 1:
				v = edge64(rr)
			default:
				v = rr.Uint64()
			}
			// Half the second operands are near the first: equal, or
			// differing in one low bit, where wide compares must look at
			// the lower dwords.
			if k >= 512 && rr.IntN(2) == 0 {
				v = binary.LittleEndian.Uint64(buf[k-512:])
				if rr.IntN(3) != 0 {
					v ^= 1 << rr.IntN(40)
				}
			}
			binary.LittleEndian.PutUint64(buf[k:], v)
		}
	}
	for i, name := range names {
		for range 64 {
			at := uint64(16 * r.IntN(32))
			_, werr := ie.Call(context.Background(), ii.Funcs[i], []uint64{at})
			_, gerr := ce.Call(context.Background(), ci.Funcs[i], []uint64{at})
			if werr != nil || gerr != nil {
				t.Fatalf("%s: %v, %v", name, werr, gerr)
			}
			w, g := ii.Memories[0].Buf[4096+at:4096+at+16], ci.Memories[0].Buf[4096+at:4096+at+16]
			if !bytes.Equal(w, g) {
				x := ii.Memories[0].Buf[at : at+16]
				y := ii.Memories[0].Buf[at+512 : at+512+16]
				t.Errorf("%s(% x, % x): interpreter % x, compiled % x", name, x, y, w, g)
				break
			}
		}
	}
}

// TestSIMDCheckpointAnywhereAcrossMasks pauses the SIMD bench kernels in
// compiled code for the host's features at pause points spread over the
// run, carries the frames, memory and globals (what a checkpoint holds)
// to a fresh instance, and resumes them compiled for the x86-64-v1
// baseline, compiled for the host again and interpreted: every result
// must be the uninterrupted run's. (cmd/ferry's checkpoint files across
// qemu CPUs and arm64 are the same frames; docs/compiler.md "SIMD".)
func TestSIMDCheckpointAnywhereAcrossMasks(t *testing.T) {
	host := simdFeatures(t)
	base, err := cpu.Host().Mask("x86-64-v1")
	if err != nil {
		t.Fatal(err)
	}
	ie, ce := simdEngines(t, host)
	_, be := simdEngines(t, base)
	ctx := context.Background()
	for _, k := range []struct {
		name string
		arg  uint64
	}{{"simd_dot", 3}, {"simd_memchr", 1}, {"simd_hist", 1}, {"simd_matmul", 8}} {
		t.Run(k.name, func(t *testing.T) {
			bin, err := os.ReadFile(filepath.Join("..", "..", "bench", "kernels", k.name+".wasm"))
			if err != nil {
				t.Fatal(err)
			}
			m, err := wbinary.Decode(bin)
			if err != nil {
				t.Fatal(err)
			}
			inst := func(e *interp.Engine) *store.Instance {
				em, err := e.Compile(m)
				if err != nil {
					t.Fatal(err)
				}
				in, err := store.NewStore().Instantiate(m, "test", em.(*interp.Compiled).Code(), func(string, string) (store.Extern, bool) { return store.Extern{}, false })
				if err != nil {
					t.Fatal(err)
				}
				return in
			}
			run := uint32(0)
			for _, e := range m.Exports {
				if e.Name == "run" {
					run = e.Index
				}
			}
			first := inst(ce)
			want, err := ce.Call(ctx, first.Funcs[run], []uint64{k.arg})
			if err != nil {
				t.Fatal(err)
			}
			points := 0
			for n := int64(1); ; n = n*3 + 7 {
				src := inst(ce)
				_, err := ce.Counting(n).Call(ctx, src.Funcs[run], []uint64{k.arg})
				var s *interp.Suspended
				if !errors.As(err, &s) {
					break // the run ends before its n-th pause point
				}
				points++
				for name, e := range map[string]*interp.Engine{"x86-64-v1": be, "host": ce, "interp": ie} {
					dst := inst(e)
					if len(dst.Memories[0].Buf) != len(src.Memories[0].Buf) {
						t.Fatalf("memory grew: %d bytes, fresh %d", len(src.Memories[0].Buf), len(dst.Memories[0].Buf))
					}
					copy(dst.Memories[0].Buf, src.Memories[0].Buf)
					for i, g := range src.Globals {
						dst.Globals[i].Lo, dst.Globals[i].Hi = g.Lo, g.Hi
					}
					got, err := e.Resume(ctx, dst, s.Frames)
					if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("pause %d resumed on %s: %v, %v; uninterrupted %v", n, name, got, err, want)
					}
				}
			}
			if points < 3 {
				t.Fatalf("only %d pause points taken", points)
			}
			t.Logf("%s(%d): %d pause points, each resumed three ways", k.name, k.arg, points)
		})
	}
}

// TestSIMDCorruptIRIsRefused: a v128 operand past the frame or a shuffle
// mask index past the function's constants is an error wrapping
// ErrUnsupported, never code that touches the next frame, nor a panic.
func TestSIMDCorruptIRIsRefused(t *testing.T) {
	m := loadWat(t, `(module (func (export "f") (param v128 v128) (result v128)
	  (i8x16.shuffle 0 17 2 19 4 21 6 23 8 25 10 27 12 29 14 31
	    (i32x4.add (local.get 0) (local.get 1)) (local.get 1))))`)
	idx, _ := m.exportedFunc("f")
	f := m.ir[idx]
	if _, err := assemble(f, Options{}); err != nil {
		t.Fatalf("the intact function: %v", err)
	}
	for name, corrupt := range map[string]func(in *ir.Instr){
		"binary dst past the frame":   func(in *ir.Instr) { in.A = f.FrameSlots - 1 },
		"binary operand far away":     func(in *ir.Instr) { in.C = 1 << 30 },
		"shuffle mask index":          func(in *ir.Instr) { in.Imm = 99 },
		"shuffle operand at the edge": func(in *ir.Instr) { in.B = f.FrameSlots - 1 },
	} {
		g := *f
		g.Code = append([]ir.Instr(nil), f.Code...)
		done := false
		for i := range g.Code {
			op := g.Code[i].Op
			if (op == ir.V128Binary && strings.HasPrefix(name, "binary")) || (op == ir.V128Shuffle && strings.HasPrefix(name, "shuffle")) {
				corrupt(&g.Code[i])
				done = true
				break
			}
		}
		if !done {
			t.Fatalf("%s: no instruction to corrupt", name)
		}
		if _, err := assemble(&g, Options{}); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", name, err)
		}
	}
}

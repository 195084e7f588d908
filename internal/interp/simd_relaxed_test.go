package interp

import (
	"slices"
	"testing"

	"github.com/ferryvm/ferry/internal/builtins"
	"github.com/ferryvm/ferry/internal/cpu"
)

// loadRelaxed is load for a module using relaxed SIMD (wabt 1.0.32 spells
// the dot products i16x8.dot_i8x16_i7x16_s and i32x4.dot_i8x16_i7x16_add_s).
func loadRelaxed(tb testing.TB, src string) *testModule {
	tb.Helper()
	return load(tb, src, "--enable-relaxed-simd")
}

func bytesV(l ...int8) (lo, hi uint64) {
	var b [16]byte
	for i, v := range l {
		b[i] = byte(v)
	}
	for i := 7; i >= 0; i-- {
		lo, hi = lo<<8|uint64(b[i]), hi<<8|uint64(b[i+8])
	}
	return
}

func lanes16(l ...int16) [2]uint64 {
	var r [2]uint64
	for i, v := range l {
		r[i/4] |= uint64(uint16(v)) << (16 * (i % 4))
	}
	return r
}

func lanes32(l ...int32) [2]uint64 {
	var r [2]uint64
	for i, v := range l {
		r[i/2] |= uint64(uint32(v)) << (32 * (i % 2))
	}
	return r
}

// The cases of relaxed_dot_product.wast, which wast2json 1.0.32 cannot
// convert, run through the interpreter.
func TestRelaxedDotProduct(t *testing.T) {
	tm := loadRelaxed(t, `(module
    (func (export "dot") (param v128 v128) (result v128) (i16x8.dot_i8x16_i7x16_s (local.get 0) (local.get 1)))
    (func (export "dot_add") (param v128 v128 v128) (result v128) (i32x4.dot_i8x16_i7x16_add_s (local.get 0) (local.get 1) (local.get 2)))
    (func (export "dot_cmp") (param v128 v128) (result v128)
          (i16x8.eq (i16x8.dot_i8x16_i7x16_s (local.get 0) (local.get 1)) (i16x8.dot_i8x16_i7x16_s (local.get 0) (local.get 1))))
    (func (export "dot_add_cmp") (param v128 v128 v128) (result v128)
          (i16x8.eq (i32x4.dot_i8x16_i7x16_add_s (local.get 0) (local.get 1) (local.get 2))
                    (i32x4.dot_i8x16_i7x16_add_s (local.get 0) (local.get 1) (local.get 2)))))`)
	e := NewEngine(Config{})
	inst := tm.instance(t, nil)
	call := func(name string, args ...uint64) [2]uint64 {
		t.Helper()
		r, err := invoke(t, e, inst, name, args...)
		if err != nil || len(r) != 2 {
			t.Fatalf("%s: %v %v", name, r, err)
		}
		return [2]uint64{r[0], r[1]}
	}
	sl, sh := bytesV(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
	al, ah := bytesV(-128, -128, 127, 127)
	bl, bh := bytesV(127, 127, 127, 127)
	cl, ch := bytesV(-128, -128)
	dl, dh := bytesV(-127, -127)
	el, eh := bytesV(-128, -128, -128, -128, 127, 127, 127, 127)
	fl, fh := bytesV(127, 127, 127, 127, 127, 127, 127, 127)
	gl, gh := bytesV(-128, -128, -128, -128)
	hl, hh := bytesV(-127, -127, -127, -127)
	c0123, c1234 := lanes32(0, 1, 2, 3), lanes32(1, 2, 3, 4)
	ones := [2]uint64{^uint64(0), ^uint64(0)}
	cases := []struct {
		name   string
		args   []uint64
		either [][2]uint64
	}{
		{"dot", []uint64{sl, sh, sl, sh}, [][2]uint64{lanes16(1, 13, 41, 85, 145, 221, 313, 421)}},
		{"dot", []uint64{al, ah, bl, bh}, [][2]uint64{lanes16(-32512, 32258)}},
		{"dot", []uint64{cl, ch, dl, dh}, [][2]uint64{lanes16(-32768), lanes16(32512), lanes16(-32512)}}, // 33024 wraps to -32512
		{"dot_add", []uint64{sl, sh, sl, sh, c0123[0], c0123[1]}, [][2]uint64{lanes32(14, 127, 368, 737)}},
		{"dot_add", []uint64{el, eh, fl, fh, c1234[0], c1234[1]}, [][2]uint64{lanes32(-65023, 64518, 3, 4)}},
		{"dot_add", []uint64{gl, gh, hl, hh, c1234[0], c1234[1]},
			[][2]uint64{lanes32(-66047, 2, 3, 4), lanes32(-65535, 2, 3, 4), lanes32(65025, 2, 3, 4), lanes32(66049, 2, 3, 4)}},
		{"dot_cmp", []uint64{al, ah, bl, bh}, [][2]uint64{ones}},
		{"dot_add_cmp", []uint64{el, eh, fl, fh, c1234[0], c1234[1]}, [][2]uint64{ones}},
		{"dot_cmp", []uint64{cl, ch, dl, dh}, [][2]uint64{ones}},
		{"dot_add_cmp", []uint64{gl, gh, hl, hh, c1234[0], c1234[1]}, [][2]uint64{ones}},
	}
	for i, c := range cases {
		if got := call(c.name, c.args...); !slices.Contains(c.either, got) {
			t.Errorf("case %d %s: %x, want one of %x", i, c.name, got, c.either)
		}
	}
}

// A relaxed result computed before an engine's callsite table moves
// to other CPU features (what a restore under another mask does) equals
// the one computed after: the semantic decisions are kept.
func TestRelaxedKeptAcrossMasks(t *testing.T) {
	tm := loadRelaxed(t, `(module
  (func (export "run") (result v128 v128 v128 v128 v128 v128)
    (f32x4.relaxed_madd (v128.const f32x4 0x1.000004p+0 0x1.000004p+0 0x1.000004p+0 0x1.000004p+0)
                        (v128.const f32x4 0x1.0002p+0 0x1.0002p+0 0x1.0002p+0 0x1.0002p+0)
                        (v128.const f32x4 -0x1.000204p+0 -0x1.000204p+0 -0x1.000204p+0 -0x1.000204p+0))
    (f64x2.relaxed_nmadd (v128.const f64x2 -0x1.00000004p+0 -0x1.00000004p+0)
                         (v128.const f64x2 0x1.000002p+0 0x1.000002p+0)
                         (v128.const f64x2 -0x1.00000204p+0 -0x1.00000204p+0))
    (i8x16.relaxed_swizzle (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
                           (v128.const i8x16 0x80 0x11 0x7f 3 4 5 6 7 8 9 10 11 12 13 14 15))
    (i16x8.relaxed_q15mulr_s (v128.const i16x8 -32768 1 2 3 4 5 6 7) (v128.const i16x8 -32768 1 2 3 4 5 6 7))
    (f32x4.relaxed_min (v128.const f32x4 nan 0 -0 1) (v128.const f32x4 0 nan 0 2))
    (i32x4.relaxed_trunc_f32x4_u (v128.const f32x4 nan -1 5e9 3.5))))`)
	host := cpu.Host()
	bt := NewBuiltins(host)
	e := NewEngine(Config{Builtins: bt})
	semantics := func() map[string]string {
		m := map[string]string{}
		for _, d := range bt.Callsites().Decisions() {
			if d.Semantic {
				m[d.Builtin] = d.Semantics
			}
		}
		return m
	}
	var results [][]uint64
	var sems []map[string]string
	for _, mask := range []string{"native", "baseline", "native"} {
		f, err := host.Mask(mask)
		if err != nil {
			t.Fatal(err)
		}
		changes, err := bt.Callsites().Reresolve(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := invoke(t, e, tm.instance(t, nil), "run")
		if err != nil {
			t.Fatal(err)
		}
		results, sems = append(results, r), append(sems, semantics())
		t.Logf("%s: %x, changes %v", mask, r, changes)
	}
	for _, name := range []string{"f32x4.relaxed_madd", "f64x2.relaxed_nmadd", "i8x16.relaxed_swizzle",
		"i16x8.relaxed_q15mulr_s", "f32x4.relaxed_min", "i32x4.relaxed_trunc_f32x4_u"} {
		if sems[0][name] == "" {
			t.Errorf("no semantic decision recorded for %s", name)
		}
		for i := range sems {
			if sems[i][name] != sems[0][name] {
				t.Errorf("%s: semantics %q after a mask change, %q before", name, sems[i][name], sems[0][name])
			}
		}
	}
	for i := range results {
		if !slices.Equal(results[i], results[0]) {
			t.Errorf("run %d: %x, first %x", i, results[i], results[0])
		}
	}
	// The madd results are the fused ones (2^-37, 2^-53) or the unfused
	// ones (0), as decided.
	fused := sems[0]["f32x4.relaxed_madd"] == builtins.SemFused
	if want := uint64(0); fused != (results[0][0] != want) || fused != (results[0][2] != want) {
		t.Errorf("madd %x / nmadd %x do not match decision %q", results[0][:2], results[0][2:4], sems[0]["f32x4.relaxed_madd"])
	}
}

package interp

import (
	"runtime"
	"slices"
	"testing"

	"github.com/ferryvm/ferry/internal/builtins"
	"github.com/ferryvm/ferry/internal/cpu"
)

// The interpreter reaches the SIMD kernels and memory.fill through its
// callsite table: a program gives the same results before and after the
// table is re-resolved for the baseline, the decisions are recorded, and
// the change report names what moved.
func TestCallsitesReresolve(t *testing.T) {
	tm := load(t, `(module
  (memory 1)
  (func (export "run") (param $v i32) (result i64 i64 i32)
    (local $x v128)
    (memory.fill (i32.const 7) (local.get $v) (i32.const 3000))
    (local.set $x
      (f64x2.nearest
        (i8x16.shuffle 0 17 2 19 4 21 6 23 8 25 10 27 12 29 14 31
          (i8x16.popcnt
            (i32x4.add
              (i8x16.swizzle (v128.load (i32.const 0)) (v128.const i8x16 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0))
              (f32x4.ceil (v128.const f32x4 1.5 -0.5 nan 2.25))))
          (v128.const i64x2 -1 3))))
    (i64x2.extract_lane 0 (local.get $x))
    (i64x2.extract_lane 1 (local.get $x))
    (i32.add (i8x16.bitmask (local.get $x))
      (i32.add (i32.load8_u (i32.const 3006)) (i32.load8_u (i32.const 3007))))))`)
	host := cpu.Host()
	bt := NewBuiltins(host)
	e := NewEngine(Config{Builtins: bt})
	var results [][]uint64
	masks := []string{"native", "baseline", "native"}
	for i, mask := range masks {
		f, err := host.Mask(mask)
		if err != nil {
			t.Fatal(err)
		}
		changes, err := bt.Callsites().Reresolve(f)
		if err != nil {
			t.Fatal(err)
		}
		inst := tm.instance(t, nil)
		r, err := invoke(t, e, inst, "run", 0x5a)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, r)
		got := map[string]builtins.Decision{}
		for _, d := range bt.Callsites().Decisions() {
			got[d.Builtin] = d
			for _, name := range d.Features {
				if ft, ok := cpu.Lookup(f.Arch(), name); !ok || !f.Has(ft) {
					t.Errorf("mask %s: %s/%s relies on %s", mask, d.Builtin, d.Impl, name)
				}
			}
		}
		for _, name := range []string{"memory.fill", "i8x16.swizzle", "f32x4.ceil", "i8x16.popcnt", "i8x16.shuffle", "f64x2.nearest", "i8x16.bitmask"} {
			if _, ok := got[name]; !ok {
				t.Errorf("mask %s: no decision recorded for %s", mask, name)
			}
		}
		if i == 1 && (runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64") {
			// native -> baseline: at least the rounding kernel (SSE4.1 is
			// above x86-64-v1; on arm64 NEON stays) or the swizzle changed.
			if runtime.GOARCH == "amd64" && host.Has(cpu.X86SSE41) && !slices.ContainsFunc(changes, func(c builtins.Change) bool { return c.To.Builtin == "f32x4.ceil" && c.To.Impl == "portable" }) {
				t.Errorf("native -> baseline changes %v lack f32x4.ceil -> portable", changes)
			}
		}
		t.Logf("%s: %d changes %v", mask, len(changes), changes)
	}
	for i := 1; i < len(results); i++ {
		if !slices.Equal(results[i], results[0]) {
			t.Errorf("mask %s: %x, native %x", masks[i], results[i], results[0])
		}
	}
}

// BenchmarkCallsites runs SIMD and memory.fill loops with the host's
// kernels and with the baseline's (mostly portable) ones.
func BenchmarkCallsites(b *testing.B) {
	tm := load(b, `(module
  (memory 1)
  (func (export "simd") (param $n i32) (result i64)
    (local $x v128)
    (local.set $x (v128.const f32x4 1.25 -2.5 3.75 4.5))
    (loop $l
      (local.set $x (f32x4.add (f32x4.ceil (local.get $x)) (v128.const f32x4 0.25 0.25 0.25 0.25)))
      (local.set $x (i8x16.swizzle (local.get $x) (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (i64x2.extract_lane 0 (local.get $x)))
  (func (export "fill") (param $n i32) (result i32)
    (loop $l
      (memory.fill (i32.const 0) (local.get $n) (i32.const 4096))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (i32.load8_u (i32.const 4095))))`)
	inst := tm.instance(b, nil)
	host := cpu.Host()
	for _, mask := range []string{"native", "baseline"} {
		f, _ := host.Mask(mask)
		e := NewEngine(Config{Builtins: NewBuiltins(f)})
		for _, fn := range []string{"simd", "fill"} {
			b.Run(fn+"/"+mask, func(b *testing.B) {
				// Thread CPU time as well: on a shared machine it varies
				// much less than wall time.
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				start := threadCPU()
				for b.Loop() {
					if _, err := invoke(b, e, inst, fn, 1000); err != nil {
						b.Fatal(err)
					}
				}
				if start != 0 {
					b.ReportMetric(float64(threadCPU()-start)/float64(b.N), "cpu-ns/op")
				}
			})
		}
	}
}

// Engines with tables of their own decide for their own features, and
// re-resolving one table leaves the other engine's decisions alone: there
// is no process-wide table any more.
func TestEnginesKeepTheirOwnBuiltins(t *testing.T) {
	tm := load(t, `(module
  (func (export "run") (result i64)
    (i64x2.extract_lane 0 (f32x4.ceil (v128.const f32x4 1.5 -0.5 2.25 3.0)))))`)
	host := cpu.Host()
	base, err := host.Mask("baseline")
	if err != nil {
		t.Fatal(err)
	}
	var want builtins.Descriptor
	for _, d := range builtins.All() {
		if d.BuiltinName() == "f32x4.ceil" {
			want = d
		}
	}
	if want == nil || want.Decide(host).Same(want.Decide(base)) {
		t.Skip("this CPU decides f32x4.ceil as the baseline does")
	}
	bh, bb := NewBuiltins(host), NewBuiltins(base)
	eh, eb := NewEngine(Config{Builtins: bh}), NewEngine(Config{Builtins: bb})
	decided := func(b *Builtins) builtins.Decision {
		for _, d := range b.Callsites().Decisions() {
			if d.Builtin == "f32x4.ceil" {
				return d
			}
		}
		return builtins.Decision{}
	}
	for _, e := range []*Engine{eh, eb} {
		if _, err := invoke(t, e, tm.instance(t, nil), "run"); err != nil {
			t.Fatal(err)
		}
	}
	if d := decided(bh); !d.Same(want.Decide(host)) {
		t.Errorf("host engine decided %+v, want %+v", d, want.Decide(host))
	}
	if d := decided(bb); !d.Same(want.Decide(base)) {
		t.Errorf("baseline engine decided %+v, want %+v", d, want.Decide(base))
	}
	if _, err := bb.Callsites().Reresolve(host); err != nil {
		t.Fatal(err)
	}
	if _, err := bh.Callsites().Reresolve(base); err != nil {
		t.Fatal(err)
	}
	if d := decided(bb); !d.Same(want.Decide(host)) {
		t.Errorf("after the swap, the first table decided %+v", d)
	}
	if d := decided(bh); !d.Same(want.Decide(base)) {
		t.Errorf("after the swap, the second table decided %+v", d)
	}
}

package builtins

import (
	"bytes"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/v128"
)

// runnable returns b's implementations this CPU can execute, the portable
// reference excluded (it is what they are compared with).
func runnable[F any](b *Builtin[F]) []Impl[F] {
	rs := b.Runnable(cpu.Host())
	return rs[:len(rs)-1]
}

func portable[F any](b *Builtin[F]) F { return b.Impls[len(b.Impls)-1].Fn }

func TestEveryBuiltinEndsWithPortable(t *testing.T) {
	for _, d := range All() {
		names := d.ImplNames()
		if !d.IsSemantic() && names[len(names)-1] != "portable" { // semantic: TestRelaxedEverySemanticsPortable
			t.Errorf("%s: last implementation %q", d.BuiltinName(), names[len(names)-1])
		}
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] {
				t.Errorf("%s: duplicate implementation %q", d.BuiltinName(), n)
			}
			seen[n] = true
		}
		if got := d.Decide(cpu.New(cpu.Host().Arch(), cpu.Set{})); got.Impl != "portable" && len(got.Features) != 0 {
			t.Errorf("%s: no features still selects %s", d.BuiltinName(), got.Impl)
		}
	}
}

// sizes are the lengths every memory kernel is tried at: each tail length
// around the kernels' block sizes, and pages.
var sizes = func() []int {
	var s []int
	for n := 0; n <= 300; n++ {
		s = append(s, n)
	}
	return append(s, 511, 512, 513, 1023, 4095, 4096, 4097, 8192+63, 65536)
}()

func TestMemoryFill(t *testing.T) {
	for _, im := range runnable(MemoryFill) {
		for _, n := range sizes {
			for _, off := range []int{0, 1, 7, 31} {
				v := byte(n*7 + off + 1)
				if n%5 == 0 {
					v = 0
				}
				want := make([]byte, n+off+40)
				for i := range want {
					want[i] = byte(i)
				}
				got := bytes.Clone(want)
				FillPortable(want[off:off+n], v)
				im.Fn(got[off:off+n], v)
				if !bytes.Equal(got, want) {
					t.Fatalf("%s: fill n=%d off=%d v=%#x differs (or wrote outside dst)", im.Name, n, off, v)
				}
			}
		}
	}
}

func TestMemoryCopy(t *testing.T) {
	for _, im := range runnable(MemoryCopy) {
		for _, n := range sizes {
			for _, shift := range []int{-33, -1, 0, 1, 17, 64} { // overlapping both ways, and not
				base := 100
				buf := make([]byte, n+300)
				for i := range buf {
					buf[i] = byte(i * 13)
				}
				want := bytes.Clone(buf)
				CopyPortable(want[base+shift:base+shift+n], want[base:base+n])
				im.Fn(buf[base+shift:base+shift+n], buf[base:base+n])
				if !bytes.Equal(buf, want) {
					t.Fatalf("%s: copy n=%d shift=%d differs", im.Name, n, shift)
				}
			}
		}
	}
}

func TestPageIsZero(t *testing.T) {
	if !IsZeroPortable(make([]byte, PageSize)) || IsZeroPortable(append(make([]byte, 99), 1)) {
		t.Fatal("portable reference is wrong")
	}
	for _, im := range runnable(PageIsZero) {
		for _, n := range sizes {
			p := make([]byte, n+1)[1:] // unaligned
			if got := im.Fn(p); !got {
				t.Fatalf("%s: zero n=%d reported non-zero", im.Name, n)
			}
			for i := 0; i < n; i += max(1, n/37) {
				for _, bit := range []byte{1, 0x80} {
					p[i] = bit
					if im.Fn(p) {
						t.Fatalf("%s: n=%d byte %d=%#x reported zero", im.Name, n, i, bit)
					}
					p[i] = 0
				}
			}
			if n > 0 {
				p[n-1] = 1
				if im.Fn(p) {
					t.Fatalf("%s: n=%d last byte set reported zero", im.Name, n)
				}
			}
		}
	}
}

func TestCRC32C(t *testing.T) {
	tab := crc32.MakeTable(crc32.Castagnoli)
	rng := rand.New(rand.NewPCG(1, 2))
	impls := append(runnable(CRC32C), Impl[CRC32CFunc]{Name: "portable", Fn: CRC32CPortable})
	for _, im := range impls {
		for _, n := range sizes {
			p := make([]byte, n)
			for i := range p {
				p[i] = byte(rng.Uint32())
			}
			for _, seed := range []uint32{0, 0xffffffff, rng.Uint32()} {
				// hash/crc32 is an independent oracle for the reference too.
				if got, want := im.Fn(seed, p), crc32.Update(seed, tab, p); got != want {
					t.Fatalf("%s: n=%d seed=%#x: %#x, want %#x", im.Name, n, seed, got, want)
				}
			}
		}
	}
}

// edge128 are vectors mixing the edge lanes of every shape.
func edge128() []v128.V128 {
	f32 := []uint32{0, 0x80000000, 0x3f000000, 0xbf000000, 0x3fc00000, 0xbfc00000, 0x40200000, 0x4b000000, 0x4b7fffff,
		0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001, 0x7fbfffff, 0x00000001, 0x7f7fffff, 0xcb000001, 0x3effffff}
	f64 := []uint64{0, 1 << 63, math.Float64bits(0.5), math.Float64bits(-0.5), math.Float64bits(1.5), math.Float64bits(-2.5),
		math.Float64bits(1 << 52), math.Float64bits(1<<52 + 1), math.Float64bits(-(1<<53 - 1)), 0x7ff0000000000000,
		0xfff0000000000000, 0x7ff8000000000000, 0xfff8000000000001, 0x7ff0000000000001, 1, math.Float64bits(math.MaxFloat64),
		math.Float64bits(0.49999999999999994)}
	var out []v128.V128
	for i := range f32 {
		for j := range f32 {
			out = append(out, v128.V128{Lo: uint64(f32[i]) | uint64(f32[j])<<32, Hi: uint64(f32[j]) | uint64(f32[(i+j)%len(f32)])<<32})
		}
	}
	for i := range f64 {
		for j := range f64 {
			out = append(out, v128.V128{Lo: f64[i], Hi: f64[j]})
		}
	}
	// Byte patterns: every index value for swizzle/shuffle masks, and
	// high-bit bytes for bitmask/popcnt.
	for b := 0; b < 256; b += 1 {
		x := uint64(b) * 0x0101010101010101
		out = append(out, v128.V128{Lo: x, Hi: x ^ 0x8040201008040201})
		out = append(out, v128.V128{Lo: x + 0x0706050403020100, Hi: x + 0x0f0e0d0c0b0a0908})
	}
	return out
}

func random128(rng *rand.Rand, n int) []v128.V128 {
	out := make([]v128.V128, n)
	for i := range out {
		out[i] = v128.V128{Lo: rng.Uint64(), Hi: rng.Uint64()}
	}
	return out
}

// shuffleMask forces every index of m below 32, as validation does.
func shuffleMask(m v128.V128) v128.V128 {
	return v128.V128{Lo: m.Lo & 0x1f1f1f1f1f1f1f1f, Hi: m.Hi & 0x1f1f1f1f1f1f1f1f}
}

// checkV128 runs every runnable implementation of every V128 op on xs
// (operands taken pairwise and in triples) against the reference.
func checkV128(t *testing.T, xs []v128.V128) {
	t.Helper()
	for _, op := range V128 {
		switch {
		case op.Unary != nil:
			ref := portable(op.Unary)
			for _, im := range runnable(op.Unary) {
				for _, x := range xs {
					if got, want := im.Fn(x), ref(x); got != want {
						t.Fatalf("%s/%s(%016x_%016x) = %016x_%016x, want %016x_%016x", op.Unary.Name, im.Name, x.Hi, x.Lo, got.Hi, got.Lo, want.Hi, want.Lo)
					}
				}
			}
		case op.Binary != nil:
			ref := portable(op.Binary)
			for _, im := range runnable(op.Binary) {
				for i, x := range xs {
					y := xs[(i*7+3)%len(xs)]
					if got, want := im.Fn(x, y), ref(x, y); got != want {
						t.Fatalf("%s/%s(%x, %x) = %x, want %x", op.Binary.Name, im.Name, x, y, got, want)
					}
				}
			}
		case op.Ternary != nil:
			ref := portable(op.Ternary)
			for _, im := range runnable(op.Ternary) {
				for i, x := range xs {
					y, m := xs[(i*7+3)%len(xs)], shuffleMask(xs[(i*13+5)%len(xs)])
					if got, want := im.Fn(x, y, m), ref(x, y, m); got != want {
						t.Fatalf("%s/%s(%x, %x, %x) = %x, want %x", op.Ternary.Name, im.Name, x, y, m, got, want)
					}
				}
			}
		case op.Test != nil:
			ref := portable(op.Test)
			for _, im := range runnable(op.Test) {
				for _, x := range xs {
					if got, want := im.Fn(x), ref(x); got != want {
						t.Fatalf("%s/%s(%x) = %#x, want %#x", op.Test.Name, im.Name, x, got, want)
					}
				}
			}
		}
	}
}

func TestV128(t *testing.T) {
	checkV128(t, edge128())
	checkV128(t, random128(rand.New(rand.NewPCG(3, 4)), 20000))
}

// The builtins are installed in place of the v128 table's entries, so the
// reference each is compared with must be that table's entry.
func TestV128ReferenceIsTheTableEntry(t *testing.T) {
	tab := v128.Portable()
	x, y := v128.V128{Lo: 0x0123456789abcdef, Hi: 0xfedcba9876543210}, v128.V128{Lo: 0x1f0e1d0c1b0a1908, Hi: 0x0f1e0d1c0b1a0918}
	for _, op := range V128 {
		s := v128.Sub(op.Op)
		switch {
		case op.Unary != nil:
			if tab.Unary[s](x) != portable(op.Unary)(x) {
				t.Errorf("%s: reference differs from the table", op.Unary.Name)
			}
		case op.Binary != nil:
			if tab.Binary[s](x, y) != portable(op.Binary)(x, y) {
				t.Errorf("%s: reference differs from the table", op.Binary.Name)
			}
		case op.Ternary != nil:
			if tab.Ternary[s](x, y, y) != portable(op.Ternary)(x, y, y) {
				t.Errorf("%s: reference differs from the table", op.Ternary.Name)
			}
		case op.Test != nil:
			if tab.Test[s](x) != portable(op.Test)(x) {
				t.Errorf("%s: reference differs from the table", op.Test.Name)
			}
		}
	}
}

// TestV128EdgePairs runs the binary ops on every pair of vectors made of
// integer edge lanes (splats and mixes), so that e.g. -32768 * -32768
// meets itself in q15mulr and saturating narrows see every bound.
func TestV128EdgePairs(t *testing.T) {
	i16 := []uint64{0x8000, 0x7fff, 0xffff, 0, 1, 0x4000, 0xc000, 0x8001, 0x00ff, 0x0100, 0xff80, 0x007f}
	i32 := []uint64{0x80000000, 0x7fffffff, 0xffffffff, 0, 0xffff, 0x10000, 0xffff8000, 0x8000}
	var xs []v128.V128
	for _, a := range i16 {
		for _, b := range i16[:4] {
			lo := a | b<<16 | a<<32 | b<<48
			xs = append(xs, v128.V128{Lo: lo, Hi: lo})
		}
	}
	for _, a := range i32 {
		for _, b := range i32[:4] {
			xs = append(xs, v128.V128{Lo: a | b<<32, Hi: b | a<<32})
		}
	}
	for _, op := range V128 {
		if op.Binary == nil {
			continue
		}
		ref := portable(op.Binary)
		for _, im := range runnable(op.Binary) {
			for _, x := range xs {
				for _, y := range xs {
					if got, want := im.Fn(x, y), ref(x, y); got != want {
						t.Fatalf("%s/%s(%x, %x) = %x, want %x", op.Binary.Name, im.Name, x, y, got, want)
					}
				}
			}
		}
	}
}

package builtins

import (
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/v128"
)

var benchSizes = []int{16, 64, 256, 1024, 4096, 65536, 1 << 18, 1 << 20}

// every implementation this CPU can run, the reference included.
func benchImpls[F any](b *Builtin[F]) []Impl[F] { return b.Runnable(cpu.Host()) }

func BenchmarkMemoryFill(b *testing.B) {
	impls := append(benchImpls(MemoryFill), Impl[FillFunc]{Name: "byteloop", Fn: FillLoop})
	for _, n := range benchSizes {
		buf := make([]byte, n)
		for _, im := range impls {
			b.Run(fmt.Sprintf("%s/%d", im.Name, n), func(b *testing.B) {
				b.SetBytes(int64(n))
				for b.Loop() {
					im.Fn(buf, 0x5a)
				}
			})
		}
	}
}

func BenchmarkMemoryCopy(b *testing.B) {
	for _, n := range benchSizes {
		src, dst := make([]byte, n), make([]byte, n)
		for _, im := range benchImpls(MemoryCopy) {
			b.Run(fmt.Sprintf("%s/%d", im.Name, n), func(b *testing.B) {
				b.SetBytes(int64(n))
				for b.Loop() {
					im.Fn(dst, src)
				}
			})
		}
	}
}

func BenchmarkPageIsZero(b *testing.B) {
	page := make([]byte, PageSize)
	for _, im := range benchImpls(PageIsZero) {
		b.Run(im.Name, func(b *testing.B) {
			b.SetBytes(PageSize)
			for b.Loop() {
				if !im.Fn(page) {
					b.Fatal("not zero")
				}
			}
		})
	}
}

func BenchmarkCRC32C(b *testing.B) {
	tab := crc32.MakeTable(crc32.Castagnoli)
	impls := append(benchImpls(CRC32C), Impl[CRC32CFunc]{Name: "hash-crc32", Fn: func(c uint32, p []byte) uint32 { return crc32.Update(c, tab, p) }})
	for _, n := range []int{64, 4096, 1 << 20} {
		p := make([]byte, n)
		for _, im := range impls {
			b.Run(fmt.Sprintf("%s/%d", im.Name, n), func(b *testing.B) {
				b.SetBytes(int64(n))
				for b.Loop() {
					im.Fn(0, p)
				}
			})
		}
	}
}

var sink128 v128.V128
var sink32 uint32

func BenchmarkV128(b *testing.B) {
	x, y, m := v128.V128{Lo: 0x3fc000004b000001, Hi: 0xbf8ccccd40200000}, v128.V128{Lo: 0x0706050403020100, Hi: 0x1f1e1d1c1b1a1918}, v128.V128{Lo: 0x1f0e1d0c1b0a1908, Hi: 0x0011021303150417}
	for _, op := range V128 {
		switch {
		case op.Unary != nil:
			for _, im := range benchImpls(op.Unary) {
				b.Run(op.Unary.Name+"/"+im.Name, func(b *testing.B) {
					for b.Loop() {
						sink128 = im.Fn(x)
					}
				})
			}
		case op.Binary != nil:
			for _, im := range benchImpls(op.Binary) {
				b.Run(op.Binary.Name+"/"+im.Name, func(b *testing.B) {
					for b.Loop() {
						sink128 = im.Fn(x, y)
					}
				})
			}
		case op.Ternary != nil:
			for _, im := range benchImpls(op.Ternary) {
				b.Run(op.Ternary.Name+"/"+im.Name, func(b *testing.B) {
					for b.Loop() {
						sink128 = im.Fn(x, y, m)
					}
				})
			}
		case op.Test != nil:
			for _, im := range benchImpls(op.Test) {
				b.Run(op.Test.Name+"/"+im.Name, func(b *testing.B) {
					for b.Loop() {
						sink32 = im.Fn(x)
					}
				})
			}
		}
	}
}

// BenchmarkSlotCall is the cost of calling through a resolved slot against
// calling the implementation directly.
func BenchmarkSlotCall(b *testing.B) {
	tab := NewCallsiteTable(cpu.Host())
	s := Bind(tab, V128[0].Binary)
	x, y := v128.V128{Lo: 1}, v128.V128{Hi: 2}
	s.Func()(x, y) // resolve
	direct := s.Func()
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			sink128 = direct(x, y)
		}
	})
	b.Run("slot", func(b *testing.B) {
		for b.Loop() {
			sink128 = s.Func()(x, y)
		}
	})
}

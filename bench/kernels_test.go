package bench

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/tetratelabs/wazero"
)

// The recorded checksums are pinned against Go reimplementations where Go
// computes the same thing exactly (matmul and vm have no such reference:
// their checksums are pinned by the runtimes agreeing).

func xorshift32(s *uint32) uint32 {
	x := *s
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	*s = x
	return x
}

func kernel(t *testing.T, name string) Kernel {
	t.Helper()
	ks, err := Kernels()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ks {
		if k.Name == name {
			return k
		}
	}
	t.Fatalf("no kernel %s", name)
	return Kernel{}
}

func TestReferenceFib(t *testing.T) {
	a, b := uint32(0), uint32(1)
	for i := uint64(0); i < kernel(t, "fib").Arg; i++ {
		a, b = b, a+b
	}
	if want := kernel(t, "fib").Want; a != want {
		t.Fatalf("fib: Go gives %d, table says %d", a, want)
	}
}

func TestReferenceSieve(t *testing.T) {
	n := int(kernel(t, "sieve").Arg)
	comp := make([]bool, n+1)
	count := uint32(0)
	for i := 2; i <= n; i++ {
		if !comp[i] {
			count++
			for j := 2 * i; j <= n; j += i {
				comp[j] = true
			}
		}
	}
	if want := kernel(t, "sieve").Want; count != want {
		t.Fatalf("sieve: Go gives %d, table says %d", count, want)
	}
}

func TestReferenceSort(t *testing.T) {
	n := int(kernel(t, "sort").Arg)
	seed := uint32(2463534242)
	v := make([]int32, n)
	for i := range v {
		v[i] = int32(xorshift32(&seed))
	}
	slices.Sort(v)
	sum := uint32(0)
	for _, x := range v {
		sum = sum*31 + uint32(x)
	}
	if want := kernel(t, "sort").Want; sum != want {
		t.Fatalf("sort: Go gives %#x, table says %#x", sum, want)
	}
}

func TestReferenceSHA256(t *testing.T) {
	k := kernel(t, "sha256")
	seed := uint32(0x9e3779b9)
	buf := make([]byte, k.Arg)
	for i := range buf {
		buf[i] = byte(xorshift32(&seed))
	}
	sum := sha256.Sum256(buf)
	if got := binary.BigEndian.Uint32(sum[:]); got != k.Want {
		t.Fatalf("sha256: Go gives %#x, table says %#x", got, k.Want)
	}

	// Full digests of awkward lengths (padding into a second block) through
	// the kernel's hash export, under wazero's compiler.
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	defer r.Close(ctx)
	mod, err := r.Instantiate(ctx, k.Wasm)
	if err != nil {
		t.Fatal(err)
	}
	bufPtr, _ := mod.ExportedFunction("buf_ptr").Call(ctx)
	digestPtr, _ := mod.ExportedFunction("digest_ptr").Call(ctx)
	for _, n := range []int{0, 3, 55, 56, 63, 64, 65, 119, 120, 1000} {
		msg := buf[:n]
		if !mod.Memory().Write(uint32(bufPtr[0]), msg) {
			t.Fatal("write")
		}
		if _, err := mod.ExportedFunction("hash").Call(ctx, bufPtr[0], uint64(n)); err != nil {
			t.Fatal(err)
		}
		got, _ := mod.Memory().Read(uint32(digestPtr[0]), 32)
		if want := sha256.Sum256(msg); string(got) != string(want[:]) {
			t.Errorf("sha256 of %d bytes: kernel %x, Go %x", n, got, want)
		}
	}
}

func simdKernel(t *testing.T, name string) Kernel {
	t.Helper()
	ks, err := SIMDKernels()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ks {
		if k.Name == name {
			return k
		}
	}
	t.Fatalf("no SIMD kernel %s", name)
	return Kernel{}
}

func TestReferenceSIMDDot(t *testing.T) {
	k := simdKernel(t, "simd_dot")
	const n = 32768
	a, b := make([]int16, n), make([]int16, n)
	seed := uint32(0x1234567)
	for i := range a {
		x := xorshift32(&seed)
		a[i], b[i] = int16(x), int16(x>>16)
	}
	h := uint32(0)
	for pass := uint32(0); pass < uint32(k.Arg); pass++ {
		s := uint32(0)
		for i := range a {
			s += uint32(int32(a[i]) * int32(b[i]))
		}
		b[(pass*7919)%n] = int16(s)
		h = (h ^ s) * 16777619
	}
	if h != k.Want {
		t.Fatalf("simd_dot: Go gives %#x, table says %#x", h, k.Want)
	}
}

func TestReferenceSIMDMemchr(t *testing.T) {
	k := simdKernel(t, "simd_memchr")
	const n = 65536
	text := make([]byte, n)
	seed := uint32(0xdeadbeef)
	for i := range text {
		x := xorshift32(&seed)
		if x%97 == 0 {
			text[i] = '\n'
		} else {
			text[i] = byte('a' + x%26)
		}
	}
	h := uint32(2166136261)
	for pass := uint32(0); pass < uint32(k.Arg); pass++ {
		p := (pass * 4099) % n
		if text[p] == '\n' {
			text[p] = 'x'
		} else {
			text[p] = '\n'
		}
		start := uint32(0)
		for i, c := range text {
			if c == '\n' {
				h = (h ^ (uint32(i) - start)) * 16777619
				start = uint32(i) + 1
			}
		}
		h = (h ^ (n - start)) * 16777619
	}
	if h != k.Want {
		t.Fatalf("simd_memchr: Go gives %#x, table says %#x", h, k.Want)
	}
}

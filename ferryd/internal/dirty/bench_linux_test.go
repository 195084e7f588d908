//go:build linux

package dirty

import (
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkFirstWrite is the cost a tracked program pays: the first write
// to each page in a round (a minor fault the kernel resolves); later
// writes to the page in that round cost nothing.
func BenchmarkFirstWrite(b *testing.B) {
	if err := Available(); err != nil {
		b.Skip(err)
	}
	const pages = 16384 // 64 MiB
	mem, err := unix.Mmap(-1, 0, pages*PageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_NORESERVE)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Munmap(mem)
	for p := 0; p < pages; p++ {
		mem[p*PageSize] = 1 // present, as a running program's pages are
	}
	tr, err := New(mem)
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := i % pages
		if p == 0 && i > 0 {
			b.StopTimer()
			tr.Collect(func(Range) {})
			b.StartTimer()
		}
		mem[p*PageSize+8]++
	}
}

// BenchmarkCollect is the cost of one round's scan of a 1 GiB memory
// (every page present) of which 1024 pages were written.
func BenchmarkCollect(b *testing.B) {
	if err := Available(); err != nil {
		b.Skip(err)
	}
	const pages = 262144 // 1 GiB
	mem, err := unix.Mmap(-1, 0, pages*PageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_NORESERVE)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Munmap(mem)
	for p := 0; p < pages; p++ {
		mem[p*PageSize] = 1
	}
	tr, err := New(mem)
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for k := 0; k < 1024; k++ {
			mem[(k*7919%pages)*PageSize+16]++
		}
		b.StartTimer()
		n := 0
		tr.Collect(func(r Range) { n += r.Count })
		if n != 1024 {
			b.Fatalf("%d pages reported, 1024 written", n)
		}
	}
}

//go:build linux

package pagemap

import (
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The pages a test touches, and only those, are reported.
func TestTouchedReportsFaultedPages(t *testing.T) {
	ps := os.Getpagesize()
	mem, err := unix.Mmap(-1, 0, 64*ps, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	mem[3*ps] = 1
	mem[40*ps+5] = 2
	r, err := Open()
	if err != nil {
		t.Skip(err)
	}
	defer r.Close()
	var got []uintptr
	if err := r.Touched(uintptr(unsafe.Pointer(&mem[0])), uintptr(len(mem)), func(p uintptr) { got = append(got, p) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != 3 || got[1] != 40 {
		t.Fatalf("touched pages %v, want [3 40]", got)
	}
	if err := r.Touched(uintptr(unsafe.Pointer(&mem[1])), uintptr(ps), func(uintptr) {}); err == nil {
		t.Fatal("an unaligned range was accepted")
	}
}

// BenchmarkTouched1GiB is the scan of a 1 GiB mapping with 1 in 256 pages
// touched: what a first effect pays to learn the touched chunks.
func BenchmarkTouched1GiB(b *testing.B) {
	ps := os.Getpagesize()
	mem, err := unix.Mmap(-1, 0, 1<<30, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_NORESERVE)
	if err != nil {
		b.Skip(err)
	}
	defer unix.Munmap(mem)
	for off := 0; off < len(mem); off += 256 * ps {
		mem[off] = 1
	}
	r, err := Open()
	if err != nil {
		b.Skip(err)
	}
	defer r.Close()
	for i := 0; i < b.N; i++ {
		n := 0
		if err := r.Touched(uintptr(unsafe.Pointer(&mem[0])), uintptr(len(mem)), func(uintptr) { n++ }); err != nil {
			b.Fatal(err)
		}
		if n != len(mem)/(256*ps) {
			b.Fatalf("%d touched pages, want %d", n, len(mem)/(256*ps))
		}
	}
}

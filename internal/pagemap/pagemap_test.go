//go:build linux

package pagemap

import (
	"os"
	"strings"
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

// sink keeps a test's read of a page from being optimized away.
var sink byte

// A page of a file mapping that was only read stays resident once locked
// on fault, and locking faults nothing in by itself. (That a page
// unlocked can be dropped and then looks untouched is the kernel's to
// decide, and not forced here.)
func TestLockOnFaultPinsReadPagesOnly(t *testing.T) {
	ps := os.Getpagesize()
	f, err := os.CreateTemp(t.TempDir(), "mapped")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, 16*ps)); err != nil {
		t.Fatal(err)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, 16*ps, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	addr := uintptr(unsafe.Pointer(&mem[0]))
	if err := LockOnFault(addr, uintptr(len(mem))); err != nil {
		t.Skipf("mlock2(MLOCK_ONFAULT) refused here (a restore falls back to waiting for all of memory): %v", err)
	}
	defer Unlock(addr, uintptr(len(mem)))
	r, err := Open()
	if err != nil {
		t.Skip(err)
	}
	defer r.Close()
	count := func() (n int) {
		if err := r.Touched(addr, uintptr(len(mem)), func(uintptr) { n++ }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Evict the file's pages from the page cache, so that only this
	// mapping's faults make them resident.
	unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
	if n := count(); n != 0 {
		t.Fatalf("%d pages resident after locking on fault, before any access", n)
	}
	sink = mem[5*ps]
	if n := count(); n == 0 {
		t.Fatal("the page read is not resident")
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(status), "VmLck:") {
		t.Fatal("no VmLck in /proc/self/status")
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmLck:") && strings.Fields(line)[1] == "0" {
			t.Fatalf("nothing locked after a read: %q", line)
		}
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

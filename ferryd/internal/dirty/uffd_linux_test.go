//go:build linux

package dirty

import (
	"math/rand"
	"os"
	"sort"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

func requireTracking(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("FERRYD_REQUIRE_DIRTY") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// reserve maps memory as Ferry does for a linear memory: anonymous,
// private, MAP_NORESERVE, its whole maximum at once.
func reserve(t *testing.T, size int) []byte {
	t.Helper()
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_NORESERVE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(b) })
	return b
}

func collect(t *testing.T, tr *Tracker) map[int]bool {
	t.Helper()
	got := map[int]bool{}
	if err := tr.Collect(func(r Range) {
		for p := r.First; p < r.First+r.Count; p++ {
			got[p] = true
		}
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func sorted(m map[int]bool) []int {
	var s []int
	for k := range m {
		s = append(s, k)
	}
	sort.Ints(s)
	return s
}

// TestTrackerSoundness is the tracker's property test: rounds of random
// writes — single stores, bulk copies and fills, the kernel writing into
// the memory (read(2) from a pipe, pread(2) from a file, as WASI's
// fd_read does), and growth of the memory with writes between the growth
// and Grow — and after each round every page truly written is reported.
// Equality too: no page is reported that was not written, except the
// pages a growth added (reported whole, see Grow).
func TestTrackerSoundness(t *testing.T) {
	requireTracking(t)
	const maxPages = 4096 // 16 MiB reserved
	mem := reserve(t, maxPages*PageSize)
	size := 256 * PageSize
	tr, err := New(mem[:size])
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	f, err := os.CreateTemp(t.TempDir(), "src")
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, 64<<10)
	rand.New(rand.NewSource(2)).Read(junk)
	f.Write(junk)
	var pfd [2]int
	if err := unix.Pipe2(pfd[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pfd[0])
	defer unix.Close(pfd[1])

	seed := int64(os.Getpid())
	rng := rand.New(rand.NewSource(seed))
	extra := 0
	for round := 0; round < 200; round++ {
		written := map[int]bool{}
		grownPages := map[int]bool{}
		mark := func(off, n int) {
			for p := off / PageSize; p <= (off+n-1)/PageSize && n > 0; p++ {
				written[p] = true
			}
		}
		span := func(maxLen int) (int, int) {
			n := 1 + rng.Intn(maxLen)
			if n > size {
				n = size
			}
			return rng.Intn(size - n + 1), n
		}
		for op := rng.Intn(20); op > 0; op-- {
			switch rng.Intn(6) {
			case 0, 1: // a store
				off := rng.Intn(size)
				mem[off] = byte(rng.Intn(255) + 1)
				mark(off, 1)
			case 2: // memory.copy
				dst, n := span(3 * PageSize)
				src := rng.Intn(size - n + 1)
				copy(mem[dst:dst+n], mem[src:src+n])
				mark(dst, n)
			case 3: // memory.fill
				dst, n := span(5 * PageSize)
				for i := range mem[dst : dst+n] {
					mem[dst+i] = 0x5a
				}
				mark(dst, n)
			case 4: // the kernel writes: read(2) from a pipe
				dst, n := span(8 << 10)
				unix.Write(pfd[1], junk[:n])
				got, err := unix.Read(pfd[0], mem[dst:dst+n])
				if err != nil || got != n {
					t.Fatalf("read into memory: %d %v", got, err)
				}
				mark(dst, n)
			case 5: // pread(2) from a file
				dst, n := span(16 << 10)
				got, err := unix.Pread(int(f.Fd()), mem[dst:dst+n], 0)
				if err != nil || got != n {
					t.Fatalf("pread into memory: %d %v", got, err)
				}
				mark(dst, n)
			}
		}
		if rng.Intn(10) == 0 && size < len(mem)-64*PageSize { // memory.grow mid-round
			grown := size + (1+rng.Intn(16))*PageSize
			// The program writes into the new pages before the tracker
			// hears of the growth.
			off := size + rng.Intn(grown-size)
			mem[off] = 1
			mark(off, 1)
			for p := size / PageSize; p < grown/PageSize; p++ {
				grownPages[p] = true
			}
			size = grown
			if err := tr.Grow(size); err != nil {
				t.Fatal(err)
			}
			if rng.Intn(2) == 0 {
				off := size - 1 - rng.Intn(PageSize)
				mem[off] = 2
				mark(off, 1)
			}
		}
		got := collect(t, tr)
		for p := range written {
			if !got[p] {
				t.Fatalf("seed %d round %d: page %d written but not reported (written %v, reported %v)", seed, round, p, sorted(written), sorted(got))
			}
		}
		for p := range got {
			if !written[p] && !grownPages[p] {
				extra++
			}
		}
	}
	// The kernel tracks pages exactly: a page reported that was neither
	// written nor added by a growth would mean rounds re-send clean pages.
	if extra != 0 {
		t.Errorf("seed %d: %d pages reported that were not written", seed, extra)
	}
}

// TestTrackerConcurrentWrites: a writer keeps writing while rounds are
// collected; every page it wrote is reported by the round it wrote in
// or the next one, never lost in the re-protection.
func TestTrackerConcurrentWrites(t *testing.T) {
	requireTracking(t)
	const pages = 1024
	mem := reserve(t, pages*PageSize)
	tr, err := New(mem)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	var mu sync.Mutex
	var log []int // pages written, in order
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		rng := rand.New(rand.NewSource(3))
		for {
			select {
			case <-stop:
				return
			default:
			}
			p := rng.Intn(pages)
			mu.Lock()
			mem[p*PageSize+rng.Intn(PageSize)]++
			log = append(log, p)
			mu.Unlock()
		}
	}()
	reported := map[int]int{} // page → times reported
	for round := 0; round < 50; round++ {
		for p := range collect(t, tr) {
			reported[p]++
		}
	}
	close(stop)
	<-done
	for p := range collect(t, tr) { // what the last round wrote
		reported[p]++
	}
	for _, p := range log {
		if reported[p] == 0 {
			t.Fatalf("page %d was written but never reported", p)
		}
	}
	t.Logf("%d writes, %d distinct pages reported", len(log), len(reported))
}

// TestTrackerUnavailableMemory: memory the kernel cannot write-protect
// asynchronously (a private file mapping, which is how a restore maps a
// checkpoint's pages) is refused with ErrUnavailable, not tracked wrongly.
func TestTrackerUnavailableMemory(t *testing.T) {
	requireTracking(t)
	f, err := os.CreateTemp(t.TempDir(), "m")
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(16 * PageSize)
	b, err := unix.Mmap(int(f.Fd()), 0, 16*PageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(b)
	tr, err := New(b)
	if err == nil {
		// Some kernels may accept it; then it must still be sound.
		b[5*PageSize] = 1
		got := collect(t, tr)
		tr.Close()
		if !got[5] {
			t.Fatalf("a file mapping was accepted but a write to it went unreported: %v", sorted(got))
		}
		t.Logf("this kernel tracks private file mappings too")
		return
	}
	t.Logf("refused as expected: %v", err)
	if _, err := New(make([]byte, 100)); err == nil {
		t.Fatal("an unaligned slice was accepted")
	}
}

//go:build linux

package store

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/wasm"
)

// vmRSS reads the process's resident set size in bytes.
func vmRSS(t *testing.T) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status:", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb * 1024
		}
	}
	t.Skip("no VmRSS line")
	return 0
}

// A 4 GiB memory is reserved, not committed: growing it fully and touching
// one page costs about one page of resident memory.
func TestMemoryReservedNotCommitted(t *testing.T) {
	before := vmRSS(t)
	mem, err := NewMemory(wasm.MemType{Limits: limMax(0, wasm.MaxPages)}, wasm.MaxPages)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if old, ok := mem.Grow(wasm.MaxPages); !ok || old != 0 {
		t.Fatalf("Grow(65536) = %d, %v", old, ok)
	}
	if mem.Size() != 1<<32 {
		t.Fatalf("size %d, want 4 GiB", mem.Size())
	}
	mem.Buf[3<<30] = 1
	mem.Buf[1<<32-1] = 2
	after := vmRSS(t)
	if after > before && after-before > 64<<20 {
		t.Errorf("resident size grew by %d MiB for two touched pages", (after-before)>>20)
	}
	if mem.Buf[3<<30] != 1 || mem.Buf[1<<32-1] != 2 || mem.Buf[1<<31] != 0 {
		t.Error("memory contents wrong")
	}
}

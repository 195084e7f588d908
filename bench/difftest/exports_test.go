package difftest

import (
	"os"
	"slices"
	"testing"
)

func TestBinaryHelpers(t *testing.T) {
	wasm, err := os.ReadFile("testdata/ttf-seed-244.wasm")
	if err != nil {
		t.Fatal(err)
	}
	names, err := exportOrder(wasm)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"hashMemory", "func", "hangLimitInitializer"}; !slices.Equal(names, want) {
		t.Errorf("exportOrder = %q, want %q", names, want)
	}
	// 0x2e9 is `memory.init 3 0`; segment 3 is active (wasm-objdump -x -d).
	if !isActiveMemoryInit(wasm, 0x2e9) {
		t.Error("memory.init 3 at 0x2e9 not recognised")
	}
	if isActiveMemoryInit(wasm, 0x2e7) {
		t.Error("i32.const at 0x2e7 taken for memory.init")
	}
	active, ok := activeDataSegments(wasm)
	if !ok || len(active) != 8 || active[0] || !active[1] || !active[3] {
		t.Errorf("activeDataSegments = %v, %v", active, ok)
	}
}

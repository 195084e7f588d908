package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/spectest"
)

// TestRelaxedSIMDSpec runs the relaxed-SIMD proposal's scripts through
// `ferry wast`; their (either ...) results accept any listed outcome. All
// seven are read by Ferry's own text-format reader, relaxed_dot_product
// included (wabt 1.0.32 does not know its instruction names).
func TestRelaxedSIMDSpec(t *testing.T) {
	dir := filepath.Join(spectest.SuiteDir(t), "proposals", "relaxed-simd")
	scripts, _ := filepath.Glob(filepath.Join(dir, "*.wast"))
	if len(scripts) != 7 {
		t.Fatalf("found %d relaxed-simd scripts in %s, want 7", len(scripts), dir)
	}
	for _, path := range scripts {
		name := strings.TrimSuffix(filepath.Base(path), ".wast")
		code, stdout, stderr := runCLI(t, "wast", path)
		if code != exitOK || !strings.HasSuffix(stdout, " 0 failed, 0 skipped\n") {
			t.Errorf("ferry wast %s: exit %d\n%s%s", name, code, firstLines(stdout, 40), stderr)
		}
	}
}

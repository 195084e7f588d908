package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/spectest"
)

// TestRelaxedSIMDSpec runs the relaxed-SIMD proposal's scripts through
// `ferry wast`; their (either ...) results accept any listed outcome.
// relaxed_dot_product.wast uses instruction names wabt 1.0.32 does not
// know: its cases are Go tests (internal/interp TestRelaxedDotProduct,
// internal/v128 TestRelaxedDotProductSpecCases).
func TestRelaxedSIMDSpec(t *testing.T) {
	tool, err := exec.LookPath("wast2json")
	if err != nil {
		t.Fatal("wast2json not found on PATH: install wabt (Debian package wabt; scripts/deps.sh does) to run these tests")
	}
	dir := filepath.Join(spectest.SuiteDir(t), "proposals", "relaxed-simd")
	scripts, _ := filepath.Glob(filepath.Join(dir, "*.wast"))
	if len(scripts) == 0 {
		t.Skipf("no relaxed-simd scripts in %s", dir)
	}
	ran := 0
	for _, path := range scripts {
		name := strings.TrimSuffix(filepath.Base(path), ".wast")
		if name == "relaxed_dot_product" {
			continue
		}
		jsonPath := filepath.Join(t.TempDir(), name+".json")
		if out, err := exec.Command(tool, "--enable-relaxed-simd", path, "-o", jsonPath).CombinedOutput(); err != nil {
			t.Errorf("wast2json %s: %v\n%s", name, err, out)
			continue
		}
		code, stdout, stderr := runCLI(t, "wast", jsonPath)
		if code != exitOK {
			t.Errorf("ferry wast %s: exit %d\n%s%s", name, code, firstLines(stdout, 40), stderr)
		}
		ran++
	}
	if ran != 6 {
		t.Errorf("ran %d relaxed-simd scripts, want 6", ran)
	}
}

package spectest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestSuiteDirHoldsScripts(t *testing.T) {
	dir := SuiteDir(t)
	if !filepath.IsAbs(dir) {
		t.Errorf("SuiteDir = %q, not absolute", dir)
	}
	files := WastFiles(t)
	if len(files) < 100 {
		t.Fatalf("only %d .wast files in %s", len(files), dir)
	}
	for i := 1; i < len(files); i++ {
		if files[i-1] >= files[i] {
			t.Fatalf("WastFiles not sorted: %q before %q", files[i-1], files[i])
		}
	}
}

func TestSuiteDirFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FERRY_SPECTEST", dir)
	if got := SuiteDir(t); got != dir {
		t.Errorf("SuiteDir = %q, want %q", got, dir)
	}
}

func TestRepoRoot(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	// A go.mod of another module on the way up is not the root.
	if err := os.WriteFile(filepath.Join(root, "a", "go.mod"), []byte("module example.com/other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("// Ferry\nmodule github.com/ferryvm/ferry\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := RepoRoot(sub); got != root {
		t.Errorf("RepoRoot = %q, want %q", got, root)
	}
}

// TestConvertConcurrently converts a fresh script from several goroutines at
// once: all must agree on one complete result.
func TestConvertConcurrently(t *testing.T) {
	wast := filepath.Join(t.TempDir(), "tiny.wast")
	// Unique content, so the cache cannot already hold it.
	src := fmt.Sprintf(";; %d\n(module (func (export \"f\") (result i32) (i32.const 7)))\n(assert_return (invoke \"f\") (i32.const 7))\n", time.Now().UnixNano())
	if err := os.WriteFile(wast, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	paths := make([]string, 4)
	var wg sync.WaitGroup
	for i := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			paths[i] = Convert(t, wast)
		}()
	}
	wg.Wait()
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(paths[0])) })
	for _, p := range paths[1:] {
		if p != paths[0] {
			t.Fatalf("conversions disagree: %q and %q", paths[0], p)
		}
	}
	b, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	var s script
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Commands) != 2 || s.Commands[0].Type != "module" {
		t.Fatalf("unexpected conversion: %s", b)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(paths[0]), s.Commands[0].Filename)); err != nil {
		t.Errorf("module file missing: %v", err)
	}
	if again := Convert(t, wast); again != paths[0] {
		t.Errorf("second conversion went to %q", again)
	}
}

func TestModules(t *testing.T) {
	mods := Modules(t)
	if len(mods) < 1000 {
		t.Fatalf("only %d modules", len(mods))
	}
	for _, m := range mods[:10] {
		if len(m) < 4 || string(m[:4]) != "\x00asm" {
			// Malformed modules of binary.wast may lack the magic; the
			// first few come from address.wast and are well-formed.
			t.Errorf("module starts % x", m[:min(len(m), 8)])
		}
	}
}

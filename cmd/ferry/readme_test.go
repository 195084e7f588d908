package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README's sample "ferry inspect" output had gone stale (frames,
// headings and lines the command no longer prints). This runs the
// README's own commands and holds the sample to what inspect prints; what
// differs between runs and hosts (times, keys, paths, CPU) is compared by
// its label alone, and column widths are ignored.
func TestREADMESampleStale(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "$ ./ferry inspect app.ckpt\n")
	sample, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("README.md has no ferry inspect sample")
	}
	work := filepath.Join(t.TempDir(), "work")
	os.Mkdir(work, 0o755)
	os.WriteFile(filepath.Join(work, "in.txt"), []byte("alpha\nbravo\ncharlie\n"), 0o644)
	ck := filepath.Join(t.TempDir(), "app.ckpt")
	if code, _, stderr := runCLI(t, "run", "--argv0", "wasi/testdata/ckptprog.wasm", "--dir", work+"::.", "--checkpoint-to", ck,
		"--checkpoint-on", "pause:5000", ckptProg, "in.txt", "out.txt"); code != exitOK {
		t.Fatalf("the README's ferry run: exit %d: %s", code, stderr)
	}
	_, got, _ := runCLI(t, "inspect", ck)
	got = strings.ReplaceAll(got, work, "/tmp/demo/work")

	space := regexp.MustCompile(`\s+`)
	norm := func(s string) string { return space.ReplaceAllString(strings.TrimSpace(s), " ") }
	varying := regexp.MustCompile(`^(runtime|created|signature|clocks|source CPU|module) `)
	want := strings.Split(strings.TrimSuffix(sample, "\n"), "\n")
	have := strings.Split(got, "\n")
	for i, w := range want {
		if w == "..." {
			return // the sample stops here
		}
		if i >= len(have) {
			t.Fatalf("README line %q: inspect printed only %d lines:\n%s", w, len(have), got)
		}
		h := have[i]
		if m := varying.FindString(w); m != "" {
			if !strings.HasPrefix(h, m) {
				t.Errorf("README line %q, inspect prints %q", w, h)
			}
			continue
		}
		if norm(w) != norm(h) {
			t.Errorf("README line %q, inspect prints %q", w, h)
		}
	}
}

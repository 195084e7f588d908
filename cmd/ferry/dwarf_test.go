package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A trap after "ferry restore" had no source lines: only "ferry run" read
// the DWARF. The restored run finds it in the checkpoint's copy of the
// module, or in the one --module gives.
func TestRestoredTrapTraceWithoutDWARFLines(t *testing.T) {
	dir := t.TempDir()
	src, wasm := clangWasm(t, dir, "divide", `#include <stdio.h>
int divide(int a, int b) {
  if (b == 0) __builtin_trap();
  return a / b;
}
int main(int argc, char **argv) {
  int s = 0;
  for (int i = 0; i < 1000; i++) s += divide(i, 1);
  printf("%d\n", divide(s, argc - 1));
  return 0;
}
`, "-g", "-O0")
	for _, c := range []struct {
		name       string
		runFlags   []string
		restoreArg []string
	}{
		{"module in the checkpoint", nil, nil},
		{"module given with --module", []string{"--checkpoint-no-module"}, []string{"--module", wasm}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ck := filepath.Join(t.TempDir(), "divide.ckpt")
			args := append([]string{"run", "--checkpoint-to", ck, "--checkpoint-on", "pause:100"}, c.runFlags...)
			if code, _, stderr := runCLI(t, append(args, wasm)...); code != exitOK {
				t.Fatalf("run: exit %d, stderr:\n%s", code, stderr)
			}
			code, _, stderr := runCLI(t, append(append([]string{"restore"}, c.restoreArg...), ck)...)
			for _, want := range []string{"  0: divide (func ", " at " + src + ":3\n", "  1: main (func ", " at " + src + ":9\n"} {
				if code != exitTrap || !strings.Contains(stderr, want) {
					t.Errorf("restore: exit %d, stderr lacks %q:\n%s", code, want, stderr)
				}
			}
		})
	}
}

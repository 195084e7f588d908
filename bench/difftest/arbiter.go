package difftest

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// binaryenTraps runs binaryen's own interpreter on wasm (wasm-opt
// --fuzz-exec-before, which calls every function export once, in
// declaration order, with zero arguments: the harness's order too) and
// returns, for each export it called, whether the call trapped. It is the
// third opinion when Ferry and wazero disagree on whether a call traps:
// wazero 1.12 has known deviations (it does not drop active data segments
// at instantiation, so memory.init on one does not trap).
func binaryenTraps(ctx context.Context, wasmOpt string, wasm []byte, features []string, dir string) (map[string]bool, error) {
	f, err := os.CreateTemp(dir, "arbiter-*.wasm")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(wasm); err != nil {
		f.Close()
		return nil, err
	}
	f.Close()
	args := append([]string{filepath.Clean(f.Name()), "--fuzz-exec-before"}, features...)
	out, err := exec.CommandContext(ctx, wasmOpt, args...).CombinedOutput()
	if err != nil {
		return nil, err
	}
	traps := map[string]bool{}
	current := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "[fuzz-exec] calling "):
			current = strings.TrimPrefix(line, "[fuzz-exec] calling ")
			if _, seen := traps[current]; !seen {
				traps[current] = false
			}
		case strings.HasPrefix(line, "[trap ") && current != "":
			traps[current] = true
		}
	}
	return traps, sc.Err()
}

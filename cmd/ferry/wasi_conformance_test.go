package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/ferryvm/ferry/internal/wasisuite"
)

// TestWASIConformance runs every case of the official WASI preview-1 suite
// (../shared/wasi-testsuite, or $FERRY_WASI_TESTSUITE) through the command
// line, as an executor of the suite's doc/specification.md would run
// wasmtime: ferry run --dir DIR::DIR --env K=V FILE ARGS..., each case in a
// scratch copy of its directories. (The wasi package's TestConformanceWalk
// runs the suite once more with the portable path walk, which the command
// does not select.)
func TestWASIConformance(t *testing.T) {
	cases := wasisuite.Cases(t)
	passed := 0
	for _, c := range cases {
		if t.Run(c.Name, func(t *testing.T) {
			scratch := c.Scratch(t)
			args := []string{"run"}
			for _, d := range c.Spec.Dirs {
				args = append(args, "--dir", filepath.Join(scratch, d)+"::"+d)
			}
			for _, k := range c.Spec.EnvKeys() {
				args = append(args, "--env", k+"="+c.Spec.Env[k])
			}
			args = append(append(args, c.Wasm), c.Spec.Args...)
			var stdout, stderr bytes.Buffer
			code := runStdio(args, nil, &stdout, &stderr)
			c.Check(t, code, stdout.String(), stderr.String())
		}) {
			passed++
		}
	}
	t.Logf("wasi-testsuite through ferry run: %d/%d passed", passed, len(cases))
}

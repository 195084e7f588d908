package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/ferryvm/ferry/internal/wasisuite"
)

// The WASI test suite through "ferry run --tier compiled" under deopt
// stress (issue 11's acceptance): compiled frames leave their code for the
// interpreter at random pause points and re-enter it, and every case must
// still pass exactly as it does in the interpreter (TestWASIConformance).
// --tier is given on the command line: FERRY_TIER would not do, as ferry
// run always applies its own --tier (default interp) over it.
func TestWASISuiteCompiledDeoptStress(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole WASI suite")
	}
	t.Setenv("FERRY_DEOPT_STRESS", "5")
	cases := wasisuite.Cases(t)
	passed := 0
	for _, c := range cases {
		if t.Run(c.Name, func(t *testing.T) {
			scratch := c.Scratch(t)
			args := []string{"run", "--tier", "compiled"}
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
	t.Logf("wasi-testsuite through ferry run --tier compiled, deopt stress 5: %d/%d passed", passed, len(cases))
}

//go:build noferry

package difftest

import "github.com/tetratelabs/wazero"

// subjectEngine, in a build without Ferry, is wazero's compiler: the harness
// then checks itself (and wazero's tiers against each other).
func subjectEngine() engine {
	return wazeroEngine("wazero-compiler", wazero.NewRuntimeConfigCompiler)
}

package interp

// StressDeopts is the number of deoptimizations deopt stress
// (Config.DeoptStress) forced in this engine and the engines Counting
// derived from it: a test that turns stress on can check it acted.
func (e *Engine) StressDeopts() int64 {
	if e.tier == nil {
		return 0
	}
	return e.tier.stressDeopts.Load()
}

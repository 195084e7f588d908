package ferry

import "context"

// WithMemoryCheckHook makes the concurrent memory check of a restore run
// hook first, in its goroutine, with the context that Close cancels: tests
// hold the check back with it to see what a restored run does meanwhile.
func WithMemoryCheckHook(c RestoreConfig, hook func(context.Context)) RestoreConfig {
	c.checkHook = hook
	return c
}

package ferry

import (
	"fmt"
	"runtime/debug"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/store"
)

// readingMapped runs f, which reads the memories of si outside the engine
// (a checkpoint taken of a restored instance), turning a fault in pages a
// restore mapped from a checkpoint file that has since shrunk into an
// error wrapping api.ErrCheckpointFileChanged. The engine does the same
// for the guest and its host functions (docs/snapshot-format.md,
// "Memory mapped from the checkpoint file").
func readingMapped(si *store.Instance, f func() error) (err error) {
	if !store.AnyMapsFile(si) {
		return f()
	}
	// Per goroutine: f must not hand the memory to other goroutines.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if !store.MappedFileFault(r, si) {
				panic(r)
			}
			err = fmt.Errorf("ferry: checkpoint: %w", api.ErrCheckpointFileChanged)
		}
	}()
	return f()
}

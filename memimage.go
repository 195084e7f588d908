package ferry

import (
	"errors"
	"fmt"
	"os"

	"github.com/ferryvm/ferry/internal/snapshot"
	"github.com/ferryvm/ferry/internal/store"
)

// ErrMemoryImageRequired: the checkpoint was written without its memory's
// pages (CheckpointConfig.WithoutMemoryData, the stop phase of a live
// migration) and the restore was given no image of them
// (RestoreConfig.WithMemoryImage). Restoring it anyway would run the
// program over zeroed memory.
var ErrMemoryImageRequired = errors.New("ferry: the checkpoint holds no memory data; restore it with its memory image")

// WithMemoryImage takes memory 0 from image, a file holding the memory's
// bytes from offset 0, of exactly the checkpoint's memory size, instead of
// the checkpoint's pages: the destination of a live migration keeps the
// pages it received while the program ran in such a file and restores the
// stop phase's checkpoint (CheckpointConfig.WithoutMemoryData) over it.
// The pages are mapped copy-on-write where the memory allows (copied
// otherwise), so image must stay open and unchanged while the instance
// lives. Only a checkpoint of one memory written without memory data
// takes an image; any other is refused with ErrCheckpointMismatch.
func (c RestoreConfig) WithMemoryImage(image *os.File) RestoreConfig {
	c.memImage = image
	return c
}

// MemoryIncluded reports whether the checkpoint holds its memories'
// pages; false for one written WithoutMemoryData, which restores only
// with RestoreConfig.WithMemoryImage.
func (c *Checkpoint) MemoryIncluded() bool {
	for _, m := range c.f.Snapshot.Memories {
		if m.DataOmitted {
			return false
		}
	}
	return true
}

// checkMemoryImage checks, before the restore sizes or maps anything, that
// image is given exactly when the checkpoint's memory data is omitted, and
// that its size is the memory size the checkpoint declares: a forged or
// cut-short image is refused, never zero-padded or truncated.
func checkMemoryImage(s *snapshot.Snapshot, image *os.File) error {
	if image == nil {
		for k, m := range s.Memories {
			if m.DataOmitted {
				return fmt.Errorf("%w (memory %d, %d bytes, was written without its pages)", ErrMemoryImageRequired, k, m.Size)
			}
		}
		return nil
	}
	if len(s.Memories) != 1 {
		return mismatch("a memory image needs a checkpoint of exactly one memory, this one has %d", len(s.Memories))
	}
	m := &s.Memories[0]
	if !m.DataOmitted {
		return mismatch("the checkpoint holds its memory's pages; a memory image goes only with a checkpoint written without memory data")
	}
	st, err := image.Stat()
	if err != nil {
		return fmt.Errorf("ferry: restore: memory image: %w", err)
	}
	if !st.Mode().IsRegular() {
		return mismatch("the memory image is not a regular file (%v)", st.Mode().Type())
	}
	if uint64(st.Size()) != m.Size {
		return mismatch("the memory image has %d bytes, the checkpoint's memory %d (%d pages of 64 KiB)", st.Size(), m.Size, m.Size/(64<<10))
	}
	return nil
}

// applyMemoryImage puts image over memory 0, which RestoreMemory has
// sized (checking the module's limits) from the checkpoint.
func (i *Instance) applyMemoryImage(image *os.File, noMapping bool) error {
	mems := i.inst.Memories
	if len(mems) != 1 {
		return fmt.Errorf("ferry: restore: a memory image needs exactly one memory, the module has %d", len(mems))
	}
	mem := mems[0]
	st, err := image.Stat()
	if err != nil {
		return fmt.Errorf("ferry: restore: memory image: %w", err)
	}
	// Checked again: the file may have changed since checkMemoryImage.
	size := uint64(len(mem.Buf))
	if st.Size() < 0 || uint64(st.Size()) != size {
		return mismatch("the memory image has %d bytes, the checkpoint's memory %d", st.Size(), size)
	}
	if size == 0 {
		return nil
	}
	if !noMapping && size%uint64(os.Getpagesize()) == 0 {
		err := mem.MapFile(int(image.Fd()), 0, 0, size)
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrNotMappable) {
			return fmt.Errorf("ferry: restore: memory image: %w", err)
		}
	}
	if _, err := image.ReadAt(mem.Buf, 0); err != nil {
		return fmt.Errorf("ferry: restore: memory image: %w", err)
	}
	return nil
}

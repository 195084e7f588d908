package ferry

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ferryvm/ferry/internal/snapshot"
)

// Idle checkpoints: an instance checkpointed between calls, restored as an
// instance whose exports are called (docs/api.md, "Idle checkpoints").

// ErrCheckpointKind is wrapped by the error of a restore through the call
// that does not fit the checkpoint: Runtime.Restore of an idle checkpoint
// (it has no call to resume) or Runtime.RestoreInstance of a paused call
// (its frames would be dropped). Checkpoint.Idle tells them apart.
var ErrCheckpointKind = errors.New("ferry: wrong kind of checkpoint for this restore")

// Idle reports whether the checkpoint was taken between calls
// (Instance.WriteCheckpoint): Runtime.RestoreInstance restores it.
// Otherwise it holds a paused call, which Runtime.Restore restores.
func (c *Checkpoint) Idle() bool { return c.f.Snapshot.Idle }

// WriteCheckpoint writes an idle checkpoint of the instance to w: its
// globals, tables, memories and segments, host state as cfg says, and no
// call (docs/snapshot-format.md, "Idle checkpoints"). It returns the
// number of bytes written.
//
// No call may run meanwhile: it holds the instance's entry gate, so a call
// from another goroutine is refused with ErrBusy while the checkpoint is
// written, and the checkpoint itself is refused with ErrBusy when a call
// runs in the instance (or in an instance linked to it), including from a
// host function the running call called: the state of a running call is
// only captured by pausing it (Paused.WriteCheckpoint). The caller waits
// and retries if it must. It runs no guest code. A *Paused of the instance
// that was not resumed is not part of the checkpoint: its frames are
// dropped, as when the instance's exports are called instead of resuming
// it. Errors wrap ErrNotCheckpointable as for Paused.WriteCheckpoint; an
// instance restored with VerifyConcurrent is written once its memory data
// is verified.
func (i *Instance) WriteCheckpoint(w io.Writer, cfg CheckpointConfig) (int64, error) {
	var n int64
	err := i.idleSnapshot(cfg, func(s *snapshot.Snapshot) (err error) {
		n, err = writeSnapshot(w, s, cfg, i.rt.builtins.IsZeroPage)
		return err
	})
	return n, err
}

// WriteCheckpointFile is WriteCheckpoint to path, written atomically as
// Paused.WriteCheckpointFile writes (the gate is held until the file is
// synced and renamed).
func (i *Instance) WriteCheckpointFile(path string, cfg CheckpointConfig) error {
	return i.idleSnapshot(cfg, func(s *snapshot.Snapshot) error {
		return writeFileAtomic(path, s, cfg, i.rt.builtins.IsZeroPage)
	})
}

// idleSnapshot takes the instance's entry gate (refusing with ErrBusy
// while a call runs) and hands write the idle instance's snapshot, whose
// memories are the live ones: the gate stays held until write returns.
func (i *Instance) idleSnapshot(cfg CheckpointConfig, write func(*snapshot.Snapshot) error) error {
	// A restored page not yet verified must not be laundered into a new
	// checkpoint with fresh checksums.
	if err := i.verified(); err != nil {
		return err
	}
	// Not the caller's context: one derived from a host function's would
	// be admitted as a nested call, and the running call's frames lost.
	entry, err := i.inst.Enter(context.Background())
	if err != nil {
		return fmt.Errorf("ferry: idle checkpoint: %w", err)
	}
	defer entry.Leave()
	s, err := i.snapshot(cfg, nil, pauseCount{})
	if err != nil {
		return err
	}
	return readingMapped(i.inst, func() error { return write(s) })
}

// RestoreInstance restores an idle checkpoint (Instance.WriteCheckpoint)
// as an instance whose exports can be called, as Restore restores a
// paused call: without running the start function, its imports resolved
// by registered names (wasi.Restore registers WASI's), everything checked
// against the module before it is returned, and memory pages verified as
// cfg says (with VerifyConcurrent, a call's effects and results are held
// until they are). A checkpoint of a paused call is refused with
// ErrCheckpointKind: Restore it, and Resume the *Paused.
//
// An instance restored this way is like any other: one call at a time,
// Close when done. Restoring one checkpoint many times in a runtime gives
// independent instances (RestoreConfig.WithCompiledModule compiles the
// module once).
func (r *Runtime) RestoreInstance(ctx context.Context, ck *Checkpoint, cfg RestoreConfig) (*Instance, error) {
	if !ck.Idle() {
		return nil, fmt.Errorf("%w: the checkpoint holds a paused call (%d frames); restore it with Restore and resume it", ErrCheckpointKind, len(ck.f.FrameHeaders()))
	}
	rs, err := r.restore(ctx, ck, cfg)
	if err != nil {
		return nil, err
	}
	rs.inst.callsites = rs.changes
	return rs.inst, nil
}

// CallsiteChanges lists the builtin decisions that RestoreInstance re-made
// differently from the run that wrote the idle checkpoint, as
// Paused.CallsiteChanges does for a paused call: nil for an instance that
// was not restored, or when every decision came out the same.
func (i *Instance) CallsiteChanges() []CallsiteChange { return i.callsites }

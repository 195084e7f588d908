package ferry

import (
	"fmt"
	"io"
	"time"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/ckptstate"
	"github.com/ferryvm/ferry/internal/snapshot"
)

// ErrNotCheckpointable refuses a checkpoint whose state cannot be carried
// in WebAssembly terms: a non-null externref, a funcref to a function
// outside the instance, an imported table, memory or global (shared with
// another instance), or an open network connection.
var ErrNotCheckpointable = ckptstate.ErrNotCheckpointable

// CheckpointConfig says what a checkpoint holds and how it is stored. It
// is immutable: every With method returns a modified copy.
type CheckpointConfig struct {
	omitModule bool
	compress   bool
	noMemData  bool           // WithoutMemoryData
	host       []HostState    // WithHostState (hoststate.go)
	signers    []snapshot.Key // see WithSigningKey (sign.go)
}

// NewCheckpointConfig returns the defaults: the module bytes included,
// no compression, no host state.
func NewCheckpointConfig() CheckpointConfig { return CheckpointConfig{} }

// WithModule(false) leaves the module bytes out: the checkpoint keeps
// their SHA-256, and a restore needs the module file.
func (c CheckpointConfig) WithModule(include bool) CheckpointConfig {
	c.omitModule = !include
	return c
}

// WithCompression stores the checkpoint zstd-compressed: smaller, but a
// restore must then decompress memory instead of mapping it.
func (c CheckpointConfig) WithCompression(on bool) CheckpointConfig {
	c.compress = on
	return c
}

// WithoutMemoryData leaves the memories' pages out: the checkpoint keeps
// each memory's size but records no page as present. It is the stop phase
// of a live migration, whose destination already holds the pages (sent
// while the program ran) and restores with RestoreConfig.WithMemoryImage.
// The file marks the memories as omitted, so that a restore without the
// image is refused (ErrMemoryImageRequired) rather than zero-filled.
func (c CheckpointConfig) WithoutMemoryData() CheckpointConfig {
	c.noMemData = true
	return c
}

// WithHostState adds host-state plug-ins (a *wasi.Module, an embedder's
// own HostState) to the checkpoint: each one's state is taken when a
// checkpoint is written. A nil plug-in is left out, as a nil host state
// always was: a caller may pass one it has only sometimes.
func (c CheckpointConfig) WithHostState(h ...HostState) CheckpointConfig {
	c.host = c.host[:len(c.host):len(c.host)]
	for _, x := range h {
		if x != nil {
			c.host = append(c.host, x)
		}
	}
	return c
}

// WriteCheckpoint writes the paused instance's state to w and returns the
// number of bytes written. The instance must stay paused meanwhile (do not
// Resume concurrently). Errors wrap ErrNotCheckpointable when the state
// cannot be carried. An instance restored with VerifyConcurrent is written
// only once its memory data is verified (else the error wraps
// ErrCheckpointCorrupt): a corrupt page never gets fresh checksums.
func (p *Paused) WriteCheckpoint(w io.Writer, cfg CheckpointConfig) (int64, error) {
	s, err := p.snapshot(cfg)
	if err != nil {
		return 0, err
	}
	var n int64
	err = readingMapped(p.owner.inst, func() (err error) {
		n, err = writeSnapshot(w, s, cfg, p.rt.builtins.IsZeroPage)
		return err
	})
	return n, err
}

// writeSnapshot writes s, signed as cfg says; isZero is the zero-page scan
// of the runtime whose table s records, so that the scan's decision is
// among them. Chunk sums let a restore with VerifyFirstTouch check the
// memory a run touches piecewise.
func writeSnapshot(w io.Writer, s *snapshot.Snapshot, cfg CheckpointConfig, isZero func([]byte) bool) (int64, error) {
	return writeSigned(w, s, cfg, snapshot.WriteOptions{Compress: cfg.compress, IsZeroPage: isZero, ChunkSums: true})
}

// Capture is a checkpoint taken but not yet written: the paused instance's
// state, its memory's present pages copied, so that the instance can be
// resumed at once while the capture is written (by another goroutine if
// need be). The program is then paused for the copy, not for the write and
// its fsync; the price is the copy's memory until the capture is dropped.
type Capture struct {
	s      *snapshot.Snapshot
	cfg    CheckpointConfig
	isZero func([]byte) bool // the runtime's zero-page scan
}

// Capture takes the checkpoint WriteCheckpoint would write, copying what
// would change when the instance runs on. Everything that can refuse a
// checkpoint (ErrNotCheckpointable, an open connection) refuses here.
// reuse, when not nil, is an earlier capture that is no longer needed (its
// writes are over): its memory copies are reused, which makes a periodic
// checkpoint's pause a copy into memory already faulted in.
func (p *Paused) Capture(cfg CheckpointConfig, reuse *Capture) (*Capture, error) {
	s, err := p.snapshot(cfg)
	if err != nil {
		return nil, err
	}
	err = readingMapped(p.owner.inst, func() error {
		for k := range s.Memories {
			var buf []byte
			if reuse != nil && k < len(reuse.s.Memories) {
				buf = reuse.s.Memories[k].Data
				reuse.s.Memories[k].Data = nil // reuse is spent
			}
			s.Memories[k].Pack(p.rt.builtins.IsZeroPage, buf)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Capture{s: s, cfg: cfg, isZero: p.rt.builtins.IsZeroPage}, nil
}

// WriteTo writes the captured checkpoint to w; it may be called while the
// instance runs, and more than once.
func (c *Capture) WriteTo(w io.Writer) (int64, error) { return writeSnapshot(w, c.s, c.cfg, c.isZero) }

// WriteFile writes the captured checkpoint to path atomically, like
// Paused.WriteCheckpointFile.
func (c *Capture) WriteFile(path string) error { return writeFileAtomic(path, c.s, c.cfg, c.isZero) }

// StagedCheckpoint is a checkpoint file written but not yet in place: its
// bytes are in an unnamed temporary file beside its path (in the page
// cache, not yet synced). Commit puts it in place, Discard throws it
// away; either may run while the instance runs on.
type StagedCheckpoint struct {
	pf   *pendingFile
	path string
}

// StageCheckpointFile writes the checkpoint WriteCheckpointFile would
// write to a temporary file beside path, straight from the paused
// instance's memory, and returns before the file is synced. It is the
// periodic checkpoint that costs no memory: the instance stays paused for
// the write into the page cache (about as long as Capture's copy of an
// uncompressed checkpoint), and the fsync and rename that Commit does
// overlap its run, while the memory it needs beyond the guest's is
// reclaimable page cache, not a copy (docs/snapshot-format.md, "Periodic
// checkpoints"). Compressing while paused is slow: with cfg compressing,
// Capture is the better choice.
func (p *Paused) StageCheckpointFile(path string, cfg CheckpointConfig) (*StagedCheckpoint, error) {
	s, err := p.snapshot(cfg)
	if err != nil {
		return nil, err
	}
	pf, err := createPending(path)
	if err != nil {
		return nil, writeError(path, err)
	}
	err = readingMapped(p.owner.inst, func() error {
		_, err := writeSnapshot(pf.f, s, cfg, p.rt.builtins.IsZeroPage)
		return err
	})
	if err != nil {
		pf.abort()
		return nil, writeError(path, err)
	}
	return &StagedCheckpoint{pf: pf, path: path}, nil
}

// Commit syncs the staged file and renames it over its path. On error
// the previous checkpoint at path is intact.
func (c *StagedCheckpoint) Commit() error {
	if c.pf == nil {
		return fmt.Errorf("ferry: write checkpoint %s: already committed or discarded", c.path)
	}
	pf := c.pf
	c.pf = nil
	if err := pf.commit(); err != nil {
		return writeError(c.path, err)
	}
	return nil
}

// Discard throws the staged file away; it does nothing after Commit.
func (c *StagedCheckpoint) Discard() {
	if c.pf != nil {
		c.pf.abort()
		c.pf = nil
	}
}

// WriteCheckpointFile writes the checkpoint to path atomically: to a
// temporary file in the same directory, synced, then renamed over path, so
// path always holds a whole checkpoint (the previous one until the new one
// is complete). A restored instance that maps an older checkpoint at path
// keeps its own copy: the rename never changes the file it mapped.
func (p *Paused) WriteCheckpointFile(path string, cfg CheckpointConfig) error {
	s, err := p.snapshot(cfg)
	if err != nil {
		return err
	}
	return readingMapped(p.owner.inst, func() error { return writeFileAtomic(path, s, cfg, p.rt.builtins.IsZeroPage) })
}

// writeFileAtomic writes s to a temporary file beside path, syncs it and
// renames it over path (see pendingFile; isZero as for writeSnapshot).
func writeFileAtomic(path string, s *snapshot.Snapshot, cfg CheckpointConfig, isZero func([]byte) bool) error {
	pf, err := createPending(path)
	if err != nil {
		return writeError(path, err)
	}
	if _, err := writeSnapshot(pf.f, s, cfg, isZero); err != nil {
		pf.abort()
		return writeError(path, err)
	}
	if err := pf.commit(); err != nil {
		return writeError(path, err)
	}
	return nil
}

// snapshot translates the paused instance into the portable state.
func (p *Paused) snapshot(cfg CheckpointConfig) (*snapshot.Snapshot, error) {
	// A restored page not yet verified must not be laundered into a new
	// checkpoint with fresh checksums.
	if err := p.owner.verified(); err != nil {
		return nil, err
	}
	if p.resumed.Load() {
		return nil, fmt.Errorf("ferry: checkpoint: %w", ErrPausedConsumed)
	}
	// p.frames already hold funcrefs as function indices: the engine exports
	// them so (pause.Refs).
	return p.owner.snapshot(cfg, p.frames, p.count)
}

// snapshot translates the instance into the portable state with frames
// (none: an idle checkpoint) and the run's pause count.
func (i *Instance) snapshot(cfg CheckpointConfig, frames []api.Frame, count pauseCount) (*snapshot.Snapshot, error) {
	si := i.inst
	if i.module == nil {
		return nil, fmt.Errorf("%w: not a WebAssembly module instance", ErrNotCheckpointable)
	}
	// The effective (masked) features, which the builtins were chosen for.
	arch, feats := i.rt.CPUFeatures()
	src := i.module.source
	s := &snapshot.Snapshot{Meta: snapshot.Meta{
		RuntimeVersion: Version(), Arch: arch, Features: feats,
		ModuleHash: i.module.sha256(), ModuleSize: uint64(len(src)),
		PauseCount: uint64(max(count.n, 0)), PauseCountKnown: count.known,
		Created: time.Now().UnixNano(),
	}, Callsites: i.rt.recordCallsites(), Profile: i.rt.recordProfile(si)}
	if !cfg.omitModule {
		s.Module = src
	}
	s.Frames, s.Idle = frames, len(frames) == 0
	if err := ckptstate.Capture(si, s); err != nil {
		return nil, err
	}
	if cfg.noMemData {
		for k := range s.Memories {
			s.Memories[k] = snapshot.Memory{Size: s.Memories[k].Size, DataOmitted: true}
		}
	}
	if err := captureHostStates(s, cfg.host); err != nil {
		return nil, err
	}
	return s, nil
}

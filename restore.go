package ferry

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/ckptstate"
	"github.com/ferryvm/ferry/internal/engine"
	"github.com/ferryvm/ferry/internal/snapshot"
)

// Checkpoint errors. Reading a damaged or foreign file fails with an error
// wrapping ErrCheckpointCorrupt, ErrNotACheckpoint or ErrCheckpointVersion;
// restoring a checkpoint that does not fit its module (or the module
// supplied) fails with ErrCheckpointMismatch.
var (
	ErrCheckpointCorrupt  = snapshot.ErrCorrupt
	ErrNotACheckpoint     = snapshot.ErrNotCheckpoint
	ErrCheckpointVersion  = snapshot.ErrVersion
	ErrCheckpointMismatch = ckptstate.ErrMismatch
)

// Checkpoint is a checkpoint file whose container, checksums and every
// section but the memory data have been read and checked. Nothing has run.
type Checkpoint struct {
	f    *snapshot.File
	file *os.File // set when memory can be mapped from it
	own  bool     // Close closes file
	sig  snapshot.Verification
}

// OpenCheckpoint reads the checkpoint at path, trusting no signature (see
// OpenCheckpointWith). The file stays open (so a restore can map its
// memory pages copy-on-write) until Close.
func OpenCheckpoint(path string) (*Checkpoint, error) {
	return OpenCheckpointWith(path, OpenConfig{})
}

// ReadCheckpoint reads a checkpoint of size bytes from r. When r is an
// *os.File, a restore maps memory pages from it; r must then stay open and
// unchanged while restored instances live.
func ReadCheckpoint(r io.ReaderAt, size int64) (*Checkpoint, error) {
	return ReadCheckpointWith(r, size, OpenConfig{})
}

// Close releases the file OpenCheckpoint opened. Instances restored from
// it are not affected (their mappings hold the file, and a concurrent
// memory check reads a handle of its own).
func (c *Checkpoint) Close() error {
	if c.own && c.file != nil {
		return c.file.Close()
	}
	return nil
}

// WASIState is the encoded WASI section (nil if the checkpoint has none),
// for wasi.Restore.
func (c *Checkpoint) WASIState() []byte {
	if c.f.Snapshot.WASI == nil {
		return nil
	}
	return snapshot.EncodeWASI(c.f.Snapshot.WASI)
}

// Verify checks the checksums of the memory data (its signed SHA-256
// digests when the checkpoint was read with a trusted signature), which
// reading a checkpoint leaves to the restore (so that mapping it stays
// cheap).
func (c *Checkpoint) Verify() error {
	for i := range c.f.Snapshot.Memories {
		if err := c.f.VerifyMemory(i); err != nil {
			return err
		}
	}
	return nil
}

// HasModule reports whether the checkpoint carries the module bytes.
func (c *Checkpoint) HasModule() bool { return c.f.Snapshot.Module != nil }

// RestoreConfig says how a checkpoint is restored. It is immutable: every
// With method returns a modified copy.
type RestoreConfig struct {
	module    []byte
	compiled  *CompiledModule
	verify    MemoryVerification
	noMapping bool
	imports   Imports             // WithImports
	host      []HostStateRestorer // WithHostState (hoststate.go)
	memImage  *os.File            // WithMemoryImage (memimage.go)
	// checkHook, for tests, runs first in the goroutine of a concurrent
	// memory check (see export_test.go).
	checkHook func(context.Context)
}

// NewRestoreConfig returns the defaults: the checkpoint's own module bytes,
// memory mapped from the file where possible, its checksums verified
// concurrently (VerifyConcurrent).
func NewRestoreConfig() RestoreConfig { return RestoreConfig{} }

// WithModule supplies the module bytes, needed when the checkpoint leaves
// them out; their SHA-256 must match the checkpoint's.
func (c RestoreConfig) WithModule(wasm []byte) RestoreConfig {
	c.module = wasm
	return c
}

// WithCompiledModule restores with cm, a module compiled by the runtime
// that restores, instead of decoding, validating and lowering the
// checkpoint's module bytes (which then need not be in the checkpoint): a
// platform that restores the same booted app many times compiles it once.
// cm's bytes must have the checkpoint's SHA-256.
func (c RestoreConfig) WithCompiledModule(cm *CompiledModule) RestoreConfig {
	c.compiled = cm
	return c
}

// WithImports links the restored instance's imports to imports first, as
// Runtime.InstantiateWithImports does, then to the registered instances:
// concurrent restores in one runtime, each with host functions of its own
// (HostModuleBuilder.Build), do not race on registered names.
func (c RestoreConfig) WithImports(imports Imports) RestoreConfig {
	c.imports = imports
	return c
}

// WithHostState adds host-state plug-ins: each restores the state its
// namesake (HostState) put in the checkpoint. A checkpoint holding the
// state of a plug-in not given is refused (ErrHostStateUnclaimed). WASI's
// state is not restored here but by wasi.Restore.
func (c RestoreConfig) WithHostState(r ...HostStateRestorer) RestoreConfig {
	c.host = append(c.host[:len(c.host):len(c.host)], r...)
	return c
}

// WithMemoryMapping(false) copies memory pages instead of mapping them.
func (c RestoreConfig) WithMemoryMapping(on bool) RestoreConfig {
	c.noMapping = !on
	return c
}

// Restore instantiates the checkpoint's module in r (without running its
// start function; its imports must be registered, e.g. by wasi.Restore),
// gives the instance the checkpoint's globals, tables, memories and
// dropped segments, and returns the interrupted call as a *Paused:
// Resume continues it. Every part of the checkpoint is checked against the
// module before anything runs: sizes within limits, types, function
// indices, and each frame at a pause point of its kind with exactly the
// types there (errors wrap ErrCheckpointMismatch). The checksums of memory
// pages mapped from the file are checked as cfg says (by default while the
// restored code may already run, holding back its effects: see
// MemoryVerification). An idle checkpoint (taken between calls) has no
// call to resume: it is refused with ErrCheckpointKind, and
// RestoreInstance restores it.
func (r *Runtime) Restore(ctx context.Context, ck *Checkpoint, cfg RestoreConfig) (*Paused, error) {
	if ck.Idle() {
		return nil, fmt.Errorf("%w: it is an idle checkpoint (taken between calls), with no call to resume; restore it with RestoreInstance", ErrCheckpointKind)
	}
	rs, err := r.restore(ctx, ck, cfg)
	if err != nil {
		return nil, err
	}
	s := &ck.f.Snapshot
	count := pauseCount{n: int64(min(s.Meta.PauseCount, 1<<62)), known: s.Meta.PauseCountKnown}
	return &Paused{rt: r, owner: rs.inst, frames: rs.frames, checked: rs.checked, count: count, callsites: rs.changes}, nil
}

// restored is what restore made of a checkpoint: the instance (published
// in the runtime), and for a paused call its frames, in the checkpoint's
// form and the engine's.
type restored struct {
	inst    *Instance
	frames  []api.Frame
	checked engine.Checked // frames, checked once
	changes []CallsiteChange
}

// restore is Restore and RestoreInstance up to what each returns.
func (r *Runtime) restore(ctx context.Context, ck *Checkpoint, cfg RestoreConfig) (*restored, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if int(cfg.verify) >= len(memoryVerificationNames) {
		return nil, fmt.Errorf("ferry: restore: unknown %v", cfg.verify)
	}
	if cfg.verify == VerifyOff && ck.sig.By != nil {
		// The trusted signature covers memory only through the digests
		// the memory check compares: unchecked, a forged page would run
		// with the grants the signature keeps (see VerifyOff).
		cfg.verify = VerifyConcurrent
	}
	s := &ck.f.Snapshot
	if n := len(ck.f.FrameHeaders()); n > r.cfg.maxCallDepth { // before compiling anything
		return nil, mismatch("%d frames exceed the call depth limit %d", n, r.cfg.maxCallDepth)
	}
	if err := checkMemoryImage(s, cfg.memImage); err != nil { // before anything is sized from it
		return nil, err
	}
	hostClaims, err := claimHostStates(s, cfg.host)
	if err != nil {
		return nil, err
	}
	cm, err := r.restoredModule(ctx, ck, cfg)
	if err != nil {
		return nil, err
	}
	m := cm.module
	if n := len(m.ImportedTables) + len(m.ImportedMemories) + len(m.ImportedGlobals); n > 0 {
		return nil, fmt.Errorf("%w: the module imports tables, memories or globals", ErrNotCheckpointable)
	}
	if err := r.checkShape(ck.f, m); err != nil {
		return nil, err
	}
	// Only now are the frame values bounded by what the module allows.
	frames, err := ck.f.Frames()
	if err != nil {
		return nil, err
	}
	for mod, from := range cfg.imports {
		if from == nil || from.rt != r {
			return nil, fmt.Errorf("ferry: restore: imports %q: not an instance of this runtime", mod)
		}
	}
	si, err := r.store.InstantiateForRestore(m, "", cm.code, r.resolver(cfg.imports))
	if err != nil {
		if si != nil {
			si.Close()
		}
		return nil, linkError(err)
	}
	inst := &Instance{rt: r, inst: si, module: cm}
	unverified, err := inst.apply(ck, cfg)
	if err != nil {
		si.Close()
		return nil, err
	}
	var checked engine.Checked
	if !s.Idle {
		checked, err = r.engine.CheckFrames(si, frames)
		if err != nil {
			si.Close()
			return nil, mismatch("%v", err)
		}
	}
	// The builtin decisions: re-made for this CPU's effective features,
	// semantic ones kept, before any guest code runs.
	changes, err := r.restoreCallsites(s.Callsites)
	if err != nil {
		si.Close()
		// Wrapped, not formatted, so that a semantic conflict (restore into
		// another runtime) stays distinguishable from a damaged file.
		return nil, fmt.Errorf("%w: %w", ErrCheckpointMismatch, err)
	}
	// The hot set, compiled for this CPU before the restored code runs.
	if _, err := r.restoreProfile(ctx, si, s.Profile); err != nil {
		si.Close()
		return nil, err
	}
	// After every check: a plug-in sees state only of a restore that
	// succeeds, but for its own refusal.
	if err := restoreHostStates(s, hostClaims); err != nil {
		si.Close()
		return nil, err
	}
	if len(unverified) > 0 {
		// Last, once nothing else can refuse the checkpoint: from here the
		// check runs while the caller may resume.
		if inst.check, err = startMemoryCheck(si, ck, unverified, cfg.verify, cfg.checkHook); err != nil {
			// Without a handle of its own the check cannot outlive the
			// Checkpoint: check now.
			for _, k := range unverified {
				if err := ck.f.VerifyMemory(k); err != nil {
					si.Close()
					return nil, err
				}
			}
		}
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		inst.close()
		return nil, errClosed
	}
	r.instances = append(r.instances, inst)
	r.mu.Unlock()
	return &restored{inst: inst, frames: frames, checked: checked, changes: changes}, nil
}

// restoredModule is the compiled module a restore instantiates: cfg's
// compiled module, or the module bytes (cfg's or the checkpoint's)
// compiled now; its SHA-256 must be the checkpoint's.
func (r *Runtime) restoredModule(ctx context.Context, ck *Checkpoint, cfg RestoreConfig) (*CompiledModule, error) {
	s := &ck.f.Snapshot
	if cm := cfg.compiled; cm != nil {
		if cm.rt != r {
			return nil, errors.New("ferry: restore: the compiled module comes from another runtime")
		}
		if cm.closed.Load() {
			return nil, fmt.Errorf("ferry: restore: %w: compiled module", errClosed)
		}
		if h := cm.sha256(); h != s.Meta.ModuleHash {
			return nil, fmt.Errorf("%w: the compiled module's sha256 is %x, the checkpoint's %x", ErrCheckpointMismatch, h, s.Meta.ModuleHash)
		}
		return cm, nil
	}
	src := s.Module
	if cfg.module != nil {
		src = cfg.module
	}
	if src == nil {
		return nil, fmt.Errorf("%w: the checkpoint leaves the module out; supply it (module sha256 %x)", ErrCheckpointMismatch, s.Meta.ModuleHash)
	}
	var h [32]byte
	if cfg.module != nil || !r.knownModuleHash(ck, &h) {
		h = sha256.Sum256(src)
		r.rememberModuleHash(ck, h)
	}
	if h != s.Meta.ModuleHash {
		return nil, fmt.Errorf("%w: the module's sha256 is %x, the checkpoint's %x", ErrCheckpointMismatch, h, s.Meta.ModuleHash)
	}
	return r.compile(ctx, src, &h)
}

// mismatch is an error wrapping ErrCheckpointMismatch.
func mismatch(format string, args ...any) error { return ckptstate.Mismatch(format, args...) }

// apply gives the instance the checkpoint's state (ckptstate.Apply) and
// memories; unverified are the memories mapped without their checksums
// checked yet (VerifyConcurrent).
func (i *Instance) apply(ck *Checkpoint, cfg RestoreConfig) (unverified []int, err error) {
	s, si := &ck.f.Snapshot, i.inst
	if err := ckptstate.Apply(si, s); err != nil {
		return nil, err
	}
	src := ckptstate.MemorySource{File: ck.f, Mapped: ck.file, NoMapping: cfg.noMapping, VerifyFirst: cfg.verify == VerifyBeforeRun}
	for k := range s.Memories {
		mapped, err := ckptstate.RestoreMemory(si, k, src)
		if err != nil {
			return nil, err
		}
		if mapped && cfg.verify.background() {
			unverified = append(unverified, k)
		}
	}
	if cfg.memImage != nil {
		if err := i.applyMemoryImage(cfg.memImage, cfg.noMapping); err != nil {
			return nil, err
		}
	}
	return unverified, nil
}

package ferry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/engine"
	"github.com/ferryvm/ferry/internal/snapshot"
	"github.com/ferryvm/ferry/internal/store"
)

// ErrPaused is wrapped by the error a call returns when it stopped at a
// pause point (see Paused).
var ErrPaused = errors.New("ferry: call paused at a pause point")

// ErrNotCheckpointable refuses a checkpoint whose state cannot be carried
// in WebAssembly terms: a non-null externref, a funcref to a function
// outside the instance, an imported table, memory or global (shared with
// another instance), or an open network connection.
var ErrNotCheckpointable = errors.New("ferry: state cannot be checkpointed")

// ErrPausedConsumed is wrapped by the error of Resume, WriteCheckpoint,
// WriteCheckpointFile and Capture on a *Paused that was already resumed:
// its frames describe a point the instance has run past, so continuing or
// writing them would pair them with state they no longer match.
var ErrPausedConsumed = errors.New("ferry: paused call already resumed")

// Paused is a call stopped at a pause point: returned as the error of
// Function.Call (errors.As) when a pause was requested (Instance.RequestPause,
// CallOptions.PauseAfter). Resume continues it; WriteCheckpoint writes it
// out so that Runtime.Restore can continue it elsewhere.
//
// A Paused is single-use: it may be written any number of times, then
// resumed once; afterwards every method that would use its frames returns
// an error wrapping ErrPausedConsumed (a new pause returns a new Paused).
type Paused struct {
	rt     *Runtime
	owner  *Instance
	frames []api.Frame
	count  pauseCount
	// resumed is set by the first Resume, whatever its outcome: from then
	// on the instance's state has moved past frames.
	resumed atomic.Bool
	// callsites are the builtin decisions a restore changed.
	callsites []CallsiteChange
}

// pauseCount is the number of pause points polled since the start of the
// run (the one stopped at included), when it is known.
type pauseCount struct {
	n     int64
	known bool
}

func (p *Paused) Error() string {
	if n := len(p.frames); n > 0 {
		f := p.frames[n-1]
		return fmt.Sprintf("%v: %d frames, innermost func %d at %v +0x%x", ErrPaused, n, f.Func, f.Kind, f.Offset)
	}
	return ErrPaused.Error()
}

// Is makes errors.Is(err, ErrPaused) hold.
func (p *Paused) Is(target error) bool { return target == ErrPaused }

// Instance is the paused instance.
func (p *Paused) Instance() *Instance { return p.owner }

// Frames describes the paused frames, outermost first (a copy).
func (p *Paused) Frames() []api.Frame {
	out := make([]api.Frame, len(p.frames))
	for i, f := range p.frames {
		f.Locals = append([]api.Value(nil), f.Locals...)
		f.Stack = append([]api.Value(nil), f.Stack...)
		out[i] = f
	}
	return out
}

// ResultTypes are the result types of the call that was paused (its
// outermost frame's function): what Resume returns when the call ends.
func (p *Paused) ResultTypes() []api.ValueType {
	if len(p.frames) == 0 || int(p.frames[0].Func) >= len(p.owner.inst.Funcs) {
		return nil
	}
	return valueTypes(p.owner.inst.Funcs[p.frames[0].Func].Type.Results)
}

// PauseCount is the number of pause points polled since the start of the
// run, the one it stopped at included, counting on across Resume and
// restores; known is false unless every leg of the run counted them
// (CallOptions.PauseAfter).
func (p *Paused) PauseCount() (n int64, known bool) { return p.count.n, p.count.known }

// CallOptions adjust one call.
type CallOptions struct {
	// PauseAfter, when positive, pauses the call at its PauseAfter-th
	// polled pause point (counted from this call or resume, the first
	// poll of a resume being the pause point it continues from). It is
	// deterministic, which makes it the tool for checkpoint tests and for
	// "checkpoint after N steps"; it costs speed, every poll being counted.
	PauseAfter int64
}

// RequestPause asks the instance's running call to stop at its next pause
// point (within one loop iteration), which makes that call return a
// *Paused. It is safe to call from any goroutine. A request made while no
// call runs stops the next call at its first pause point. Pausing needs
// pause polling (RuntimeConfig.WithPausePolling, on by default). A host
// function blocked meanwhile sees its context cancelled with cause
// api.ErrPauseRequested: WASI's blocking calls then give up, having
// consumed nothing, and the call pauses at that host call, which resuming
// issues again; a host function that ignores its context delays the pause
// until it returns.
func (i *Instance) RequestPause() { i.inst.SetInterrupt(store.InterruptPause) }

// CallWithOptions is Call with per-call options.
func (f *Function) CallWithOptions(ctx context.Context, o CallOptions, params ...uint64) ([]uint64, error) {
	if o.PauseAfter <= 0 {
		return f.Call(ctx, params...)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if err := f.owner.refused(); err != nil {
		return nil, err
	}
	if params == nil {
		params = []uint64{}
	}
	entry, err := f.owner.inst.Enter(ctx)
	if err != nil {
		return nil, fmt.Errorf("ferry: call %s: %w", f.describe(), err)
	}
	defer entry.Leave()
	results, err := f.owner.rt.run(ctx, o, func(e engine.Engine) ([]uint64, error) {
		return e.Call(ctx, f.fn, params)
	})
	return f.owner.settle(ctx, results, f.owner.paused(err, pauseCount{known: true}))
}

// Resume continues the paused call on its instance and returns the
// results of the call that was paused, or another *Paused. It consumes p:
// a second Resume returns an error wrapping ErrPausedConsumed. For a call
// restored with VerifyConcurrent, the outcome is returned once the memory
// data is verified; if that fails, the error is the corruption, wrapping
// ErrCheckpointCorrupt, and the run was stopped.
func (p *Paused) Resume(ctx context.Context, o CallOptions) ([]uint64, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	// A failed memory check is reported first: it condemns the instance,
	// not just this Paused.
	if err := p.owner.refused(); err != nil {
		return nil, err
	}
	if !p.resumed.CompareAndSwap(false, true) {
		return nil, fmt.Errorf("ferry: resume: %w", ErrPausedConsumed)
	}
	frames, err := p.owner.framesToRefs(p.frames)
	if err != nil {
		return nil, err
	}
	entry, err := p.owner.inst.Enter(ctx)
	if err != nil {
		return nil, fmt.Errorf("ferry: resume: %w", err)
	}
	defer entry.Leave()
	results, err := p.rt.run(ctx, o, func(e engine.Engine) ([]uint64, error) {
		return e.Resume(ctx, p.owner.inst, frames)
	})
	// The first poll of a resume is the pause point it continues from.
	base := pauseCount{n: p.count.n - 1, known: p.count.known && o.PauseAfter > 0}
	return p.owner.settle(ctx, results, p.owner.paused(err, base))
}

// run runs f on the runtime's engine, or on one that counts pause points
// when o asks for it; like call, it never lets a panic escape.
func (r *Runtime) run(ctx context.Context, o CallOptions, f func(engine.Engine) ([]uint64, error)) (results []uint64, err error) {
	defer func() {
		if p := recover(); p != nil {
			results, err = nil, engine.PanicTrap(p, nil, nil)
		}
	}()
	e := r.engine
	if o.PauseAfter > 0 {
		e = e.Counting(o.PauseAfter)
	}
	return f(e)
}

// paused turns the engine's suspension into a *Paused; base is the pause
// count before this leg of the run.
func (i *Instance) paused(err error, base pauseCount) error {
	var s *engine.Suspended
	if !errors.As(err, &s) {
		return err
	}
	if s.Instance != i.inst {
		return fmt.Errorf("ferry: a call paused in another instance: %w", err)
	}
	frames, ferr := i.framesFromRefs(s.Frames)
	if ferr != nil {
		return ferr
	}
	count := pauseCount{n: base.n + s.Polled, known: base.known && s.Polled > 0}
	return &Paused{rt: i.rt, owner: i, frames: frames, count: count}
}

// Frames cross the facade with funcref values as function indices plus
// one (0 for null), as a checkpoint holds them: a Ref is a process-local
// handle. framesFromRefs translates engine frames, framesToRefs back.
func (i *Instance) framesFromRefs(fs []api.Frame) ([]api.Frame, error) {
	idx := i.refIndex()
	out := make([]api.Frame, len(fs))
	for k, f := range fs {
		f.Locals = append([]api.Value(nil), f.Locals...)
		f.Stack = append([]api.Value(nil), f.Stack...)
		for _, vs := range [][]api.Value{f.Locals, f.Stack} {
			for j := range vs {
				v, err := refToIndex(idx, vs[j].Type, vs[j].Lo)
				if err != nil {
					return nil, fmt.Errorf("frame %d (func %d): %w", k, f.Func, err)
				}
				vs[j].Lo = v
			}
		}
		out[k] = f
	}
	return out, nil
}

func (i *Instance) framesToRefs(fs []api.Frame) ([]api.Frame, error) {
	out := make([]api.Frame, len(fs))
	for k, f := range fs {
		f.Locals = append([]api.Value(nil), f.Locals...)
		f.Stack = append([]api.Value(nil), f.Stack...)
		for _, vs := range [][]api.Value{f.Locals, f.Stack} {
			for j := range vs {
				v, err := i.indexToRef(vs[j].Type, vs[j].Lo)
				if err != nil {
					return nil, fmt.Errorf("frame %d (func %d): %w", k, f.Func, err)
				}
				vs[j].Lo = v
			}
		}
		out[k] = f
	}
	return out, nil
}

// refIndex maps every funcref of the instance's function space to its
// index plus one.
func (i *Instance) refIndex() map[uint64]uint64 {
	m := make(map[uint64]uint64, len(i.inst.Funcs))
	for k := len(i.inst.Funcs) - 1; k >= 0; k-- { // the lowest index wins
		m[i.inst.Funcs[k].Ref] = uint64(k) + 1
	}
	return m
}

func refToIndex(idx map[uint64]uint64, t api.ValueType, v uint64) (uint64, error) {
	switch {
	case v == 0 || (t != api.ValueTypeFuncref && t != api.ValueTypeExternref):
		return v, nil
	case t == api.ValueTypeExternref:
		return 0, fmt.Errorf("%w: a non-null externref", ErrNotCheckpointable)
	}
	x, ok := idx[v]
	if !ok {
		return 0, fmt.Errorf("%w: a funcref to a function outside the instance", ErrNotCheckpointable)
	}
	return x, nil
}

func (i *Instance) indexToRef(t api.ValueType, v uint64) (uint64, error) {
	switch {
	case v == 0 || (t != api.ValueTypeFuncref && t != api.ValueTypeExternref):
		return v, nil
	case t == api.ValueTypeExternref:
		return 0, errors.New("ferry: a non-null externref cannot be restored")
	case v > uint64(len(i.inst.Funcs)):
		return 0, fmt.Errorf("ferry: funcref to function %d, the instance has %d", v-1, len(i.inst.Funcs))
	}
	return i.inst.Funcs[v-1].Ref, nil
}

// HostState is host state a checkpoint carries besides the WebAssembly
// state. wasi.Module implements it; the bytes are the WASI section's
// encoding (docs/snapshot-format.md).
type HostState interface {
	CheckpointWASIState() ([]byte, error)
}

// CheckpointConfig says what a checkpoint holds and how it is stored. It
// is immutable: every With method returns a modified copy.
type CheckpointConfig struct {
	omitModule bool
	compress   bool
	host       HostState
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

// WithHostState adds host state (a *wasi.Module) to the checkpoint.
func (c CheckpointConfig) WithHostState(h HostState) CheckpointConfig {
	c.host = h
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
// among them.
func writeSnapshot(w io.Writer, s *snapshot.Snapshot, cfg CheckpointConfig, isZero func([]byte) bool) (int64, error) {
	return writeSigned(w, s, cfg, snapshot.WriteOptions{Compress: cfg.compress, IsZeroPage: isZero})
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
	i := p.owner
	// A restored page not yet verified must not be laundered into a new
	// checkpoint with fresh checksums.
	if err := i.verified(); err != nil {
		return nil, err
	}
	if p.resumed.Load() {
		return nil, fmt.Errorf("ferry: checkpoint: %w", ErrPausedConsumed)
	}
	si := i.inst
	if i.module == nil {
		return nil, fmt.Errorf("%w: not a WebAssembly module instance", ErrNotCheckpointable)
	}
	m := si.Module
	if n := len(m.ImportedTables) + len(m.ImportedMemories) + len(m.ImportedGlobals); n > 0 {
		return nil, fmt.Errorf("%w: the module imports tables, memories or globals (shared with other instances)", ErrNotCheckpointable)
	}
	// The effective (masked) features, which the builtins were chosen for.
	arch, feats := p.rt.CPUFeatures()
	src := i.module.source
	s := &snapshot.Snapshot{Meta: snapshot.Meta{
		RuntimeVersion: Version(), Arch: arch, Features: feats,
		ModuleHash: i.module.sha256(), ModuleSize: uint64(len(src)),
		PauseCount: uint64(max(p.count.n, 0)), PauseCountKnown: p.count.known,
		Created: time.Now().UnixNano(),
	}, Callsites: p.rt.recordCallsites()}
	if !cfg.omitModule {
		s.Module = src
	}
	idx := i.refIndex()
	// p.frames already hold funcrefs as function indices (see framesFromRefs).
	s.Frames = p.frames
	for k, g := range si.Globals {
		v, err := refToIndex(idx, api.ValueType(g.Type.Type), g.Lo)
		if err != nil {
			return nil, fmt.Errorf("global %d: %w", k, err)
		}
		s.Globals = append(s.Globals, snapshot.Global{Mutable: g.Type.Mutable,
			Value: snapshot.Value{Type: uint8(g.Type.Type), Lo: v, Hi: g.Hi}})
	}
	for k, t := range si.Tables {
		st := snapshot.Table{ElemType: uint8(t.Type.Elem), Elems: make([]uint32, len(t.Elems))}
		for j, ref := range t.Elems {
			v, err := refToIndex(idx, api.ValueType(t.Type.Elem), ref)
			if err != nil {
				return nil, fmt.Errorf("table %d element %d: %w", k, j, err)
			}
			st.Elems[j] = uint32(v)
		}
		s.Tables = append(s.Tables, st)
	}
	for _, mem := range si.Memories {
		s.Memories = append(s.Memories, snapshot.Memory{Size: uint64(len(mem.Buf)), Data: mem.Buf})
	}
	for _, d := range si.Datas {
		s.Segments.DataDropped = append(s.Segments.DataDropped, d == nil)
	}
	for _, e := range si.Elems {
		s.Segments.ElemDropped = append(s.Segments.ElemDropped, e == nil)
	}
	if cfg.host != nil {
		b, err := cfg.host.CheckpointWASIState()
		if err != nil {
			return nil, err
		}
		if s.WASI, err = snapshot.DecodeWASI(b); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Version is this Ferry's version: the module version it was built as, a
// source revision, or "devel".
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if info.Main.Path == "github.com/ferryvm/ferry" {
		if v := info.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
		return "devel"
	}
	for _, d := range info.Deps {
		if d.Path == "github.com/ferryvm/ferry" {
			return d.Version
		}
	}
	return "devel"
}

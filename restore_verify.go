package ferry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/snapshot"
	"github.com/ferryvm/ferry/internal/store"
)

// MemoryVerification says when a restore checks the checksums of the
// memory pages it maps from a checkpoint file (docs/snapshot-format.md,
// "Verification on restore"). Every other part of a checkpoint (frames,
// globals, tables, page maps, WASI state) is verified before anything runs
// whatever the setting, and memory copied rather than mapped (a compressed
// checkpoint, WithMemoryMapping(false), a reader that is not an *os.File)
// is verified as it is copied.
type MemoryVerification uint8

const (
	// VerifyConcurrent, the default, maps the pages and returns at once;
	// the checksums (SHA-256 digests when the checkpoint was read with a
	// trusted signature) are checked in the background while the restored
	// code may already run, and no effect of the run leaves the process
	// before the check passed: host calls (WASI included) wait for it,
	// results and pauses are returned, memory is shown to the host and
	// the instance is checkpointed again only after it. If it fails, the
	// running code is stopped and every call returns the corruption error
	// (wrapping ErrCheckpointCorrupt, and ErrCheckpointSignature for a
	// digest of a trusted signature). Restore time does not grow with
	// memory size.
	VerifyConcurrent MemoryVerification = iota
	// VerifyBeforeRun checks the checksums before Restore returns: nothing
	// runs on unverified data, at the price of reading all stored memory
	// (about 0.1 ms per MiB from the page cache; the SHA-256 digests of a
	// trusted signed file take longer, see docs/snapshot-format.md) before
	// the first instruction.
	VerifyBeforeRun
	// VerifyOff never checks them: a damaged page becomes guest memory,
	// unnoticed. For checkpoints whose integrity is ensured otherwise.
	// A checkpoint read with a trusted signature (OpenConfig.
	// WithTrustedKey) is checked as with VerifyConcurrent all the same:
	// its signature covers memory by the digests that check compares, and
	// a trusted restore keeps the grants the file records, which a forged
	// page must not steer.
	VerifyOff
	// VerifyFirstTouch checks the checksums in the background as
	// VerifyConcurrent does, but an effect of the run waits only for the
	// 1 MiB chunks the run could have read so far: those of the pages its
	// code touched and of the ranges host functions read, each checked on
	// its own (docs/snapshot-format.md, "First-touch verification"). A
	// restored program that answers at once answers before all of memory
	// is checked. It needs per-chunk sums in the checkpoint (written by
	// default) or a trusted signature, and pages pinned once touched
	// (mlock, within RLIMIT_MEMLOCK or with CAP_IPC_LOCK); without them it
	// is VerifyConcurrent. The whole check still runs: if it fails while
	// the run goes on, the run is stopped with the corruption error, some
	// effects (that depended on verified memory only) having left. A run
	// that ends first ended on verified memory, and the corruption of
	// memory it never read is not reported.
	VerifyFirstTouch
)

var memoryVerificationNames = [...]string{VerifyConcurrent: "concurrent", VerifyBeforeRun: "before-run", VerifyOff: "off", VerifyFirstTouch: "first-touch"}

// background reports whether v checks mapped memory while the restored
// run may already run.
func (v MemoryVerification) background() bool { return v == VerifyConcurrent || v == VerifyFirstTouch }

// String is the setting's name: "concurrent", "before-run", "off" or
// "first-touch".
func (v MemoryVerification) String() string {
	if int(v) < len(memoryVerificationNames) {
		return memoryVerificationNames[v]
	}
	return fmt.Sprintf("MemoryVerification(%d)", uint8(v))
}

// ParseMemoryVerification returns the setting String names.
func ParseMemoryVerification(name string) (MemoryVerification, error) {
	for v, n := range memoryVerificationNames {
		if n == name {
			return MemoryVerification(v), nil
		}
	}
	return 0, fmt.Errorf("memory verification %q: want concurrent, before-run, off or first-touch", name)
}

// WithMemoryVerification says when the checksums of mapped memory pages
// are checked (see MemoryVerification; default VerifyConcurrent).
func (c RestoreConfig) WithMemoryVerification(v MemoryVerification) RestoreConfig {
	c.verify = v
	return c
}

// memoryCheck is the verification of a restored instance's mapped memory
// data while the instance may already run. err is written once, before
// done is closed.
type memoryCheck struct {
	done    chan struct{}
	err     error
	cancel  context.CancelFunc
	touched *touchedCheck // VerifyFirstTouch's; nil: effects wait for the whole check
}

// errCheckStopped ends a check whose instance was closed first.
var errCheckStopped = errors.New("ferry: memory verification stopped: the instance was closed")

// startMemoryCheck verifies the data of memories mems of ck in the
// background, reading a second handle of the checkpoint file, never the
// mapping (which would fault every page into the guest's memory). Until it
// finishes, si's host calls wait for it; when it fails, si's running code
// is aborted. With VerifyFirstTouch, an effect waits only for the chunks
// the run touched (effect). hook, for tests, runs first in the checking
// goroutine.
func startMemoryCheck(si *store.Instance, ck *Checkpoint, mems []int, v MemoryVerification, hook func(context.Context)) (*memoryCheck, error) {
	// The instance outlives the Checkpoint (its Close closes the file it
	// opened), so the check reads its own handle, which it closes.
	fh, err := dupFile(ck.file)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &memoryCheck{done: make(chan struct{}), cancel: cancel}
	if v == VerifyFirstTouch {
		c.touched = newTouchedCheck(si, ck, mems, func(err error) {
			// The whole check stops too and reports this error (finish).
			si.Abort(err)
			cancel()
		})
	}
	if c.touched != nil {
		si.SetMemoryGuard(c.touched)
		si.SetHostGate(c.effect)
	} else {
		si.SetHostGate(c.wait)
	}
	go func() {
		if hook != nil {
			hook(ctx)
		}
		err := verifyMemories(ctx, ck.f, fh, mems, c.touched != nil)
		// Closed before done, so that a Close of the instance returns with
		// nothing of the check left.
		fh.Close()
		cancel()
		c.finish(si, err)
	}()
	return c, nil
}

// verifyMemories is the whole check. With firstTouch, no effect waits for
// it but those of a run whose page map cannot be read, so it reads with
// one goroutine, leaving the other CPUs to the run and its per-chunk
// checks.
func verifyMemories(ctx context.Context, f *snapshot.File, fh *os.File, mems []int, firstTouch bool) error {
	workers, held := runtime.GOMAXPROCS(0), "held back: it was stopped before any effect"
	if firstTouch {
		workers, held = 1, "running: it was stopped; only effects that depended on memory already verified had left"
	}
	for _, k := range mems {
		if err := f.VerifyMemoryWorkers(ctx, k, fh, workers); err != nil {
			if ctx.Err() != nil {
				return errCheckStopped
			}
			return fmt.Errorf("%w (found while the restored run was %s)", err, held)
		}
	}
	if ctx.Err() != nil {
		return errCheckStopped
	}
	return nil
}

func (c *memoryCheck) finish(si *store.Instance, err error) {
	if c.touched != nil {
		c.touched.end(err)
		// A corrupt chunk found first cancelled the whole check: report
		// the chunk, not the cancellation.
		err = c.touched.failure()
		si.SetMemoryGuard(nil)
	}
	c.err = err
	if err == nil {
		// Verified: the steady state pays nothing for the gate.
		si.SetHostGate(nil)
	} else {
		// A guest that makes no host call would otherwise spin on
		// unnoticed; the gate stops the others.
		si.Abort(err)
	}
	close(c.done)
}

// wait blocks until the check finished and returns its error. A host
// call's gate (ctx from the running call) gives up when the call is
// cancelled: the call then ends with the context's error.
func (c *memoryCheck) wait(ctx context.Context) error {
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop ends the check early and waits for its goroutine.
func (c *memoryCheck) stop() {
	c.cancel()
	<-c.done
}

// failed returns the error of a check that finished and failed, nil while
// it runs or when it passed.
func (c *memoryCheck) failed() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// refused returns the error that keeps a call out of the instance: its
// memory check failed.
func (i *Instance) refused() error {
	if i.check == nil {
		return nil
	}
	return i.check.failed()
}

// verified waits for the instance's memory check (none unless restored
// with VerifyConcurrent) and returns its error.
func (i *Instance) verified() error {
	if i.check == nil {
		return nil
	}
	return i.check.wait(context.Background())
}

// settle holds a call's outcome back until the instance's memory check
// finished (VerifyFirstTouch: until the chunks the run touched passed); a
// failed check replaces it, since it may have been computed from corrupt
// memory. A call that ended because its context was
// cancelled returns at once: that error reveals nothing of the memory.
func (i *Instance) settle(ctx context.Context, results []uint64, err error) ([]uint64, error) {
	if err != nil && ctx != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil, err
	}
	if i.check == nil {
		return results, err
	}
	if cerr := i.check.effect(context.Background()); cerr != nil {
		return nil, cerr
	}
	return results, err
}

// refusedMemory stands for the memory of an instance whose memory data
// turned out corrupt: the host sees none of it.
type refusedMemory struct{}

func (refusedMemory) Size() uint64                          { return 0 }
func (refusedMemory) Bytes() []byte                         { return nil }
func (refusedMemory) Read(offset, n uint64) ([]byte, bool)  { return nil, false }
func (refusedMemory) Write(offset uint64, b []byte) bool    { return false }
func (refusedMemory) Grow(deltaPages uint64) (uint64, bool) { return 0, false }

var _ api.Memory = refusedMemory{}

package ferry_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/wasi"
)

// First-touch verification (docs/snapshot-format.md, "First-touch
// verification"), with testdata/firsttouch.wat: 5 MiB of stored memory,
// five chunks; the message the guest writes is in chunk 0, and chunk 3
// holds bytes that some exports read (the guest itself, or the host
// through fd_write) and others never touch.

// farByte is the offset in memory, and in the stored data (every page is
// stored), of the first byte of chunk 3 the far exports use.
const farByte = 3<<20 + 16

// firstTouchCheckpoint checkpoints export of firsttouch.wasm paused in its
// counting loop and returns the file's path.
func firstTouchCheckpoint(t *testing.T, export string) string {
	t.Helper()
	wasm, err := os.ReadFile("testdata/firsttouch.wasm")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), export+".ckpt")
	wasiCheckpoint(t, wasm, wasi.NewConfig(), export, 5, path, 1000)
	return path
}

// corruptStored flips a bit of byte at of the stored memory data of the
// checkpoint at path, leaving every checksum as it was.
func corruptStored(t *testing.T, path string, at int64) {
	t.Helper()
	ck, err := ferry.OpenCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	var base int64 = -1
	for _, s := range ck.Info().Sections {
		if s.Type == "memory-data" && !s.Compressed && s.Length > uint64(at) {
			base = s.Offset
		}
	}
	ck.Close()
	if base < 0 {
		t.Fatal("no mappable memory data that long")
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], base+at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x20
	if _, err := f.WriteAt(b[:], base+at); err != nil {
		t.Fatal(err)
	}
}

// firstTouchRun is a restored firsttouch program whose stdout is a real
// file, so that what "left the process" is what the file holds.
type firstTouchRun struct {
	p   *ferry.Paused
	out string // stdout's path
}

func (r *firstTouchRun) output(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(r.out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// restoreFirstTouch restores the checkpoint at path under tier with cfg,
// opening it with open, stdout a new file.
func restoreFirstTouch(t *testing.T, path string, tier ferry.Tier, open ferry.OpenConfig, cfg ferry.RestoreConfig) *firstTouchRun {
	t.Helper()
	ctx := context.Background()
	ck, err := ferry.OpenCheckpointWith(path, open)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig().WithTier(tier))
	t.Cleanup(func() { rt.Close(ctx) })
	out := filepath.Join(t.TempDir(), "stdout")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := wasi.Restore(ctx, rt, ck, wasi.NewConfig().WithStdout(f), wasi.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := rt.Restore(ctx, ck, cfg)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	return &firstTouchRun{p: p, out: out}
}

var firstTouchTiers = []ferry.Tier{ferry.TierInterp, ferry.TierCompiled}

func firstTouch() ferry.RestoreConfig {
	return ferry.NewRestoreConfig().WithMemoryVerification(ferry.VerifyFirstTouch)
}

// The run's write goes out while the whole check is held back, and only
// once the chunk the guest read (0) passed; chunk 3, which nothing read,
// is still unchecked then.
func TestFirstTouchReleasesAfterTouchedChunks(t *testing.T) {
	path := firstTouchCheckpoint(t, "write_after")
	for _, tier := range firstTouchTiers {
		hook, release := held()
		r := restoreFirstTouch(t, path, tier, ferry.NewOpenConfig(), ferry.WithMemoryCheckHook(firstTouch(), hook))
		res, err := r.p.Resume(context.Background(), ferry.CallOptions{})
		if err != nil || len(res) != 1 || res[0] != 0 || r.output(t) != gatedMessage {
			t.Fatalf("%v: %v, %v, stdout %q", tier, res, err, r.output(t))
		}
		chunks, ok := ferry.FirstTouchChunks(r.p.Instance())
		if !ok || !slices.Contains(chunks, 0) || slices.Contains(chunks, 3) {
			t.Fatalf("%v: verified chunks %v (first-touch check %v), want 0 and not 3", tier, chunks, ok)
		}
		release()
	}
}

// A chunk the guest reads is corrupt: the run stops with the corruption
// error before its write, whether it read the chunk for the message it
// writes (0) or for a value (3), and the whole check held back or not.
func TestFirstTouchCorruptTouchedChunkNoEffect(t *testing.T) {
	for _, c := range []struct {
		export string
		at     int64
	}{{"write_after", 16}, {"read_far_then_write", farByte}} {
		path := firstTouchCheckpoint(t, c.export)
		corruptStored(t, path, c.at)
		for _, tier := range firstTouchTiers {
			for _, hold := range []bool{true, false} {
				cfg, release := maybeHeld(firstTouch(), hold)
				r := restoreFirstTouch(t, path, tier, ferry.NewOpenConfig(), cfg)
				res, err := r.p.Resume(context.Background(), ferry.CallOptions{})
				release()
				if !errors.Is(err, ferry.ErrCheckpointCorrupt) || res != nil {
					t.Fatalf("%s, %v, hold=%v: %v, %v; want the corruption error", c.export, tier, hold, res, err)
				}
				if out := r.output(t); out != "" {
					t.Fatalf("%s, %v, hold=%v: %q left the process", c.export, tier, hold, out)
				}
			}
		}
	}
}

// A corrupt chunk nobody touches: the run's write goes out (it depends on
// chunk 0 only), then the whole check finds the corruption and stops the
// run, which spins without host calls, with the corruption error. The
// whole check is held until the write is out, which it would otherwise
// race with (5 MiB are checked in a few milliseconds).
func TestFirstTouchCorruptUntouchedChunkFailsLater(t *testing.T) {
	path := firstTouchCheckpoint(t, "write_then_spin")
	corruptStored(t, path, farByte)
	for _, tier := range firstTouchTiers {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		hook, release := held()
		r := restoreFirstTouch(t, path, tier, ferry.NewOpenConfig(), ferry.WithMemoryCheckHook(firstTouch(), hook))
		go func() {
			defer release()
			for ctx.Err() == nil {
				if b, _ := os.ReadFile(r.out); len(b) > 0 {
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
		res, err := r.p.Resume(ctx, ferry.CallOptions{})
		cancel()
		if !errors.Is(err, ferry.ErrCheckpointCorrupt) || errors.Is(err, context.DeadlineExceeded) || res != nil {
			t.Fatalf("%v: %v, %v; want the corruption error", tier, res, err)
		}
		if out := r.output(t); out != gatedMessage {
			t.Fatalf("%v: stdout %q, want the early write", tier, out)
		}
	}
}

// fd_write of a buffer in a corrupt chunk the guest never read: the host's
// read of it is refused before the write, and the run stops with the
// corruption error.
func TestFirstTouchHostReadOfCorruptChunkRefused(t *testing.T) {
	path := firstTouchCheckpoint(t, "write_far")
	for _, tier := range firstTouchTiers {
		// Intact, the host writes the far bytes.
		r := restoreFirstTouch(t, path, tier, ferry.NewOpenConfig(), firstTouch())
		if res, err := r.p.Resume(context.Background(), ferry.CallOptions{}); err != nil || len(res) != 1 || res[0] != 0 || r.output(t) != "UUUUUUUU" {
			t.Fatalf("%v: intact: %v, %v, stdout %q", tier, res, err, r.output(t))
		}
	}
	corruptStored(t, path, farByte)
	for _, tier := range firstTouchTiers {
		for _, hold := range []bool{true, false} {
			cfg, release := maybeHeld(firstTouch(), hold)
			r := restoreFirstTouch(t, path, tier, ferry.NewOpenConfig(), cfg)
			res, err := r.p.Resume(context.Background(), ferry.CallOptions{})
			release()
			if !errors.Is(err, ferry.ErrCheckpointCorrupt) || res != nil {
				t.Fatalf("%v, hold=%v: %v, %v; want the corruption error", tier, hold, res, err)
			}
			if out := r.output(t); out != "" {
				t.Fatalf("%v, hold=%v: %q left the process", tier, hold, out)
			}
		}
	}
}

// Where pages cannot be pinned (mlock refused), first-touch is the
// wait-for-all check: the write waits for the whole check, and a call
// whose context ends meanwhile returns with the context's error.
func TestFirstTouchWithoutLockWaitsForAll(t *testing.T) {
	path := firstTouchCheckpoint(t, "write_after")
	defer ferry.RefuseLockOnFault()()
	hook, release := held()
	r := restoreFirstTouch(t, path, ferry.TierInterp, ferry.NewOpenConfig(), ferry.WithMemoryCheckHook(firstTouch(), hook))
	defer release()
	if _, ok := ferry.FirstTouchChunks(r.p.Instance()); ok {
		t.Fatal("a first-touch check without pinned pages")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := r.p.Resume(ctx, ferry.CallOptions{})
	if !errors.Is(err, context.DeadlineExceeded) || r.output(t) != "" {
		t.Fatalf("resume while the check is held: %v, stdout %q", err, r.output(t))
	}
}

// A checkpoint signed by a trusted key is checked chunk by chunk against
// its signed SHA-256 digests, never its CRC-32C chunk sums: intact, the
// write goes out while the whole check is held; with the message's chunk
// forged (the chunk sums, being CRCs, could be forged to match), the run
// stops with the signature error and nothing leaves.
func TestFirstTouchSignedUsesDigests(t *testing.T) {
	path, open := signedFirstTouchCheckpoint(t)
	hook, release := held()
	r := restoreFirstTouch(t, path, ferry.TierInterp, open, ferry.WithMemoryCheckHook(firstTouch(), hook))
	if res, err := r.p.Resume(context.Background(), ferry.CallOptions{}); err != nil || len(res) != 1 || r.output(t) != gatedMessage {
		t.Fatalf("intact: %v, %v, stdout %q", res, err, r.output(t))
	}
	release()
	corruptStored(t, path, 16)
	for _, hold := range []bool{true, false} {
		cfg, release := maybeHeld(firstTouch(), hold)
		r := restoreFirstTouch(t, path, ferry.TierInterp, open, cfg)
		res, err := r.p.Resume(context.Background(), ferry.CallOptions{})
		release()
		if !errors.Is(err, ferry.ErrCheckpointSignature) || !errors.Is(err, ferry.ErrCheckpointCorrupt) || res != nil {
			t.Fatalf("hold=%v: %v, %v; want the signature error", hold, res, err)
		}
		if out := r.output(t); out != "" {
			t.Fatalf("hold=%v: %q left the process", hold, out)
		}
	}
}

// signedFirstTouchCheckpoint is firstTouchCheckpoint("write_after") signed
// by a new key, and the OpenConfig that trusts it.
func signedFirstTouchCheckpoint(t *testing.T) (string, ferry.OpenConfig) {
	t.Helper()
	wasm, err := os.ReadFile("testdata/firsttouch.wasm")
	if err != nil {
		t.Fatal(err)
	}
	key, err := ferry.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt.Close(ctx)
	w, err := wasi.Instantiate(ctx, rt, wasi.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	cm, err := rt.Compile(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := rt.Instantiate(ctx, cm, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = inst.Function("write_after").CallWithOptions(ctx, ferry.CallOptions{PauseAfter: 5}, 1000)
	var p *ferry.Paused
	if !errors.As(err, &p) {
		t.Fatalf("no pause: %v", err)
	}
	path := filepath.Join(t.TempDir(), "signed.ckpt")
	if err := p.WriteCheckpointFile(path, ferry.NewCheckpointConfig().WithHostState(w).WithSigningKey(key)); err != nil {
		t.Fatal(err)
	}
	return path, ferry.NewOpenConfig().WithTrustedKey(key.Trusted())
}

// The first early-release gate (never merged) made a host function's read
// of a chunk wait for the whole check without a context to give up on,
// and hung TestRestoreGateHonoursContext: the guarded memory must check
// the chunks it reads itself and never wait for the whole check. With the
// whole check held, fd_write of a chunk the guest never read completes.
func TestFirstTouchHostReadDoesNotWaitForWholeCheck(t *testing.T) {
	path := firstTouchCheckpoint(t, "write_far")
	hook, release := held()
	defer release()
	r := restoreFirstTouch(t, path, ferry.TierInterp, ferry.NewOpenConfig(), ferry.WithMemoryCheckHook(firstTouch(), hook))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := r.p.Resume(ctx, ferry.CallOptions{})
	if err != nil || len(res) != 1 || res[0] != 0 || r.output(t) != "UUUUUUUU" {
		t.Fatalf("%v, %v, stdout %q", res, err, r.output(t))
	}
	if chunks, _ := ferry.FirstTouchChunks(r.p.Instance()); !slices.Contains(chunks, 3) {
		t.Fatalf("verified chunks %v, want 3 (read by fd_write)", chunks)
	}
}

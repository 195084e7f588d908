package ferry_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/wasi"
)

// Verification of mapped memory data on restore (docs/snapshot-format.md,
// "Verification on restore"), with testdata/gated.wat: a guest paused in a
// counting loop that, once resumed, writes a message from its memory to
// stdout or spins forever without a host call.

const gatedMessage = "hello from the restored run\n"

// gatedCheckpoint runs export of gated.wasm under WASI, pauses it in its
// counting loop and writes the checkpoint to a file, whose path it returns.
func gatedCheckpoint(t *testing.T, export string) string {
	t.Helper()
	wasm, err := os.ReadFile("testdata/gated.wasm")
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	path := filepath.Join(t.TempDir(), export+".ckpt")
	wasiCheckpoint(t, wasm, wasi.NewConfig().WithStdout(&stdout), export, 5, path, 1000)
	if stdout.Len() != 0 {
		t.Fatalf("the run wrote %q before its checkpoint", stdout.String())
	}
	return path
}

// wasiCheckpoint calls export(args) of wasm under WASI configured by cfg,
// pauses it at its pauseAfter-th pause point and writes the checkpoint to
// path.
func wasiCheckpoint(tb testing.TB, wasm []byte, cfg wasi.Config, export string, pauseAfter int64, path string, args ...uint64) {
	tb.Helper()
	ctx := context.Background()
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt.Close(ctx)
	w, err := wasi.Instantiate(ctx, rt, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	cm, err := rt.Compile(ctx, wasm)
	if err != nil {
		tb.Fatal(err)
	}
	inst, err := rt.Instantiate(ctx, cm, "")
	if err != nil {
		tb.Fatal(err)
	}
	_, err = inst.Function(export).CallWithOptions(ctx, ferry.CallOptions{PauseAfter: pauseAfter}, args...)
	var p *ferry.Paused
	if !errors.As(err, &p) {
		tb.Fatalf("%s: no pause: %v", export, err)
	}
	if err := p.WriteCheckpointFile(path, ferry.NewCheckpointConfig().WithHostState(w)); err != nil {
		tb.Fatal(err)
	}
}

// corruptMessage flips a bit of the message's first byte in the stored
// memory data of the checkpoint at path (its only present page is page 0,
// stored first): the checksums stay as they were.
func corruptMessage(t *testing.T, path string) {
	t.Helper()
	ck, err := ferry.OpenCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	var at int64 = -1
	for _, s := range ck.Info().Sections {
		if s.Type == "memory-data" && !s.Compressed && s.Length > 0 {
			at = s.Offset + 16
		}
	}
	ck.Close()
	if at < 0 {
		t.Fatal("no mappable memory data")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b[at] != gatedMessage[0] {
		t.Fatalf("byte %d is %q, not the message's first", at, b[at])
	}
	b[at] ^= 0x20
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

type restored struct {
	rt     *ferry.Runtime
	p      *ferry.Paused
	stdout *bytes.Buffer
}

// restoreGated restores the checkpoint at path with WASI writing stdout to
// a buffer. The Checkpoint is closed before returning, as a restored
// instance must not depend on it (the concurrent check included).
func restoreGated(t *testing.T, path string, cfg ferry.RestoreConfig) (*restored, error) {
	t.Helper()
	return restoreGatedWith(t, path, ferry.NewOpenConfig(), cfg)
}

// restoreGatedWith is restoreGated opening the checkpoint with open.
func restoreGatedWith(t *testing.T, path string, open ferry.OpenConfig, cfg ferry.RestoreConfig) (*restored, error) {
	t.Helper()
	ctx := context.Background()
	ck, err := ferry.OpenCheckpointWith(path, open)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	t.Cleanup(func() { rt.Close(ctx) })
	var stdout bytes.Buffer
	if _, err := wasi.Restore(ctx, rt, ck, wasi.NewConfig().WithStdout(&stdout), wasi.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := rt.Restore(ctx, ck, cfg)
	if err != nil {
		return nil, err
	}
	return &restored{rt: rt, p: p, stdout: &stdout}, nil
}

// held returns a check hook that waits for release (or Close), and
// release.
func held() (hook func(context.Context), release func()) {
	ch := make(chan struct{})
	return func(ctx context.Context) {
		select {
		case <-ch:
		case <-ctx.Done():
		}
	}, func() { close(ch) }
}

// maybeHeld returns cfg with its memory check held back until release
// when hold is set, and cfg as is (release doing nothing) otherwise.
func maybeHeld(cfg ferry.RestoreConfig, hold bool) (_ ferry.RestoreConfig, release func()) {
	if !hold {
		return cfg, func() {}
	}
	hook, release := held()
	return ferry.WithMemoryCheckHook(cfg, hook), release
}

// An intact checkpoint restores and runs to the same end under every
// setting, the check held back or not, with its Checkpoint closed.
func TestRestoreIntactMemoryEveryVerification(t *testing.T) {
	path := gatedCheckpoint(t, "write_after")
	for _, v := range []ferry.MemoryVerification{ferry.VerifyConcurrent, ferry.VerifyBeforeRun, ferry.VerifyOff} {
		for _, hold := range []bool{false, true} {
			cfg, release := maybeHeld(ferry.NewRestoreConfig().WithMemoryVerification(v), hold)
			r, err := restoreGated(t, path, cfg)
			if err != nil {
				t.Fatalf("%v: restore: %v", v, err)
			}
			time.AfterFunc(20*time.Millisecond, release)
			res, err := r.p.Resume(context.Background(), ferry.CallOptions{})
			if err != nil || len(res) != 1 || res[0] != uint64(gatedMessage[0]) || r.stdout.String() != gatedMessage {
				t.Fatalf("%v (check held %v): results %v, error %v, stdout %q; want [%d], no error, %q",
					v, hold, res, err, r.stdout.String(), gatedMessage[0], gatedMessage)
			}
			if got, ok := r.p.Instance().Memory("memory").Read(16, 5); !ok || string(got) != gatedMessage[:5] {
				t.Fatalf("%v: memory reads %q, %v", v, got, ok)
			}
			r.rt.Close(context.Background())
		}
	}
}

// By default a flipped bit in the stored memory data lets Restore succeed
// (the pages are mapped, the check runs behind), but the resumed guest's
// write to stdout never happens and the resume fails with the corruption;
// so does every later use of the instance: calls, memory, checkpointing.
func TestRestoreCorruptMemoryHoldsBackEffects(t *testing.T) {
	path := gatedCheckpoint(t, "write_after")
	corruptMessage(t, path)
	for _, hold := range []bool{false, true} {
		cfg, release := maybeHeld(ferry.NewRestoreConfig(), hold)
		r, err := restoreGated(t, path, cfg)
		if err != nil {
			t.Fatalf("hold=%v: restore: %v, want success (verification runs concurrently)", hold, err)
		}
		type outcome struct {
			res []uint64
			err error
		}
		done := make(chan outcome, 1)
		go func() {
			res, err := r.p.Resume(context.Background(), ferry.CallOptions{})
			done <- outcome{res, err}
		}()
		if hold {
			// The guest reaches its fd_write and waits there for the check.
			select {
			case o := <-done:
				t.Fatalf("resume returned %v, %v before the check finished", o.res, o.err)
			case <-time.After(50 * time.Millisecond):
			}
			release()
		}
		o := <-done
		var trap *api.TrapError
		if !errors.Is(o.err, ferry.ErrCheckpointCorrupt) || errors.As(o.err, &trap) || o.res != nil {
			t.Fatalf("hold=%v: resume: %v, %v; want the corruption error, no trap, no results", hold, o.res, o.err)
		}
		if r.stdout.Len() != 0 {
			t.Fatalf("hold=%v: the guest wrote %q", hold, r.stdout.String())
		}
		inst := r.p.Instance()
		if _, err := r.p.Resume(context.Background(), ferry.CallOptions{}); !errors.Is(err, ferry.ErrCheckpointCorrupt) {
			t.Errorf("hold=%v: second resume: %v", hold, err)
		}
		if _, err := inst.Function("write_after").Call(context.Background(), 1); !errors.Is(err, ferry.ErrCheckpointCorrupt) {
			t.Errorf("hold=%v: call: %v", hold, err)
		}
		if b, ok := inst.Memory("memory").Read(16, 1); ok {
			t.Errorf("hold=%v: memory read %q", hold, b)
		}
		if _, err := r.p.WriteCheckpoint(&bytes.Buffer{}, ferry.NewCheckpointConfig()); !errors.Is(err, ferry.ErrCheckpointCorrupt) {
			t.Errorf("hold=%v: checkpointing the corrupt instance again: %v", hold, err)
		}
		if r.stdout.Len() != 0 {
			t.Fatalf("hold=%v: the guest wrote %q", hold, r.stdout.String())
		}
		r.rt.Close(context.Background())
	}
}

// A guest that spins without host calls is stopped when the check fails:
// the resume ends with the corruption error, long before the safety net's
// deadline.
func TestRestoreCorruptMemoryAbortsSpinningGuest(t *testing.T) {
	path := gatedCheckpoint(t, "spin_after")
	corruptMessage(t, path)
	hook, release := held()
	r, err := restoreGated(t, path, ferry.WithMemoryCheckHook(ferry.NewRestoreConfig(), hook))
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := r.p.Resume(ctx, ferry.CallOptions{})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("resume returned %v while the guest should spin", err)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	err = <-done
	if !errors.Is(err, ferry.ErrCheckpointCorrupt) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("resume: %v, want the corruption error", err)
	}
}

// signedGatedCheckpoint is gatedCheckpoint signed with a new key, and the
// OpenConfig that trusts it.
func signedGatedCheckpoint(t *testing.T, export string) (string, ferry.OpenConfig) {
	t.Helper()
	wasm, err := os.ReadFile("testdata/gated.wasm")
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
	_, err = inst.Function(export).CallWithOptions(ctx, ferry.CallOptions{PauseAfter: 5}, 1000)
	var p *ferry.Paused
	if !errors.As(err, &p) {
		t.Fatalf("%s: no pause: %v", export, err)
	}
	path := filepath.Join(t.TempDir(), export+".signed.ckpt")
	if err := p.WriteCheckpointFile(path, ferry.NewCheckpointConfig().WithHostState(w).WithSigningKey(key)); err != nil {
		t.Fatal(err)
	}
	return path, ferry.NewOpenConfig().WithTrustedKey(key.Trusted())
}

// A forged memory page in a checkpoint signed by a trusted key: opening
// it reads no memory, so it succeeds, and the restore maps the pages; the
// concurrent check finds the page differs from its signed digest and
// stops the program before its write to stdout. VerifyOff checks it all
// the same (a trusted signature implies the check). Intact, the same file
// runs to its end.
func TestSignedMemoryTamperedRefusedConcurrent(t *testing.T) {
	path, open := signedGatedCheckpoint(t, "write_after")
	for _, v := range []ferry.MemoryVerification{ferry.VerifyConcurrent, ferry.VerifyOff} {
		r, err := restoreGatedWith(t, path, open, ferry.NewRestoreConfig().WithMemoryVerification(v))
		if err != nil {
			t.Fatalf("%v: intact: restore: %v", v, err)
		}
		if res, err := r.p.Resume(context.Background(), ferry.CallOptions{}); err != nil || len(res) != 1 || r.stdout.String() != gatedMessage {
			t.Fatalf("%v: intact: %v, %v, stdout %q", v, res, err, r.stdout.String())
		}
		r.rt.Close(context.Background())
	}
	corruptMessage(t, path)
	for _, v := range []ferry.MemoryVerification{ferry.VerifyConcurrent, ferry.VerifyOff} {
		for _, hold := range []bool{false, true} {
			cfg, release := maybeHeld(ferry.NewRestoreConfig().WithMemoryVerification(v), hold)
			r, err := restoreGatedWith(t, path, open, cfg)
			if err != nil {
				t.Fatalf("%v, hold=%v: restore: %v, want success (memory is checked concurrently)", v, hold, err)
			}
			time.AfterFunc(20*time.Millisecond, release)
			res, err := r.p.Resume(context.Background(), ferry.CallOptions{})
			if !errors.Is(err, ferry.ErrCheckpointSignature) || !errors.Is(err, ferry.ErrCheckpointCorrupt) || res != nil {
				t.Fatalf("%v, hold=%v: resume: %v, %v; want the signature error", v, hold, res, err)
			}
			if r.stdout.Len() != 0 {
				t.Fatalf("%v, hold=%v: the guest wrote %q", v, hold, r.stdout.String())
			}
			r.rt.Close(context.Background())
		}
	}
}

// The same forged page with VerifyBeforeRun: Restore refuses the file
// before anything runs.
func TestSignedMemoryTamperedRefusedBeforeRun(t *testing.T) {
	path, open := signedGatedCheckpoint(t, "write_after")
	corruptMessage(t, path)
	r, err := restoreGatedWith(t, path, open, ferry.NewRestoreConfig().WithMemoryVerification(ferry.VerifyBeforeRun))
	if !errors.Is(err, ferry.ErrCheckpointSignature) || !errors.Is(err, ferry.ErrCheckpointCorrupt) {
		t.Fatalf("restore: %v, want the signature error", err)
	}
	if r != nil {
		t.Fatalf("restored: stdout %q", r.stdout.String())
	}
	// Copied rather than mapped, the memory is checked before the copy.
	_, err = restoreGatedWith(t, path, open, ferry.NewRestoreConfig().WithMemoryMapping(false))
	if !errors.Is(err, ferry.ErrCheckpointSignature) {
		t.Fatalf("copied memory: restore: %v, want the signature error", err)
	}
}

// VerifyBeforeRun refuses the damaged checkpoint in Restore; VerifyOff
// runs it with the damaged byte (garbage in, no error).
func TestRestoreCorruptMemoryBeforeRunAndOff(t *testing.T) {
	path := gatedCheckpoint(t, "write_after")
	corruptMessage(t, path)
	if _, err := restoreGated(t, path, ferry.NewRestoreConfig().WithMemoryVerification(ferry.VerifyBeforeRun)); !errors.Is(err, ferry.ErrCheckpointCorrupt) {
		t.Fatalf("before-run: restore: %v, want the corruption error", err)
	}
	r, err := restoreGated(t, path, ferry.NewRestoreConfig().WithMemoryVerification(ferry.VerifyOff))
	if err != nil {
		t.Fatalf("off: restore: %v", err)
	}
	res, err := r.p.Resume(context.Background(), ferry.CallOptions{})
	damaged := string(gatedMessage[0]^0x20) + gatedMessage[1:]
	if err != nil || len(res) != 1 || res[0] != uint64(damaged[0]) || r.stdout.String() != damaged {
		t.Fatalf("off: results %v, error %v, stdout %q; want the damaged %q", res, err, r.stdout.String(), damaged)
	}
}

// Memory of a restored instance is shown to the host only once verified.
func TestRestoreMemoryWaitsForCheck(t *testing.T) {
	path := gatedCheckpoint(t, "write_after")
	hook, release := held()
	r, err := restoreGated(t, path, ferry.WithMemoryCheckHook(ferry.NewRestoreConfig(), hook))
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan api.Memory, 1)
	go func() { got <- r.p.Instance().Memory("memory") }()
	select {
	case <-got:
		t.Fatal("Memory returned before the check finished")
	case <-time.After(50 * time.Millisecond):
	}
	release()
	if b, ok := (<-got).Read(16, 5); !ok || string(b) != gatedMessage[:5] {
		t.Fatalf("memory reads %q, %v", b, ok)
	}
}

// Closing a restored instance (here through its runtime) while the check
// runs stops the check and waits for it; nothing runs afterwards.
func TestRestoreCloseDuringMemoryCheck(t *testing.T) {
	path := gatedCheckpoint(t, "write_after")
	stopped := make(chan struct{})
	hook := func(ctx context.Context) {
		<-ctx.Done()
		close(stopped)
	}
	r, err := restoreGated(t, path, ferry.WithMemoryCheckHook(ferry.NewRestoreConfig(), hook))
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() {
		r.rt.Close(context.Background())
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs")
	}
	select {
	case <-stopped:
	default:
		t.Fatal("Close returned before stopping the check")
	}
	if _, err := r.p.Resume(context.Background(), ferry.CallOptions{}); err == nil || r.stdout.Len() != 0 {
		t.Fatalf("resume after close: %v, stdout %q", err, r.stdout.String())
	}
}

// A call held at the gate (its guest waits at a host call for the check)
// still honours its context: it ends with the context's error at once,
// and the instance stays usable once the check passed.
func TestRestoreGateHonoursContext(t *testing.T) {
	path := gatedCheckpoint(t, "write_after")
	hook, release := held()
	r, err := restoreGated(t, path, ferry.WithMemoryCheckHook(ferry.NewRestoreConfig(), hook))
	if err != nil {
		t.Fatal(err)
	}
	released := false
	defer func() {
		if !released {
			release()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = r.p.Resume(ctx, ferry.CallOptions{})
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ferry.ErrCheckpointCorrupt) {
		t.Fatalf("resume with a deadline while the check is held: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the cancelled call returned only after %v", d)
	}
	if r.stdout.Len() != 0 {
		t.Fatalf("the guest wrote %q before the check passed", r.stdout.String())
	}
	release()
	released = true
	res, err := r.p.Instance().Function("write_after").Call(context.Background(), 1)
	if err != nil || len(res) != 1 || r.stdout.String() != gatedMessage {
		t.Fatalf("after the check: %v %v, stdout %q", res, err, r.stdout.String())
	}
}

// A restore can reuse a module its runtime compiled instead of compiling
// the checkpoint's bytes, and refuses one with other bytes or from
// another runtime.
func TestRestoreWithCompiledModule(t *testing.T) {
	ctx := context.Background()
	path := gatedCheckpoint(t, "write_after")
	wasmBytes, err := os.ReadFile("testdata/gated.wasm")
	if err != nil {
		t.Fatal(err)
	}
	ck, err := ferry.OpenCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()

	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt.Close(ctx)
	cm, err := rt.Compile(ctx, wasmBytes)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rt.Compile(ctx, append(append([]byte(nil), wasmBytes...), 0, 2, 1, 'x')) // a custom section more
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Restore(ctx, ck, ferry.NewRestoreConfig().WithCompiledModule(other)); !errors.Is(err, ferry.ErrCheckpointMismatch) {
		t.Fatalf("another module's code: %v", err)
	}
	rt2 := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt2.Close(ctx)
	if _, err := rt2.Restore(ctx, ck, ferry.NewRestoreConfig().WithCompiledModule(cm)); err == nil {
		t.Fatal("a compiled module of another runtime was accepted")
	}

	var stdout bytes.Buffer
	if _, err := wasi.Restore(ctx, rt, ck, wasi.NewConfig().WithStdout(&stdout), wasi.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := rt.Restore(ctx, ck, ferry.NewRestoreConfig().WithCompiledModule(cm))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Resume(ctx, ferry.CallOptions{})
	if err != nil || len(res) != 1 || res[0] != uint64(gatedMessage[0]) || stdout.String() != gatedMessage {
		t.Fatalf("results %v, error %v, stdout %q", res, err, stdout.String())
	}
}

// BenchmarkRestoreGoProgram restores a 3.5 MB Go program
// (bench/programs/gojson.wasm) paused mid-run, up to the point where it
// could run: compiling the checkpoint's module each time, or reusing a
// module the runtime compiled once (WithCompiledModule), as a platform
// restoring one booted app many times would.
func BenchmarkRestoreGoProgram(b *testing.B) {
	ctx := context.Background()
	wasmBytes, err := os.ReadFile("bench/programs/gojson.wasm")
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "gojson.ckpt")
	wasiCheckpoint(b, wasmBytes, wasi.NewConfig(), "_start", 200_000, path)
	ck, err := ferry.OpenCheckpoint(path)
	if err != nil {
		b.Fatal(err)
	}
	defer ck.Close()
	restore := func(b *testing.B, rt *ferry.Runtime, cfg ferry.RestoreConfig) {
		if _, err := wasi.Restore(ctx, rt, ck, wasi.NewConfig(), wasi.RestoreOptions{}); err != nil {
			b.Fatal(err)
		}
		p, err := rt.Restore(ctx, ck, cfg)
		if err != nil {
			b.Fatal(err)
		}
		p.Instance().Close(ctx)
	}
	b.Run("compile", func(b *testing.B) {
		for b.Loop() {
			rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
			restore(b, rt, ferry.NewRestoreConfig())
			rt.Close(ctx)
		}
	})
	b.Run("compiled", func(b *testing.B) {
		rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
		defer rt.Close(ctx)
		cm, err := rt.Compile(ctx, wasmBytes)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			restore(b, rt, ferry.NewRestoreConfig().WithCompiledModule(cm))
		}
	})
}

package ferry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/snapshot"
)

// kvRuntime is a runtime with kv.wasm's import env.note, which counts the
// bytes it is told of into notes and runs during, when set, inside the
// host call.
func kvRuntime(t testing.TB, notes *atomic.Int64, during func()) (*Runtime, *CompiledModule) {
	t.Helper()
	ctx := context.Background()
	rt := NewRuntime(NewRuntimeConfig())
	t.Cleanup(func() { rt.Close(ctx) })
	_, err := rt.NewHostModule("env").
		Func("note", []api.ValueType{api.ValueTypeI32}, nil, func(ctx context.Context, _ api.Module, stack []uint64) {
			if notes != nil {
				notes.Add(int64(uint32(stack[0])))
			}
			if during != nil {
				during()
			}
		}).Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("testdata/kv.wasm")
	if err != nil {
		t.Fatal(err)
	}
	cm, err := rt.Compile(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	return rt, cm
}

// kvBoot instantiates kv.wasm and runs its init(n).
func kvBoot(t testing.TB, rt *Runtime, cm *CompiledModule, n uint64) *Instance {
	t.Helper()
	ctx := context.Background()
	inst, err := rt.Instantiate(ctx, cm, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inst.Function("init").Call(ctx, n); err != nil {
		t.Fatal(err)
	}
	return inst
}

// kvHandle writes req into inst's scratch area and calls handle on it.
func kvHandle(ctx context.Context, inst *Instance, req string) (uint32, error) {
	p, err := inst.Function("scratch").Call(ctx)
	if err != nil {
		return 0, err
	}
	if !inst.Memory("memory").Write(p[0], []byte(req)) {
		return 0, errors.New("request does not fit the memory")
	}
	res, err := inst.Function("handle").Call(ctx, p[0], uint64(len(req)))
	if err != nil {
		return 0, err
	}
	return uint32(res[0]), nil
}

var kvRequests = []string{"GET /", "GET /index.html", "", "POST /api/v1/items?id=42", "a much longer request line that crosses nothing in particular"}

// kvAnswers are the answers of a booted instance that has served nothing,
// to each request on its own (the uninterrupted run).
func kvAnswers(t testing.TB, n uint64) []uint32 {
	rt, cm := kvRuntime(t, nil, nil)
	out := make([]uint32, len(kvRequests))
	for k, req := range kvRequests {
		inst := kvBoot(t, rt, cm, n)
		v, err := kvHandle(context.Background(), inst, req)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = v
		inst.Close(context.Background())
	}
	return out
}

// writeIdle writes an idle checkpoint of inst to a file and opens it.
func writeIdle(t testing.TB, inst *Instance, cfg CheckpointConfig) *Checkpoint {
	t.Helper()
	path := filepath.Join(t.TempDir(), "idle.ckpt")
	if err := inst.WriteCheckpointFile(path, cfg); err != nil {
		t.Fatal(err)
	}
	ck, err := OpenCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ck.Close() })
	return ck
}

func TestIdleCheckpointRestoresAnInstance(t *testing.T) {
	const n = 12000
	want := kvAnswers(t, n)
	ctx := context.Background()
	rt, cm := kvRuntime(t, nil, nil)
	booted := kvBoot(t, rt, cm, n)
	ck := writeIdle(t, booted, NewCheckpointConfig())
	if !ck.Idle() {
		t.Fatal("Idle() is false for an idle checkpoint")
	}
	if _, err := rt.Restore(ctx, ck, NewRestoreConfig()); !errors.Is(err, ErrCheckpointKind) {
		t.Fatalf("Restore of an idle checkpoint: %v, want ErrCheckpointKind", err)
	}
	for _, v := range []MemoryVerification{VerifyConcurrent, VerifyBeforeRun, VerifyOff} {
		for k, req := range kvRequests {
			inst, err := rt.RestoreInstance(ctx, ck, NewRestoreConfig().WithMemoryVerification(v))
			if err != nil {
				t.Fatal(err)
			}
			if got := inst.Global("ready").Get(); got != n {
				t.Fatalf("%v: restored ready = %d, want %d", v, got, n)
			}
			got, err := kvHandle(ctx, inst, req)
			if err != nil {
				t.Fatalf("%v: %q: %v", v, req, err)
			}
			if got != want[k] {
				t.Fatalf("%v: %q: restored answer %#x, uninterrupted %#x", v, req, got, want[k])
			}
			if r := inst.Global("requests").Get(); r != 1 {
				t.Fatalf("%v: requests = %d after one, want 1", v, r)
			}
			inst.Close(ctx)
		}
	}
	// The booted instance goes on serving after its checkpoint.
	if got, err := kvHandle(ctx, booted, kvRequests[0]); err != nil || got != want[0] {
		t.Fatalf("the checkpointed instance answers %#x, %v; want %#x", got, err, want[0])
	}
}

// The state an idle checkpoint holds is the state between calls: after
// some requests, a restore counts on from them, and a second idle
// checkpoint of a restored instance holds its requests too.
func TestIdleCheckpointOfARestoredInstance(t *testing.T) {
	ctx := context.Background()
	rt, cm := kvRuntime(t, nil, nil)
	inst := kvBoot(t, rt, cm, 100)
	for range 3 {
		if _, err := kvHandle(ctx, inst, "x"); err != nil {
			t.Fatal(err)
		}
	}
	r1, err := rt.RestoreInstance(ctx, writeIdle(t, inst, NewCheckpointConfig().WithCompression(true)), NewRestoreConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kvHandle(ctx, r1, "y"); err != nil {
		t.Fatal(err)
	}
	r2, err := rt.RestoreInstance(ctx, writeIdle(t, r1, NewCheckpointConfig().WithModule(false)), NewRestoreConfig().WithCompiledModule(cm))
	if err != nil {
		t.Fatal(err)
	}
	if got := r2.Global("requests").Get(); got != 4 {
		t.Fatalf("requests after 3, a restore and 1: %d, want 4", got)
	}
}

// An idle checkpoint is refused with ErrBusy while a call runs: from the
// running call's own host function (its context would otherwise nest) and
// from another goroutine; calls are refused while it is written.
func TestIdleCheckpointWhileACallRuns(t *testing.T) {
	ctx := context.Background()
	var inst *Instance
	var fromHost, fromOther error
	inHost, release := make(chan struct{}), make(chan struct{})
	rt, cm := kvRuntime(t, nil, func() {
		_, fromHost = inst.WriteCheckpoint(&bytes.Buffer{}, NewCheckpointConfig())
		close(inHost)
		<-release
	})
	inst = kvBoot(t, rt, cm, 10)
	done := make(chan error)
	go func() {
		_, err := kvHandle(ctx, inst, "req")
		done <- err
	}()
	<-inHost
	_, fromOther = inst.WriteCheckpoint(&bytes.Buffer{}, NewCheckpointConfig())
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !errors.Is(fromHost, ErrBusy) || !errors.Is(fromOther, ErrBusy) {
		t.Fatalf("idle checkpoint during a call: from its host function %v, from another goroutine %v; want ErrBusy", fromHost, fromOther)
	}
	// Between calls it is taken.
	if _, err := inst.WriteCheckpoint(&bytes.Buffer{}, NewCheckpointConfig()); err != nil {
		t.Fatal(err)
	}
	// A call while one is written is refused: the writer blocks in Write.
	bw := &blockingWriter{in: make(chan struct{}), release: make(chan struct{})}
	go func() {
		_, err := inst.WriteCheckpoint(bw, NewCheckpointConfig())
		done <- err
	}()
	<-bw.in
	if _, err := inst.Function("scratch").Call(ctx); !errors.Is(err, ErrBusy) {
		t.Errorf("call while an idle checkpoint is written: %v, want ErrBusy", err)
	}
	close(bw.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

type blockingWriter struct {
	once        sync.Once
	in, release chan struct{}
}

func (w *blockingWriter) Write(b []byte) (int, error) {
	w.once.Do(func() { close(w.in); <-w.release })
	return len(b), nil
}

func TestRestoreInstanceOfAPausedCall(t *testing.T) {
	rt, p := pausedCkpt(t)
	defer rt.Close(context.Background())
	b := checkpointBytes(t, p, NewCheckpointConfig())
	ck, err := ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if ck.Idle() {
		t.Fatal("a paused call's checkpoint says it is idle")
	}
	if _, err := rt.RestoreInstance(context.Background(), ck, NewRestoreConfig()); !errors.Is(err, ErrCheckpointKind) {
		t.Fatalf("RestoreInstance of a paused call: %v, want ErrCheckpointKind", err)
	}
}

// pausedCkpt is a call of ckpt.wasm paused at its 50th pause point.
func pausedCkpt(t testing.TB) (*Runtime, *Paused) {
	rt, _, _, err := runCkpt(t, 1000, 1, CallOptions{PauseAfter: 50})
	var p *Paused
	if !errors.As(err, &p) {
		t.Fatalf("run did not pause: %v", err)
	}
	return rt, p
}

// A damaged page of an idle checkpoint, verified concurrently, stops the
// first call before its result (or any host call) is seen.
func TestIdleRestoreCorruptMemoryHeld(t *testing.T) {
	ctx := context.Background()
	var notes atomic.Int64
	rt, cm := kvRuntime(t, &notes, nil)
	inst := kvBoot(t, rt, cm, 12000)
	var buf bytes.Buffer
	if _, err := inst.WriteCheckpoint(&buf, NewCheckpointConfig()); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	f, err := ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	off, _, _ := f.f.MemoryData(0)
	b[off+1024+8] ^= 0xff // a table entry
	path := filepath.Join(t.TempDir(), "bad.ckpt")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ck, err := OpenCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	r, err := rt.RestoreInstance(ctx, ck, NewRestoreConfig())
	if err != nil {
		t.Fatal(err)
	}
	before := notes.Load()
	if _, err := kvHandle(ctx, r, "req"); !errors.Is(err, ErrCheckpointCorrupt) {
		t.Fatalf("call on a corrupt idle restore: %v, want ErrCheckpointCorrupt", err)
	}
	if notes.Load() != before {
		t.Fatal("a host call ran on unverified memory")
	}
}

// Many restores of one idle checkpoint in one runtime, each called from
// its own goroutine at once (run under -race): every one answers as the
// uninterrupted run, and none sees another's requests.
func TestIdleRestoresConcurrently(t *testing.T) {
	const n, restores, workers = 12000, 100, 8
	want := kvAnswers(t, n)
	ctx := context.Background()
	var notes atomic.Int64
	rt, cm := kvRuntime(t, &notes, nil)
	ck := writeIdle(t, kvBoot(t, rt, cm, n), NewCheckpointConfig().WithModule(false))
	var wg sync.WaitGroup
	errs := make(chan error, restores)
	next := atomic.Int64{}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= restores {
					return
				}
				inst, err := rt.RestoreInstance(ctx, ck, NewRestoreConfig().WithCompiledModule(cm))
				if err != nil {
					errs <- err
					return
				}
				k := i % len(kvRequests)
				got, err := kvHandle(ctx, inst, kvRequests[k])
				if err == nil && got != want[k] {
					err = fmt.Errorf("restore %d: %q answers %#x, want %#x", i, kvRequests[k], got, want[k])
				}
				if r := inst.Global("requests").Get(); err == nil && r != 1 {
					err = fmt.Errorf("restore %d: requests = %d, want 1", i, r)
				}
				inst.Close(ctx)
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var total int64
	for i := range restores {
		total += int64(len(kvRequests[i%len(kvRequests)]))
	}
	if notes.Load() != total {
		t.Errorf("host heard of %d bytes, want %d", notes.Load(), total)
	}
}

// A signed idle checkpoint opens trusted and restores, its memory checked
// against the signed digests: a forged page is refused like a paused
// checkpoint's.
func TestIdleCheckpointSigned(t *testing.T) {
	ctx := context.Background()
	key, err := GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	rt, cm := kvRuntime(t, nil, nil)
	inst := kvBoot(t, rt, cm, 12000)
	path := filepath.Join(t.TempDir(), "signed.ckpt")
	if err := inst.WriteCheckpointFile(path, NewCheckpointConfig().WithSigningKey(key)); err != nil {
		t.Fatal(err)
	}
	ck, err := OpenCheckpointWith(path, NewOpenConfig().WithTrustedKey(key.Trusted()))
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	if !ck.Idle() || !ck.Signature().Trusted {
		t.Fatalf("idle %v, signature %+v", ck.Idle(), ck.Signature())
	}
	app, err := rt.RestoreInstance(ctx, ck, NewRestoreConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kvHandle(ctx, app, "req"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	off, _, _ := ck.f.MemoryData(0)
	b[off+1024+8] ^= 0xff
	forged := filepath.Join(t.TempDir(), "forged.ckpt")
	if err := os.WriteFile(forged, b, 0o644); err != nil {
		t.Fatal(err)
	}
	fck, err := OpenCheckpointWith(forged, NewOpenConfig().WithTrustedKey(key.Trusted()))
	if err != nil {
		t.Fatal(err)
	}
	defer fck.Close()
	bad, err := rt.RestoreInstance(ctx, fck, NewRestoreConfig().WithMemoryVerification(VerifyOff))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kvHandle(ctx, bad, "req"); !errors.Is(err, ErrCheckpointSignature) {
		t.Fatalf("call on a forged page of a trusted idle checkpoint: %v, want ErrCheckpointSignature", err)
	}
}

// RestoreInstance reports the builtin decisions it re-made differently, as
// Restore does for a paused call (issue 13: it reported none).
func TestRestoreInstanceCallsiteChanges(t *testing.T) {
	ctx := context.Background()
	rt, cm := kvRuntime(t, nil, nil)
	booted := kvBoot(t, rt, cm, 100)
	var buf bytes.Buffer
	if _, err := booted.WriteCheckpoint(&buf, NewCheckpointConfig()); err != nil {
		t.Fatal(err)
	}
	f, err := snapshot.ReadBytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	s := f.Snapshot
	s.Callsites = []snapshot.Decision{{Builtin: "memory.fill", Impl: "from-the-past"}}
	s.Memories = slices.Clone(s.Memories)
	for k := range s.Memories {
		s.Memories[k].Data = make([]byte, s.Memories[k].Size)
		if err := f.ReadMemory(k, s.Memories[k].Data); err != nil {
			t.Fatal(err)
		}
	}
	var forged bytes.Buffer
	if _, err := snapshot.Write(&forged, &s, snapshot.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want int
	}{{"recorded as made", buf.Bytes(), 0}, {"made otherwise", forged.Bytes(), 1}} {
		ck, err := ReadCheckpoint(bytes.NewReader(tc.b), int64(len(tc.b)))
		if err != nil {
			t.Fatal(err)
		}
		inst, err := rt.RestoreInstance(ctx, ck, NewRestoreConfig())
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		c := inst.CallsiteChanges()
		if len(c) != tc.want {
			t.Fatalf("%s: changes %+v, want %d", tc.name, c, tc.want)
		}
		if tc.want == 1 && (c[0].Builtin != "memory.fill" || c[0].From != "from-the-past" || c[0].To == "") {
			t.Fatalf("%s: change %+v", tc.name, c[0])
		}
		inst.Close(ctx)
	}
}

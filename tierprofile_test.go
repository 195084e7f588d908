package ferry

import (
	"bytes"
	"context"
	"errors"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/interp"
	"github.com/ferryvm/ferry/internal/profile"
	"github.com/ferryvm/ferry/internal/snapshot"
	"github.com/ferryvm/ferry/internal/store"
)

// hotRun runs hotloop.wasm's run on rt long enough for the profile to see
// its loop, then pauses it (RequestPause) and returns the paused call.
func hotRun(t *testing.T, rt *Runtime) (*Instance, *Paused) {
	t.Helper()
	ctx := context.Background()
	cm, err := rt.Compile(ctx, load(t, "hotloop"))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := rt.Instantiate(ctx, cm, "")
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(150*time.Millisecond, inst.RequestPause)
	_, err = inst.Function("run").Call(ctx, 1<<31)
	var p *Paused
	if !errors.As(err, &p) {
		t.Fatalf("run: %v, want a pause", err)
	}
	return inst, p
}

// compileRecorder stands in for the compiled tier: it records what the
// queue hands it.
type compileRecorder struct {
	mu    sync.Mutex
	funcs []uint32
}

func (c *compileRecorder) compile() *profile.CompileFunc {
	f := profile.CompileFunc(func(ctx context.Context, fn *store.Function) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.funcs = append(c.funcs, fn.Index)
		return nil
	})
	return &f
}

func (c *compileRecorder) compiled() []uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]uint32(nil), c.funcs...)
}

// The profile of a run travels in its checkpoint (function index, loop
// offset, samples), ferry inspect shows it, and a restore merges it into
// the destination's profile and compiles the hot set before it returns.
func TestProfileRoundTripsThroughCheckpoint(t *testing.T) {
	ctx := context.Background()
	src := NewRuntime(NewRuntimeConfig().WithProfiling(true))
	defer src.Close(ctx)
	inst, p := hotRun(t, src)
	run := inst.inst.Funcs[inst.inst.Exports["run"].Index]
	b := checkpointBytes(t, p, NewCheckpointConfig())

	ck, err := ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	info := ck.Info()
	if info.FormatVersion != "1.2" || info.Profile == nil || len(info.Profile.Funcs) == 0 {
		t.Fatalf("format %s, profile %+v", info.FormatVersion, info.Profile)
	}
	hot := info.Profile.Funcs[0]
	if hot.Func != run.Index || len(hot.Loops) == 0 {
		t.Fatalf("hottest %+v, want run (%d) with its loop", hot, run.Index)
	}
	loopID, ok := run.Code.Pauses().Find(hot.Loops[0].Offset, api.PauseLoop)
	if !ok {
		t.Fatalf("loop offset %d is no loop header of run", hot.Loops[0].Offset)
	}

	rec := &compileRecorder{}
	cfg := NewRuntimeConfig().WithProfiling(true)
	cfg.compile = rec.compile()
	dst := NewRuntime(cfg)
	defer dst.Close(ctx)
	q, err := dst.Restore(ctx, ck, NewRestoreConfig())
	if err != nil {
		t.Fatal(err)
	}
	// Eager: compiled before Restore returned, hottest first.
	got := rec.compiled()
	if len(got) != len(info.Profile.Funcs) || got[0] != run.Index {
		t.Fatalf("compiled on restore %v, want the %d hot functions, run (%d) first", got, len(info.Profile.Funcs), run.Index)
	}
	restored := dst.sampler.Module(q.owner.inst.Module).Hot(1)
	if restored[0].Func != run.Index || restored[0].Samples != hot.Samples || restored[0].Loops[0].Pause != loopID {
		t.Fatalf("restored profile %+v, want run %d with %d samples, loop %d", restored[0], run.Index, hot.Samples, loopID)
	}
	// The restored frames run on (and pause again: run to its end would
	// take minutes in the interpreter).
	if _, err := q.Resume(ctx, CallOptions{PauseAfter: 1000}); !errors.As(err, new(*Paused)) {
		t.Fatalf("resume: %v, want a pause", err)
	}
}

// A checkpoint of a profiled run equals the one a run without the profile
// writes at the same pause point, apart from the profile section and the
// recorded time (issue 11's byte-identity, the profile's part).
func TestProfiledCheckpointEqualsUnprofiled(t *testing.T) {
	ctx := context.Background()
	type file struct {
		*snapshot.File
		b []byte
	}
	write := func(cfg RuntimeConfig) file {
		rt := NewRuntime(cfg)
		defer rt.Close(ctx)
		cm, err := rt.Compile(ctx, load(t, "hotloop"))
		if err != nil {
			t.Fatal(err)
		}
		inst, err := rt.Instantiate(ctx, cm, "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = inst.Function("run").CallWithOptions(ctx, CallOptions{PauseAfter: 2_000_000}, 1<<30)
		var p *Paused
		if !errors.As(err, &p) {
			t.Fatalf("run: %v", err)
		}
		b := checkpointBytes(t, p, NewCheckpointConfig())
		f, err := snapshot.ReadBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		return file{f, b}
	}
	with := write(NewRuntimeConfig().WithProfiling(true))
	without := write(NewRuntimeConfig().WithProfiling(false))
	if with.Snapshot.Profile == nil || len(with.Snapshot.Profile.Funcs) == 0 || without.Snapshot.Profile != nil {
		t.Fatalf("profile with %v, without %v", with.Snapshot.Profile, without.Snapshot.Profile)
	}
	// Each section's header and payload, as stored.
	payloads := func(f file) (out [][]byte) {
		for _, s := range f.Sections {
			if s.Type == snapshot.SectionProfile || s.Type == snapshot.SectionMeta {
				continue
			}
			out = append(out, f.b[s.Offset-32:s.Offset+int64(s.Length)])
		}
		return out
	}
	a, b := payloads(with), payloads(without)
	if len(a) != len(b) {
		t.Fatalf("%d sections with the profile, %d without (profile and meta aside)", len(a), len(b))
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("section %d differs", i)
		}
	}
	ma, mb := with.Snapshot.Meta, without.Snapshot.Meta
	ma.Created, mb.Created = 0, 0
	if !equalMeta(ma, mb) {
		t.Fatalf("meta differs: %+v vs %+v", ma, mb)
	}
}

func equalMeta(a, b snapshot.Meta) bool {
	if len(a.Features) != len(b.Features) {
		return false
	}
	for i := range a.Features {
		if a.Features[i] != b.Features[i] {
			return false
		}
	}
	a.Features, b.Features = nil, nil
	return a.RuntimeVersion == b.RuntimeVersion && a.Arch == b.Arch && a.ModuleHash == b.ModuleHash &&
		a.ModuleSize == b.ModuleSize && a.PauseCount == b.PauseCount && a.PauseCountKnown == b.PauseCountKnown
}

// A profile that names no function or loop of the module is refused like
// any other state that does not fit it.
func TestRestoreRefusesForeignProfile(t *testing.T) {
	ctx := context.Background()
	src := NewRuntime(NewRuntimeConfig().WithProfiling(true))
	defer src.Close(ctx)
	_, p := hotRun(t, src)
	for name, prof := range map[string]*snapshot.Profile{
		"function out of range": {Funcs: []snapshot.ProfileFunc{{Func: 99, Samples: 1}}},
		"no loop there":         {Funcs: []snapshot.ProfileFunc{{Func: 2, Samples: 5, Loops: []snapshot.ProfileLoop{{Offset: 1, Samples: 2}}}}},
	} {
		s, err := p.snapshot(NewCheckpointConfig())
		if err != nil {
			t.Fatal(err)
		}
		s.Profile = prof
		var buf bytes.Buffer
		if _, err := snapshot.Write(&buf, s, snapshot.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		ck, err := ReadCheckpoint(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		dst := NewRuntime(NewRuntimeConfig().WithProfiling(true))
		if _, err := dst.Restore(ctx, ck, NewRestoreConfig()); !errors.Is(err, ErrCheckpointMismatch) {
			t.Errorf("%s: restore: %v, want ErrCheckpointMismatch", name, err)
		}
		dst.Close(ctx)
		ck.Close()
	}
}

// Closing a runtime stops its sampler and its compile workers: no
// goroutine outlives it.
func TestRuntimeCloseStopsCompileWorkers(t *testing.T) {
	ctx := context.Background()
	before := runtime.NumGoroutine()
	rec := &compileRecorder{}
	cfg := NewRuntimeConfig().WithProfiling(true).WithCompileWorkers(3)
	cfg.compile = rec.compile()
	rt := NewRuntime(cfg)
	cm, err := rt.Compile(ctx, load(t, "hotloop"))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := rt.Instantiate(ctx, cm, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inst.Function("run").Call(ctx, 8_000_000); err != nil {
		t.Fatal(err)
	}
	if rt.sampler.Samples() == 0 {
		t.Fatal("no samples taken: the sampler did not run")
	}
	rt.Close(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

// The auto tier finds the hot loop of a single long call and moves the
// running frame into compiled code at a sampled loop header (OSR): the
// call never returns to the interpreter's call path, yet it ends up in
// compiled code, with the interpreter's result.
func TestAutoTierOSRAtLoopHeader(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the compiled tier is amd64 only")
	}
	ctx := context.Background()
	const n = 40_000_000
	call := func(cfg RuntimeConfig) (*Runtime, uint64) {
		rt := NewRuntime(cfg)
		cm, err := rt.Compile(ctx, load(t, "hotloop"))
		if err != nil {
			t.Fatal(err)
		}
		inst, err := rt.Instantiate(ctx, cm, "")
		if err != nil {
			t.Fatal(err)
		}
		res, err := inst.Function("run").Call(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		return rt, res[0]
	}
	auto, got := call(NewRuntimeConfig().WithTier(TierAuto))
	defer auto.Close(ctx)
	if note := auto.TierNote(); note != "" {
		t.Skip(note)
	}
	interpRT, want := call(NewRuntimeConfig().WithTier(TierInterp).WithProfiling(false))
	interpRT.Close(ctx)
	if got != want {
		t.Fatalf("auto tier: %#x, interpreter: %#x", got, want)
	}
	e := auto.engine.(*interp.Engine)
	if e.OSREntries() == 0 {
		compiled, failed, pending := auto.sampler.Queue().Stats()
		t.Fatalf("no OSR entry (samples %d; queue: %d compiled, %d failed, %d pending)", auto.sampler.Samples(), compiled, failed, pending)
	}
}

// BenchmarkRestoreHotSet measures the time from Restore to running
// compiled code on the destination's CPU mask: a checkpoint of the
// sha256 kernel (bench/kernels) paused in its hot loop by the auto tier,
// restored by an auto-tier runtime masked to native or x86-64-v1, which
// compiles the hot set before Restore returns; then the resumed call's
// first pause point (in compiled code). restore-ms is Restore alone,
// first-ms Restore plus the resume up to that pause; nocompile-ms is
// Restore into a runtime without a profile (nothing compiled), the base.
func BenchmarkRestoreHotSet(b *testing.B) {
	ctx := context.Background()
	wasm, err := os.ReadFile("bench/kernels/sha256.wasm")
	if err != nil {
		b.Fatal(err)
	}
	src := NewRuntime(NewRuntimeConfig().WithTier(TierAuto))
	defer src.Close(ctx)
	if note := src.TierNote(); note != "" {
		b.Skip(note)
	}
	cm, err := src.Compile(ctx, wasm)
	if err != nil {
		b.Fatal(err)
	}
	inst, err := src.Instantiate(ctx, cm, "")
	if err != nil {
		b.Fatal(err)
	}
	time.AfterFunc(300*time.Millisecond, inst.RequestPause)
	_, err = inst.Function("run").Call(ctx, 1<<30)
	var p *Paused
	if !errors.As(err, &p) {
		b.Fatalf("run: %v", err)
	}
	ck := checkpointBytes(b, p, NewCheckpointConfig())
	for _, mask := range []string{"native", "x86-64-v1"} {
		b.Run(mask, func(b *testing.B) {
			base, err := NewRuntimeConfig().WithTier(TierAuto).WithCPUFeatures(mask)
			if err != nil {
				b.Fatal(err)
			}
			var restore, first, nocompile time.Duration
			var hot int
			for b.Loop() {
				for _, profiled := range []bool{true, false} {
					c, err := ReadCheckpoint(bytes.NewReader(ck), int64(len(ck)))
					if err != nil {
						b.Fatal(err)
					}
					hot = len(c.Info().Profile.Funcs)
					rt := NewRuntime(base.WithProfiling(profiled))
					start := time.Now()
					q, err := rt.Restore(ctx, c, NewRestoreConfig())
					if err != nil {
						b.Fatal(err)
					}
					d := time.Since(start)
					if compiled, _ := rt.engine.(*interp.Engine).Counts(); profiled && compiled < int64(len(c.Info().Profile.Funcs)) {
						b.Fatalf("%d functions compiled on restore, the hot set has %d", compiled, len(c.Info().Profile.Funcs))
					}
					if !profiled {
						nocompile += d
					} else {
						restore += d
						if _, err := q.Resume(ctx, CallOptions{PauseAfter: 2}); !errors.As(err, new(*Paused)) {
							b.Fatalf("resume: %v", err)
						}
						first += time.Since(start)
					}
					rt.Close(ctx)
					c.Close()
				}
			}
			n := float64(b.N) * 1e6
			b.ReportMetric(float64(restore)/n, "restore-ms")
			b.ReportMetric(float64(first)/n, "first-ms")
			b.ReportMetric(float64(nocompile)/n, "nocompile-ms")
			b.ReportMetric(float64(hot), "hot-funcs")
		})
	}
}

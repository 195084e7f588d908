package ferry

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/builtins"
	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/snapshot"
)

// A checkpoint of format 1.0 (no callsites section) restores and finishes
// like an uninterrupted run, with no decision reported as changed.
func TestRestoreFormat10WithoutCallsites(t *testing.T) {
	b, err := os.ReadFile("internal/snapshot/testdata/real.ckpt")
	if err != nil {
		t.Fatal(err)
	}
	ck, err := ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if info := ck.Info(); info.FormatVersion != "1.0" || info.CallsitesRecorded || len(info.Callsites) != 0 {
		t.Fatalf("info: format %s, callsites %v %v", info.FormatVersion, info.CallsitesRecorded, info.Callsites)
	}
	rt, p, err := restoreBytes(t, b, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	if c := p.CallsiteChanges(); c != nil {
		t.Fatalf("changes %v", c)
	}
	res, err := p.Resume(context.Background(), CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantRT, wantInst, wantRes, err := runCkpt(t, 20, 2, CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer wantRT.Close(context.Background())
	if got, want := observable(p.Instance(), res), observable(wantInst, wantRes); got != want {
		t.Fatalf("restored run: %s, want %s", got, want)
	}
}

// cpuConfig is the default configuration masked with spec.
func cpuConfig(t testing.TB, spec string) RuntimeConfig {
	t.Helper()
	cfg, err := NewRuntimeConfig().WithCPUFeatures(spec)
	if err != nil {
		t.Fatalf("WithCPUFeatures(%q): %v", spec, err)
	}
	return cfg
}

// A malformed spec is refused by WithCPUFeatures with a *cpu.SpecError and
// leaves the configuration as it was; a runtime reports the features it
// was configured with, and the default is the host's.
func TestWithCPUFeatures(t *testing.T) {
	base := cpuConfig(t, "baseline")
	var se *cpu.SpecError
	if got, err := base.WithCPUFeatures("baseline,nonsense"); !errors.As(err, &se) || got != base {
		t.Fatalf("bad spec: %v, config changed %v", err, got != base)
	}
	want, _ := cpu.Host().Mask("baseline")
	rt := NewRuntime(base)
	defer rt.Close(context.Background())
	if arch, feats := rt.CPUFeatures(); arch != want.Arch() || !slices.Equal(feats, want.Names()) {
		t.Fatalf("runtime features %s %v, want %s %v", arch, feats, want.Arch(), want.Names())
	}
	def := NewRuntime(NewRuntimeConfig())
	defer def.Close(context.Background())
	if arch, feats := def.CPUFeatures(); arch != cpu.Host().Arch() || !slices.Equal(feats, cpu.Host().Names()) {
		t.Fatalf("default runtime features %s %v, want the host's", arch, feats)
	}
}

// A checkpoint records the runtime's effective features and the table's
// decisions; a restore re-decides recorded decisions for the restoring
// runtime and reports the ones that changed; an unknown semantic builtin
// is a mismatch, an unknown non-semantic one is ignored.
func TestCheckpointCallsites(t *testing.T) {
	rt := NewRuntime(cpuConfig(t, "baseline"))
	_, p := pausedIn(t, rt, "ckpt", CallOptions{PauseAfter: 9}, 20, 2)
	b := checkpointBytes(t, p, NewCheckpointConfig())
	rt.Close(context.Background())
	f, err := snapshot.ReadBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := cpu.Host().Mask("baseline")
	if s := f.Snapshot; s.Meta.Arch != base.Arch() || !slices.Equal(s.Meta.Features, base.Names()) || s.Callsites == nil {
		t.Fatalf("meta %s %v, want %s %v; callsites %v", s.Meta.Arch, s.Meta.Features, base.Arch(), base.Names(), s.Callsites)
	}
	rewrite := func(ds []snapshot.Decision) []byte {
		s := f.Snapshot
		s.Callsites = ds
		if s.Frames, err = f.Frames(); err != nil {
			t.Fatal(err)
		}
		s.Memories = slices.Clone(s.Memories)
		for k := range s.Memories {
			s.Memories[k].Data = make([]byte, s.Memories[k].Size)
			if err := f.ReadMemory(k, s.Memories[k].Data); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if _, err := snapshot.Write(&buf, &s, snapshot.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	rt, p, err = restoreBytes(t, rewrite([]snapshot.Decision{
		{Builtin: "memory.fill", Impl: "from-the-past"},
		{Builtin: "no.such.builtin", Impl: "x"},
	}), false)
	if err != nil {
		t.Fatal(err)
	}
	c := p.CallsiteChanges()
	rt.Close(context.Background())
	if len(c) != 1 || c[0].Builtin != "memory.fill" || c[0].From != "from-the-past" || c[0].To == "" || c[0].Semantic {
		t.Fatalf("changes %+v", c)
	}
	if c[0].String() != "memory.fill: from-the-past -> "+c[0].To {
		t.Fatalf("String: %q", c[0])
	}
	_, _, err = restoreBytes(t, rewrite([]snapshot.Decision{
		{Builtin: "no.such.relaxed", Impl: "x", Semantic: true, Semantics: "fused"},
	}), false)
	if !errors.Is(err, ErrCheckpointMismatch) {
		t.Fatalf("unknown semantic builtin: %v", err)
	}
}

// runtimeWith returns a runtime masked with spec.
func runtimeWith(t testing.TB, spec string) *Runtime {
	return NewRuntime(cpuConfig(t, spec))
}

// pausedIn instantiates testdata/<name>.wasm in rt and calls its "run"
// with o, which must pause.
func pausedIn(t testing.TB, rt *Runtime, name string, o CallOptions, args ...uint64) (*Instance, *Paused) {
	t.Helper()
	ctx := context.Background()
	b, err := os.ReadFile("testdata/" + name + ".wasm")
	if err != nil {
		t.Fatal(err)
	}
	cm, err := rt.Compile(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := rt.Instantiate(ctx, cm, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = inst.Function("run").CallWithOptions(ctx, o, args...)
	var p *Paused
	if !errors.As(err, &p) {
		t.Fatalf("%s: no pause: %v", name, err)
	}
	return inst, p
}

// maddRuns is the length of the runs of testdata/relaxed_madd.wasm.
const maddRuns = 1500

// maddEntries checks the entries relaxed_madd.wasm left in mem: each one
// fused or each one unfused, as sem says.
func maddEntries(mem api.Memory, sem string) error {
	b, ok := mem.Read(0, 8*maddRuns)
	if !ok {
		return errors.New("memory too small")
	}
	for i := 0; i < maddRuns; i++ {
		s := float64(int(1) << (i & 7))
		x, y, z := 0x1.0000004p+0*s, 0x1.0000002p+0, -0x1.0000006p+0*s
		want := math.FMA(x, y, z)
		if sem == builtins.SemUnfused {
			want = float64(x*y) + z
		}
		if got := math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])); got != want {
			return fmt.Errorf("entry %d: %g, want %g (%s)", i, got, want, sem)
		}
	}
	return nil
}

// recordedMadd returns the semantics a checkpoint records for
// f64x2.relaxed_madd, and its features.
func recordedMadd(t testing.TB, ck []byte) (string, []string) {
	t.Helper()
	f, err := snapshot.ReadBytes(ck)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Snapshot.Callsites {
		if d.Builtin == "f64x2.relaxed_madd" {
			return d.Semantics, f.Snapshot.Meta.Features
		}
	}
	t.Fatalf("no f64x2.relaxed_madd decision in %v", f.Snapshot.Callsites)
	return "", nil
}

// Bug: the callsite table was one for the whole process. Restoring a
// checkpoint whose f64x2.relaxed_madd was decided fused, then, in a second
// runtime, one decided unfused, switched the first program from fused to
// unfused results part-way; and two runtimes could not have different CPU
// masks. Now each runtime owns its table: A (fused, made natively) resumes
// in a runtime masked to x86-64-v1 (software FMA) while B (unfused, made
// at x86-64-v1) resumes in a native runtime, both restored several times
// and run in short legs from several goroutines, interleaved, and fresh
// calls in each runtime get the decision pinned there.
func TestTwoRuntimesKeepTheirOwnRelaxedDecisions(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the masks are x86-64 levels")
	}
	ctx := context.Background()
	checkpoint := func(spec string) []byte {
		rt := runtimeWith(t, spec)
		defer rt.Close(ctx)
		_, p := pausedIn(t, rt, "relaxed_madd", CallOptions{PauseAfter: maddRuns / 3}, maddRuns)
		return checkpointBytes(t, p, NewCheckpointConfig())
	}
	ckA, ckB := checkpoint("native"), checkpoint("x86-64-v1")
	semA, _ := recordedMadd(t, ckA)
	semB, featsB := recordedMadd(t, ckB)
	if semA != builtins.SemFused {
		t.Skipf("this CPU decides f64x2.relaxed_madd %s natively: no fused checkpoint to make", semA)
	}
	if v1f, _ := cpu.Host().Mask("x86-64-v1"); semB != builtins.SemUnfused || !slices.Equal(featsB, v1f.Names()) {
		t.Fatalf("checkpoint of the x86-64-v1 runtime: madd %s, features %v; want unfused, %v", semB, featsB, v1f.Names())
	}

	type leg struct {
		name string
		rt   *Runtime
		ck   []byte
		sem  string
	}
	rtA, rtB := runtimeWith(t, "x86-64-v1"), runtimeWith(t, "native")
	defer rtA.Close(ctx)
	defer rtB.Close(ctx)
	legs := []leg{{name: "A", rt: rtA, ck: ckA, sem: builtins.SemFused}, {name: "B", rt: rtB, ck: ckB, sem: builtins.SemUnfused}}
	const perRuntime = 3
	errs := make(chan error, 8*perRuntime)
	// First the restores, concurrently: each pins its checkpoint's
	// decision in its runtime (a fresh run first would decide for the
	// runtime's mask, and A's restore would then be refused).
	paused := make([][]*Paused, len(legs))
	var wg sync.WaitGroup
	for k, l := range legs {
		paused[k] = make([]*Paused, perRuntime)
		for g := range perRuntime {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ck, err := ReadCheckpoint(bytes.NewReader(l.ck), int64(len(l.ck)))
				if err != nil {
					errs <- err
					return
				}
				defer ck.Close()
				p, err := l.rt.Restore(ctx, ck, NewRestoreConfig())
				if err != nil {
					errs <- fmt.Errorf("%s: restore: %w", l.name, err)
					return
				}
				paused[k][g] = p
			}()
		}
	}
	wg.Wait()
	// Then the restored runs, in legs of 40 pause points, and fresh runs
	// of both runtimes, all interleaved.
	for k, l := range legs {
		for g, p := range paused[k] {
			if p == nil {
				continue // its restore failed, reported
			}
			wg.Add(2)
			go func() {
				defer wg.Done()
				inst := p.Instance()
				for n := 0; ; n++ {
					if n == 3 && g == 0 {
						// The runtime's own checkpoint records its decision.
						var buf bytes.Buffer
						if _, err := p.WriteCheckpoint(&buf, NewCheckpointConfig()); err != nil {
							errs <- err
							return
						}
						if sem, _ := recordedMadd(t, buf.Bytes()); sem != l.sem {
							errs <- fmt.Errorf("%s: checkpoint of the restored run records %s, want %s", l.name, sem, l.sem)
						}
					}
					_, err := p.Resume(ctx, CallOptions{PauseAfter: 40})
					if !errors.As(err, &p) {
						if err != nil {
							errs <- fmt.Errorf("%s: resume: %w", l.name, err)
							return
						}
						break
					}
				}
				if err := maddEntries(inst.Memory("mem"), l.sem); err != nil {
					errs <- fmt.Errorf("%s: restored run: %w", l.name, err)
				}
			}()
			go func() {
				defer wg.Done()
				b, err := os.ReadFile("testdata/relaxed_madd.wasm")
				if err != nil {
					errs <- err
					return
				}
				cm, err := l.rt.Compile(ctx, b)
				if err != nil {
					errs <- err
					return
				}
				inst, err := l.rt.Instantiate(ctx, cm, "")
				if err != nil {
					errs <- err
					return
				}
				if _, err := inst.Function("run").Call(ctx, maddRuns); err != nil {
					errs <- err
					return
				}
				if err := maddEntries(inst.Memory("mem"), l.sem); err != nil {
					errs <- fmt.Errorf("%s: fresh run: %w", l.name, err)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Within one runtime, a restore that would change a semantic decision the
// runtime already made (for a program that may still run) is refused as
// a mismatch; the runtime keeps its decision.
func TestRestoreRefusesAnotherSemanticDecisionInOneRuntime(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the masks are x86-64 levels")
	}
	ctx := context.Background()
	checkpoint := func(spec string) []byte {
		rt := runtimeWith(t, spec)
		defer rt.Close(ctx)
		_, p := pausedIn(t, rt, "relaxed_madd", CallOptions{PauseAfter: maddRuns / 3}, maddRuns)
		return checkpointBytes(t, p, NewCheckpointConfig())
	}
	ckFused, ckUnfused := checkpoint("native"), checkpoint("x86-64-v1")
	if sem, _ := recordedMadd(t, ckFused); sem != builtins.SemFused {
		t.Skipf("this CPU decides f64x2.relaxed_madd %s natively: no fused checkpoint to make", sem)
	}
	rt := runtimeWith(t, "native")
	defer rt.Close(ctx)
	restore := func(b []byte) (*Paused, error) {
		ck, err := ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		defer ck.Close()
		return rt.Restore(ctx, ck, NewRestoreConfig())
	}
	p, err := restore(ckFused)
	if err != nil {
		t.Fatal(err)
	}
	var ce *builtins.SemanticConflictError
	if _, err := restore(ckUnfused); !errors.Is(err, ErrCheckpointMismatch) || !errors.As(err, &ce) {
		t.Fatalf("unfused restore into a runtime running fused: %v", err)
	}
	if _, err := p.Resume(ctx, CallOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := maddEntries(p.Instance().Memory("mem"), builtins.SemFused); err != nil {
		t.Fatal(err)
	}
}

package wasi_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/internal/snapshot"
	"github.com/ferryvm/ferry/wasi"
)

// A *wasi.Module is a host-state plug-in like an embedder's, and both
// travel in one checkpoint: WASI's in its section (its bytes those of
// CheckpointHostState), the embedder's in the host-state section.
var _ ferry.HostState = (*wasi.Module)(nil)

type note struct{ got []byte }

func (n *note) HostStateName() string                { return "note" }
func (n *note) HostStateVersion() uint32             { return 1 }
func (n *note) CheckpointHostState() ([]byte, error) { return []byte("kept"), nil }
func (n *note) RestoreHostState(v uint32, b []byte) error {
	n.got = b
	return nil
}

func TestWASIAndEmbedderHostStateTogether(t *testing.T) {
	ctx := context.Background()
	b, err := os.ReadFile("testdata/stdinecho.wasm")
	if err != nil {
		t.Fatal(err)
	}
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt.Close(ctx)
	w, err := wasi.Instantiate(ctx, rt, wasi.NewConfig().WithArgs("echo", "x"))
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
	if w.HostStateName() != wasi.ModuleName {
		t.Fatalf("name %q", w.HostStateName())
	}
	path := filepath.Join(t.TempDir(), "idle.ckpt")
	if err := inst.WriteCheckpointFile(path, ferry.NewCheckpointConfig().WithHostState(w, &note{})); err != nil {
		t.Fatal(err)
	}
	ck, err := ferry.OpenCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	// WASI's state is not listed with the embedders' (and so needs no
	// RestoreConfig plug-in): wasi.Restore restores it.
	if hs := ck.HostStates(); len(hs) != 1 || hs[0].Name != "note" {
		t.Fatalf("HostStates %+v", hs)
	}
	want, err := w.CheckpointHostState()
	if err != nil {
		t.Fatal(err)
	}
	// The same state but the clocks, which ran on in between.
	a, errA := snapshot.DecodeWASI(ck.WASIState())
	c, errC := snapshot.DecodeWASI(want)
	if errA != nil || errC != nil {
		t.Fatal(errA, errC)
	}
	a.Monotonic, a.CPUTime, c.Monotonic, c.CPUTime = 0, 0, 0, 0
	if !reflect.DeepEqual(a, c) {
		t.Fatalf("the WASI section %+v differs from the plug-in's encoding %+v", a, c)
	}
	rt2 := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt2.Close(ctx)
	w2, err := wasi.Restore(ctx, rt2, ck, wasi.NewConfig(), wasi.RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close(ctx)
	n := &note{}
	app, err := rt2.RestoreInstance(ctx, ck, ferry.NewRestoreConfig().WithHostState(n))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(ctx)
	if string(n.got) != "kept" || len(w2.State().Args) != 2 {
		t.Fatalf("restored note %q, args %q", n.got, w2.State().Args)
	}
}

package wasi_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/wasi"
)

// An idle checkpoint carries the WASI state as a paused one does: a
// reactor restored with wasi.Restore and RestoreInstance reads the
// restorer's standard input and writes to its standard output, with the
// arguments it was given.
func TestIdleCheckpointCarriesWASIState(t *testing.T) {
	ctx := context.Background()
	b, err := os.ReadFile("testdata/stdinecho.wasm")
	if err != nil {
		t.Fatal(err)
	}
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt.Close(ctx)
	w, err := wasi.Instantiate(ctx, rt, wasi.NewConfig().WithArgs("echo", "--flag").WithEnv("K", "V"))
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
	path := filepath.Join(t.TempDir(), "idle.ckpt")
	if err := inst.WriteCheckpointFile(path, ferry.NewCheckpointConfig().WithHostState(w)); err != nil {
		t.Fatal(err)
	}

	ck, err := ferry.OpenCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	rt2 := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt2.Close(ctx)
	var out bytes.Buffer
	w2, err := wasi.Restore(ctx, rt2, ck, wasi.NewConfig().WithStdin(strings.NewReader("request")).WithStdout(&out), wasi.RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close(ctx)
	if got := strings.Join(w2.State().Args, " "); got != "echo --flag" {
		t.Fatalf("restored arguments %q", got)
	}
	if _, err := rt2.Restore(ctx, ck, ferry.NewRestoreConfig()); !errors.Is(err, ferry.ErrCheckpointKind) {
		t.Fatalf("Restore of an idle checkpoint: %v", err)
	}
	app, err := rt2.RestoreInstance(ctx, ck, ferry.NewRestoreConfig())
	if err != nil {
		t.Fatal(err)
	}
	if res, err := app.Function("read").Call(ctx); err != nil || res[0] != 0 || out.String() != "got:request" {
		t.Fatalf("restored reactor: %v %v, output %q", res, err, out.String())
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/ferryvm/ferry"
)

// ferry inspect shows the profile section: the hot functions with their
// samples and their loops by header offset, in text and in --json.
func TestInspectShowsProfile(t *testing.T) {
	ctx := context.Background()
	wasm, err := os.ReadFile("../../testdata/hotloop.wasm")
	if err != nil {
		t.Fatal(err)
	}
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig().WithProfiling(true))
	defer rt.Close(ctx)
	cm, err := rt.Compile(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := rt.Instantiate(ctx, cm, "")
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(100*time.Millisecond, inst.RequestPause)
	_, err = inst.Function("run").Call(ctx, 1<<31)
	var p *ferry.Paused
	if !errors.As(err, &p) {
		t.Fatalf("run: %v", err)
	}
	path := filepath.Join(t.TempDir(), "hot.ckpt")
	if err := p.WriteCheckpointFile(path, ferry.NewCheckpointConfig()); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "inspect", path)
	if code != exitOK {
		t.Fatalf("inspect: exit %d: %s", code, stderr)
	}
	// run is function 2 (after $cold and $leaf); its loop header is a few
	// bytes into its body.
	for _, re := range []string{`(?m)^profile\s+[1-9]\d* hot functions, \d+ samples$`, `(?m)^\s+2\s+-\s+\d+\s+0x[0-9a-f]+: \d+`, `(?m)^\s+profile\s+\d+`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("inspect output lacks %s:\n%s", re, out)
		}
	}
	code, out, stderr = runCLI(t, "inspect", "--json", path)
	if code != exitOK {
		t.Fatalf("inspect --json: exit %d: %s", code, stderr)
	}
	var info ferry.CheckpointInfo
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatal(err)
	}
	if info.Profile == nil || len(info.Profile.Funcs) == 0 || info.Profile.Funcs[0].Func != 2 || len(info.Profile.Funcs[0].Loops) == 0 {
		t.Fatalf("json profile %+v", info.Profile)
	}
}

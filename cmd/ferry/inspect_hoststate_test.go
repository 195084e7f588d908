package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/ferryvm/ferry"
)

// handleState is a host-state plug-in holding fixed bytes.
type handleState struct {
	name    string
	version uint32
	data    []byte
}

func (h handleState) HostStateName() string                { return h.name }
func (h handleState) HostStateVersion() uint32             { return h.version }
func (h handleState) CheckpointHostState() ([]byte, error) { return h.data, nil }

// ferry inspect lists the host-state entries (section 14) by name,
// version and size, in text and in --json (issue 13: it listed none).
func TestInspectShowsHostStates(t *testing.T) {
	ctx := context.Background()
	wasm, err := os.ReadFile("../../testdata/hotloop.wasm")
	if err != nil {
		t.Fatal(err)
	}
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt.Close(ctx)
	cm, err := rt.Compile(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := rt.Instantiate(ctx, cm, "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "idle.ckpt")
	cfg := ferry.NewCheckpointConfig().WithHostState(
		handleState{"handles", 3, make([]byte, 1234)},
		handleState{"app/cache.v2", 7, []byte("x")})
	if err := inst.WriteCheckpointFile(path, cfg); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "inspect", path)
	if code != exitOK {
		t.Fatalf("inspect: exit %d: %s", code, stderr)
	}
	for _, re := range []string{`(?m)^host state\s+2 plug-in entries`, `(?m)^\s+handles\s+3\s+1234$`, `(?m)^\s+app/cache\.v2\s+7\s+1$`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("inspect output lacks %s:\n%s", re, out)
		}
	}
	code, out, stderr = runCLI(t, "inspect", "--json", path)
	if code != exitOK {
		t.Fatalf("inspect --json: exit %d: %s", code, stderr)
	}
	var info struct {
		HostStates []struct {
			Name    string `json:"name"`
			Version uint32 `json:"version"`
			Size    int    `json:"size"`
		} `json:"host_states"`
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatal(err)
	}
	got := map[string][2]int{}
	for _, h := range info.HostStates {
		got[h.Name] = [2]int{int(h.Version), h.Size}
	}
	if len(got) != 2 || got["handles"] != [2]int{3, 1234} || got["app/cache.v2"] != [2]int{7, 1} {
		t.Fatalf("--json host_states %+v", info.HostStates)
	}
}

package ferry_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/wasi"
)

// truncatedChildEnv makes the re-executed test binary run one variant of
// TestTruncatedCheckpointWhileRunning in-process.
const truncatedChildEnv = "FERRY_TEST_TRUNCATED_CHECKPOINT"

// A restored program's memory pages are mapped from its checkpoint file;
// when the file is truncated while the program runs — by the guest
// itself through a pre-open that holds the file, or from outside — its
// next access to such a page used to kill the whole process with "fatal
// error: fault" (SIGBUS). It must trap with api.ErrCheckpointFileChanged
// instead; a checkpoint taken of it then fails with that error (variant
// checkpoint). With the default, concurrent, verification of the memory
// data (variant guest-concurrent) the check may see the truncated file
// first: then the error is the corruption. Each variant runs in a child
// process, which the bug kills.
func TestTruncatedCheckpointWhileRunning(t *testing.T) {
	if v := os.Getenv(truncatedChildEnv); v != "" {
		truncatedWhileRunning(t, v)
		return
	}
	for _, variant := range []string{"guest", "outside", "checkpoint", "guest-concurrent"} {
		t.Run(variant, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestTruncatedCheckpointWhileRunning$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), truncatedChildEnv+"="+variant)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "--- PASS") {
				t.Fatalf("child: %v\n%s", err, out)
			}
		})
	}
}

// truncatedWhileRunning checkpoints truncself.wasm paused in its loop,
// restores it with its memory mapped from the file (checked before it
// runs, so that only the truncation can go wrong), truncates the file
// (the guest does, or the test) and resumes it, or checkpoints it.
func truncatedWhileRunning(t *testing.T, variant string) {
	byGuest := strings.HasPrefix(variant, "guest")
	ctx := context.Background()
	wasm, err := os.ReadFile("testdata/truncself.wasm")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "ck.ckpt")
	trunc := uint64(0)
	if byGuest {
		trunc = 1
	}
	wasiCheckpoint(t, wasm, wasi.NewConfig().WithPreopen(dir, "/"), "run", 5, path, 1000, trunc)
	ck, err := ferry.OpenCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt.Close(ctx)
	if _, err := wasi.Restore(ctx, rt, ck, wasi.NewConfig().WithPreopen(dir, "/"), wasi.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	verify := ferry.VerifyBeforeRun
	if variant == "guest-concurrent" {
		verify = ferry.VerifyConcurrent
	}
	p, err := rt.Restore(ctx, ck, ferry.NewRestoreConfig().WithMemoryVerification(verify))
	if err != nil {
		t.Fatal(err)
	}
	if !byGuest {
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
	}
	if variant == "checkpoint" {
		cfg := ferry.NewCheckpointConfig()
		if _, err := p.Capture(cfg, nil); !errors.Is(err, api.ErrCheckpointFileChanged) {
			t.Fatalf("capture: %v, want api.ErrCheckpointFileChanged", err)
		}
		if _, err := p.WriteCheckpoint(io.Discard, cfg); !errors.Is(err, api.ErrCheckpointFileChanged) {
			t.Fatalf("write checkpoint: %v, want api.ErrCheckpointFileChanged", err)
		}
		other := filepath.Join(dir, "other.ckpt")
		if err := p.WriteCheckpointFile(other, cfg); !errors.Is(err, api.ErrCheckpointFileChanged) {
			t.Fatalf("write checkpoint file: %v, want api.ErrCheckpointFileChanged", err)
		}
		if _, err := os.Stat(other); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a failed checkpoint left %s: %v", other, err)
		}
		return
	}
	res, err := p.Resume(ctx, ferry.CallOptions{})
	if variant == "guest-concurrent" && errors.Is(err, ferry.ErrCheckpointCorrupt) {
		t.Logf("resume: %v", err)
		return
	}
	var trap *api.TrapError
	if !errors.Is(err, api.ErrCheckpointFileChanged) || !errors.As(err, &trap) {
		t.Fatalf("resume: %v %v, want a trap wrapping api.ErrCheckpointFileChanged", res, err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() != 0 {
		t.Fatalf("the checkpoint file was not truncated: %v %v", st, err)
	}
	t.Logf("resume: %v", err)
}

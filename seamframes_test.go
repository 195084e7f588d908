package ferry

import (
	"bytes"
	"context"
	"errors"
	"os"
	"sync/atomic"
	"testing"

	"github.com/ferryvm/ferry/internal/engine"
)

// deepCheckpoint calls deep.wasm's rec(depth) and pauses it in the loop at the
// bottom of the recursion, depth+1 frames deep, and returns its checkpoint.
func deepCheckpoint(t testing.TB, depth int) []byte {
	ctx := context.Background()
	rt := NewRuntime(NewRuntimeConfig())
	defer rt.Close(ctx)
	b, err := os.ReadFile("testdata/deep.wasm")
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
	_, err = inst.Function("rec").CallWithOptions(ctx, CallOptions{PauseAfter: int64(depth) + 50}, uint64(depth))
	var p *Paused
	if !errors.As(err, &p) {
		t.Fatalf("rec(%d) did not pause: %v", depth, err)
	}
	if n := len(p.Frames()); n != depth+1 {
		t.Fatalf("paused %d frames deep, want %d", n, depth+1)
	}
	return checkpointBytes(t, p, NewCheckpointConfig())
}

// A restore checked its frames with CheckFrames, then the engine's Resume
// checked them all again: a restore and its resume now check them once.
func TestRestoreChecksFramesOnce(t *testing.T) {
	const depth = 1000
	b := deepCheckpoint(t, depth)
	var checks atomic.Int64
	prev := engine.SetCheckFramesHook(func() { checks.Add(1) })
	defer engine.SetCheckFramesHook(prev)

	rt, p, err := restoreBytes(t, b, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	res, err := p.Resume(context.Background(), CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0] != depth {
		t.Fatalf("rec(%d) = %v after the restore, want [%d]", depth, res, depth)
	}
	if n := checks.Load(); n != 1 {
		t.Fatalf("a restore and its resume checked the frames %d times, want 1", n)
	}
}

// BenchmarkRestoreDeepFrames restores and resumes a checkpoint paused
// 10,000 calls deep: the frame check is a search per frame.
func BenchmarkRestoreDeepFrames(b *testing.B) {
	const depth = 10000
	ck := deepCheckpoint(b, depth)
	ctx := context.Background()
	for b.Loop() {
		c, err := ReadCheckpoint(bytes.NewReader(ck), int64(len(ck)))
		if err != nil {
			b.Fatal(err)
		}
		rt := NewRuntime(NewRuntimeConfig())
		p, err := rt.Restore(ctx, c, NewRestoreConfig())
		if err != nil {
			b.Fatal(err)
		}
		if res, err := p.Resume(ctx, CallOptions{}); err != nil || res[0] != depth {
			b.Fatalf("resume: %v, %v", res, err)
		}
		rt.Close(ctx)
		c.Close()
	}
}

package wasi_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/wasi"
)

// Restoring an app and closing it, over and over in one runtime, used to
// keep every closed instance (and its compiled code) alive: 40 cycles of a
// 30 MB module grew the resident set by about 2 MiB each. The live heap
// now stays flat.
func TestRestoreCloseHeapFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 restores")
	}
	path, dir, out := pausedCheckpoint(t, 2000, ferry.NewCheckpointConfig())
	ctx := context.Background()
	ck, err := ferry.OpenCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt.Close(ctx)
	cycle := func(n int) {
		for k := 0; k < n; k++ {
			out.Reset()
			w, err := wasi.Restore(ctx, rt, ck, ckptConfig(dir, out), wasi.RestoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := rt.Restore(ctx, ck, ferry.NewRestoreConfig())
			if err != nil {
				t.Fatal(err)
			}
			if k%100 == 0 { // now and then, run it on a while first
				if _, err := p.Resume(ctx, ferry.CallOptions{PauseAfter: 500}); err == nil {
					t.Fatal("the program ended within 500 pause points of the checkpoint")
				}
			}
			p.Instance().Close(ctx)
			w.Close(ctx)
		}
	}
	live := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	cycle(20)
	before := live()
	start := time.Now()
	const n = 1000
	cycle(n)
	after := live()
	growth := int64(after) - int64(before)
	t.Logf("%d restore-and-close cycles in %v: live heap %d -> %d bytes (%+d)", n, time.Since(start).Round(time.Millisecond), before, after, growth)
	if growth > 2<<20 {
		t.Errorf("live heap grew by %d bytes over %d cycles", growth, n)
	}
}

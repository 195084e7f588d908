//go:build linux

package dirty

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/wasi"
)

// TestTrackerOnFerryMemory tracks a Ferry instance's linear memory while
// the interpreter runs testdata/dirtier.wasm (stores, memory growth by
// malloc, WASI's poll_oneoff writing its events into guest memory): at
// each pause, every page whose bytes changed since the previous pause was
// reported. The pages that changed are a lower bound of those written,
// which is what can be checked from outside the engine.
func TestTrackerOnFerryMemory(t *testing.T) {
	requireTracking(t)
	wasm, err := os.ReadFile(filepath.Join("..", "..", "testdata", "dirtier.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt.Close(ctx)
	m, err := rt.Compile(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wasi.Instantiate(ctx, rt, wasi.NewConfig().WithArgs("dirtier", "8", "20000").WithStdout(io.Discard)); err != nil {
		t.Fatal(err)
	}
	inst, err := rt.Instantiate(ctx, m, "")
	if err != nil {
		t.Fatal(err)
	}
	pauses := make(chan *ferry.Paused)
	resume := make(chan struct{})
	go func() {
		_, err := inst.Function("_start").CallWithOptions(ctx, ferry.CallOptions{})
		for {
			var p *ferry.Paused
			if !errors.As(err, &p) {
				close(pauses)
				return
			}
			pauses <- p
			<-resume
			_, err = p.Resume(ctx, ferry.CallOptions{})
		}
	}()
	pause := func() *ferry.Paused {
		inst.RequestPause()
		for {
			select {
			case p, ok := <-pauses:
				if !ok {
					t.Fatal("the program ended")
				}
				return p
			case <-time.After(5 * time.Millisecond):
				inst.RequestPause()
			}
		}
	}
	time.Sleep(30 * time.Millisecond) // past the allocation and the first writes
	pause()
	mem := inst.Memory("memory")
	tr, err := New(mem.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	before := append([]byte(nil), mem.Bytes()...)
	changedTotal := 0
	for round := 0; round < 10; round++ {
		resume <- struct{}{}
		time.Sleep(20 * time.Millisecond)
		pause()
		now := mem.Bytes()
		if len(now) > tr.Size() {
			if err := tr.Grow(len(now)); err != nil {
				t.Fatal(err)
			}
		}
		got := map[int]bool{}
		if err := tr.Collect(func(r Range) {
			for p := r.First; p < r.First+r.Count; p++ {
				got[p] = true
			}
		}); err != nil {
			t.Fatal(err)
		}
		changed := 0
		for p := 0; p < len(now)/PageSize; p++ {
			end := (p + 1) * PageSize
			if p*PageSize >= len(before) || !bytes.Equal(now[p*PageSize:end], before[p*PageSize:min(end, len(before))]) {
				changed++
				if !got[p] {
					t.Fatalf("round %d: page %d changed but was not reported", round, p)
				}
			}
		}
		changedTotal += changed
		t.Logf("round %d: %d pages changed, %d reported", round, changed, len(got))
		before = append(before[:0], now...)
	}
	if changedTotal == 0 {
		t.Fatal("the program changed no page: the test checked nothing")
	}
	resume <- struct{}{}
	inst.Close(ctx)
}

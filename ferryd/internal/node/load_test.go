package node

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
)

// rssKiB is this process's resident set size.
func rssKiB(t *testing.T) int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	t.Skip("no VmRSS")
	return 0
}

func settle() {
	for i := 0; i < 3; i++ {
		runtime.GC()
		debug.FreeOSMemory()
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLoad100Instances starts 100 small instances concurrently, checkpoints
// each while it runs, and deletes them: the daemon's goroutines and RSS
// come back to where they were (a leaked runtime, mapping, log file or
// goroutine per instance would show as 100 of them).
func TestLoad100Instances(t *testing.T) {
	tn := startNode(t, sharedPKI(t), nil)
	ctx := context.Background()
	wasm := readWasm(t, "counter.wasm")
	round := func(tag string) {
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for i := 0; i < 100; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				name := fmt.Sprintf("%s%d", tag, i)
				if _, err := tn.client.Run(ctx, apiv1.RunRequest{Name: name, Module: wasm}); err != nil {
					errs <- err
					return
				}
				if _, err := tn.client.Checkpoint(ctx, name, false); err != nil {
					errs <- err
					return
				}
				if err := tn.client.Delete(ctx, name); err != nil {
					errs <- err
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if all, _ := tn.client.List(ctx); len(all) != 0 {
			t.Fatalf("%d instances left", len(all))
		}
		tn.client.Close() // idle keep-alive connections hold goroutines
	}
	round("warm") // caches, TLS sessions, the first compiled code
	settle()
	g0, rss0 := runtime.NumGoroutine(), rssKiB(t)
	for r := 0; r < 3; r++ {
		round(fmt.Sprintf("r%d-", r))
	}
	settle()
	g1, rss1 := runtime.NumGoroutine(), rssKiB(t)
	t.Logf("goroutines %d → %d, RSS %d → %d KiB over 300 instances", g0, g1, rss0, rss1)
	if g1 > g0+5 {
		t.Errorf("goroutines grew from %d to %d", g0, g1)
	}
	if rss1 > rss0+32<<10 && !raceEnabled {
		t.Errorf("RSS grew from %d to %d KiB", rss0, rss1)
	}
}

package node

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
)

// TestRestartKeepsInstances: a daemon shut down (Close) and started again
// on its state directory brings back its instances: the running counter
// continues with no gap and no repeat in its log, the paused one stays
// paused until resumed and continues too, and the records are gone.
func TestRestartKeepsInstances(t *testing.T) {
	p := sharedPKI(t)
	state := t.TempDir()
	onState := func(c *Config) { c.StateDir = state }
	a := startNode(t, p, onState)
	ctx := context.Background()
	runCounter(t, a, "c")
	runCounter(t, a, "p")
	if _, err := a.client.Pause(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	a.Close()
	for _, name := range []string{"c", "p"} {
		if _, err := os.Stat(filepath.Join(state, "instances", name, suspendedFile)); err != nil {
			t.Fatalf("%s not suspended: %v", name, err)
		}
	}
	before := lines(readLog(t, state, "c"))

	b := startNode(t, p, onState)
	waitFor(t, 10*time.Second, "the counter after the restart", func() bool { return lines(b.stdout(t, "c")) >= before+5 })
	checkCounter(t, b.stdout(t, "c"), 1)
	in, err := b.client.Get(ctx, "p")
	if err != nil || in.State != apiv1.StatePaused {
		t.Fatalf("the paused instance came back as %+v (%v)", in, err)
	}
	n := lines(b.stdout(t, "p"))
	time.Sleep(50 * time.Millisecond)
	if lines(b.stdout(t, "p")) != n {
		t.Fatal("the paused instance ran")
	}
	if _, err := b.client.Resume(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the resumed counter", func() bool { return lines(b.stdout(t, "p")) >= n+5 })
	checkCounter(t, b.stdout(t, "p"), 1)
	for _, name := range []string{"c", "p"} {
		if _, err := os.Stat(filepath.Join(state, "instances", name, suspendedFile)); !os.IsNotExist(err) {
			t.Fatalf("%s's record stayed: %v", name, err)
		}
	}
}

func readLog(t *testing.T, state, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(state, "instances", name, stdoutLog))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// An instance that came by pre-copy (its memory mapped from the received
// image) survives a restart too: the shutdown's checkpoint holds its
// memory, and the counter continues across the migration and the
// restart with no gap and no repeat.
func TestRestartKeepsMigratedInstance(t *testing.T) {
	p := sharedPKI(t)
	state := t.TempDir()
	onState := func(c *Config) { c.StateDir = state }
	src, dst := startNode(t, p, nil), startNode(t, p, onState)
	ctx := context.Background()
	runCounter(t, src, "c")
	srcOut := followStdout(t, src, "c")
	if _, err := src.client.Migrate(ctx, "c", apiv1.MigrateRequest{To: dst.addr}); err != nil {
		t.Fatal(err)
	}
	last := checkCounter(t, srcOut(), 1)
	waitFor(t, 10*time.Second, "the counter on the destination", func() bool { return lines(dst.stdout(t, "c")) >= 5 })
	dst.Close()
	if _, err := os.Stat(filepath.Join(state, "instances", "c", memoryImageFile)); !os.IsNotExist(err) {
		t.Fatalf("the memory image stayed beside a full checkpoint: %v", err)
	}
	before := lines(readLog(t, state, "c"))
	again := startNode(t, p, onState)
	waitFor(t, 10*time.Second, "the counter after the restart", func() bool { return lines(again.stdout(t, "c")) >= before+5 })
	checkCounter(t, again.stdout(t, "c"), last+1)
}

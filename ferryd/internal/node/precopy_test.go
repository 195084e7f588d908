package node

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
	"github.com/ferryvm/ferry/ferryd/internal/dirty"
	"github.com/ferryvm/ferry/ferryd/internal/stream"
)

// needPrecopy skips where the kernel cannot track writes: migrations are
// stop-and-copy there, which the other tests cover.
func needPrecopy(t *testing.T) {
	t.Helper()
	if err := dirty.Available(); err != nil {
		t.Skip(err)
	}
}

// migratePrecopy migrates name from src to dst with its memory hashed on
// both sides at the switch, checks that it was a pre-copy and that the
// counter it prints continues on dst with no gap and no repeat, and
// returns the result.
func migratePrecopy(t *testing.T, src, dst *testNode, name string, req apiv1.MigrateRequest) apiv1.MigrateResult {
	t.Helper()
	srcOut := followStdout(t, src, name)
	req.To, req.VerifyMemory = dst.addr, true
	res, err := src.client.Migrate(context.Background(), name, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != "precopy" || res.MemorySHA == "" {
		t.Fatalf("result %+v, want a pre-copy with the memory hashed", res)
	}
	t.Logf("%s: %d rounds, %d page bytes (%d pages while paused), checkpoint %d bytes, wire %d, downtime %v (stream %v, restore %v)",
		name, res.Rounds, res.PageBytes, res.FinalPages, res.Bytes, res.Wire, res.Downtime, res.Stream, res.Restore)
	last := checkCounter(t, srcOut(), 1)
	waitFor(t, 10*time.Second, "the program on the destination", func() bool { return lines(dst.stdout(t, name)) >= 5 })
	checkCounter(t, dst.stdout(t, name), last+1)
	assertNoTemps(t, src, dst)
	return res
}

// TestMigratePrecopyDirtier: a program writing its 32 MiB memory at
// 10 MiB/s migrates with pre-copy rounds: the counter continues with no
// gap and no repeat, the memories hash equal at the switch (so every
// page written during the rounds was sent again), the checkpoint carries
// no memory, and the page bytes stay within a full image plus each
// round's dirty set.
func TestMigratePrecopyDirtier(t *testing.T) {
	needPrecopy(t)
	p := sharedPKI(t)
	src, dst := startNode(t, p, nil), startNode(t, p, nil)
	ctx := context.Background()
	const mib = 32
	if _, err := src.client.Run(ctx, apiv1.RunRequest{Name: "d", Module: readWasm(t, "dirtier.wasm"), Args: []string{"dirtier", strconv.Itoa(mib), "2560"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the workload", func() bool { return lines(src.stdout(t, "d")) >= 20 })
	res := migratePrecopy(t, src, dst, "d", apiv1.MigrateRequest{})
	if res.Bytes > 64<<10 {
		t.Errorf("the stop phase's checkpoint has %d bytes: memory went in it", res.Bytes)
	}
	// Round 0 sends each present page once (a little more than the
	// memory: malloc's heap sits above the data); every later round and
	// the stop phase at most the memory again.
	full := int64(mib+1) << 20
	if res.PageBytes > full*int64(res.Rounds+2) {
		t.Errorf("%d page bytes over %d rounds for a %d MiB memory", res.PageBytes, res.Rounds, mib)
	}
	if res.PageBytes < mib<<20 {
		t.Errorf("only %d page bytes for a %d MiB memory", res.PageBytes, mib)
	}
}

// TestMigratePrecopyMemoryGrow: the program grows its memory while the
// rounds run (a pause between rounds gives it time to); the tracker is
// extended to the grown pages and the destination's image follows, so
// the memories hash equal and the counter continues.
func TestMigratePrecopyMemoryGrow(t *testing.T) {
	needPrecopy(t)
	p := sharedPKI(t)
	src, dst := startNode(t, p, nil), startNode(t, p, nil)
	ctx := context.Background()
	if _, err := src.client.Run(ctx, apiv1.RunRequest{Name: "g", Module: readWasm(t, "grower.wasm")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the program", func() bool { return lines(src.stdout(t, "g")) >= 5 })
	// Lines printed during the rounds: the program grows its memory by
	// a page every 5.
	var during atomic.Int64
	logPath := filepath.Join(src.dir, "instances", "g", stdoutLog)
	src.testBeforeRound = func(k int) {
		b, _ := os.ReadFile(logPath)
		time.Sleep(100 * time.Millisecond)
		a, _ := os.ReadFile(logPath)
		during.Add(int64(lines(string(a)) - lines(string(b))))
	}
	res := migratePrecopy(t, src, dst, "g", apiv1.MigrateRequest{MaxRounds: 2})
	if res.Rounds < 1 || during.Load() < 10 {
		t.Fatalf("%d rounds, %d lines printed (a page grown every 5) during them", res.Rounds, during.Load())
	}
	st, err := os.Stat(filepath.Join(dst.dir, "instances", "g", memoryImageFile))
	if err != nil || st.Size() <= 2*65536 {
		t.Fatalf("the destination's memory image: %v, %v", st, err)
	}
}

// TestMigratePrecopyCompiledTier: the tracker works on the memory's
// pages, so it sees the compiled tier's stores as it sees the
// interpreter's: a program run with the compiled tier migrates with
// pre-copy, its memories hash equal at the switch, the counter
// continues, and it runs compiled on the destination too.
func TestMigratePrecopyCompiledTier(t *testing.T) {
	needPrecopy(t)
	p := sharedPKI(t)
	src, dst := startNode(t, p, nil), startNode(t, p, nil)
	ctx := context.Background()
	if _, err := src.client.Run(ctx, apiv1.RunRequest{Name: "d", Module: readWasm(t, "dirtier.wasm"), Args: []string{"dirtier", "16", "25600"}, Tier: "compiled"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the workload", func() bool { return lines(src.stdout(t, "d")) >= 20 })
	in, err := src.lookup("d")
	if err != nil {
		t.Fatal(err)
	}
	if note := in.guest.rt.TierNote(); note != "" {
		t.Skipf("the compiled tier does not run here: %s", note)
	}
	migratePrecopy(t, src, dst, "d", apiv1.MigrateRequest{})
	got, err := dst.client.Get(ctx, "d")
	if err != nil || got.Tier != "compiled" {
		t.Fatalf("destination: %+v %v", got, err)
	}
	din, err := dst.lookup("d")
	if err != nil {
		t.Fatal(err)
	}
	if note := din.guest.rt.TierNote(); note != "" {
		t.Fatalf("the destination fell back: %s", note)
	}
}

// TestMigratePrecopyProgressVisible: while the rounds run, the source's
// description of the instance shows the pre-copy: its round, the dirty
// pages and rate, the bytes sent and the expected downtime.
func TestMigratePrecopyProgressVisible(t *testing.T) {
	needPrecopy(t)
	p := sharedPKI(t)
	src, dst := startNode(t, p, nil), startNode(t, p, nil)
	ctx := context.Background()
	if _, err := src.client.Run(ctx, apiv1.RunRequest{Name: "d", Module: readWasm(t, "dirtier.wasm"), Args: []string{"dirtier", "16", "25600"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the workload", func() bool { return lines(src.stdout(t, "d")) >= 20 })
	seen := make(chan *apiv1.MigrationProgress, 1)
	src.testBeforeRound = func(k int) {
		if k != 2 {
			return
		}
		// Between rounds 1 and 2, as a client sees it.
		in, err := src.client.Get(ctx, "d")
		if err == nil {
			seen <- in.Migration
		}
	}
	res, err := src.client.Migrate(ctx, "d", apiv1.MigrateRequest{To: dst.addr, MaxRounds: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rounds < 2 {
		t.Skipf("the rounds converged after %d (a quiet host): no report between rounds 1 and 2", res.Rounds)
	}
	m := <-seen
	t.Logf("progress: %+v", m)
	if m == nil || !m.Precopy || m.Phase != "precopy" || m.Rounds != 1 || m.DirtyPages <= 0 || m.DirtyRate <= 0 ||
		m.Bytes < 16<<20 || m.Total < 16<<20 || m.Rate <= 0 || m.ExpectedDowntime <= 0 || m.Paused != 0 {
		t.Fatalf("progress %+v", m)
	}
}

// A forged or damaged Pages frame is refused before a byte is written:
// sizes that are not whole WebAssembly pages, beyond 4 GiB or shrinking;
// pages beyond the size; a payload of partial pages; and too many bytes.
func TestImageWriterRefusesForgedPages(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), memoryImageFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := &imageWriter{f: f, limit: 8 * dirty.PageSize}
	frame := func(size, first uint64, pages int) []byte {
		b := make([]byte, pagesHeaderLen+pages*dirty.PageSize)
		binary.LittleEndian.PutUint64(b, size)
		binary.LittleEndian.PutUint64(b[8:], first)
		for i := pagesHeaderLen; i < len(b); i++ {
			b[i] = 0xAB
		}
		return b
	}
	if err := w.put(frame(2*wasmPage, 3, 2)); err != nil {
		t.Fatal(err)
	}
	for what, b := range map[string][]byte{
		"short":            frame(2*wasmPage, 0, 0)[:pagesHeaderLen-1],
		"partial page":     frame(2*wasmPage, 0, 1)[:pagesHeaderLen+100],
		"size not 64 KiB":  frame(2*wasmPage+dirty.PageSize, 0, 1),
		"size over 4 GiB":  frame(maxMemoryBytes+wasmPage, 0, 1),
		"shrinks":          frame(wasmPage, 0, 1),
		"page beyond size": frame(2*wasmPage, 2*wasmPage/dirty.PageSize, 1),
		"run beyond size":  frame(2*wasmPage, 2*wasmPage/dirty.PageSize-1, 2),
		"first overflows":  frame(2*wasmPage, ^uint64(0), 1),
	} {
		if err := w.put(b); !errors.Is(err, stream.ErrIntegrity) {
			t.Errorf("%s: %v, want ErrIntegrity", what, err)
		}
	}
	if err := w.put(frame(2*wasmPage, 0, 7)); err == nil {
		t.Error("more page bytes than the limit accepted")
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 2*wasmPage)
	for i := 3 * dirty.PageSize; i < 5*dirty.PageSize; i++ {
		want[i] = 0xAB
	}
	if !bytes.Equal(got, want) {
		t.Fatal("a refused frame changed the image")
	}
}

// The stop phase's checkpoint (no memory data) uploaded as a restore is
// refused with a message saying what it is, not run over zeroed memory.
func TestRestoreRefusesMemorylessCheckpoint(t *testing.T) {
	p := sharedPKI(t)
	tn := startNode(t, p, nil)
	ctx := context.Background()
	runCounter(t, tn, "c")
	in, err := tn.lookup("c")
	if err != nil {
		t.Fatal(err)
	}
	var ck bytes.Buffer
	err = tn.withPaused(in, false, func(p *ferry.Paused) error {
		_, err := p.WriteCheckpoint(&ck, checkpointConfig(in.guest).WithoutMemoryData())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tn.client.Restore(ctx, apiv1.RestoreRequest{Name: "r"}, &ck)
	if !isStatus(err, 400) || !bytes.Contains([]byte(err.Error()), []byte("only a migration restores it")) {
		t.Fatalf("restore of a memory-less checkpoint: %v", err)
	}
	if _, err := tn.client.Get(ctx, "r"); err == nil {
		t.Fatal("the refused restore left an instance")
	}
}

// Round 0 over a memory of long zero stretches still sends a frame every
// keepaliveZeroPages pages, so that a destination, which gives up on a
// source silent for its pending timeout, keeps waiting; and it sends the
// one page that is not zero.
func TestPrecopyRoundZeroKeepsAlive(t *testing.T) {
	var wire bytes.Buffer
	key := bytes.Repeat([]byte{7}, 32)
	mem := make([]byte, 3*keepaliveZeroPages*dirty.PageSize)
	mem[len(mem)-1] = 1
	pc := &precopy{sc: stream.NewWithKey(bytes.NewReader(nil), &wire, key, true), mem: mem, buf: make([]byte, 0, stream.MaxPayload)}
	if err := pc.send([]dirty.Range{{First: 0, Count: len(mem) / dirty.PageSize}}, true); err != nil {
		t.Fatal(err)
	}
	rx := stream.NewWithKey(&wire, io.Discard, key, false)
	var sizes, pages int
	for {
		k, b, err := rx.Recv()
		if err == io.EOF {
			break
		}
		if err != nil || k != stream.Pages {
			t.Fatalf("%v frame: %v", k, err)
		}
		if n := (len(b) - pagesHeaderLen) / dirty.PageSize; n == 0 {
			sizes++
		} else {
			pages += n
		}
	}
	if sizes != 3 || pages != 1 {
		t.Fatalf("%d size-only frames and %d pages, want 3 (one, then one per %d zero pages) and 1", sizes, pages, keepaliveZeroPages)
	}
}

package node

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
	"github.com/ferryvm/ferry/ferryd/internal/stream"
)

// followStdout follows an instance's stdout until it ends; the returned
// function waits for that and returns what was printed.
func followStdout(t *testing.T, tn *testNode, name string) func() string {
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- tn.client.Logs(context.Background(), name, "stdout", true, &out) }()
	return func() string {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("follow %s: %v", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("follow %s did not end", name)
		}
		return out.String()
	}
}

// The counter migrates and continues on the destination with no gap and
// no repeat; the memories at the switch are equal; the source is gone.
func TestMigrateCounterNoGapNoRepeat(t *testing.T) {
	p := sharedPKI(t)
	src, dst := startNode(t, p, nil), startNode(t, p, nil)
	ctx := context.Background()
	runCounter(t, src, "c")
	srcOut := followStdout(t, src, "c")

	res, err := src.client.Migrate(ctx, "c", apiv1.MigrateRequest{To: dst.addr, VerifyMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.MemorySHA == "" || res.Bytes == 0 || res.Wire <= res.Bytes {
		t.Fatalf("result %+v", res)
	}
	t.Logf("checkpoint %d bytes, %d on the wire, downtime %v (acknowledged after %v)", res.Bytes, res.Wire, res.Downtime, res.Acked)
	last := checkCounter(t, srcOut(), 1)
	waitFor(t, 5*time.Second, "the counter on the destination", func() bool { return lines(dst.stdout(t, "c")) >= 5 })
	checkCounter(t, dst.stdout(t, "c"), last+1)

	if all, _ := src.client.List(ctx); len(all) != 0 {
		t.Fatalf("the source still holds %+v", all)
	}
	if _, err := os.Stat(filepath.Join(src.dir, "instances", "c")); !os.IsNotExist(err) {
		t.Fatalf("the source's copy was not deleted: %v", err)
	}
	in, err := dst.client.Get(ctx, "c")
	if err != nil || in.State != apiv1.StateRunning || in.RestoredFrom != "migration "+res.ID {
		t.Fatalf("destination: %+v %v", in, err)
	}
	if st := dst.MigrationStatus(res.ID); st.Status != migCommitted {
		t.Fatalf("destination records %q", st.Status)
	}
	assertNoTemps(t, src, dst)

	// And back again.
	dstOut := followStdout(t, dst, "c")
	if _, err := dst.client.Migrate(ctx, "c", apiv1.MigrateRequest{To: src.addr}); err != nil {
		t.Fatal(err)
	}
	last = checkCounter(t, dstOut(), last+1)
	waitFor(t, 5*time.Second, "the counter back on the source", func() bool { return lines(src.stdout(t, "c")) >= 5 })
	checkCounter(t, src.stdout(t, "c"), last+1)
}

// assertNoTemps checks that no node left a partial file behind.
func assertNoTemps(t *testing.T, nodes ...*testNode) {
	t.Helper()
	for _, tn := range nodes {
		if ents, _ := os.ReadDir(filepath.Join(tn.dir, "incoming")); len(ents) != 0 {
			t.Errorf("%s: incoming holds %v", tn.dir, ents)
		}
		filepath.Walk(tn.dir, func(path string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() && filepath.Ext(path) != ".log" && filepath.Base(path) != checkpointFile && filepath.Base(path) != memoryImageFile &&
				filepath.Dir(path) != filepath.Join(tn.dir, "migrations") && filepath.Dir(path) != filepath.Join(tn.dir, "checkpoints") {
				t.Errorf("stray file %s", path)
			}
			return nil
		})
	}
}

// stillRunning checks that the source's instance runs and counts on.
func stillRunning(t *testing.T, tn *testNode, name string) {
	t.Helper()
	in, err := tn.client.Get(context.Background(), name)
	if err != nil || in.State != apiv1.StateRunning {
		t.Fatalf("after the failed migration the source's instance is %+v (%v)", in, err)
	}
	n := lines(tn.stdout(t, name))
	waitFor(t, 5*time.Second, "the source's counter to go on", func() bool { return lines(tn.stdout(t, name)) > n+3 })
	checkCounter(t, tn.stdout(t, name), 1)
}

// noInstance checks that a destination holds nothing of a refused
// migration.
func noInstance(t *testing.T, tn *testNode) {
	t.Helper()
	if all, _ := tn.client.List(context.Background()); len(all) != 0 {
		t.Fatalf("the destination holds %+v", all)
	}
	if ents, _ := os.ReadDir(filepath.Join(tn.dir, "instances")); len(ents) != 0 {
		t.Fatalf("the destination left directories %v", ents)
	}
}

// TestMigrateCorruptChunkRefused: one flipped bit in one data frame, after
// its tag was computed: the destination refuses the stream, the source
// continues without a gap.
func TestMigrateCorruptChunkRefused(t *testing.T) {
	p := sharedPKI(t)
	src, dst := startNode(t, p, nil), startNode(t, p, nil)
	var flipped atomic.Bool
	src.testTamper = func(kind int, seq uint64, frame []byte) {
		if stream.Kind(kind) == stream.Data && !flipped.Load() {
			frame[len(frame)/2] ^= 0x10
			flipped.Store(true)
		}
	}
	runCounter(t, src, "c")
	_, err := src.client.Migrate(context.Background(), "c", apiv1.MigrateRequest{To: dst.addr})
	if err == nil || !flipped.Load() {
		t.Fatalf("a corrupted stream was accepted (flipped %v): %v", flipped.Load(), err)
	}
	t.Logf("refused: %v", err)
	stillRunning(t, src, "c")
	noInstance(t, dst)
	assertNoTemps(t, src, dst)
}

// TestMigrateForgedFrameRefused: a frame tagged under another key (one a
// third party could compute) is refused.
func TestMigrateForgedFrameRefused(t *testing.T) {
	p := sharedPKI(t)
	src, dst := startNode(t, p, nil), startNode(t, p, nil)
	var forged atomic.Bool
	src.testTamper = func(kind int, seq uint64, frame []byte) {
		if stream.Kind(kind) == stream.Data && !forged.Load() {
			// Replace the payload and re-tag it under a wrong key: what a
			// forger without the session's exported key can do at best.
			for i := 13; i < len(frame)-32; i++ {
				frame[i] = 0
			}
			copy(frame[len(frame)-32:], bytes.Repeat([]byte{0xAA}, 32))
			forged.Store(true)
		}
	}
	runCounter(t, src, "c")
	if _, err := src.client.Migrate(context.Background(), "c", apiv1.MigrateRequest{To: dst.addr}); err == nil {
		t.Fatal("a forged frame was accepted")
	}
	stillRunning(t, src, "c")
	noInstance(t, dst)
}

// cutProxy forwards one connection to target and cuts both directions
// after limit bytes went from the client to the target.
func cutProxy(t *testing.T, target string, limit int64) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				u, err := net.Dial("tcp", target)
				if err != nil {
					c.Close()
					return
				}
				var once sync.Once
				cut := func() { once.Do(func() { c.Close(); u.Close() }) }
				go func() { io.Copy(c, u); cut() }()
				io.CopyN(u, c, limit)
				cut()
			}()
		}
	}()
	return ln.Addr().String()
}

// TestMigrateDroppedConnection: the connection drops in the middle of the
// checkpoint's stream; the source continues, the destination keeps
// nothing.
func TestMigrateDroppedConnection(t *testing.T) {
	p := sharedPKI(t)
	src, dst := startNode(t, p, nil), startNode(t, p, nil)
	runCounter(t, src, "c")
	// The handshake and header take a few KiB, the checkpoint ~37 KiB.
	proxy := cutProxy(t, dst.addr, 16<<10)
	if _, err := src.client.Migrate(context.Background(), "c", apiv1.MigrateRequest{To: proxy}); err == nil {
		t.Fatal("the migration succeeded through a cut connection")
	}
	stillRunning(t, src, "c")
	waitFor(t, 5*time.Second, "the destination to drop the partial migration", func() bool {
		ents, _ := os.ReadDir(filepath.Join(dst.dir, "instances"))
		return len(ents) == 0
	})
	noInstance(t, dst)
	assertNoTemps(t, src, dst)
}

// TestMigrateCommitAnswerLost: the connection breaks right after the
// source sent its commit, so the source cannot know from the stream
// whether the destination runs the program. It stays fenced, asks the
// destination, learns "committed" and deletes its copy: one copy runs,
// never two, never none.
func TestMigrateCommitAnswerLost(t *testing.T) {
	p := sharedPKI(t)
	src, dst := startNode(t, p, nil), startNode(t, p, nil)
	src.testAfterCommit = func(c net.Conn) {
		time.Sleep(20 * time.Millisecond) // the commit reaches the destination
		c.Close()
	}
	runCounter(t, src, "c")
	srcOut := followStdout(t, src, "c")
	if _, err := src.client.Migrate(context.Background(), "c", apiv1.MigrateRequest{To: dst.addr}); err != nil {
		t.Fatal(err)
	}
	last := checkCounter(t, srcOut(), 1)
	waitFor(t, 5*time.Second, "the counter on the destination", func() bool { return lines(dst.stdout(t, "c")) >= 3 })
	checkCounter(t, dst.stdout(t, "c"), last+1)
	if all, _ := src.client.List(context.Background()); len(all) != 0 {
		t.Fatalf("two copies: the source still holds %+v", all)
	}
}

// TestMigrateCommitLost: the connection breaks before the commit reaches
// the destination. The destination aborts (it never ran the program) and
// says so; the source, fenced meanwhile, learns it and continues.
func TestMigrateCommitLost(t *testing.T) {
	p := sharedPKI(t)
	src, dst := startNode(t, p, nil), startNode(t, p, nil)
	var commitSeq atomic.Int64
	commitSeq.Store(-1)
	src.testTamper = func(kind int, seq uint64, frame []byte) {
		if stream.Kind(kind) == stream.Commit {
			frame[len(frame)-1] ^= 1 // the destination refuses it as damaged
			commitSeq.Store(int64(seq))
		}
	}
	runCounter(t, src, "c")
	if _, err := src.client.Migrate(context.Background(), "c", apiv1.MigrateRequest{To: dst.addr}); err == nil {
		t.Fatal("migration reported done though the destination never got the commit")
	}
	if commitSeq.Load() < 0 {
		t.Fatal("no commit was sent")
	}
	stillRunning(t, src, "c")
	noInstance(t, dst)
}

// TestMigrateRefusedBeforePause: a destination that already has an
// instance of that name refuses at the header: the source never paused.
func TestMigrateRefusedBeforePause(t *testing.T) {
	p := sharedPKI(t)
	src, dst := startNode(t, p, nil), startNode(t, p, nil)
	runCounter(t, src, "c")
	runCounter(t, dst, "c")
	_, err := src.client.Migrate(context.Background(), "c", apiv1.MigrateRequest{To: dst.addr})
	if err == nil {
		t.Fatal("migration onto a taken name succeeded")
	}
	t.Logf("refused: %v", err)
	stillRunning(t, src, "c")
	stillRunning(t, dst, "c")
}

// TestMigrateUnauthenticatedDaemonRefused: a daemon whose certificate
// another authority signed can neither migrate into a node nor be
// migrated to.
func TestMigrateUnauthenticatedDaemonRefused(t *testing.T) {
	p := sharedPKI(t)
	other, err := makePKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src, dst := startNode(t, p, nil), startNode(t, other, nil)
	runCounter(t, src, "c")
	if _, err := src.client.Migrate(context.Background(), "c", apiv1.MigrateRequest{To: dst.addr}); err == nil {
		t.Fatal("migrated to a daemon of another authority")
	}
	stillRunning(t, src, "c")
	noInstance(t, dst)
}

// TestMigrateProgressVisible: while a stop-and-copy migration streams,
// the source's description of the instance shows its phase, bytes, rate
// and expected downtime.
func TestMigrateProgressVisible(t *testing.T) {
	p := sharedPKI(t)
	src, dst := startNode(t, p, nil), startNode(t, p, nil)
	ctx := context.Background()
	if _, err := src.client.Run(ctx, apiv1.RunRequest{Name: "d", Module: readWasm(t, "dirtier.wasm"), Args: []string{"dirtier", "64", "1000"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the workload", func() bool { return lines(src.stdout(t, "d")) >= 3 })
	done := make(chan error, 1)
	go func() {
		_, err := src.client.Migrate(ctx, "d", apiv1.MigrateRequest{To: dst.addr, StopAndCopy: true})
		done <- err
	}()
	var seen *apiv1.MigrationProgress
	for seen == nil {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			t.Skip("the migration ended before a progress report showed bytes streaming (a fast host)")
		default:
		}
		in, err := src.client.Get(ctx, "d")
		if err == nil && in.Migration != nil && in.Migration.Phase == "streaming" && in.Migration.Bytes >= 4<<20 {
			seen = in.Migration
			if in.State != apiv1.StateMigrating {
				t.Errorf("state %s while streaming", in.State)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("progress: %+v", *seen)
	if seen.Total < 64<<20 || seen.Rate <= 0 || seen.ExpectedDowntime <= 0 || seen.ID == "" || seen.To != dst.addr {
		t.Fatalf("progress %+v", *seen)
	}
}

// switchProxy forwards connections to target while open; it can be shut
// and reopened on the same address.
type switchProxy struct {
	addr, target string
	ln           net.Listener
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	p := &switchProxy{addr: "127.0.0.1:0", target: target}
	p.open(t)
	p.addr = p.ln.Addr().String()
	t.Cleanup(func() { p.ln.Close() })
	return p
}

func (p *switchProxy) open(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.ln = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				u, err := net.Dial("tcp", p.target)
				if err != nil {
					c.Close()
					return
				}
				go func() { io.Copy(c, u); c.Close() }()
				io.Copy(u, c)
				u.Close()
			}()
		}
	}()
}

// TestMigrateUnresolvedThenResolved: the connection breaks after the
// commit and the destination cannot be reached to ask: the source keeps
// its copy fenced (never resumed, never deleted) and says so; once the
// destination is reachable, resolve learns "committed" and deletes it.
func TestMigrateUnresolvedThenResolved(t *testing.T) {
	p := sharedPKI(t)
	short := func(c *Config) { c.PendingTimeout, c.ResolveWait = 300*time.Millisecond, 600*time.Millisecond }
	src, dst := startNode(t, p, short), startNode(t, p, short)
	proxy := newSwitchProxy(t, dst.addr)
	src.testAfterCommit = func(c net.Conn) {
		time.Sleep(20 * time.Millisecond) // the commit reaches the destination
		proxy.ln.Close()
		c.Close()
	}
	runCounter(t, src, "c")
	ctx := context.Background()
	_, err := src.client.Migrate(ctx, "c", apiv1.MigrateRequest{To: proxy.addr})
	if err == nil || !strings.Contains(err.Error(), "unresolved") {
		t.Fatalf("migrate: %v", err)
	}
	in, err := src.client.Get(ctx, "c")
	if err != nil || in.State != apiv1.StateMigrating {
		t.Fatalf("the unresolved instance is %+v (%v)", in, err)
	}
	if _, err := src.client.Resume(ctx, "c"); !isStatus(err, 409) {
		t.Fatalf("a fenced instance was resumed: %v", err)
	}
	if err := src.client.Delete(ctx, "c"); !isStatus(err, 409) {
		t.Fatalf("a fenced instance was deleted: %v", err)
	}
	if _, err := src.client.Resolve(ctx, "c"); err == nil {
		t.Fatal("resolved while the destination is unreachable")
	}
	waitFor(t, 5*time.Second, "the destination to run it", func() bool { return lines(dst.stdout(t, "c")) >= 3 })
	proxy.open(t)
	st, err := src.client.Resolve(ctx, "c")
	if err != nil || st.Status != migCommitted {
		t.Fatalf("resolve: %+v %v", st, err)
	}
	if all, _ := src.client.List(ctx); len(all) != 0 {
		t.Fatalf("the source still holds %+v", all)
	}
}

// A client's resume used to go through while an instance was migrating
// (unpause accepted the migrating state), and a checkpoint taken during a
// pre-copy round's pause could resume the program under the round: one
// pause-and-resume sequence at a time, and only the migration continues a
// migrating instance.
func TestResumeRefusedWhileMigrating(t *testing.T) {
	tn := startNode(t, sharedPKI(t), nil)
	runCounter(t, tn, "c")
	in, err := tn.lookup("c")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := in.guest.beginMigration(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := tn.client.Resume(ctx, "c"); !isStatus(err, 409) {
		t.Fatalf("a migrating instance was resumed: %v", err)
	}
	if _, err := tn.client.Checkpoint(ctx, "c", false); err != nil {
		t.Fatalf("checkpoint while migrating: %v", err)
	}
	if got, _ := tn.client.Get(ctx, "c"); got.State != apiv1.StateMigrating {
		t.Fatalf("after a checkpoint the migrating instance is %s", got.State)
	}
	if err := in.guest.endMigration(true); err != nil {
		t.Fatal(err)
	}
	before := lines(tn.stdout(t, "c"))
	waitFor(t, 10*time.Second, "the counter to continue", func() bool { return lines(tn.stdout(t, "c")) > before })
}

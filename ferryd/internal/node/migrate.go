package node

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
	"github.com/ferryvm/ferry/ferryd/internal/dirty"
	"github.com/ferryvm/ferry/ferryd/internal/stream"
)

// upgradeProto names the migration protocol in the HTTP/1.1 Upgrade
// that turns an authenticated API connection into a migration stream.
const upgradeProto = "ferry-migrate/1"

// Migration outcomes a destination records (MigrationStatus).
const (
	migCommitted = "committed"
	migAborted   = "aborted"
	migPending   = "pending"
	migUnknown   = "unknown"
)

// header is the Header frame: what the destination restores.
type header struct {
	ID           string      `json:"id"`
	Name         string      `json:"name"`
	Dirs         []apiv1.Dir `json:"dirs,omitempty"`
	VerifyMemory bool        `json:"verify_memory,omitempty"`
	// Precopy: Pages frames come before the checkpoint, which is written
	// without memory data; the destination restores over their image.
	Precopy bool     `json:"precopy,omitempty"`
	Tier    string   `json:"tier,omitempty"`
	Listen  []string `json:"listen,omitempty"`
}

// ready is the Ready frame: restored, paused before its first
// instruction, waiting for the commit.
type ready struct {
	MemorySHA string `json:"memory_sha256,omitempty"`
	// Receive is the time from the header to the stream's end; Restore
	// from there to the restored instance paused before its first
	// instruction.
	Receive time.Duration `json:"receive_ns"`
	Restore time.Duration `json:"restore_ns"`
}

// running is the Running frame.
type running struct {
	StartedAt time.Time `json:"started_at"`
}

// connectTimeout bounds dialling the destination and its handshake.
const connectTimeout = 10 * time.Second

// errMigration marks a migration that failed before the switch: the
// instance continues on the source.
var errMigration = errors.New("migration failed; the instance continues here")

// Migrate moves an instance to the daemon at req.To: it pre-copies the
// memory in rounds while the instance runs (where writes can be tracked;
// else, or with req.StopAndCopy, it sends it all while paused), pauses
// the instance, streams the last dirty pages and its checkpoint, and
// once the destination has restored it, fences this copy, commits, and
// deletes this copy when the destination runs it (docs/ferryd.md,
// "Migration").
func (n *Node) Migrate(ctx context.Context, name string, req apiv1.MigrateRequest) (apiv1.MigrateResult, error) {
	if n.cfg.PeerTLS == nil {
		return apiv1.MigrateResult{}, fmt.Errorf("%w: this daemon has no peer certificate (--tls-cert/--tls-key/--client-ca) to migrate with", errConflict)
	}
	if req.To == "" {
		return apiv1.MigrateResult{}, badRequest("no destination (to)")
	}
	in, err := n.lookup(name)
	if err != nil {
		return apiv1.MigrateResult{}, err
	}
	dirs := req.Dirs
	if len(dirs) == 0 {
		dirs = in.dirs
	}
	listen := req.Listen
	if len(listen) == 0 {
		listen = in.listen
	}
	id := newID()
	res := apiv1.MigrateResult{ID: id, To: req.To}
	prog := &progress{id: id, to: req.To}
	prog.setPhase("connecting")
	if !in.migration.CompareAndSwap(nil, prog) {
		return res, fmt.Errorf("%w: the instance is already migrating", errConflict)
	}
	defer in.migration.Store(nil)
	n.cfg.Log.Printf("migration %s: %s to %s: starting", id, name, req.To)
	fail := func(result string, err error) (apiv1.MigrateResult, error) {
		n.cfg.Log.Printf("migration %s: %s to %s: %s, the instance continues here: %v", id, name, req.To, result, err)
		n.metrics.migrations.WithLabelValues("source", result).Inc()
		return res, fmt.Errorf("%w: %v", errMigration, err)
	}

	// Everything that can fail without pausing is done first: a
	// destination that cannot be reached, or refuses, costs no downtime.
	sc, conn, err := n.dialMigration(ctx, req.To, id)
	if err != nil {
		return fail("aborted", err)
	}
	defer conn.Close()
	if n.testTamper != nil {
		sc.Tamper = func(k stream.Kind, seq uint64, frame []byte) { n.testTamper(int(k), seq, frame) }
	}
	prog.conn.Store(sc)
	// The header says whether Pages frames may come; the tracker is armed
	// once the destination accepted, so that a refusal costs no pause.
	res.Mode = "stop-and-copy"
	mayPrecopy := !req.StopAndCopy
	if req.StopAndCopy {
		res.NoPrecopy = "stop-and-copy asked for"
	} else if err := dirty.Available(); err != nil {
		mayPrecopy, res.NoPrecopy = false, err.Error()
	}
	if err := sc.SendJSON(stream.Header, header{ID: id, Name: name, Dirs: dirs, VerifyMemory: req.VerifyMemory, Precopy: mayPrecopy, Tier: in.tier, Listen: listen}); err != nil {
		return fail("aborted", err)
	}
	if err := sc.RecvJSON(stream.Accepted, nil); err != nil {
		return fail(refusedOr(err), err)
	}
	var pc *precopy
	if mayPrecopy {
		if pc, err = n.armPrecopy(in); err != nil {
			if !errors.Is(err, errNoPrecopy) {
				sc.SendJSON(stream.Abort, stream.Reason{Reason: err.Error()})
				return fail("aborted", err)
			}
			res.NoPrecopy = err.Error()
			n.cfg.Log.Printf("migration %s: %s: stop-and-copy: %v", id, name, err)
		}
	}
	defer pc.close()
	if pc != nil {
		pc.sc = sc
		res.Mode = "precopy"
		prog.startPrecopy(int64(len(pc.mem)))
		maxRounds := req.MaxRounds
		if maxRounds <= 0 {
			maxRounds = defaultMaxRounds
		}
		if err := n.rounds(ctx, in, pc, prog, maxRounds); err != nil {
			// Not paused: the instance simply continues.
			sc.SendJSON(stream.Abort, stream.Reason{Reason: err.Error()})
			n.metrics.migrationBytes.WithLabelValues("source").Add(float64(sc.Sent()))
			return fail("aborted", fmt.Errorf("pre-copy: %w", err))
		}
		res.Rounds, res.RoundPages = pc.rounds, pc.roundPages
	}

	p, wasRunning, err := in.guest.beginMigration()
	if err != nil {
		sc.SendJSON(stream.Abort, stream.Reason{Reason: err.Error()})
		return fail("aborted", fmt.Errorf("%w: %v", errConflict, err))
	}
	pausedAt := time.Now()
	prog.paused(pausedAt, p)
	prog.setPhase("streaming")
	// Until the fence, any failure lets the instance continue here.
	undo := func(result string, err error) (apiv1.MigrateResult, error) {
		sc.SendJSON(stream.Abort, stream.Reason{Reason: err.Error()})
		conn.Close()
		in.guest.endMigration(wasRunning)
		n.metrics.migrationBytes.WithLabelValues("source").Add(float64(sc.Sent()))
		return fail(result, err)
	}
	ckCfg := checkpointConfig(in.guest)
	if pc != nil {
		if res.FinalPages, err = pc.stopPhase(p); err != nil {
			return undo("aborted", fmt.Errorf("the last dirty pages: %w", err))
		}
		res.PageBytes = pc.pageBytes
		ckCfg = ckCfg.WithoutMemoryData()
	}
	if req.VerifyMemory {
		res.MemorySHA = memorySHA(p)
	}
	w := sc.NewWriter()
	if res.Bytes, err = p.WriteCheckpoint(w, ckCfg); err != nil {
		return undo("aborted", fmt.Errorf("write the checkpoint: %w", err))
	}
	if _, err := w.Close(); err != nil {
		return undo("aborted", err)
	}
	res.Stream = time.Since(pausedAt)
	prog.setPhase("restoring")
	var rd ready
	if err := sc.RecvJSON(stream.Ready, &rd); err != nil {
		return undo(refusedOr(err), err)
	}
	res.Restore = rd.Restore
	if req.VerifyMemory && rd.MemorySHA != res.MemorySHA {
		return undo("aborted", fmt.Errorf("the destination's memory (SHA-256 %s) differs from the source's (%s)", rd.MemorySHA, res.MemorySHA))
	}

	// The switch. From the fence on, this copy never runs again unless
	// the destination provably never will (it reports the migration
	// aborted).
	in.guest.fence()
	prog.setPhase("committing")
	cerr := sc.Send(stream.Commit, nil)
	if n.testAfterCommit != nil {
		n.testAfterCommit(conn)
	}
	var run running
	if cerr == nil {
		conn.SetReadDeadline(time.Now().Add(n.cfg.PendingTimeout))
		cerr = sc.RecvJSON(stream.Running, &run)
	}
	res.Wire = sc.Sent()
	n.metrics.migrationBytes.WithLabelValues("source").Add(float64(res.Wire))
	if cerr != nil {
		// The commit may or may not have arrived: only the destination
		// knows, and it records its decision before it acts on it.
		prog.setPhase("resolving")
		switch st := n.resolve(ctx, req.To, id); st {
		case migCommitted:
			pc.close()
			n.remove(in)
			n.metrics.migrations.WithLabelValues("source", "switched").Inc()
			res.Acked = time.Since(pausedAt)
			n.cfg.Log.Printf("migration %s: %s to %s: switched (learnt after the connection broke)", id, name, req.To)
			return res, nil
		case migAborted, migUnknown:
			in.guest.unfence()
			in.guest.endMigration(wasRunning)
			return fail("aborted", fmt.Errorf("the destination aborted after the commit was sent (%v)", cerr))
		default:
			n.metrics.migrations.WithLabelValues("source", "unresolved").Inc()
			n.cfg.Log.Printf("migration %s: %s to %s: UNRESOLVED, the instance stays fenced: %v", id, name, req.To, cerr)
			in.unresolved.Store(&unresolved{id: id, to: req.To, wasRunning: wasRunning})
			return res, fmt.Errorf("%w: migration %s unresolved: the connection broke after the commit (%v) and the destination cannot be asked; the instance stays fenced here (state %s) until it is resolved (ferryd ctl resolve)", errMigration, id, cerr, apiv1.StateMigrating)
		}
	}
	res.Acked = time.Since(pausedAt)
	res.Downtime = run.StartedAt.Sub(pausedAt)
	n.metrics.downtime.Observe(res.Downtime.Seconds())
	if n.testSwitched != nil {
		n.testSwitched(p)
	}
	pc.close() // before the memory is unmapped
	n.remove(in)
	n.metrics.migrations.WithLabelValues("source", "switched").Inc()
	n.cfg.Log.Printf("migration %s: %s to %s: switched (%s, %d rounds, %d pages while paused), downtime %v, %d bytes", id, name, req.To, res.Mode, res.Rounds, res.FinalPages, res.Downtime, res.Wire)
	return res, nil
}

func refusedOr(err error) string {
	var pe *stream.PeerError
	if errors.As(err, &pe) && pe.Kind == stream.Refused {
		return "refused"
	}
	return "aborted"
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// memorySHA hashes the paused instance's memory (exported as "memory",
// as WASI programs do), or "" when it has none.
func memorySHA(p *ferry.Paused) string {
	m := p.Instance().Memory("memory")
	if m == nil {
		return ""
	}
	h := sha256.Sum256(m.Bytes())
	return hex.EncodeToString(h[:])
}

// dialMigration connects to the destination's API, authenticates both
// ways and upgrades the connection to a migration stream.
func (n *Node) dialMigration(ctx context.Context, addr, id string) (*stream.Conn, *tls.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, badRequest("destination %q: %v", addr, err)
	}
	cfg := n.cfg.PeerTLS.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: connectTimeout}, Config: cfg}
	dctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	c, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	conn := c.(*tls.Conn)
	conn.SetDeadline(time.Now().Add(connectTimeout))
	fmt.Fprintf(conn, "GET /v1/migrations/incoming HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: %s\r\nFerry-Migration: %s\r\n\r\n", addr, upgradeProto, id)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("%s: %w", addr, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		var e apiv1.Error
		json.NewDecoder(resp.Body).Decode(&e)
		conn.Close()
		return nil, nil, fmt.Errorf("%s refused the migration: %s %s", addr, resp.Status, e.Error)
	}
	conn.SetDeadline(time.Time{})
	sc, err := stream.New(conn, br, true, id)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return sc, conn, nil
}

// resolve asks the destination what it decided for migration id, until
// it answers committed or aborted or the wait for a pending decision is
// over.
func (n *Node) resolve(ctx context.Context, addr, id string) string {
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: n.cfg.PeerTLS.Clone()}, Timeout: connectTimeout}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(n.cfg.ResolveWait)
	for time.Now().Before(deadline) {
		resp, err := client.Get("https://" + addr + "/v1/migrations/" + id)
		if err == nil {
			var st apiv1.MigrationStatus
			derr := json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if derr == nil && (st.Status == migCommitted || st.Status == migAborted || st.Status == migUnknown) {
				return st.Status
			}
		}
		select {
		case <-ctx.Done():
			return ""
		case <-time.After(200 * time.Millisecond):
		}
	}
	return ""
}

// MigrationStatus reports what this node decided as the destination of
// migration id. The decision is read from the state directory, where it
// is written before it takes effect, so that it survives a crash.
func (n *Node) MigrationStatus(id string) apiv1.MigrationStatus {
	st := apiv1.MigrationStatus{ID: id, Status: migUnknown}
	if !validID(id) {
		return st
	}
	n.mu.Lock()
	s, ok := n.migrations[id]
	n.mu.Unlock()
	if ok {
		st.Status = s
		return st
	}
	if b, err := os.ReadFile(filepath.Join(n.cfg.StateDir, "migrations", id)); err == nil {
		st.Status = string(b)
	}
	return st
}

func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// decide records the destination's decision for a migration, durably
// when it is a commit: a destination that restarts must not let the
// source resume a program it ran.
func (n *Node) decide(id, status string) error {
	dir := filepath.Join(n.cfg.StateDir, "migrations")
	switch {
	case status != migCommitted:
		os.Remove(filepath.Join(dir, id+".tmp")) // a prepared commit
	case fileExists(filepath.Join(dir, id+".tmp")):
		if err := publishDecision(dir, id); err != nil {
			return err
		}
	default:
		if err := writeDecision(dir, id, status); err != nil {
			return err
		}
	}
	n.mu.Lock()
	n.migrations[id] = status
	n.mu.Unlock()
	return nil
}

// handleIncoming is the destination of a migration.
func (n *Node) handleIncoming(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("Ferry-Migration")
	if r.Header.Get("Upgrade") != upgradeProto || !validID(id) {
		reply(w, nil, badRequest("a migration stream needs Upgrade: %s and a Ferry-Migration id", upgradeProto))
		return
	}
	if n.MigrationStatus(id).Status != migUnknown {
		reply(w, nil, fmt.Errorf("%w: migration %s was already decided", errConflict, id))
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		reply(w, nil, errors.New("this connection cannot carry a migration stream (HTTP/2?)"))
		return
	}
	raw, rw, err := hj.Hijack()
	if err != nil {
		return
	}
	defer raw.Close()
	conn, ok := raw.(*tls.Conn)
	if !ok {
		return // never: ferryd serves its API over TLS only
	}
	raw.SetDeadline(time.Time{})
	rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + upgradeProto + "\r\n\r\n")
	if rw.Flush() != nil {
		return
	}
	sc, err := stream.New(conn, rw.Reader, false, id)
	if err != nil {
		return
	}
	n.receive(context.WithoutCancel(r.Context()), sc, conn, id)
}

// receive runs the destination's side of migration id.
func (n *Node) receive(ctx context.Context, sc *stream.Conn, conn *tls.Conn, id string) {
	n.mu.Lock()
	n.migrations[id] = migPending
	n.mu.Unlock()
	refuse := func(in *instance, err error) {
		n.cfg.Log.Printf("migration %s in: refused: %v", id, err)
		// Cleaned up before the source hears of it: a source told
		// "refused" finds nothing of the migration left here.
		if in != nil {
			n.release(in)
		}
		n.decide(id, migAborted)
		n.metrics.migrations.WithLabelValues("destination", "refused").Inc()
		sc.SendJSON(stream.Refused, stream.Reason{Reason: err.Error()})
	}
	// The source may take a while between frames only while it writes the
	// checkpoint; a silent peer is given up on after PendingTimeout.
	conn.SetReadDeadline(time.Now().Add(n.cfg.PendingTimeout))
	var h header
	if err := sc.RecvJSON(stream.Header, &h); err != nil {
		refuse(nil, err)
		return
	}
	if h.ID != id {
		refuse(nil, errors.New("the header's migration id is not the connection's"))
		return
	}
	in, err := n.reserve(h.Name)
	if err != nil {
		refuse(nil, err)
		return
	}
	for _, d := range h.Dirs {
		if st, err := os.Stat(d.Host); err != nil || !st.IsDir() {
			refuse(in, fmt.Errorf("directory grant %q: not a directory on the destination", d.Host))
			return
		}
	}
	in.dirs, in.restoredFrom = h.Dirs, "migration "+id
	if err := prepareDecision(filepath.Join(n.cfg.StateDir, "migrations"), id, migCommitted); err != nil {
		refuse(in, err)
		return
	}
	if err := sc.Send(stream.Accepted, nil); err != nil {
		refuse(in, err)
		return
	}

	tier, err := runtimeTier(h.Tier)
	if err != nil {
		refuse(in, err)
		return
	}
	in.tier, in.listen = h.Tier, h.Listen

	t0 := time.Now()
	path := filepath.Join(in.dir, checkpointFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		refuse(in, err)
		return
	}
	var image *imageWriter
	if h.Precopy {
		img, err := os.OpenFile(filepath.Join(in.dir, memoryImageFile), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			f.Close()
			refuse(in, err)
			return
		}
		image = &imageWriter{f: img, limit: maxPrecopyFactor * n.cfg.MaxCheckpointBytes}
	}
	closeImage := func() {
		if image != nil {
			image.f.Close()
		}
	}
	conn.SetReadDeadline(time.Now().Add(n.cfg.PendingTimeout))
	var pages func([]byte) error
	if image != nil {
		pages = func(b []byte) error {
			conn.SetReadDeadline(time.Now().Add(n.cfg.PendingTimeout))
			return image.put(b)
		}
	}
	_, err = sc.ReceiveDataAndPages(deadlineWriter{f, conn, n.cfg.PendingTimeout}, n.cfg.MaxCheckpointBytes, pages)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		closeImage()
		refuse(in, fmt.Errorf("checkpoint stream: %w", err))
		return
	}
	t1 := time.Now()
	var img *os.File
	if image != nil {
		img = image.f
	}
	g, err := n.restoreGuest(ctx, in, h.Dirs, tier, img)
	if err != nil {
		closeImage()
		refuse(in, err)
		return
	}
	rd := ready{Receive: t1.Sub(t0), Restore: time.Since(t1)}
	if h.VerifyMemory {
		rd.MemorySHA = memorySHA(g.paused)
	}
	abort := func(reason error) {
		n.cfg.Log.Printf("migration %s in: %s aborted before its first instruction: %v", id, h.Name, reason)
		g.stop()
		g.closeHost()
		n.release(in)
		n.decide(id, migAborted)
		n.metrics.migrations.WithLabelValues("destination", "aborted").Inc()
	}
	if err := sc.SendJSON(stream.Ready, rd); err != nil {
		abort(err)
		return
	}
	conn.SetReadDeadline(time.Now().Add(n.cfg.PendingTimeout))
	if err := sc.RecvJSON(stream.Commit, nil); err != nil {
		abort(err)
		return
	}
	// Decided, durably, before the first instruction: from here on the
	// source may learn the outcome only as "committed".
	if err := n.decide(id, migCommitted); err != nil {
		abort(err)
		return
	}
	n.attach(in, g)
	g.start()
	g.mu.Lock()
	startedAt := g.startedAt
	g.mu.Unlock()
	n.metrics.started.Inc()
	n.metrics.migrations.WithLabelValues("destination", "switched").Inc()
	n.cfg.Log.Printf("migration %s in: %s committed and running", id, h.Name)
	sc.SendJSON(stream.Running, running{StartedAt: startedAt})
}

// deadlineWriter extends the connection's read deadline with every chunk
// written: a slow stream is fine, a stalled one is not.
type deadlineWriter struct {
	f    *os.File
	conn *tls.Conn
	d    time.Duration
}

func (w deadlineWriter) Write(b []byte) (int, error) {
	w.conn.SetReadDeadline(time.Now().Add(w.d))
	return w.f.Write(b)
}

// writeDecision writes DIR/ID atomically: written and synced under a
// temporary name, then renamed, so that a crash leaves either no
// decision (a temporary file New removes) or the whole one, never an
// empty file a status query would misread.
func writeDecision(dir, id, status string) error {
	if err := prepareDecision(dir, id, status); err != nil {
		return err
	}
	return publishDecision(dir, id)
}

// prepareDecision is writeDecision's first half: DIR/ID.tmp written and
// synced. A destination prepares its commit before it accepts a
// migration, so that the commit, which the program's downtime waits
// for, costs one rename and one directory sync instead of two syncs.
func prepareDecision(dir, id, status string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp := filepath.Join(dir, id+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(status)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// publishDecision renames a prepared decision into place and syncs the
// directory.
func publishDecision(dir, id string) error {
	tmp := filepath.Join(dir, id+".tmp")
	if err := os.Rename(tmp, filepath.Join(dir, id)); err != nil {
		os.Remove(tmp)
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// progress is a migration out, for the instance's description.
type progress struct {
	id, to   string
	phase    atomic.Value // string
	conn     atomic.Pointer[stream.Conn]
	pausedAt atomic.Int64 // UnixNano; 0 before the pause
	total    atomic.Int64

	mu         sync.Mutex // the pre-copy's figures (precopy.go)
	precopy    bool
	rounds     int
	dirtyPages int64
	dirtyRate  float64
	sendRate   float64
}

func (p *progress) startPrecopy(total int64) {
	p.total.Store(total)
	p.mu.Lock()
	p.precopy = true
	p.mu.Unlock()
}

func (p *progress) setPhase(s string) { p.phase.Store(s) }

func (p *progress) paused(at time.Time, pp *ferry.Paused) {
	if m := pp.Instance().Memory("memory"); m != nil {
		p.total.Store(int64(m.Size()))
	}
	p.pausedAt.Store(at.UnixNano())
}

func (p *progress) report() *apiv1.MigrationProgress {
	r := &apiv1.MigrationProgress{ID: p.id, To: p.to, Phase: p.phase.Load().(string), Total: p.total.Load()}
	if c := p.conn.Load(); c != nil {
		r.Bytes = c.DataBytes()
	}
	p.precopyReport(r)
	if at := p.pausedAt.Load(); at != 0 {
		r.Paused = time.Since(time.Unix(0, at))
		if !r.Precopy && r.Paused > 0 && r.Bytes > 0 {
			r.Rate = float64(r.Bytes) / r.Paused.Seconds()
			r.ExpectedDowntime = time.Duration(float64(max(r.Total, r.Bytes)) / r.Rate * float64(time.Second))
		}
	}
	return r
}

// unresolved is a migration out whose outcome the source could not
// learn: its instance stays fenced until Resolve learns it.
type unresolved struct {
	id, to     string
	wasRunning bool
}

// Resolve asks the destination of an unresolved migration what it
// decided, and acts on it: deletes the instance here if the destination
// runs it, resumes it here if the destination never will.
func (n *Node) Resolve(ctx context.Context, name string) (apiv1.MigrationStatus, error) {
	in, err := n.lookup(name)
	if err != nil {
		return apiv1.MigrationStatus{}, err
	}
	u := in.unresolved.Load()
	if u == nil {
		return apiv1.MigrationStatus{}, fmt.Errorf("%w: no unresolved migration of %q", errConflict, name)
	}
	st := apiv1.MigrationStatus{ID: u.id, Status: n.resolve(ctx, u.to, u.id)}
	switch st.Status {
	case migCommitted:
		n.remove(in)
		n.metrics.migrations.WithLabelValues("source", "switched").Inc()
	case migAborted, migUnknown:
		in.unresolved.Store(nil)
		in.guest.unfence()
		if err := in.guest.endMigration(u.wasRunning); err != nil {
			return st, err
		}
		n.metrics.migrations.WithLabelValues("source", "aborted").Inc()
	default:
		return st, fmt.Errorf("%w: the destination %s cannot be asked about migration %s yet; the instance stays fenced", errMigration, u.to, u.id)
	}
	return st, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

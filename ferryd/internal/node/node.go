// Package node is ferryd's agent: the instances one host runs, each in a
// Ferry runtime of its own, their logs and checkpoints under the state
// directory, the HTTP API that drives them and the migrations between
// daemons.
package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
	"github.com/ferryvm/ferry/wasi"
)

// Config is a node's configuration; the zero value of a field is its
// default.
type Config struct {
	// StateDir holds instances' logs and checkpoints.
	StateDir string
	// Runtime configures every instance's runtime (CPU features, limits).
	Runtime ferry.RuntimeConfig
	// PeerTLS is the client side of daemon-to-daemon mutual TLS, used to
	// migrate to a peer. Without it, migrations out are refused.
	PeerTLS *tls.Config
	// MaxModuleBytes and MaxCheckpointBytes bound what one request may
	// upload or one incoming migration may stream (defaults 256 MiB and
	// 8 GiB: a 4 GiB memory, its module and state).
	MaxModuleBytes, MaxCheckpointBytes int64
	// PendingTimeout is how long a destination keeps a restored instance
	// waiting for a commit after its connection broke (default 30 s): the
	// source may still learn the outcome and commit through a status
	// query; after it, the migration is aborted for good.
	PendingTimeout time.Duration
	// ResolveWait is how long a source whose connection broke after its
	// commit keeps asking the destination for its decision before it
	// reports the migration unresolved (default PendingTimeout + 10 s:
	// the destination decides at most PendingTimeout after the break, and
	// a destination restarting needs a moment to answer).
	ResolveWait time.Duration
	// Log receives one line per migration event (start, switch, failure,
	// refusal); nil discards them.
	Log *log.Logger
}

// Node runs instances. Its methods are safe for concurrent use.
type Node struct {
	cfg     Config
	metrics *metrics

	mu        sync.Mutex
	instances map[string]*instance
	// migrations records what this node, as a destination, decided for
	// each migration ID it took part in: the source's status query reads
	// it after a connection broke.
	migrations map[string]string

	// testTamper, when set, changes outgoing migration frames (tests).
	testTamper func(kind int, seq uint64, frame []byte)
	// testAfterCommit, when set, runs on the source between its commit
	// and reading the destination's answer, with the migration's
	// connection (tests).
	testAfterCommit func(net.Conn)
	// testBeforeRound, when set, runs before each pre-copy round after
	// round 0, while the program runs (tests).
	testBeforeRound func(round int)
	// testSwitched, when set, runs on the source once the destination
	// runs the program, with this copy still paused and fenced (tests:
	// its memory is the memory at the switch).
	testSwitched func(*ferry.Paused)
}

// instance is one program the node runs.
type instance struct {
	name         string
	created      time.Time
	args         []string
	dirs         []apiv1.Dir
	restoredFrom string
	tier         string   // RunRequest.Tier: "" is the daemon's default
	listen       []string // the guest's listening sockets' addresses
	dir          string   // its directory under the state directory
	stdout       *os.File
	stderr       *os.File
	guest        *guest
	// migration is the migration out in progress, or nil.
	migration atomic.Pointer[progress]
	// unresolved is set when a migration out broke after its commit and
	// the destination could not be asked (Resolve).
	unresolved atomic.Pointer[unresolved]
}

// Instance directory entries.
const (
	stdoutLog      = "stdout.log"
	stderrLog      = "stderr.log"
	checkpointFile = "checkpoint.ckpt" // the checkpoint it was restored from: its memory is mapped from it
)

// New opens (creating) the state directory.
func New(cfg Config) (*Node, error) {
	if cfg.StateDir == "" {
		return nil, errors.New("a state directory is required")
	}
	if cfg.MaxModuleBytes <= 0 {
		cfg.MaxModuleBytes = 256 << 20
	}
	if cfg.MaxCheckpointBytes <= 0 {
		cfg.MaxCheckpointBytes = 8 << 30
	}
	if cfg.PendingTimeout <= 0 {
		cfg.PendingTimeout = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = log.New(io.Discard, "", 0)
	}
	if cfg.ResolveWait <= 0 {
		cfg.ResolveWait = cfg.PendingTimeout + 10*time.Second
	}
	for _, d := range []string{"instances", "checkpoints", "incoming"} {
		if err := os.MkdirAll(filepath.Join(cfg.StateDir, d), 0o700); err != nil {
			return nil, err
		}
	}
	// An incoming migration or upload a crash interrupted left a partial
	// file nobody will finish.
	if ents, err := os.ReadDir(filepath.Join(cfg.StateDir, "incoming")); err == nil {
		for _, e := range ents {
			os.RemoveAll(filepath.Join(cfg.StateDir, "incoming", e.Name()))
		}
	}
	// A commit decision a crash interrupted was never acted on.
	if tmps, err := filepath.Glob(filepath.Join(cfg.StateDir, "migrations", "*.tmp")); err == nil {
		for _, t := range tmps {
			os.Remove(t)
		}
	}
	n := &Node{cfg: cfg, metrics: newMetrics(), instances: map[string]*instance{}, migrations: map[string]string{}}
	n.registerInstances()
	n.resumeSuspended(context.Background())
	return n, nil
}

// Close suspends every running or paused instance (suspend.go: a
// restarted daemon restores it) and stops them all; their directories
// stay.
func (n *Node) Close() {
	n.mu.Lock()
	all := make([]*instance, 0, len(n.instances))
	for _, in := range n.instances {
		all = append(all, in)
	}
	n.mu.Unlock()
	for _, in := range all {
		if in.guest == nil {
			continue
		}
		if _, err := n.suspend(in); err != nil {
			n.cfg.Log.Printf("shutdown: %s: not suspended, it will not be restored: %v", in.name, err)
		}
		in.guest.stop()
		in.guest.wait(5 * time.Second)
		in.closeLogs()
	}
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// errBadRequest marks errors that are the request's fault (HTTP 400).
var errBadRequest = errors.New("bad request")

// errNotFound marks an unknown instance or checkpoint (HTTP 404).
var errNotFound = errors.New("not found")

// errConflict marks a request the instance's state refuses (HTTP 409).
var errConflict = errors.New("conflict")

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, args...))
}

// reserve claims name for an instance being made, and its directory.
func (n *Node) reserve(name string) (*instance, error) {
	if !validName.MatchString(name) {
		return nil, badRequest("instance name %q: use 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit", name)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, dup := n.instances[name]; dup {
		return nil, fmt.Errorf("%w: an instance named %q exists", errConflict, name)
	}
	dir := filepath.Join(n.cfg.StateDir, "instances", name)
	// A directory left by a deleted or lost instance holds only logs.
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	in := &instance{name: name, created: time.Now(), dir: dir}
	n.instances[name] = in
	return in, nil
}

// release forgets a reservation whose instance could not be made.
func (n *Node) release(in *instance) {
	in.closeLogs()
	n.mu.Lock()
	if n.instances[in.name] == in {
		delete(n.instances, in.name)
	}
	n.mu.Unlock()
	os.RemoveAll(in.dir)
}

func (in *instance) openLogs() error {
	var err error
	if in.stdout, err = os.OpenFile(filepath.Join(in.dir, stdoutLog), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err != nil {
		return err
	}
	in.stderr, err = os.OpenFile(filepath.Join(in.dir, stderrLog), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	return err
}

func (in *instance) closeLogs() {
	if in.stdout != nil {
		in.stdout.Close()
	}
	if in.stderr != nil {
		in.stderr.Close()
	}
}

// wasiConfig is the guest's WASI configuration: its logs as stdout and
// stderr, no stdin, the granted directories and listening sockets
// (in.listen).
func (in *instance) wasiConfig(dirs []apiv1.Dir) (wasi.Config, error) {
	cfg := wasi.NewConfig().WithStdin(eofReader{}).WithStdout(in.stdout).WithStderr(in.stderr)
	for _, d := range dirs {
		st, err := os.Stat(d.Host)
		if err != nil || !st.IsDir() {
			return cfg, badRequest("directory grant %q: not a directory on this host", d.Host)
		}
		g := d.Guest
		if g == "" {
			g = d.Host
		}
		cfg = cfg.WithPreopen(d.Host, g)
	}
	for _, a := range in.listen {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return cfg, badRequest("listen address %q: %v", a, err)
		}
		cfg = cfg.WithTCPListen(a)
	}
	return cfg, nil
}

// eofReader is a guest's stdin: a daemon's instances read no terminal.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// Run compiles and starts a WASI command.
func (n *Node) Run(ctx context.Context, req apiv1.RunRequest) (apiv1.Instance, error) {
	if len(req.Module) == 0 {
		return apiv1.Instance{}, badRequest("no module")
	}
	in, err := n.reserve(req.Name)
	if err != nil {
		return apiv1.Instance{}, err
	}
	in.args, in.dirs, in.tier, in.listen = req.Args, req.Dirs, req.Tier, req.Listen
	g, err := n.newGuest(ctx, in, req)
	if err != nil {
		n.release(in)
		return apiv1.Instance{}, err
	}
	n.attach(in, g)
	if err := g.start(); err != nil {
		return apiv1.Instance{}, err
	}
	n.metrics.started.Inc()
	return n.describe(in), nil
}

func (n *Node) newGuest(ctx context.Context, in *instance, req apiv1.RunRequest) (*guest, error) {
	if err := in.openLogs(); err != nil {
		return nil, err
	}
	cfg, err := in.wasiConfig(req.Dirs)
	if err != nil {
		return nil, err
	}
	args := req.Args
	if len(args) == 0 {
		args = []string{req.Name}
	}
	cfg = cfg.WithArgs(args...)
	for _, kv := range req.Env {
		k, v, ok := cut(kv, '=')
		if !ok || k == "" {
			return nil, badRequest("environment entry %q: want NAME=VALUE", kv)
		}
		cfg = cfg.WithEnv(k, v)
	}
	tier, err := runtimeTier(req.Tier)
	if err != nil {
		return nil, err
	}
	rt := ferry.NewRuntime(n.runtimeConfig(tier))
	m, err := rt.Compile(ctx, req.Module)
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("%w: %v", errBadRequest, err)
	}
	for _, im := range m.Imports() {
		if im.Module != wasi.ModuleName {
			rt.Close(ctx)
			return nil, badRequest("the module imports %s.%s: ferryd provides only %s", im.Module, im.Name, wasi.ModuleName)
		}
	}
	w, err := wasi.Instantiate(ctx, rt, cfg)
	if err != nil {
		rt.Close(ctx)
		return nil, err
	}
	inst, err := rt.Instantiate(ctx, m, "")
	if err != nil {
		w.Close(ctx)
		rt.Close(ctx)
		return nil, fmt.Errorf("%w: %v", errBadRequest, err)
	}
	f := inst.Function("_start")
	if f == nil {
		w.Close(ctx)
		rt.Close(ctx)
		return nil, badRequest("the module exports no _start: ferryd runs WASI commands")
	}
	first := func(ctx context.Context) error {
		_, err := f.CallWithOptions(ctx, ferry.CallOptions{})
		return err
	}
	return newGuest(rt, w, inst, first), nil
}

func cut(s string, sep byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// runtimeTier parses a RunRequest's tier; nil is the daemon's default.
func runtimeTier(s string) (*ferry.Tier, error) {
	if s == "" {
		return nil, nil
	}
	t, err := ferry.ParseTier(s)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	return &t, nil
}

// runtimeConfig is an instance's runtime configuration: the daemon's,
// with the tier the instance asked for.
func (n *Node) runtimeConfig(tier *ferry.Tier) ferry.RuntimeConfig {
	if tier == nil {
		return n.cfg.Runtime
	}
	return n.cfg.Runtime.WithTier(*tier)
}

// attach gives in its guest, and frees the guest's runtime when it ends.
func (n *Node) attach(in *instance, g *guest) {
	g.onExit = func() {
		g.closeHost()
		n.metrics.exited.Inc()
	}
	n.mu.Lock()
	in.guest = g
	n.mu.Unlock()
}

// lookup finds an instance that has a guest.
func (n *Node) lookup(name string) (*instance, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	in := n.instances[name]
	if in == nil || in.guest == nil {
		return nil, fmt.Errorf("%w: no instance %q", errNotFound, name)
	}
	return in, nil
}

func (n *Node) describe(in *instance) apiv1.Instance {
	st, code, err := in.guest.status()
	d := apiv1.Instance{Name: in.name, State: st, ExitCode: code, Created: in.created, Args: in.args, Dirs: in.dirs, RestoredFrom: in.restoredFrom, Tier: in.tier, Listen: in.listen}
	if err != nil {
		d.Error = err.Error()
	}
	if p := in.migration.Load(); p != nil {
		d.Migration = p.report()
	}
	return d
}

// List describes every instance, by name.
func (n *Node) List() []apiv1.Instance {
	n.mu.Lock()
	all := make([]*instance, 0, len(n.instances))
	for _, in := range n.instances {
		if in.guest != nil {
			all = append(all, in)
		}
	}
	n.mu.Unlock()
	out := make([]apiv1.Instance, 0, len(all))
	for _, in := range all {
		out = append(out, n.describe(in))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Get describes one instance.
func (n *Node) Get(name string) (apiv1.Instance, error) {
	in, err := n.lookup(name)
	if err != nil {
		return apiv1.Instance{}, err
	}
	return n.describe(in), nil
}

// Pause stops an instance at its next pause point.
func (n *Node) Pause(name string) (apiv1.Instance, error) {
	in, err := n.lookup(name)
	if err != nil {
		return apiv1.Instance{}, err
	}
	in.guest.ops.Lock()
	_, _, err = in.guest.pause()
	in.guest.ops.Unlock()
	if err != nil {
		return apiv1.Instance{}, fmt.Errorf("%w: %v", errConflict, err)
	}
	return n.describe(in), nil
}

// Resume continues a paused instance.
func (n *Node) Resume(name string) (apiv1.Instance, error) {
	in, err := n.lookup(name)
	if err != nil {
		return apiv1.Instance{}, err
	}
	in.guest.ops.Lock()
	err = in.guest.unpause()
	in.guest.ops.Unlock()
	if err != nil {
		return apiv1.Instance{}, fmt.Errorf("%w: %v", errConflict, err)
	}
	return n.describe(in), nil
}

// Delete stops an instance and removes it with its directory.
func (n *Node) Delete(name string) error {
	in, err := n.lookup(name)
	if err != nil {
		return err
	}
	in.guest.mu.Lock()
	fenced := in.guest.fenced
	in.guest.mu.Unlock()
	if fenced {
		return fmt.Errorf("%w: %v", errConflict, errFenced)
	}
	n.remove(in)
	return nil
}

// remove stops in and forgets it.
func (n *Node) remove(in *instance) {
	in.guest.stop()
	in.guest.wait(pauseTimeout)
	in.closeLogs()
	n.mu.Lock()
	if n.instances[in.name] == in {
		delete(n.instances, in.name)
	}
	n.mu.Unlock()
	os.RemoveAll(in.dir)
}

// checkpointConfig is how ferryd writes every checkpoint: with the module
// (a restore or a migration needs nothing else) and the WASI state.
func checkpointConfig(g *guest) ferry.CheckpointConfig {
	return ferry.NewCheckpointConfig().WithModule(true).WithHostState(g.wasi)
}

// withPaused runs f on the instance paused at a pause point, then lets
// a running instance continue (unless exit: then it stops).
func (n *Node) withPaused(in *instance, exit bool, f func(*ferry.Paused) error) error {
	in.guest.ops.Lock()
	defer in.guest.ops.Unlock()
	p, wasRunning, err := in.guest.pause()
	if err != nil {
		return fmt.Errorf("%w: %v", errConflict, err)
	}
	if p == nil {
		return fmt.Errorf("%w: the instance is not at a pause point", errConflict)
	}
	ferr := f(p)
	switch {
	case ferr == nil && exit:
		in.guest.stop()
	case wasRunning:
		if err := in.guest.unpause(); err != nil && ferr == nil {
			return err
		}
	}
	return ferr
}

// Checkpoint writes an instance's checkpoint into the state directory.
func (n *Node) Checkpoint(name string, exit bool) (apiv1.CheckpointResult, error) {
	in, err := n.lookup(name)
	if err != nil {
		return apiv1.CheckpointResult{}, err
	}
	ck := fmt.Sprintf("%s-%d", name, time.Now().UnixNano())
	path := filepath.Join(n.cfg.StateDir, "checkpoints", ck+".ckpt")
	err = n.withPaused(in, exit, func(p *ferry.Paused) error {
		return p.WriteCheckpointFile(path, checkpointConfig(in.guest))
	})
	if err != nil {
		return apiv1.CheckpointResult{}, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return apiv1.CheckpointResult{}, err
	}
	n.metrics.checkpoints.Inc()
	n.metrics.checkpointBytes.Add(float64(st.Size()))
	return apiv1.CheckpointResult{Name: ck, Path: path, Bytes: st.Size()}, nil
}

// CheckpointTo writes an instance's checkpoint to w (a client's stream).
// The instance is paused while it is written.
func (n *Node) CheckpointTo(name string, exit bool, w io.Writer) (int64, error) {
	in, err := n.lookup(name)
	if err != nil {
		return 0, err
	}
	var written int64
	err = n.withPaused(in, exit, func(p *ferry.Paused) error {
		var err error
		written, err = p.WriteCheckpoint(w, checkpointConfig(in.guest))
		return err
	})
	if err == nil {
		n.metrics.checkpoints.Inc()
		n.metrics.checkpointBytes.Add(float64(written))
	}
	return written, err
}

// Restore restores a checkpoint as a new running instance: the one in
// body (an upload, at most MaxCheckpointBytes) or, with req.From, one in
// the state directory.
func (n *Node) Restore(ctx context.Context, req apiv1.RestoreRequest, body io.Reader) (apiv1.Instance, error) {
	in, err := n.reserve(req.Name)
	if err != nil {
		return apiv1.Instance{}, err
	}
	dst := filepath.Join(in.dir, checkpointFile)
	if req.From != "" {
		if !validName.MatchString(req.From) {
			n.release(in)
			return apiv1.Instance{}, badRequest("checkpoint name %q", req.From)
		}
		err = copyFile(dst, filepath.Join(n.cfg.StateDir, "checkpoints", req.From+".ckpt"))
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("%w: no checkpoint %q in the state directory", errNotFound, req.From)
		}
		in.restoredFrom = "checkpoint " + req.From
	} else {
		err = writeLimited(dst, body, n.cfg.MaxCheckpointBytes)
		in.restoredFrom = "upload"
	}
	if err != nil {
		n.release(in)
		return apiv1.Instance{}, err
	}
	in.dirs, in.listen = req.Dirs, req.Listen
	g, err := n.restoreGuest(ctx, in, req.Dirs, nil, nil)
	if err != nil {
		n.release(in)
		return apiv1.Instance{}, err
	}
	n.attach(in, g)
	if err := g.start(); err != nil {
		return apiv1.Instance{}, err
	}
	n.metrics.started.Inc()
	return n.describe(in), nil
}

// restoreGuest restores the checkpoint in in's directory, paused before
// its first instruction, in a runtime of the given tier (nil: the
// daemon's). A checkpoint without memory data (a pre-copy's) is restored
// over image, which the guest then holds until it ends.
func (n *Node) restoreGuest(ctx context.Context, in *instance, dirs []apiv1.Dir, tier *ferry.Tier, image *os.File) (*guest, error) {
	t0 := time.Now()
	if err := in.openLogs(); err != nil {
		return nil, err
	}
	cfg, err := in.wasiConfig(dirs)
	if err != nil {
		return nil, err
	}
	ck, err := ferry.OpenCheckpoint(filepath.Join(in.dir, checkpointFile))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadRequest, err)
	}
	defer ck.Close() // the restored instance's mappings hold the file
	if !ck.HasModule() {
		return nil, badRequest("the checkpoint does not include its module (write it with the module)")
	}
	rc := ferry.NewRestoreConfig().WithMemoryVerification(ferry.VerifyBeforeRun)
	if !ck.MemoryIncluded() {
		if image == nil {
			return nil, badRequest("%v: this checkpoint is the stop phase of a live migration; only a migration restores it", ferry.ErrMemoryImageRequired)
		}
		rc = rc.WithMemoryImage(image)
	}
	rt := ferry.NewRuntime(n.runtimeConfig(tier))
	w, err := wasi.Restore(ctx, rt, ck, cfg, wasi.RestoreOptions{})
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("%w: %v", errBadRequest, err)
	}
	// Memory is checked before the program continues, so that a damaged
	// checkpoint fails the request rather than the program later.
	p, err := rt.Restore(ctx, ck, rc)
	if err != nil {
		w.Close(ctx) // its files and sockets
		rt.Close(ctx)
		return nil, fmt.Errorf("%w: %v", errBadRequest, err)
	}
	in.args = w.State().Args
	first := func(ctx context.Context) error {
		_, err := p.Resume(ctx, ferry.CallOptions{})
		return err
	}
	g := newGuest(rt, w, p.Instance(), first)
	g.paused = p
	if !ck.MemoryIncluded() {
		g.image = image
	} else if image != nil {
		// A pre-copy that fell back to stop-and-copy: no page came.
		image.Close()
		os.Remove(image.Name())
	}
	n.metrics.restoreSeconds.Observe(time.Since(t0).Seconds())
	return g, nil
}

func writeLimited(dst string, r io.Reader, limit int64) error {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(r, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > limit {
		err = badRequest("the checkpoint exceeds the %d bytes this daemon accepts", limit)
	}
	return err
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

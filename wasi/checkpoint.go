package wasi

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/internal/hostlink"
	"github.com/ferryvm/ferry/internal/snapshot"
	iwasi "github.com/ferryvm/ferry/internal/wasi"
)

// ErrOpenConnection refuses a checkpoint while the guest holds an accepted
// network connection.
var ErrOpenConnection = iwasi.ErrOpenConnection

// ErrFileChanged refuses a restore when a file the guest had open changed
// since the checkpoint: its size or modification time (nanoseconds)
// differ. Device and inode are recorded but not compared, since copying
// files to another machine changes them.
var ErrFileChanged = iwasi.ErrFileChanged

// A *Module is a host-state plug-in (ferry.HostState): given to
// ferry.CheckpointConfig.WithHostState, its state goes to the checkpoint's
// WASI section. The checkpoint takes it from the module as a value (the
// hook below), encoded once by the file writer; CheckpointHostState gives
// the same state as the section's bytes. Its restore is Restore, which
// builds the module from the checkpoint.
func init() {
	hostlink.WASIState = func(h any) (*snapshot.WASI, bool, error) {
		m, ok := h.(*Module)
		if !ok {
			return nil, false, nil
		}
		if m == nil || m.sys == nil {
			return nil, true, errors.New("wasi: checkpoint: no WASI module")
		}
		st, err := m.sys.Checkpoint()
		return st, true, err
	}
}

// HostStateName is the name of the WASI plug-in, "wasi_snapshot_preview1".
func (m *Module) HostStateName() string { return ModuleName }

// HostStateVersion is the version of the WASI section's encoding.
func (m *Module) HostStateVersion() uint32 { return 1 }

// CheckpointHostState encodes the guest's WASI host state as the WASI
// section does (docs/snapshot-format.md). It fails with ErrOpenConnection
// while the guest holds an accepted connection, unless the module's Config
// says to close them (WithCloseConnectionsOnCheckpoint).
func (m *Module) CheckpointHostState() ([]byte, error) {
	st, err := m.sys.Checkpoint()
	if err != nil {
		return nil, err
	}
	return snapshot.EncodeWASI(st), nil
}

// CheckpointWASIState is CheckpointHostState.
//
// Deprecated: use CheckpointHostState, or give the module to
// ferry.CheckpointConfig.WithHostState.
func (m *Module) CheckpointWASIState() ([]byte, error) { return m.CheckpointHostState() }

// RestoreOptions adjust Restore.
type RestoreOptions struct {
	// AcceptChangedFiles reopens files that changed since the checkpoint
	// (at their recorded offsets) instead of failing with ErrFileChanged.
	AcceptChangedFiles bool
}

// ErrNotGranted refuses a restore that would give the guest a host
// directory or a listening socket the restore does not grant (see
// Restore).
var ErrNotGranted = iwasi.ErrNotGranted

// Restore re-creates the WASI host state recorded in ck and registers it
// in r as "wasi_snapshot_preview1", ready for r.Restore(ctx, ck, ...).
//
// From the checkpoint: arguments, environment, every descriptor under its
// number, and the clocks (the monotonic and CPU-time clocks continue from
// their recorded readings, never backwards; realtime is the host's). From
// cfg: the standard streams, and the grants. A checkpoint is untrusted
// input (anyone can write one that records a pre-open of "/"), so host
// capabilities come from cfg: each recorded pre-open must be granted a
// host directory by a cfg pre-open with the same guest path, and each
// recorded listener a socket by cfg's listeners (WithListener,
// WithTCPListen), in descriptor order; otherwise Restore fails with
// ErrNotGranted and says what to grant. A cfg pre-open whose guest path
// no recorded pre-open has, or more listeners than recorded, is an error
// too. Only a checkpoint whose signature by a key ck was opened to trust
// verified (ferry.OpenCheckpointWith, ck.Signature().Trusted) keeps what
// it recorded for what cfg does not grant: its pre-opens' recorded host
// directories, and its listeners' recorded addresses when they are
// loopback addresses (a listener on every interface needs a grant even
// then). cfg's arguments and environment are ignored. Files and
// directories are reopened by their guest path beneath their pre-open, at
// their recorded offsets, and must be unchanged (see ErrFileChanged).
func Restore(ctx context.Context, r *ferry.Runtime, ck *ferry.Checkpoint, cfg Config, o RestoreOptions) (*Module, error) {
	// The section as the reader decoded and checked it, not re-encoded
	// and decoded again; only read here (ck is restored again).
	st := hostlink.CheckpointWASI(ck)
	if st == nil {
		return nil, errors.New("wasi: the checkpoint has no WASI state")
	}
	remap := map[string]string{}
	for _, p := range cfg.preopens {
		g := p.GuestPath
		if g == "" {
			g = "."
		}
		remap[g] = p.HostDir
	}
	trusted := ck.Signature().Trusted
	// Before a socket is bound: a refused restore binds nothing.
	if err := iwasi.CheckGrants(st, remap, len(cfg.listeners)+len(cfg.tcpListen), trusted); err != nil {
		return nil, err
	}
	listeners := append([]net.Listener(nil), cfg.listeners...)
	for _, addr := range cfg.tcpListen {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range listeners[len(cfg.listeners):] {
				l.Close()
			}
			return nil, fmt.Errorf("wasi: listen %s: %w", addr, err)
		}
		listeners = append(listeners, l)
	}
	sys, err := iwasi.Restore(st, iwasi.RestoreOptions{
		Stdin: cfg.stdin, Stdout: cfg.stdout, Stderr: cfg.stderr,
		Preopens: remap, Listeners: listeners, TrustRecorded: trusted,
		AcceptChangedFiles: o.AcceptChangedFiles, Resolve: cfg.resolve,
		CloseConnections: cfg.closeConns,
		StdinWait:        cfg.stdinWait,
	})
	if err != nil {
		for _, l := range listeners {
			l.Close()
		}
		return nil, err
	}
	b := r.NewHostModule(ModuleName)
	for _, f := range sys.Functions() {
		b.Func(f.Name, f.Params, f.Results, f.Fn)
	}
	inst, err := b.Instantiate(ctx)
	if err != nil {
		sys.Close()
		return nil, err
	}
	return &Module{sys: sys, inst: inst}, nil
}

// ExitCode maps the outcome of a guest's _start (a call's or a resume's
// error) to an exit code, as Run does: 0 when it returned, the proc_exit
// code when it exited, 1 and the error otherwise.
func ExitCode(err error) (int, error) { return exitStatus(err) }

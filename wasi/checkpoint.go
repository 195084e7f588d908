package wasi

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/ferryvm/ferry"
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

// CheckpointWASIState encodes the guest's WASI host state for a checkpoint
// (ferry.CheckpointConfig.WithHostState). It fails with ErrOpenConnection
// while the guest holds an accepted connection, unless the module's Config
// says to close them (WithCloseConnectionsOnCheckpoint).
func (m *Module) CheckpointWASIState() ([]byte, error) {
	st, err := m.sys.Checkpoint()
	if err != nil {
		return nil, err
	}
	return snapshot.EncodeWASI(st), nil
}

// RestoreOptions adjust Restore.
type RestoreOptions struct {
	// AcceptChangedFiles reopens files that changed since the checkpoint
	// (at their recorded offsets) instead of failing with ErrFileChanged.
	AcceptChangedFiles bool
}

// Restore re-creates the WASI host state recorded in ck and registers it
// in r as "wasi_snapshot_preview1", ready for r.Restore(ctx, ck, ...).
//
// From the checkpoint: arguments, environment, every descriptor under its
// number, and the clocks (the monotonic and CPU-time clocks continue from
// their recorded readings, never backwards; realtime is the host's). From
// cfg: the standard streams; pre-opens, which remap a recorded pre-open
// with the same guest path to another host directory (the others reopen
// their recorded host directories); listeners, which replace the recorded
// ones in order (the others listen again on their recorded addresses).
// cfg's arguments and environment are ignored. Files and directories are
// reopened by their guest path beneath their pre-open, at their recorded
// offsets, and must be unchanged (see ErrFileChanged).
func Restore(ctx context.Context, r *ferry.Runtime, ck *ferry.Checkpoint, cfg Config, o RestoreOptions) (*Module, error) {
	raw := ck.WASIState()
	if raw == nil {
		return nil, errors.New("wasi: the checkpoint has no WASI state")
	}
	st, err := snapshot.DecodeWASI(raw)
	if err != nil {
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
	remap := map[string]string{}
	for _, p := range cfg.preopens {
		g := p.GuestPath
		if g == "" {
			g = "."
		}
		remap[g] = p.HostDir
	}
	sys, err := iwasi.Restore(st, iwasi.RestoreOptions{
		Stdin: cfg.stdin, Stdout: cfg.stdout, Stderr: cfg.stderr,
		Preopens: remap, Listeners: listeners, AcceptChangedFiles: o.AcceptChangedFiles, Resolve: cfg.resolve,
		CloseConnections: cfg.closeConns,
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

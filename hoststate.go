package ferry

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ferryvm/ferry/internal/hostlink"
	"github.com/ferryvm/ferry/internal/snapshot"
)

// Host-state plug-ins: host state an embedder keeps outside the instance
// (a handle table, a cache of parsed requests) that travels in a
// checkpoint as a named, versioned section (docs/api.md, "Host state").

// HostState is a host-state plug-in as a checkpoint sees it.
// CheckpointConfig.WithHostState adds one; each checkpoint calls
// CheckpointHostState once, while no call runs in the instance (a paused
// call or an idle instance), and stores the bytes under the plug-in's
// name and version, checksummed and signed like every section.
//
// The name is 1 to 128 bytes of [A-Za-z0-9._/-], unique among a
// checkpoint's plug-ins; "wasi_snapshot_preview1" is WASI's (a *wasi.Module
// is a plug-in too, with a section of its own). A plug-in's state is at
// most 64 MiB, all plug-ins' together too.
type HostState interface {
	HostStateName() string
	// HostStateVersion is the version of the encoding CheckpointHostState
	// writes, handed back to RestoreHostState: a plug-in that changes its
	// encoding still reads the checkpoints of its older versions.
	HostStateVersion() uint32
	CheckpointHostState() ([]byte, error)
}

// HostStateRestorer is a host-state plug-in as a restore sees it.
// RestoreConfig.WithHostState adds one; a restore of a checkpoint that
// holds a section of its name calls RestoreHostState once, after every
// check of the checkpoint against the module passed and before the
// instance is returned (the bytes are checksummed, and signed when the
// checkpoint's signature was verified, but otherwise untrusted: the
// plug-in checks them). An error fails the restore. A restorer whose name
// the checkpoint does not hold is not called.
type HostStateRestorer interface {
	HostStateName() string
	RestoreHostState(version uint32, state []byte) error
}

// ErrHostStateUnclaimed is wrapped by the error of a restore whose
// checkpoint holds host state of a plug-in the restore was not given
// (RestoreConfig.WithHostState): dropping it silently would run the guest
// against host state it never had.
var ErrHostStateUnclaimed = errors.New("ferry: checkpoint holds host state no plug-in restores")

// HostStateInfo describes a plug-in's state in a checkpoint.
type HostStateInfo struct {
	Name    string
	Version uint32
	Size    int // bytes
}

// HostStates lists the plug-ins' states the checkpoint holds, by name
// (not WASI's, which WASIState returns).
func (c *Checkpoint) HostStates() []HostStateInfo {
	var out []HostStateInfo
	for _, h := range c.f.Snapshot.Host {
		out = append(out, HostStateInfo{Name: h.Name, Version: h.Version, Size: len(h.Data)})
	}
	return out
}

func init() {
	hostlink.CheckpointWASI = func(ck any) *snapshot.WASI {
		if c, ok := ck.(*Checkpoint); ok && c != nil {
			return c.f.Snapshot.WASI
		}
		return nil
	}
}

// captureHostStates records cfg's plug-ins in s. WASI's state, a struct
// from package wasi, goes to the WASI section as it is.
func captureHostStates(s *snapshot.Snapshot, plugins []HostState) error {
	for _, h := range plugins {
		if h == nil {
			return errors.New("ferry: checkpoint: a nil host state plug-in")
		}
		if hostlink.WASIState != nil {
			st, ok, err := hostlink.WASIState(h)
			if ok {
				if err != nil {
					return err
				}
				if s.WASI != nil {
					return errors.New("ferry: checkpoint: two WASI host state plug-ins")
				}
				s.WASI = st
				continue
			}
		}
		name := h.HostStateName()
		if err := snapshot.CheckHostStateName(name); err != nil {
			return fmt.Errorf("ferry: checkpoint: %w", err)
		}
		b, err := h.CheckpointHostState()
		if err != nil {
			return fmt.Errorf("ferry: checkpoint: host state %q: %w", name, err)
		}
		s.Host = append(s.Host, snapshot.HostState{Name: name, Version: h.HostStateVersion(), Data: b})
	}
	// Checked here, not only by the writer: the error names the plug-ins.
	if err := snapshot.SortHostStates(s.Host); err != nil {
		return fmt.Errorf("ferry: checkpoint: %w", err)
	}
	return nil
}

// claimHostStates pairs each host state of the checkpoint with its
// restorer, refusing one no restorer claims before anything is compiled.
func claimHostStates(s *snapshot.Snapshot, restorers []HostStateRestorer) ([]HostStateRestorer, error) {
	byName := make(map[string]HostStateRestorer, len(restorers))
	for _, r := range restorers {
		if r == nil {
			return nil, errors.New("ferry: restore: a nil host state plug-in")
		}
		n := r.HostStateName()
		if _, dup := byName[n]; dup {
			return nil, fmt.Errorf("ferry: restore: two host state plug-ins named %q", n)
		}
		byName[n] = r
	}
	claims := make([]HostStateRestorer, len(s.Host))
	var missing []string
	for i, h := range s.Host {
		if claims[i] = byName[h.Name]; claims[i] == nil {
			missing = append(missing, fmt.Sprintf("%q (version %d, %d bytes)", h.Name, h.Version, len(h.Data)))
		}
	}
	if missing != nil {
		return nil, fmt.Errorf("%w: %s; pass a plug-in of that name to RestoreConfig.WithHostState", ErrHostStateUnclaimed, strings.Join(missing, ", "))
	}
	return claims, nil
}

// restoreHostStates hands each plug-in its state.
func restoreHostStates(s *snapshot.Snapshot, claims []HostStateRestorer) error {
	for i, h := range s.Host {
		// A copy: the plug-in may keep or change it, and the Checkpoint
		// is restored again.
		if err := claims[i].RestoreHostState(h.Version, append([]byte(nil), h.Data...)); err != nil {
			return fmt.Errorf("ferry: restore: host state %q (version %d): %w", h.Name, h.Version, err)
		}
	}
	return nil
}

package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
)

// Instances survive a daemon restart by checkpoint on shutdown: Close
// pauses each running or paused instance at a pause point, writes its
// checkpoint (memory included) over instances/NAME/checkpoint.ckpt and
// its record to instances/NAME/suspended.json; New restores every
// instance it finds recorded, running or paused as it was, and removes
// the record. Only a shutdown can do this exactly: a checkpoint taken
// while the program runs on would, restored after a crash, repeat
// whatever the program did since (its output, its writes to files), so
// a daemon killed without a shutdown loses its instances as before. An
// instance fenced by a migration is not suspended: the destination may
// run it.

// suspendedFile is an instance's record of a shutdown.
const suspendedFile = "suspended.json"

// suspended is what a restarted daemon needs to bring an instance back,
// besides its checkpoint: the grants (never taken from the checkpoint)
// and what it describes.
type suspended struct {
	Name         string      `json:"name"`
	Created      time.Time   `json:"created"`
	Args         []string    `json:"args,omitempty"`
	Dirs         []apiv1.Dir `json:"dirs,omitempty"`
	Listen       []string    `json:"listen,omitempty"`
	Tier         string      `json:"tier,omitempty"`
	RestoredFrom string      `json:"restored_from,omitempty"`
	// Running: resume it at start; otherwise it stays paused.
	Running bool `json:"running"`
}

// suspend writes in's checkpoint and record, leaving the guest paused;
// false when it has nothing to keep (ended, not started, or fenced).
func (n *Node) suspend(in *instance) (bool, error) {
	g := in.guest
	g.mu.Lock()
	state, fenced := g.state, g.fenced
	g.mu.Unlock()
	if fenced || (state != apiv1.StateRunning && state != apiv1.StatePaused) {
		return false, nil
	}
	g.ops.Lock()
	defer g.ops.Unlock()
	p, wasRunning, err := g.pause()
	if err != nil || p == nil {
		return false, err
	}
	if err := p.WriteCheckpointFile(filepath.Join(in.dir, checkpointFile), checkpointConfig(g)); err != nil {
		return false, err
	}
	// The checkpoint holds the memory now: a pre-copy's image is not
	// needed by the restart (the running guest's mapping keeps its file).
	os.Remove(filepath.Join(in.dir, memoryImageFile))
	rec := suspended{Name: in.name, Created: in.created, Args: in.args, Dirs: in.dirs, Listen: in.listen, Tier: in.tier,
		RestoredFrom: in.restoredFrom, Running: wasRunning}
	b, err := json.Marshal(rec)
	if err != nil {
		return false, err
	}
	if err := writeFileSynced(filepath.Join(in.dir, suspendedFile), b); err != nil {
		return false, err
	}
	return true, nil
}

// writeFileSynced writes path atomically (a synced temporary file
// renamed over it).
func writeFileSynced(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// resumeSuspended restores the instances a shutdown suspended. One that
// cannot be restored (a grant gone, a file changed) is reported in the
// log and its directory kept, with its record renamed .failed, for a
// person to look at; it never blocks the others.
func (n *Node) resumeSuspended(ctx context.Context) {
	recs, _ := filepath.Glob(filepath.Join(n.cfg.StateDir, "instances", "*", suspendedFile))
	for _, path := range recs {
		if err := n.resumeOne(ctx, path); err != nil {
			n.cfg.Log.Printf("restart: %s: not restored: %v", filepath.Base(filepath.Dir(path)), err)
			os.Rename(path, path+".failed")
		}
	}
}

func (n *Node) resumeOne(ctx context.Context, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var rec suspended
	if err := json.Unmarshal(b, &rec); err != nil {
		return err
	}
	if !validName.MatchString(rec.Name) || filepath.Base(filepath.Dir(path)) != rec.Name {
		return fmt.Errorf("the record names %q", rec.Name)
	}
	tier, err := runtimeTier(rec.Tier)
	if err != nil {
		return err
	}
	in := &instance{name: rec.Name, created: rec.Created, args: rec.Args, dirs: rec.Dirs, listen: rec.Listen, tier: rec.Tier,
		restoredFrom: rec.RestoredFrom, dir: filepath.Dir(path)}
	n.mu.Lock()
	if _, dup := n.instances[in.name]; dup {
		n.mu.Unlock()
		return errors.New("the name is taken")
	}
	n.instances[in.name] = in
	n.mu.Unlock()
	g, err := n.restoreGuest(ctx, in, rec.Dirs, tier, nil)
	if err != nil {
		in.closeLogs()
		n.mu.Lock()
		delete(n.instances, in.name)
		n.mu.Unlock()
		return err
	}
	n.attach(in, g)
	if rec.Running {
		err = g.start()
	} else {
		err = g.startPaused()
	}
	if err != nil {
		return err
	}
	n.metrics.started.Inc()
	n.cfg.Log.Printf("restart: %s restored (%s)", in.name, map[bool]string{true: "running", false: "paused"}[rec.Running])
	return os.Remove(path)
}

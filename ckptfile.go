package ferry

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A checkpoint file is written beside its final path and renamed over it,
// so that the path always holds a whole checkpoint. A writer killed
// half-way (kill -9, an OOM kill, a power cut) must leave nothing behind:
// checkpoints are as large as the guest's memory. On Linux the data goes
// to an unnamed O_TMPFILE file that only gets a name once it is complete
// and synced, just before the rename; elsewhere, or where the file system
// has no O_TMPFILE, it goes to a named temporary file. Either name carries
// the writer's process id, so that the next write to the same path removes
// the temporary files of writers that are gone (docs/snapshot-format.md,
// "Writing a checkpoint file").

// unnamedTemps says whether to try O_TMPFILE first; tests turn it off to
// exercise the named fallback.
var unnamedTemps = true

// pendingFile is a checkpoint file being written; commit puts it at its
// path, abort throws it away.
type pendingFile struct {
	f    *os.File
	path string
	// name is the temporary file's name; empty while the file is unnamed
	// (O_TMPFILE).
	name string
}

// tempPrefix is the name prefix of path's temporary files.
func tempPrefix(path string) string {
	return "." + filepath.Base(path) + ".tmp."
}

// tempName is a fresh temporary name for path carrying the writer's pid.
func tempName(path string) (string, error) {
	var r [6]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(path), tempPrefix(path)+strconv.Itoa(os.Getpid())+"."+hex.EncodeToString(r[:])), nil
}

// createPending starts a checkpoint file for path, first removing the
// temporary files that dead writers left beside it.
func createPending(path string) (*pendingFile, error) {
	removeStaleTemps(path)
	if unnamedTemps {
		if f, err := openUnnamed(filepath.Dir(path)); err == nil {
			return &pendingFile{f: f, path: path}, nil
		}
	}
	name, err := tempName(path)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return &pendingFile{f: f, path: path, name: name}, nil
}

// commit syncs the file and renames it over path. On error the file is
// gone and path is as it was.
func (p *pendingFile) commit() error {
	err := p.f.Sync()
	if err == nil && p.name == "" {
		// Named only now, for the rename: a kill between the two leaves
		// a name that the next write removes.
		var name string
		if name, err = tempName(p.path); err == nil {
			if err = linkUnnamed(p.f, name); err == nil {
				p.name = name
			}
		}
	}
	if err == nil && p.name != "" {
		err = os.Rename(p.name, p.path)
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if p.name != "" {
			os.Remove(p.name)
		}
		return err
	}
	// The rename is durable only once the directory is.
	if d, err := os.Open(filepath.Dir(p.path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// abort throws the file away.
func (p *pendingFile) abort() {
	p.f.Close()
	if p.name != "" {
		os.Remove(p.name)
	}
}

// removeStaleTemps removes path's temporary files whose writer process is
// gone. A file of a live process (a concurrent writer, or an unrelated
// process that reused a dead writer's pid) is left alone: removing too
// little only costs disk space until a later write. Errors are ignored
// for the same reason.
func removeStaleTemps(path string) {
	dir, prefix := filepath.Dir(path), tempPrefix(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		pidText, _, ok := strings.Cut(rest, ".")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		os.Remove(filepath.Join(dir, e.Name()))
	}
}

func writeError(path string, err error) error {
	return fmt.Errorf("ferry: write checkpoint %s: %w", path, err)
}

package codecache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
)

// Dir is a cache directory: one file per Key (Key.FileName). Any number of
// processes may share one: entries are written to a temporary file and
// renamed into place, so a reader sees a whole entry or none, and two
// writers of one key both write the same content (the last rename wins).
type Dir struct {
	path   string
	macKey []byte
}

// Open returns the cache in directory path (made, mode 0700, if missing),
// whose entries are authenticated with macKey (MACKey).
func Open(path string, macKey []byte) (*Dir, error) {
	if path == "" {
		return nil, errors.New("code cache: no directory")
	}
	if len(macKey) < 16 {
		return nil, errors.New("code cache: authentication key too short")
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("code cache: %w", err)
	}
	return &Dir{path: path, macKey: append([]byte(nil), macKey...)}, nil
}

// Path is the entry file of k.
func (d *Dir) Path(k Key) string { return filepath.Join(d.path, k.FileName()) }

// ErrMiss is returned by Load when there is no entry for the key.
var ErrMiss = errors.New("code cache: no entry")

// Load reads and decodes the entry for k: ErrMiss when there is none, an
// error wrapping ErrInvalid when there is one that cannot be used (the
// caller then compiles and Stores over it).
func (d *Dir) Load(k Key) (*Entry, error) {
	b, err := os.ReadFile(d.Path(k))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrMiss
	}
	if err != nil {
		return nil, fmt.Errorf("code cache: %w", err)
	}
	return Decode(b, d.macKey, k)
}

// Open opens the entry for k and authenticates its header, reading no
// function yet (Reader): ErrMiss when there is none, an error wrapping
// ErrInvalid when it cannot be used. The file stays open for the Reader's
// reads, and is closed when the Reader is no longer reachable. It is read,
// not mapped: a file cut while mapped would raise SIGBUS at the first
// touch of a missing page, where a read returns an error.
func (d *Dir) Open(k Key) (*Reader, error) {
	f, err := os.Open(d.Path(k))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrMiss
	}
	if err != nil {
		return nil, fmt.Errorf("code cache: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("code cache: %w", err)
	}
	r, err := NewReader(f, st.Size(), d.macKey, k)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// Store writes e as the entry for e.Key, atomically.
func (d *Dir) Store(e *Entry) error {
	return WriteFile(d.Path(e.Key), Encode(e, d.macKey))
}

// WriteFile writes an encoded entry to path through a temporary file in
// the same directory and a rename, so that no reader ever sees part of
// it. It is not synced: an entry a crash truncates fails its MAC and is
// rebuilt, which costs less than an fsync on every compile.
func WriteFile(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*.fcc")
	if err != nil {
		return fmt.Errorf("code cache: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("code cache: %w", err)
	}
	return nil
}

var buildOnce = sync.OnceValue(buildID)

// BuildID identifies this build of Ferry for Key.Build: the module version
// of a released build, else the source revision of a clean checkout, else
// (a development build, a test binary) the executable file's identity
// (device, inode, size, modification time), which every rebuild changes:
// a revision alone would let a build with uncommitted changes to the IR
// read entries of another.
func BuildID() string { return buildOnce() }

func buildID() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		if v := info.Main.Version; v != "" && v != "(devel)" && info.Main.Path == "github.com/ferryvm/ferry" {
			return v
		}
		var rev string
		clean := false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				clean = s.Value == "false"
			}
		}
		if rev != "" && clean {
			return "rev " + rev
		}
	}
	exe, err := os.Executable()
	if err == nil {
		var st os.FileInfo
		if st, err = os.Stat(exe); err == nil {
			id := fmt.Sprintf("exe %d %d", st.Size(), st.ModTime().UnixNano())
			return id + fileIdentity(st)
		}
	}
	// No way to tell builds apart: a key no other process shares, so that
	// entries are written but never read.
	return fmt.Sprintf("unknown pid %d", os.Getpid())
}

package wasi

import (
	"io"
	"net"
	"sort"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// Kind says what a descriptor refers to.
type Kind uint8

const (
	KindStdio    Kind = iota + 1 // fd 0, 1 or 2, backed by the configured reader or writer
	KindFile                     // a regular file (or other non-directory) opened by path_open
	KindDir                      // a directory opened by path_open
	KindPreopen                  // a pre-opened directory given by the embedder
	KindListener                 // a pre-opened listening socket
	KindConn                     // a connection returned by sock_accept
)

func (k Kind) String() string {
	switch k {
	case KindStdio:
		return "stdio"
	case KindFile:
		return "file"
	case KindDir:
		return "dir"
	case KindPreopen:
		return "preopen"
	case KindListener:
		return "listener"
	case KindConn:
		return "conn"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// FDState is the portable state of one descriptor: everything a checkpoint
// needs to re-create it on another machine (ARCHITECTURE.md §2). It holds
// plain values only; the live host objects stay in the descriptor.
type FDState struct {
	Kind Kind
	// Preopen is the guest path of the pre-open the descriptor derives
	// from ("" for stdio and sockets).
	Preopen string
	// GuestPath is the lexically cleaned path relative to that pre-open's
	// root ("." for the pre-open itself).
	GuestPath string
	// HostPath is the host path the descriptor referred to when opened
	// (for a pre-open, the configured host directory).
	HostPath string
	// OFlags are the path_open oflags (creat, directory, excl, trunc) used
	// to open it; a restore reopens without creat/excl/trunc.
	OFlags uint16
	// FDFlags are the current fdflags (append, dsync, nonblock, rsync, sync).
	FDFlags uint16
	// RightsBase and RightsInheriting are the current rights.
	RightsBase, RightsInheriting Rights
	// Offset is the file offset; filled in by Table.Snapshot.
	Offset int64
	// DirCookie is the cookie following the last directory entry handed
	// out by fd_readdir.
	DirCookie uint64
	// Stdio is 0, 1 or 2 for KindStdio.
	Stdio int
	// Addr is the local address of a listener or connection, Peer the
	// remote address of a connection.
	Addr, Peer string
}

// fileDesc is one open descriptor: its portable state plus live host objects.
type fileDesc struct {
	FDState
	hostFD int // -1 when the descriptor has no host fd (stdio, sockets)
	ftype  uint8
	reader io.Reader
	writer io.Writer
	ln     net.Listener
	conn   net.Conn
	shut   uint8 // sdflags already applied to conn
	// hungUp says conn stands for a connection a checkpoint closed
	// (closedConn): there is nothing left to lose in carrying it.
	hungUp bool

	dirPos dirPos // where the last fd_readdir stopped (dir.go)
}

func (d *fileDesc) close() error {
	var err error
	if d.hostFD >= 0 {
		err = unix.Close(d.hostFD)
		d.hostFD = -1
	}
	if d.ln != nil {
		err = d.ln.Close()
		d.ln = nil
	}
	if d.conn != nil {
		err = d.conn.Close()
		d.conn = nil
	}
	return err
}

// Table is the guest's descriptor table. Numbers are allocated lowest-free
// first, as POSIX does.
type Table struct {
	mu  sync.Mutex
	fds map[uint32]*fileDesc
}

func newTable() *Table { return &Table{fds: map[uint32]*fileDesc{}} }

func (t *Table) get(fd uint32) (*fileDesc, Errno) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, ok := t.fds[fd]
	if !ok {
		return nil, ErrnoBadf
	}
	return d, 0
}

func (t *Table) insert(d *fileDesc) (uint32, Errno) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for n := uint32(0); n < 1<<30; n++ {
		if _, used := t.fds[n]; !used {
			t.fds[n] = d
			return n, 0
		}
	}
	return 0, ErrnoMfile
}

func (t *Table) remove(fd uint32) (*fileDesc, Errno) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, ok := t.fds[fd]
	if !ok {
		return nil, ErrnoBadf
	}
	delete(t.fds, fd)
	return d, 0
}

func (t *Table) renumber(from, to uint32) Errno {
	t.mu.Lock()
	d, ok := t.fds[from]
	old, okTo := t.fds[to]
	if !ok || !okTo {
		t.mu.Unlock()
		return ErrnoBadf
	}
	if from == to {
		t.mu.Unlock()
		return 0
	}
	t.fds[to] = d
	delete(t.fds, from)
	t.mu.Unlock()
	old.close()
	return 0
}

// FDEntry is one row of a table snapshot.
type FDEntry struct {
	FD uint32
	FDState
}

// Snapshot returns the portable state of every descriptor, ordered by
// number, with current file offsets read from the host.
func (t *Table) Snapshot() []FDEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]FDEntry, 0, len(t.fds))
	for n, d := range t.fds {
		st := d.FDState
		if d.hostFD >= 0 && d.Kind == KindFile {
			if off, err := unix.Seek(d.hostFD, 0, io.SeekCurrent); err == nil {
				st.Offset = off
			}
		}
		out = append(out, FDEntry{FD: n, FDState: st})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FD < out[j].FD })
	return out
}

// closeAll closes every descriptor; it is safe to call more than once.
func (t *Table) closeAll() error {
	t.mu.Lock()
	fds := t.fds
	t.fds = map[uint32]*fileDesc{}
	t.mu.Unlock()
	var first error
	for _, d := range fds {
		if err := d.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

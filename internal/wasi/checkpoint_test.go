package wasi

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryvm/ferry/internal/snapshot"
)

// An accepted connection cannot be carried: the checkpoint is refused.
func TestCheckpointRefusesOpenConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	g := newGuest(t, Options{Listeners: []net.Listener{ln}})
	if _, err := g.sys.Checkpoint(); err != nil {
		t.Fatalf("before accepting: %v", err)
	}
	acceptConn(t, g, ln)
	if _, err := g.sys.Checkpoint(); !errors.Is(err, ErrOpenConnection) {
		t.Fatalf("got %v, want ErrOpenConnection", err)
	}
}

// acceptConn dials ln (pre-opened as fd 3) and has the guest accept the
// connection: the peer's end, closed with the test, and the guest's fd.
func acceptConn(t *testing.T, g *guest, ln net.Listener) (net.Conn, uint32) {
	t.Helper()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	out := g.alloc(4)
	if e := g.call("sock_accept", 3, 0, uint64(out)); e != 0 {
		t.Fatal(e)
	}
	return c, g.u32(out)
}

// With CloseConnections a checkpoint closes the accepted connections
// instead of refusing: the peer sees the close, the running guest and the
// restored one both see a peer that hung up (end of file, EPIPE) on the
// same descriptor, and later checkpoints carry it without the option.
func TestCheckpointClosesConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	g := newGuest(t, Options{Listeners: []net.Listener{ln}, CloseConnections: true})
	c, fd := acceptConn(t, g, ln)
	c.Write([]byte("ping"))
	if b, e := g.read(fd, 4); e != 0 || string(b) != "ping" {
		t.Fatalf("before the checkpoint: %q %v", b, e)
	}
	st, err := g.sys.Checkpoint()
	if err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("the peer reads %d, %v; want the connection closed", n, err)
	}
	hungUp := func(g *guest, where string) {
		t.Helper()
		if b, e := g.read(fd, 4); e != 0 || len(b) != 0 {
			t.Errorf("%s: read %q, %v; want end of file", where, b, e)
		}
		if _, e := g.write(fd, []byte("pong")); e != ErrnoPipe {
			t.Errorf("%s: write: %v, want EPIPE", where, e)
		}
	}
	hungUp(g, "the checkpointed run")
	ln2, err := net.Listen("tcp", "127.0.0.1:0") // the first one is still open
	if err != nil {
		t.Fatal(err)
	}
	s, err := Restore(st, RestoreOptions{Listeners: []net.Listener{ln2}})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	r := guestOf(t, s)
	if d := s.Table().Snapshot()[fd]; d.Kind != KindConn || d.Peer != c.LocalAddr().String() {
		t.Errorf("restored fd %d: %+v", fd, d.FDState)
	}
	hungUp(r, "the restored run")
	if _, err := s.Checkpoint(); err != nil {
		t.Errorf("checkpointing the restored run (no option, nothing left open): %v", err)
	}
}

// A restored system has the same descriptors at the same numbers and
// offsets, and reopening stays beneath the pre-open: a guest path that
// climbs out is refused whatever the checkpoint says.
func TestRestoreDescriptors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f.txt"), []byte("0123456789"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	g := newGuest(t, Options{Preopens: []Preopen{{HostDir: dir, GuestPath: "/data"}}, Args: []string{"a"}, Env: []string{"K=V"}})
	fd, e := g.open(3, "f.txt", false, 0, RightFdRead|RightFdSeek|RightFdTell, 0)
	if e != 0 {
		t.Fatal(e)
	}
	sub, e := g.open(3, "sub", false, OflagDirectory, RightsDir, 0)
	if e != 0 {
		t.Fatal(e)
	}
	if e := g.call("fd_seek", uint64(fd), 4, 0, uint64(g.alloc(8))); e != 0 {
		t.Fatal(e)
	}
	st, err := g.sys.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	// Trusted: the recorded host directory is reopened.
	s, err := Restore(st, RestoreOptions{TrustRecorded: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := s.Table().Snapshot()
	want := g.sys.Table().Snapshot()
	if len(got) != len(want) {
		t.Fatalf("%d descriptors, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].FD != want[i].FD || got[i].Kind != want[i].Kind || got[i].GuestPath != want[i].GuestPath || got[i].Offset != want[i].Offset {
			t.Errorf("fd %d: %+v, want %+v", want[i].FD, got[i].FDState, want[i].FDState)
		}
	}
	if got[fd].Offset != 4 || got[sub].Kind != KindDir {
		t.Errorf("file offset %d, sub kind %v", got[fd].Offset, got[sub].Kind)
	}
	if s.Args()[0] != "a" || s.Env()[0] != "K=V" {
		t.Errorf("args %q env %q", s.Args(), s.Env())
	}
	// A forged guest path that climbs out of the pre-open.
	for i := range st.Descriptors {
		if st.Descriptors[i].FD == fd {
			st.Descriptors[i].GuestPath = "../../../../etc/passwd"
		}
	}
	if s2, err := Restore(st, RestoreOptions{Preopens: map[string]string{"/data": dir}, AcceptChangedFiles: true}); err == nil {
		s2.Close()
		t.Fatal("a guest path outside the pre-open was reopened")
	}
}

// CheckGrants: an untrusted checkpoint gets exactly its grants; a trusted
// one keeps its recorded pre-opens and loopback listeners, never a
// listener on every interface; a grant matching nothing is an error.
func TestCheckGrants(t *testing.T) {
	st := &snapshot.WASI{Descriptors: []snapshot.Descriptor{
		{FD: 3, Kind: uint8(KindPreopen), Preopen: "/data", GuestPath: ".", HostPath: "/srv/data"},
		{FD: 4, Kind: uint8(KindFile), Preopen: "/gone", GuestPath: "f"},
		{FD: 5, Kind: uint8(KindListener), Addr: "127.0.0.1:8080"},
	}}
	wild := &snapshot.WASI{Descriptors: []snapshot.Descriptor{{FD: 3, Kind: uint8(KindListener), Addr: "0.0.0.0:8080"}}}
	named := &snapshot.WASI{Descriptors: []snapshot.Descriptor{{FD: 3, Kind: uint8(KindListener), Addr: "localhost:8080"}}}
	both := map[string]string{"/data": "/x", "/gone": "/y"}
	for _, c := range []struct {
		name      string
		st        *snapshot.WASI
		preopens  map[string]string
		listeners int
		trusted   bool
		want      string // "" for granted
	}{
		{"untrusted, nothing granted", st, nil, 0, false, `pre-open "/data" (recorded host dir "/srv/data") is not granted: pass --dir HOSTDIR::/data`},
		{"untrusted, the listener not granted", st, both, 0, false, `listener fd 5 (recorded address "127.0.0.1:8080") is not granted`},
		{"untrusted, everything granted", st, both, 1, false, ""},
		{"a closed pre-open's guest path may be granted", st, map[string]string{"/gone": "/y"}, 0, true, ""},
		{"trusted, nothing granted", st, nil, 0, true, ""},
		{"an unmatched grant", st, map[string]string{"/data": "/x", "/etc": "/etc"}, 1, true, `--dir for guest path "/etc" matches no pre-open the checkpoint records (recorded guest paths: "/data", "/gone")`},
		{"more listeners than recorded", st, both, 2, true, "2 listeners given (--tcplisten), the checkpoint records 1"},
		{"trusted, on every interface", wild, nil, 0, true, "not a loopback address"},
		{"trusted, a name", named, nil, 0, true, "not a loopback address"},
		{"trusted, on every interface, granted", wild, nil, 1, true, ""},
	} {
		err := CheckGrants(c.st, c.preopens, c.listeners, c.trusted)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (!errors.Is(err, ErrNotGranted) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want ErrNotGranted and %q", c.name, err, c.want)
		}
	}
}

// A forged file recording a million guest paths gets an error naming a
// few of them, not a megabyte of message.
func TestCheckGrantsNamesAFew(t *testing.T) {
	st := &snapshot.WASI{}
	for i := range 100000 {
		st.Descriptors = append(st.Descriptors, snapshot.Descriptor{FD: uint32(3 + i), Kind: uint8(KindPreopen), Preopen: fmt.Sprintf("/p%d", i)})
	}
	err := CheckGrants(st, map[string]string{"/nope": "/x"}, 0, true)
	if !errors.Is(err, ErrNotGranted) || !strings.Contains(err.Error(), "and 99990 more") || len(err.Error()) > 1000 {
		t.Fatalf("got %d bytes: %.300v", len(err.Error()), err)
	}
}

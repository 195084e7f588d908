package wasi

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
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
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out := g.alloc(4)
	if e := g.call("sock_accept", 3, 0, uint64(out)); e != 0 {
		t.Fatal(e)
	}
	if _, err := g.sys.Checkpoint(); !errors.Is(err, ErrOpenConnection) {
		t.Fatalf("got %v, want ErrOpenConnection", err)
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
	s, err := Restore(st, RestoreOptions{})
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
	if s2, err := Restore(st, RestoreOptions{AcceptChangedFiles: true}); err == nil {
		s2.Close()
		t.Fatal("a guest path outside the pre-open was reopened")
	}
}

package wasi

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ferryvm/ferry/api"
)

func TestErrnoValuesMatchSpec(t *testing.T) {
	// Spot checks against the witx numbering.
	for e, want := range map[Errno]uint16{ErrnoSuccess: 0, Errno2big: 1, ErrnoBadf: 8, ErrnoExist: 20,
		ErrnoFault: 21, ErrnoInval: 28, ErrnoIsdir: 31, ErrnoLoop: 32, ErrnoNoent: 44, ErrnoNosys: 52,
		ErrnoNotdir: 54, ErrnoNotempty: 55, ErrnoNotsup: 58, ErrnoPerm: 63, ErrnoSpipe: 70, ErrnoXdev: 75, ErrnoNotcapable: 76} {
		if uint16(e) != want {
			t.Errorf("%v = %d, want %d", e, e, want)
		}
	}
	if len(errnoNames) != int(ErrnoNotcapable)+1 {
		t.Errorf("%d errno names for %d errnos", len(errnoNames), ErrnoNotcapable+1)
	}
	for host, want := range map[error]Errno{
		unix.ENOENT: ErrnoNoent, unix.EEXIST: ErrnoExist, unix.ELOOP: ErrnoLoop, unix.EXDEV: ErrnoXdev,
		unix.ENOTEMPTY: ErrnoNotempty, unix.EOPNOTSUPP: ErrnoNotsup, unix.Errno(9999): ErrnoIo,
		&os.PathError{Op: "open", Path: "x", Err: unix.EACCES}: ErrnoAcces,
		fs.ErrNotExist: ErrnoNoent, net.ErrClosed: ErrnoBadf, ErrnoSpipe: ErrnoSpipe, nil: ErrnoSuccess,
		errors.New("other"): ErrnoIo,
	} {
		if got := ToErrno(host); got != want {
			t.Errorf("ToErrno(%v) = %v, want %v", host, got, want)
		}
	}
	if ErrnoNotcapable.String() != "notcapable" || Errno(200).String() != "errno(200)" {
		t.Errorf("names: %s %s", ErrnoNotcapable, Errno(200))
	}
}

func TestTableAllocatesLowestFree(t *testing.T) {
	dir := t.TempDir()
	g := newGuest(t, Options{Preopens: []Preopen{{HostDir: dir, GuestPath: "/"}}})
	os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644)
	a, _ := g.open(3, "f", false, 0, RightFdRead, 0)
	b, _ := g.open(3, "f", false, 0, RightFdRead, 0)
	if a != 4 || b != 5 {
		t.Fatalf("fds %d %d, want 4 5", a, b)
	}
	if e := g.call("fd_close", uint64(a)); e != 0 {
		t.Fatal(e)
	}
	if e := g.call("fd_close", uint64(a)); e != ErrnoBadf {
		t.Errorf("double close: %v", e)
	}
	c, _ := g.open(3, "f", false, 0, RightFdRead, 0)
	if c != 4 {
		t.Errorf("reused fd %d, want 4", c)
	}
	// renumber onto an open fd closes the target; onto a closed one is badf.
	if e := g.call("fd_renumber", uint64(c), uint64(b)); e != 0 {
		t.Fatal(e)
	}
	if e := g.call("fd_renumber", uint64(c), uint64(b)); e != ErrnoBadf {
		t.Errorf("renumber from closed: %v", e)
	}
	if e := g.call("fd_renumber", uint64(b), 100); e != ErrnoBadf {
		t.Errorf("renumber to unopened: %v", e)
	}
	if got, e := g.read(b, 8); e != 0 || string(got) != "x" {
		t.Errorf("read renumbered: %q %v", got, e)
	}
	if err := g.sys.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g.sys.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, e := g.read(b, 8); e != ErrnoBadf {
		t.Errorf("read after Close: %v", e)
	}
}

func TestSnapshotRecordsDescriptorState(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	g := newGuest(t, Options{Preopens: []Preopen{{HostDir: dir, GuestPath: "/work"}}})
	fd, e := g.open(3, "sub/../sub/f.txt", false, OflagCreat, RightFdWrite|RightFdRead|RightFdSeek|RightFdTell, FdflagAppend)
	if e != 0 {
		t.Fatal(e)
	}
	g.write(fd, []byte("12345"))
	dfd, e := g.open(3, "sub", false, OflagDirectory, RightFdReaddir, 0)
	if e != 0 {
		t.Fatal(e)
	}
	buf := g.alloc(64)
	used := g.alloc(4)
	if e := g.call("fd_readdir", uint64(dfd), uint64(buf), 30, 0, uint64(used)); e != 0 {
		t.Fatal(e)
	}
	snap := g.sys.Table().Snapshot()
	byFD := map[uint32]FDEntry{}
	for _, s := range snap {
		byFD[s.FD] = s
	}
	if s := byFD[0]; s.Kind != KindStdio || s.Stdio != 0 {
		t.Errorf("fd 0: %+v", s)
	}
	if s := byFD[3]; s.Kind != KindPreopen || s.Preopen != "/work" || s.HostPath != dir || s.GuestPath != "." {
		t.Errorf("preopen: %+v", s)
	}
	want := FDState{Kind: KindFile, Preopen: "/work", GuestPath: "sub/f.txt", HostPath: filepath.Join(dir, "sub", "f.txt"),
		OFlags: OflagCreat, FDFlags: FdflagAppend, RightsBase: RightFdWrite | RightFdRead | RightFdSeek | RightFdTell, Offset: 5}
	if got := byFD[fd].FDState; got != want {
		t.Errorf("file state\n got %+v\nwant %+v", got, want)
	}
	if s := byFD[dfd]; s.Kind != KindDir || s.GuestPath != "sub" || s.DirCookie != 1 || s.RightsBase != RightFdReaddir {
		t.Errorf("dir state: %+v", s)
	}
}

func TestBadPointersFault(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	g := newGuest(t, Options{Args: []string{"a", "bb"}, Env: []string{"K=V"}, Stdout: &out, Preopens: []Preopen{{HostDir: dir, GuestPath: "/"}}})
	size := uint64(len(g.mem.b))
	bad := size - 2 // straddles the end of memory
	for _, c := range []struct {
		name   string
		params []uint64
	}{
		{"args_sizes_get", []uint64{bad, 0}},
		{"args_get", []uint64{0, bad}},
		{"environ_get", []uint64{bad, 16}},
		{"clock_time_get", []uint64{0, 0, bad}},
		{"random_get", []uint64{bad, 16}},
		{"fd_fdstat_get", []uint64{1, bad}},
		{"fd_filestat_get", []uint64{3, bad}},
		{"fd_prestat_get", []uint64{3, bad}},
		{"fd_prestat_dir_name", []uint64{3, size, 8}},
		{"fd_write", []uint64{1, bad, 1, 0}},
		{"fd_read", []uint64{0, size - 4*sizeIovec, 8, 0}}, // the vectors overrun memory
		{"path_create_directory", []uint64{3, bad, 8}},
		{"path_open", []uint64{3, 0, bad, 10, 0, 0, 0, 0, 0}},
		{"poll_oneoff", []uint64{bad, 0, 1, 0}},
	} {
		if e := g.call(c.name, c.params...); e != ErrnoFault {
			t.Errorf("%s(%v) = %v, want fault", c.name, c.params, e)
		}
	}
	// An iovec whose buffer is out of range writes nothing at all.
	iov := g.alloc(16)
	msg, _ := g.str("ok")
	binary.LittleEndian.PutUint32(g.mem.b[iov:], uint32(msg))
	binary.LittleEndian.PutUint32(g.mem.b[iov+4:], 2)
	binary.LittleEndian.PutUint32(g.mem.b[iov+8:], uint32(bad))
	binary.LittleEndian.PutUint32(g.mem.b[iov+12:], 10)
	if e := g.call("fd_write", 1, uint64(iov), 2, 0); e != ErrnoFault || out.Len() != 0 {
		t.Errorf("partial iovec: %v, wrote %q", e, out.String())
	}
	// A guest without memory faults too.
	g.mem = nil
	f := g.fns["fd_write"]
	stack := []uint64{1, 0, 1, 0}
	f.Fn(context.Background(), fakeModule{}, stack)
	if Errno(stack[0]) != ErrnoFault {
		t.Errorf("no memory: %v", Errno(stack[0]))
	}
}

// TestHostFunctionsNeverPanic calls every function with hostile
// parameters: random numbers, huge lengths, pointers at the end of memory.
func TestHostFunctionsNeverPanic(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), []byte("data"), 0o644)
	g := newGuest(t, Options{Args: []string{"x"}, Preopens: []Preopen{{HostDir: dir, GuestPath: "/"}}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // blocking calls are interrupted at once
	g.ctx = ctx
	rng := rand.New(rand.NewSource(1))
	interesting := []uint64{0, 1, 3, 4, 0xffff, 0xfffffff0, 0xffffffff, 1 << 16, 1<<16 - 1, 1<<63 + 5, ^uint64(0)}
	for _, f := range g.sys.Functions() {
		if f.Name == "proc_exit" {
			continue
		}
		for i := 0; i < 300; i++ {
			params := make([]uint64, len(f.Params))
			for j := range params {
				if rng.Intn(2) == 0 {
					params[j] = interesting[rng.Intn(len(interesting))]
				} else {
					params[j] = uint64(rng.Intn(1 << 16))
				}
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						if _, ok := r.(*InterruptedError); ok {
							return // a cancelled blocking call, by design
						}
						t.Fatalf("%s(%v) panicked: %v", f.Name, params, r)
					}
				}()
				g.call(f.Name, params...)
			}()
		}
	}
}

func TestProcExitRaisesExitError(t *testing.T) {
	g := newGuest(t, Options{})
	defer func() {
		var ee *ExitError
		if err, _ := recover().(error); !errors.As(err, &ee) || ee.Code != 42 {
			t.Fatalf("recovered %v", err)
		}
	}()
	g.call("proc_exit", 42)
}

func TestReaddirCookies(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for i := range 40 {
		n := fmt.Sprintf("file-with-a-longish-name-%02d", i)
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
		want = append(want, n)
	}
	os.Mkdir(filepath.Join(dir, "d"), 0o755)
	want = append(want, ".", "..", "d")
	sort.Strings(want)
	g := newGuest(t, Options{Preopens: []Preopen{{HostDir: dir, GuestPath: "/"}}})
	type ent struct {
		next uint64
		name string
		typ  uint8
	}
	readAll := func(cookie uint64, bufLen uint32) []ent {
		var out []ent
		buf := g.alloc(bufLen)
		used := g.alloc(4)
		for {
			if e := g.call("fd_readdir", 3, uint64(buf), uint64(bufLen), cookie, uint64(used)); e != 0 {
				t.Fatal(e)
			}
			b := g.mem.b[buf : buf+g.u32(used)]
			progressed := false
			for len(b) >= sizeDirent {
				n := binary.LittleEndian.Uint32(b[16:])
				if uint32(len(b)) < sizeDirent+n {
					break // truncated entry: ask again from its cookie
				}
				e := ent{binary.LittleEndian.Uint64(b), string(b[sizeDirent : sizeDirent+n]), b[20]}
				out = append(out, e)
				cookie = e.next
				progressed = true
				b = b[sizeDirent+n:]
			}
			if g.u32(used) < bufLen {
				return out
			}
			if !progressed {
				t.Fatalf("buffer of %d bytes holds no entry", bufLen)
			}
		}
	}
	for _, bufLen := range []uint32{64, 100, 4096} {
		got := readAll(0, bufLen)
		var names []string
		for _, e := range got {
			names = append(names, e.name)
			if e.name == "d" && e.typ != FiletypeDirectory || strings.HasPrefix(e.name, "file") && e.typ != FiletypeRegularFile {
				t.Errorf("%s has type %d", e.name, e.typ)
			}
		}
		sort.Strings(names)
		if strings.Join(names, ",") != strings.Join(want, ",") {
			t.Fatalf("buf %d: names %v\nwant %v", bufLen, names, want)
		}
		// Resuming from a cookie in the middle gives exactly the rest.
		rest := readAll(got[10].next, bufLen)
		if len(rest) != len(got)-11 || rest[0] != got[11] {
			t.Errorf("resume: %d entries starting %v, want %d starting %v", len(rest), rest[0], len(got)-11, got[11])
		}
	}
}

func TestRightsOnlyShrink(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), []byte("data"), 0o644)
	g := newGuest(t, Options{Preopens: []Preopen{{HostDir: dir, GuestPath: "/"}}})
	fd, _ := g.open(3, "f", false, 0, RightFdRead|RightFdWrite, 0)
	if e := g.call("fd_fdstat_set_rights", uint64(fd), uint64(RightFdRead), 0); e != 0 {
		t.Fatal(e)
	}
	if _, e := g.write(fd, []byte("x")); e != ErrnoNotcapable {
		t.Errorf("write without right: %v", e)
	}
	if e := g.call("fd_fdstat_set_rights", uint64(fd), uint64(RightFdRead|RightFdWrite), 0); e != ErrnoNotcapable {
		t.Errorf("regaining a right: %v", e)
	}
	// A directory whose inheriting rights lack fd_write hands out files
	// without it.
	if e := g.call("fd_fdstat_set_rights", 3, uint64(RightsDir), uint64(RightFdRead)); e != 0 {
		t.Fatal(e)
	}
	fd2, e := g.open(3, "f", false, 0, RightFdRead|RightFdWrite, 0)
	if e != 0 {
		t.Fatal(e)
	}
	if _, e := g.write(fd2, []byte("x")); e != ErrnoNotcapable {
		t.Errorf("write on file from restricted dir: %v", e)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "f")); string(b) != "data" {
		t.Errorf("file changed: %q", b)
	}
}

func TestClockRebase(t *testing.T) {
	c := NewClock()
	a, _ := c.Now(ClockMonotonic)
	time.Sleep(time.Millisecond)
	b, _ := c.Now(ClockMonotonic)
	if b <= a {
		t.Fatalf("monotonic went %d -> %d", a, b)
	}
	c.Rebase(ClockState{Monotonic: 1e12})
	r, _ := c.Now(ClockMonotonic)
	if r < 1e12 || r > 1e12+uint64(time.Second) {
		t.Errorf("rebased monotonic %d", r)
	}
	if _, e := c.Now(9); e != ErrnoInval {
		t.Errorf("bad clock id: %v", e)
	}
	for _, id := range []uint32{ClockRealtime, ClockMonotonic, ClockProcessCPUTime, ClockThreadCPUTime} {
		if res, e := c.Resolution(id); e != 0 || res == 0 {
			t.Errorf("resolution %d: %d %v", id, res, e)
		}
	}
}

func subscription(b []byte, userdata uint64, tag uint8, fdOrClock uint32, timeout uint64, flags uint16) {
	binary.LittleEndian.PutUint64(b, userdata)
	b[8] = tag
	binary.LittleEndian.PutUint32(b[16:], fdOrClock)
	binary.LittleEndian.PutUint64(b[24:], timeout)
	binary.LittleEndian.PutUint16(b[40:], flags)
}

func TestPollOneoff(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), []byte("12345"), 0o644)
	g := newGuest(t, Options{Preopens: []Preopen{{HostDir: dir, GuestPath: "/"}}})
	in, out, n := g.alloc(2*sizeSubscription), g.alloc(2*sizeEvent), g.alloc(4)
	// A relative clock alone sleeps about that long.
	subscription(g.mem.b[in:], 7, EventtypeClock, ClockMonotonic, uint64(30*time.Millisecond), 0)
	start := time.Now()
	if e := g.call("poll_oneoff", uint64(in), uint64(out), 1, uint64(n)); e != 0 {
		t.Fatal(e)
	}
	if el := time.Since(start); el < 30*time.Millisecond || g.u32(n) != 1 || g.u64(out) != 7 {
		t.Errorf("clock: %v elapsed, %d events, userdata %d", el, g.u32(n), g.u64(out))
	}
	// A file is ready at once, with its remaining bytes.
	fd, _ := g.open(3, "f", false, 0, RightFdRead|RightPollFdReadwrite, 0)
	subscription(g.mem.b[in:], 1, EventtypeClock, ClockMonotonic, uint64(time.Hour), 0)
	subscription(g.mem.b[in+sizeSubscription:], 2, EventtypeFdRead, fd, 0, 0)
	start = time.Now()
	if e := g.call("poll_oneoff", uint64(in), uint64(out), 2, uint64(n)); e != 0 {
		t.Fatal(e)
	}
	if time.Since(start) > time.Second || g.u32(n) != 1 || g.u64(out) != 2 || g.u64(out+16) != 5 {
		t.Errorf("fd: %d events, userdata %d, nbytes %d", g.u32(n), g.u64(out), g.u64(out+16))
	}
	// A bad fd is reported in its event.
	subscription(g.mem.b[in:], 3, EventtypeFdWrite, 99, 0, 0)
	g.call("poll_oneoff", uint64(in), uint64(out), 1, uint64(n))
	if Errno(binary.LittleEndian.Uint16(g.mem.b[out+8:])) != ErrnoBadf {
		t.Errorf("bad fd event errno %d", binary.LittleEndian.Uint16(g.mem.b[out+8:]))
	}
	// Cancellation interrupts a long wait.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	g.ctx = ctx
	subscription(g.mem.b[in:], 1, EventtypeClock, ClockMonotonic, uint64(time.Hour), 0)
	if err := interrupted(func() { g.call("poll_oneoff", uint64(in), uint64(out), 1, uint64(n)) }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled poll: %v", err)
	}
	g.ctx = context.Background()
	if e := g.call("poll_oneoff", uint64(in), uint64(out), 0, uint64(n)); e != ErrnoInval {
		t.Errorf("no subscriptions: %v", e)
	}
}

func TestSockets(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	g := newGuest(t, Options{Listeners: []net.Listener{ln}})
	got := make(chan string, 1)
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		c.Write([]byte("ping"))
		b := make([]byte, 16)
		n, _ := c.Read(b)
		got <- string(b[:n])
	}()
	out := g.alloc(4)
	if e := g.call("sock_accept", 3, 0, uint64(out)); e != 0 {
		t.Fatal(e)
	}
	conn := g.u32(out)
	buf := g.alloc(16)
	iov := g.alloc(8)
	binary.LittleEndian.PutUint32(g.mem.b[iov:], buf)
	binary.LittleEndian.PutUint32(g.mem.b[iov+4:], 16)
	nread, flags := g.alloc(4), g.alloc(4)
	if e := g.call("sock_recv", uint64(conn), uint64(iov), 1, uint64(RiflagRecvWaitall)&0, uint64(nread), uint64(flags)); e != 0 {
		t.Fatal(e)
	}
	if s := string(g.mem.b[buf : buf+g.u32(nread)]); s != "ping" {
		t.Errorf("recv %q", s)
	}
	msg, _ := g.str("pong")
	binary.LittleEndian.PutUint32(g.mem.b[iov:], uint32(msg))
	binary.LittleEndian.PutUint32(g.mem.b[iov+4:], 4)
	if e := g.call("sock_send", uint64(conn), uint64(iov), 1, 0, uint64(nread)); e != 0 {
		t.Fatal(e)
	}
	if e := g.call("sock_shutdown", uint64(conn), uint64(SdflagWr)); e != 0 {
		t.Fatal(e)
	}
	if s := <-got; s != "pong" {
		t.Errorf("client got %q", s)
	}
	if e := g.call("sock_shutdown", 3, uint64(SdflagWr)); e != ErrnoNotsock {
		t.Errorf("shutdown on listener: %v", e)
	}
	if e := g.call("sock_shutdown", 1, uint64(SdflagWr)); e != ErrnoNotsock {
		t.Errorf("shutdown on stdout: %v", e)
	}
	snap := g.sys.Table().Snapshot()
	if s := snap[3]; s.Kind != KindListener || s.Addr != ln.Addr().String() {
		t.Errorf("listener state %+v", s)
	}
	if s := snap[4]; s.Kind != KindConn || s.Peer == "" {
		t.Errorf("conn state %+v", s)
	}
	// Close closes the listener too.
	g.sys.Close()
	if _, err := ln.Accept(); err == nil {
		t.Error("listener still open after Close")
	}
}

func TestPollStdinPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	g := newGuest(t, Options{Stdin: r})
	in, out, n := g.alloc(2*sizeSubscription), g.alloc(2*sizeEvent), g.alloc(4)
	subscription(g.mem.b[in:], 1, EventtypeClock, ClockMonotonic, uint64(20*time.Millisecond), 0)
	subscription(g.mem.b[in+sizeSubscription:], 2, EventtypeFdRead, 0, 0, 0)
	if e := g.call("poll_oneoff", uint64(in), uint64(out), 2, uint64(n)); e != 0 || g.u32(n) != 1 || g.u64(out) != 1 {
		t.Fatalf("empty pipe: %v, %d events, first %d", e, g.u32(n), g.u64(out))
	}
	w.Write([]byte("abc"))
	if e := g.call("poll_oneoff", uint64(in), uint64(out), 2, uint64(n)); e != 0 || g.u32(n) != 1 || g.u64(out) != 2 || g.u64(out+16) != 3 {
		t.Fatalf("ready pipe: %v, %d events, first %d, nbytes %d", e, g.u32(n), g.u64(out), g.u64(out+16))
	}
	if b, e := g.read(0, 8); e != 0 || string(b) != "abc" {
		t.Errorf("read %q %v", b, e)
	}
}

// interrupted runs f and returns the InterruptedError it panics with.
func interrupted(f func()) (err error) {
	defer func() {
		if ie, ok := recover().(*InterruptedError); ok {
			err = ie
		}
	}()
	f()
	return nil
}

func TestBlockingReadIsInterruptible(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	g := newGuest(t, Options{Stdin: r})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	g.ctx = ctx
	start := time.Now()
	var ie *InterruptedError
	if err := interrupted(func() { g.read(0, 8) }); !errors.As(err, &ie) || ie.Func != "fd_read" || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blocked read: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("interrupt took %v", time.Since(start))
	}
	// Nothing was consumed: the restarted call reads the data.
	g.ctx = context.Background()
	w.Write([]byte("later"))
	if b, e := g.read(0, 8); e != 0 || string(b) != "later" {
		t.Errorf("restarted read: %q %v", b, e)
	}
}

// A blocked read ends as soon as its context is cancelled, through the
// wakeup pipe rather than the next poll slice (made an hour long here), and
// reports the context's cause: a pause request's api.ErrPauseRequested.
func TestBlockedReadWakesOnCancel(t *testing.T) {
	defer func(d time.Duration) { pollSlice = d }(pollSlice)
	pollSlice = time.Hour
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	g := newGuest(t, Options{Stdin: r})
	ctx, cancel := context.WithCancelCause(context.Background())
	g.ctx = ctx
	time.AfterFunc(20*time.Millisecond, func() { cancel(api.ErrPauseRequested) })
	done := make(chan error, 1)
	go func() { done <- interrupted(func() { g.read(0, 8) }) }()
	select {
	case err := <-done:
		var ie *InterruptedError
		if !errors.As(err, &ie) || !errors.Is(err, api.ErrPauseRequested) {
			t.Fatalf("blocked read: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the cancelled read did not wake up")
	}
}

// TestPathOpenTruncGoRoot pins the bug Go's os tests found (Root.Create
// failing with "operation not permitted"): Go's wasip1 port opens a
// directory for os.Root with base rights lacking path_filestat_set_size but
// inheriting fd_filestat_set_size, then opens files in it with O_TRUNC.
// The open must succeed, since the guest could truncate the new descriptor
// anyway; without either right it must still fail.
func TestPathOpenTruncGoRoot(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "root"), 0o755)
	os.WriteFile(filepath.Join(dir, "root", "f"), []byte("data"), 0o644)
	g := newGuest(t, Options{Preopens: []Preopen{{HostDir: dir, GuestPath: "/"}}})
	root, e := g.open(3, "root", true, OflagDirectory, RightsDir&^RightPathFilestatSetSize, 0)
	if e != 0 {
		t.Fatal(e)
	}
	fd, e := g.open(root, "f", true, OflagCreat|OflagTrunc, RightsFile, 0)
	if e != 0 {
		t.Fatalf("O_TRUNC with fd_filestat_set_size requested: %v", e)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "root", "f")); len(b) != 0 {
		t.Errorf("not truncated: %q", b)
	}
	g.call("fd_close", uint64(fd))
	os.WriteFile(filepath.Join(dir, "root", "f"), []byte("data"), 0o644)
	if _, e := g.open(root, "f", true, OflagTrunc, RightsFile&^RightFdFilestatSetSize, 0); e != ErrnoPerm {
		t.Errorf("O_TRUNC without either right: %v, want perm", e)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "root", "f")); string(b) != "data" {
		t.Errorf("file changed: %q", b)
	}
}

// Go's wasip1 port opens every file with fd_filestat_set_size among the
// rights it asks for, O_RDONLY included; that right made the file open for
// writing, so a Go program could not read a file on a read-only mount, one
// mode 0444 (for a non-root user) or a running executable (ETXTBSY, even
// for root: what this test opens).
func TestGoReadOnlyOpenOfUnwritableFile(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	g := newGuest(t, Options{Preopens: []Preopen{{HostDir: filepath.Dir(exe), GuestPath: "/"}}})
	goReadOnly := RightsFile &^ (RightFdDatasync | RightFdWrite | RightFdAllocate | RightPathFilestatSetSize)
	fd, e := g.open(3, filepath.Base(exe), true, 0, goReadOnly, 0)
	if e != 0 {
		t.Fatalf("open of a running executable with Go's O_RDONLY rights: %v", e)
	}
	if e := Errno(g.call("fd_filestat_set_size", uint64(fd), 0)); e == 0 {
		t.Error("fd_filestat_set_size truncated a file opened for reading")
	}
}

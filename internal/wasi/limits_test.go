package wasi

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// allocatedBy reports how many bytes the Go heap handed out while f ran.
// TotalAlloc only grows, so a collection during f cannot hide an
// allocation the way a live-heap delta could.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// bigGuest is a guest whose memory holds n bytes above the bump
// allocator's start.
func bigGuest(t *testing.T, o Options, n int) *guest {
	g := newGuest(t, o)
	g.mem.b = make([]byte, 1024+n+1<<16)
	return g
}

// Issue 14: fd_write with 2^26 empty vectors made the host allocate 2 GB
// and stay a minute in one call. Beyond IOV_MAX vectors the call now fails
// with EINVAL, as writev(2) does, before the host sizes anything by them.
func TestFdWriteManyIovecs(t *testing.T) {
	var out bytes.Buffer
	const many = 1 << 20
	g := bigGuest(t, Options{Stdout: &out, Preopens: []Preopen{{HostDir: t.TempDir(), GuestPath: "/"}}}, many*sizeIovec)
	iov := g.alloc(many * sizeIovec) // all (0, 0): empty vectors
	n := g.alloc(4)
	var e Errno
	used := allocatedBy(func() { e = g.call("fd_write", 1, uint64(iov), many, uint64(n)) })
	if e != ErrnoInval {
		t.Errorf("fd_write with %d vectors: errno %v, want EINVAL", many, e)
	}
	if used > 1<<20 {
		t.Errorf("fd_write with %d vectors allocated %d bytes", many, used)
	}
	// The other vectored calls share the cap; a file serves them all.
	fd, e := g.open(3, "f", false, OflagCreat, RightFdRead|RightFdWrite|RightFdSeek, 0)
	if e != 0 {
		t.Fatal(e)
	}
	for _, fn := range []string{"fd_read", "fd_pread", "fd_pwrite"} {
		args := []uint64{uint64(fd), uint64(iov), many, uint64(n)}
		if fn != "fd_read" {
			args = []uint64{uint64(fd), uint64(iov), many, 0, uint64(n)}
		}
		if e := g.call(fn, args...); e != ErrnoInval {
			t.Errorf("%s with %d vectors: errno %v, want EINVAL", fn, many, e)
		}
	}

	// MaxIovecs vectors are still taken, and all written.
	buf := g.alloc(1)
	g.mem.b[buf] = 'x'
	for i := uint32(0); i < MaxIovecs; i++ {
		binary.LittleEndian.PutUint32(g.mem.b[iov+i*sizeIovec:], buf)
		binary.LittleEndian.PutUint32(g.mem.b[iov+i*sizeIovec+4:], 1)
	}
	if e := g.call("fd_write", 1, uint64(iov), MaxIovecs, uint64(n)); e != 0 || g.u32(n) != MaxIovecs || out.Len() != MaxIovecs {
		t.Errorf("fd_write with %d vectors: errno %v, %d written, %d out", MaxIovecs, e, g.u32(n), out.Len())
	}
	if e := g.call("fd_write", 1, uint64(iov), MaxIovecs+1, uint64(n)); e != ErrnoInval {
		t.Errorf("fd_write with %d vectors: errno %v, want EINVAL", MaxIovecs+1, e)
	}
}

// Issue 14: poll_oneoff with 20 million subscriptions made the host
// allocate 4.8 GB. Beyond MaxPollSubscriptions the call fails with EINVAL
// before the host copies or sizes anything by the count.
func TestPollOneoffManySubscriptions(t *testing.T) {
	const many = 100_000
	g := bigGuest(t, Options{}, many*(sizeSubscription+sizeEvent))
	in, out, n := g.alloc(many*sizeSubscription), g.alloc(many*sizeEvent), g.alloc(4)
	for i := uint32(0); i < many; i++ {
		subscription(g.mem.b[in+i*sizeSubscription:], uint64(i), EventtypeClock, ClockMonotonic, 0, 0)
	}
	var e Errno
	used := allocatedBy(func() { e = g.call("poll_oneoff", uint64(in), uint64(out), many, uint64(n)) })
	if e != ErrnoInval {
		t.Errorf("poll_oneoff with %d subscriptions: errno %v, want EINVAL", many, e)
	}
	if used > 1<<20 {
		t.Errorf("poll_oneoff with %d subscriptions allocated %d bytes", many, used)
	}
	// The largest allowed count still works: every expired clock fires.
	if e := g.call("poll_oneoff", uint64(in), uint64(out), MaxPollSubscriptions, uint64(n)); e != 0 || g.u32(n) != MaxPollSubscriptions {
		t.Errorf("poll_oneoff with %d subscriptions: errno %v, %d events", MaxPollSubscriptions, e, g.u32(n))
	}
}

// Issue 14: every descriptor of a directory cached its whole listing, so
// 200 descriptors of one 20,000-entry directory held 1.56 GB. Listings are
// now streamed: what descriptors keep does not grow with the directory.
func TestReaddirNoPerFdListingCopies(t *testing.T) {
	dir := t.TempDir()
	const entries, fds = 1000, 50
	for i := range entries {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("a-file-with-a-name-of-some-length-%05d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	g := newGuest(t, Options{Preopens: []Preopen{{HostDir: dir, GuestPath: "/"}}})
	var open []uint32
	for range fds {
		fd, e := g.open(3, ".", false, OflagDirectory, RightFdReaddir, 0)
		if e != 0 {
			t.Fatal(e)
		}
		open = append(open, fd)
	}
	buf, used := g.alloc(256), g.alloc(4)
	live := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := live()
	for _, fd := range open {
		if e := g.call("fd_readdir", uint64(fd), uint64(buf), 256, 0, uint64(used)); e != 0 || g.u32(used) != 256 {
			t.Fatalf("fd_readdir: %v, %d bytes", e, g.u32(used))
		}
	}
	after := live()
	// A cached listing was some 80 KB here; 50 of them, 4 MB.
	if after > before && after-before > 1<<20 {
		t.Errorf("%d descriptors that each read a %d-entry directory keep %d bytes", fds, entries, after-before)
	}
	// Reading on from the last cookie, and from any other, still walks
	// the whole listing exactly once.
	seen := map[string]bool{}
	cookie := uint64(0)
	for {
		if e := g.call("fd_readdir", uint64(open[0]), uint64(buf), 256, cookie, uint64(used)); e != 0 {
			t.Fatal(e)
		}
		b := g.mem.b[buf : buf+g.u32(used)]
		for len(b) >= sizeDirent {
			n := binary.LittleEndian.Uint32(b[16:])
			if uint32(len(b)) < sizeDirent+n {
				break
			}
			name := string(b[sizeDirent : sizeDirent+n])
			if seen[name] {
				t.Fatalf("%s listed twice", name)
			}
			seen[name] = true
			cookie = binary.LittleEndian.Uint64(b)
			b = b[sizeDirent+n:]
		}
		if g.u32(used) < 256 {
			break
		}
	}
	if len(seen) != entries+2 {
		t.Errorf("listed %d entries, want %d", len(seen), entries+2)
	}
}

// A write whose context is already done gives up having written nothing,
// so that the engine can pause at the call and issue it again on resume.
func TestWriteInterruptedConsumesNothing(t *testing.T) {
	var out bytes.Buffer
	g := newGuest(t, Options{Stdout: &out})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g.ctx = ctx
	err := interrupted(func() { g.write(1, []byte("lost?")) })
	var ie *InterruptedError
	if !errors.As(err, &ie) || !errors.Is(err, context.Canceled) || out.Len() != 0 {
		t.Errorf("write under a cancelled context: %v, wrote %q", err, out.String())
	}
}

// A guest's path length must not size host work: beyond PATH_MAX a path is
// refused with ENAMETOOLONG, as Linux does, before it is copied.
func TestPathTooLong(t *testing.T) {
	const n = 8 << 20
	g := bigGuest(t, Options{Preopens: []Preopen{{HostDir: t.TempDir(), GuestPath: "/"}}}, n)
	p := g.alloc(n)
	for i := range uint32(n) {
		g.mem.b[p+i] = "a/"[i%2]
	}
	out := g.alloc(4)
	var e Errno
	used := allocatedBy(func() {
		e = g.call("path_open", 3, 0, uint64(p), n, 0, uint64(RightsAll), uint64(RightsAll), 0, uint64(out))
	})
	if e != ErrnoNametoolong || used > 1<<20 {
		t.Errorf("path_open of %d bytes: %v, allocated %d bytes", n, e, used)
	}
	if e := g.call("path_symlink", uint64(p), n, 3, uint64(p), 1); e != ErrnoNametoolong {
		t.Errorf("path_symlink to %d bytes: %v", n, e)
	}
	// PATH_MAX-1 bytes are still looked up.
	if e := g.call("path_create_directory", 3, uint64(p), MaxPathBytes-1); e != ErrnoNoent {
		t.Errorf("path of %d bytes: %v, want ENOENT", MaxPathBytes-1, e)
	}
}

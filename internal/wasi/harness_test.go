package wasi

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/ferryvm/ferry/api"
)

// fakeMemory is a linear memory for calling host functions without the
// engine. It checks bounds exactly as api.Memory promises.
type fakeMemory struct{ b []byte }

func (m *fakeMemory) Size() uint64  { return uint64(len(m.b)) }
func (m *fakeMemory) Bytes() []byte { return m.b }
func (m *fakeMemory) Read(off, n uint64) ([]byte, bool) {
	if off > uint64(len(m.b)) || n > uint64(len(m.b))-off {
		return nil, false
	}
	return m.b[off : off+n], true
}
func (m *fakeMemory) Write(off uint64, b []byte) bool {
	if off > uint64(len(m.b)) || uint64(len(b)) > uint64(len(m.b))-off {
		return false
	}
	copy(m.b[off:], b)
	return true
}
func (m *fakeMemory) Grow(uint64) (uint64, bool) { return 0, false }

type fakeModule struct{ mem api.Memory }

func (m fakeModule) Name() string       { return "guest" }
func (m fakeModule) Memory() api.Memory { return m.mem }

// guest drives a System through its host functions, as a Wasm guest would.
type guest struct {
	t    testing.TB
	ctx  context.Context
	sys  *System
	mem  *fakeMemory
	fns  map[string]HostFunction
	next uint32 // bump allocator in mem
}

func newGuest(t testing.TB, o Options) *guest {
	t.Helper()
	sys, err := NewSystem(o)
	if err != nil {
		t.Fatal(err)
	}
	return guestOf(t, sys)
}

// guestOf is a guest of an existing System (a restored one, say), which
// it closes at the end of the test.
func guestOf(t testing.TB, sys *System) *guest {
	t.Cleanup(func() { sys.Close() })
	g := &guest{t: t, ctx: context.Background(), sys: sys, mem: &fakeMemory{b: make([]byte, 1<<16)}, fns: map[string]HostFunction{}, next: 1024}
	for _, f := range sys.Functions() {
		g.fns[f.Name] = f
	}
	return g
}

// call invokes a WASI function and returns its errno.
func (g *guest) call(name string, params ...uint64) Errno {
	g.t.Helper()
	f, ok := g.fns[name]
	if !ok {
		g.t.Fatalf("no function %s", name)
	}
	if len(params) != len(f.Params) {
		g.t.Fatalf("%s: %d params, want %d", name, len(params), len(f.Params))
	}
	stack := make([]uint64, max(len(params), len(f.Results), 1))
	copy(stack, params)
	f.Fn(g.ctx, fakeModule{g.mem}, stack)
	return Errno(stack[0])
}

// alloc reserves n bytes of guest memory and returns their address.
func (g *guest) alloc(n uint32) uint32 {
	p := g.next
	g.next += (n + 7) &^ 7
	if g.next > uint32(len(g.mem.b)) {
		g.next = 1024
		p = g.next
		g.next += (n + 7) &^ 7
	}
	return p
}

// str places s in guest memory and returns (ptr, len).
func (g *guest) str(s string) (uint64, uint64) {
	p := g.alloc(uint32(len(s)))
	copy(g.mem.b[p:], s)
	return uint64(p), uint64(len(s))
}

func (g *guest) u32(p uint32) uint32 { return binary.LittleEndian.Uint32(g.mem.b[p:]) }
func (g *guest) u64(p uint32) uint64 { return binary.LittleEndian.Uint64(g.mem.b[p:]) }

// open calls path_open on dirfd and returns the new fd.
func (g *guest) open(dirfd uint32, path string, follow bool, oflags uint16, rights Rights, fdflags uint16) (uint32, Errno) {
	pp, pl := g.str(path)
	out := g.alloc(4)
	var lf uint64
	if follow {
		lf = 1
	}
	e := g.call("path_open", uint64(dirfd), lf, pp, pl, uint64(oflags), uint64(rights), uint64(RightsAll), uint64(fdflags), uint64(out))
	return g.u32(out), e
}

// read reads up to n bytes from fd.
func (g *guest) read(fd uint32, n uint32) ([]byte, Errno) {
	buf := g.alloc(n)
	iov := g.alloc(8)
	binary.LittleEndian.PutUint32(g.mem.b[iov:], buf)
	binary.LittleEndian.PutUint32(g.mem.b[iov+4:], n)
	nread := g.alloc(4)
	e := g.call("fd_read", uint64(fd), uint64(iov), 1, uint64(nread))
	if e != 0 {
		return nil, e
	}
	return append([]byte(nil), g.mem.b[buf:buf+g.u32(nread)]...), 0
}

// write writes b to fd.
func (g *guest) write(fd uint32, b []byte) (uint32, Errno) {
	buf := g.alloc(uint32(len(b)))
	copy(g.mem.b[buf:], b)
	iov := g.alloc(8)
	binary.LittleEndian.PutUint32(g.mem.b[iov:], buf)
	binary.LittleEndian.PutUint32(g.mem.b[iov+4:], uint32(len(b)))
	n := g.alloc(4)
	e := g.call("fd_write", uint64(fd), uint64(iov), 1, uint64(n))
	return g.u32(n), e
}

// pathCall calls a path_* function of shape (fd, path, path_len).
func (g *guest) pathCall(name string, fd uint32, path string) Errno {
	pp, pl := g.str(path)
	return g.call(name, uint64(fd), pp, pl)
}

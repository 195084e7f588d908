package wasi

import (
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"path"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Preopen is a host directory made visible to the guest under GuestPath.
type Preopen struct {
	HostDir   string
	GuestPath string
}

// Options configure a System. The facade builds them from wasi.Config.
type Options struct {
	Args      []string
	Env       []string // "KEY=value"
	Preopens  []Preopen
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
	Listeners []net.Listener
	Resolve   ResolveMode
	Random    io.Reader // defaults to crypto/rand
	Clock     *Clock    // defaults to NewClock()
	// CloseConnections makes Checkpoint close accepted connections (the
	// guest then sees a peer that closed) instead of refusing.
	CloseConnections bool
	// StdinWait, when not nil, is called in the guest's call each time a
	// read of standard input is about to block (see System.stdinWaits).
	StdinWait func()
}

// ExitError is raised (as a panic value inside the host function, which the
// engine turns into a trap wrapping it) when the guest calls proc_exit.
type ExitError struct{ Code uint32 }

func (e *ExitError) Error() string { return fmt.Sprintf("wasi: exit status %d", e.Code) }

// System is the WASI host state of one guest: its descriptors, arguments,
// environment and clocks.
type System struct {
	args, env []string
	table     *Table
	clock     *Clock
	random    io.Reader
	res       resolver
	// closeConns: see Options.CloseConnections.
	closeConns bool
	// stdinWait: see Options.StdinWait.
	stdinWait func()

	closeOnce sync.Once
	closeErr  error
}

// NewSystem opens the pre-opens and builds the descriptor table: fds 0-2
// are stdio, then pre-opened directories in order, then listeners.
func NewSystem(o Options) (*System, error) {
	for _, s := range append(append([]string(nil), o.Args...), o.Env...) {
		if strings.IndexByte(s, 0) >= 0 {
			return nil, fmt.Errorf("wasi: argument or environment entry contains NUL: %q", s)
		}
	}
	res, err := newResolver(o.Resolve)
	if err != nil {
		return nil, fmt.Errorf("wasi: path resolution: %w", err)
	}
	s := &System{
		args:   append([]string(nil), o.Args...),
		env:    append([]string(nil), o.Env...),
		table:  newTable(),
		clock:  o.Clock,
		random: o.Random,
		res:    res,

		closeConns: o.CloseConnections,
		stdinWait:  o.StdinWait,
	}
	if s.clock == nil {
		s.clock = NewClock()
	}
	if s.random == nil {
		s.random = rand.Reader
	}
	stdio := []struct {
		r io.Reader
		w io.Writer
	}{{r: o.Stdin}, {w: o.Stdout}, {w: o.Stderr}}
	for i, st := range stdio {
		d := &fileDesc{FDState: FDState{Kind: KindStdio, Stdio: i, RightsBase: RightsStdio}, hostFD: -1, reader: st.r, writer: st.w}
		if d.reader == nil {
			d.reader = eofReader{}
		}
		if i > 0 && d.writer == nil {
			d.writer = io.Discard
		}
		d.ftype = stdioFiletype(st.r)
		if i > 0 {
			d.ftype = stdioFiletype(st.w)
		}
		s.table.insert(d)
	}
	for _, p := range o.Preopens {
		fd, err := unix.Open(p.HostDir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			s.table.closeAll()
			return nil, fmt.Errorf("wasi: pre-open %q: %w", p.HostDir, err)
		}
		g := p.GuestPath
		if g == "" {
			g = "."
		}
		s.table.insert(&fileDesc{FDState: FDState{
			Kind: KindPreopen, Preopen: g, GuestPath: ".", HostPath: p.HostDir,
			OFlags: OflagDirectory, RightsBase: RightsDir, RightsInheriting: RightsDir | RightsFile,
		}, hostFD: fd, ftype: FiletypeDirectory})
	}
	for _, ln := range o.Listeners {
		s.table.insert(&fileDesc{FDState: FDState{
			Kind: KindListener, Addr: ln.Addr().String(),
			RightsBase: RightsListener, RightsInheriting: RightsConn,
		}, hostFD: -1, ln: ln, ftype: FiletypeSocketStream})
	}
	return s, nil
}

// Table is the descriptor table, for checkpoints and tests.
func (s *System) Table() *Table { return s.table }

// Clock is the clock every WASI call reads.
func (s *System) Clock() *Clock { return s.clock }

// Args and Env return copies of the guest's arguments and environment.
func (s *System) Args() []string { return append([]string(nil), s.args...) }
func (s *System) Env() []string  { return append([]string(nil), s.env...) }

// Close closes every host descriptor. It is idempotent.
func (s *System) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.table.closeAll() })
	return s.closeErr
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// childPath joins a guest path to a descriptor's guest path, lexically.
func childPath(base, p string) string {
	return path.Clean(base + "/" + p)
}

// State is the portable host state of a guest (ARCHITECTURE.md §2): what a
// checkpoint writes so that a restore elsewhere can rebuild the System.
type State struct {
	Args        []string
	Env         []string
	Descriptors []FDEntry
	Clock       ClockState
}

// State captures the current host state.
func (s *System) State() State {
	return State{Args: s.Args(), Env: s.Env(), Descriptors: s.table.Snapshot(), Clock: s.clock.State()}
}

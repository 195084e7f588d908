package wasi

import (
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ferryvm/ferry/internal/snapshot"
)

// ErrOpenConnection refuses a checkpoint while the guest holds an accepted
// connection: its peer and the bytes in flight cannot be carried. With
// Options.CloseConnections the checkpoint closes them instead.
var ErrOpenConnection = errors.New("wasi: an open network connection cannot be checkpointed")

// ErrFileChanged refuses a restore when a file the guest had open is not
// the one it had: its size or modification time differ from the
// checkpoint's record.
var ErrFileChanged = errors.New("file changed since the checkpoint")

// readableTime shows a modification time to the nanosecond, since two
// writes within a second differ only there.
func readableTime(ns int64) string {
	return time.Unix(0, ns).Format("2006-01-02 15:04:05.000000000 MST")
}

// Checkpoint captures the host state for a checkpoint: arguments,
// environment, every descriptor (with its offset and, for files, size,
// modification time, device and inode) and the clock readings. It must be
// called while the guest is paused.
func (s *System) Checkpoint() (*snapshot.WASI, error) {
	out := &snapshot.WASI{Args: s.Args(), Env: s.Env()}
	cs := s.clock.State()
	out.Monotonic, out.CPUTime = cs.Monotonic, cs.CPUTime
	t := s.table
	t.mu.Lock()
	defer t.mu.Unlock()
	nums := make([]uint32, 0, len(t.fds))
	for n := range t.fds {
		nums = append(nums, n)
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	var closing []*fileDesc
	for _, n := range nums {
		d := t.fds[n]
		if d.Kind == KindConn && !d.hungUp {
			if !s.closeConns {
				return nil, fmt.Errorf("%w (fd %d, peer %s)", ErrOpenConnection, n, d.Peer)
			}
			closing = append(closing, d)
		}
		x := snapshot.Descriptor{
			FD: n, Kind: uint8(d.Kind), Preopen: d.Preopen, GuestPath: d.GuestPath, HostPath: d.HostPath,
			OFlags: d.OFlags, FDFlags: d.FDFlags, Rights: uint64(d.RightsBase), Inherit: uint64(d.RightsInheriting),
			DirCookie: d.DirCookie, Stdio: uint8(d.Stdio), Addr: d.Addr, Peer: d.Peer,
		}
		if d.Kind == KindPreopen && !filepath.IsAbs(x.HostPath) {
			// Relative to this process's directory, which a restore
			// elsewhere does not share.
			if abs, err := filepath.Abs(x.HostPath); err == nil {
				x.HostPath = abs
			}
		}
		if d.hostFD >= 0 && d.Kind == KindFile {
			off, err := unix.Seek(d.hostFD, 0, io.SeekCurrent)
			if err != nil {
				return nil, fmt.Errorf("wasi: checkpoint fd %d (%s): %w", n, d.GuestPath, err)
			}
			var st unix.Stat_t
			if err := unix.Fstat(d.hostFD, &st); err != nil {
				return nil, fmt.Errorf("wasi: checkpoint fd %d (%s): %w", n, d.GuestPath, err)
			}
			x.Offset, x.Size, x.MtimeNs = off, st.Size, st.Mtim.Nano()
			x.Dev, x.Ino = uint64(st.Dev), uint64(st.Ino)
		}
		out.Descriptors = append(out.Descriptors, x)
	}
	// Only now that nothing can fail: the connections close in this run
	// as they will be closed in the restored one.
	for _, d := range closing {
		d.conn.Close()
		d.conn, d.hungUp = closedConn(), true
	}
	return out, nil
}

// ErrNotGranted refuses a restore that would give the guest a host
// directory or a listening socket that the restorer did not grant.
var ErrNotGranted = errors.New("wasi: not granted by the restore")

// grantError is a refusal that wraps ErrNotGranted but says only what is
// not granted and what to pass: the sentinel's words would repeat it.
type grantError struct{ msg string }

func (e *grantError) Error() string        { return e.msg }
func (e *grantError) Is(target error) bool { return target == ErrNotGranted }

func notGranted(format string, args ...any) error {
	return &grantError{fmt.Sprintf(format, args...)}
}

// RestoreOptions say how a checkpointed System is re-created on this host.
type RestoreOptions struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Preopens maps a pre-open's guest path to the host directory the
	// restore grants it. Every key must be a recorded pre-open.
	Preopens map[string]string
	// Listeners are the listening sockets the restore grants, one per
	// recorded listener in descriptor order.
	Listeners []net.Listener
	// TrustRecorded lets the checkpoint keep what it recorded: pre-opens
	// not in Preopens reopen their recorded host directories, listeners
	// beyond Listeners listen again on their recorded loopback addresses.
	// Set it only for a checkpoint whose signature by a trusted key
	// verified: the recorded paths and addresses are otherwise the
	// writer's say, and anyone can write a checkpoint.
	TrustRecorded bool
	// AcceptChangedFiles reopens files whose size or modification time
	// changed since the checkpoint instead of failing.
	AcceptChangedFiles bool
	Resolve            ResolveMode
	Random             io.Reader
	// CloseConnections is Options.CloseConnections for the restored
	// System's own checkpoints.
	CloseConnections bool
	// StdinWait is Options.StdinWait for the restored System.
	StdinWait func()
}

// Restore re-creates a System from a checkpoint's host state: the same
// descriptor numbers, pre-opened directories opened at the host paths
// the options grant (or, trusted, their recorded ones: see CheckGrants),
// files and directories reopened by their guest path beneath their
// pre-open (so a checkpoint cannot reach outside the pre-opens it is
// given) at their recorded offsets, stdio attached to the options'
// streams, listeners re-created, and the clocks continuing from their
// recorded readings.
func Restore(st *snapshot.WASI, o RestoreOptions) (*System, error) {
	if err := CheckGrants(st, o.Preopens, len(o.Listeners), o.TrustRecorded); err != nil {
		return nil, err
	}
	s, err := NewSystem(Options{Args: st.Args, Env: st.Env, Resolve: o.Resolve, Random: o.Random, CloseConnections: o.CloseConnections, StdinWait: o.StdinWait})
	if err != nil {
		return nil, err
	}
	s.table.closeAll() // drop the default stdio; the checkpoint's table replaces it
	s.clock.Rebase(ClockState{Monotonic: st.Monotonic, CPUTime: st.CPUTime})
	roots := map[string]int{} // pre-open guest path -> host fd, for reopening beneath it
	var extra []int           // directory fds opened only to reopen files beneath them
	defer func() {
		for _, fd := range extra {
			unix.Close(fd)
		}
	}()
	fail := func(err error) (*System, error) {
		s.table.closeAll()
		return nil, err
	}
	root := func(guest string) (int, error) {
		if fd, ok := roots[guest]; ok {
			return fd, nil
		}
		// The guest closed this pre-open; it is needed to reach files
		// opened beneath it, and only a remapping can say where it is.
		host, ok := o.Preopens[guest]
		if !ok {
			return -1, fmt.Errorf("wasi: restore: pre-open %q was closed by the guest; map it to a host directory to reopen files beneath it", guest)
		}
		fd, err := unix.Open(host, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, fmt.Errorf("wasi: restore: pre-open %q (%s): %w", guest, host, err)
		}
		extra = append(extra, fd)
		roots[guest] = fd
		return fd, nil
	}
	nListener := 0
	for _, x := range st.Descriptors {
		d := &fileDesc{FDState: FDState{
			Kind: Kind(x.Kind), Preopen: x.Preopen, GuestPath: x.GuestPath, HostPath: x.HostPath,
			OFlags: x.OFlags, FDFlags: x.FDFlags, RightsBase: Rights(x.Rights), RightsInheriting: Rights(x.Inherit),
			DirCookie: x.DirCookie, Stdio: int(x.Stdio), Addr: x.Addr,
		}, hostFD: -1}
		where := fmt.Sprintf("wasi: restore fd %d (%v %q)", x.FD, d.Kind, x.GuestPath)
		switch d.Kind {
		case KindStdio:
			d.RightsBase &= RightsStdio
			d.RightsInheriting = 0
			switch x.Stdio {
			case 0:
				d.reader = o.Stdin
				if d.reader == nil {
					d.reader = eofReader{}
				}
			case 1, 2:
				d.writer = o.Stdout
				if x.Stdio == 2 {
					d.writer = o.Stderr
				}
				if d.writer == nil {
					d.writer = io.Discard
				}
			default:
				return fail(fmt.Errorf("%s: stdio stream %d", where, x.Stdio))
			}
			d.ftype = stdioFiletype(d.reader)
			if x.Stdio > 0 {
				d.ftype = stdioFiletype(d.writer)
			}
		case KindPreopen:
			host := x.HostPath
			if h, ok := o.Preopens[x.Preopen]; ok {
				host = h
			}
			fd, err := unix.Open(host, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				// Named by its guest path, which --dir matches, not by the
				// path beneath it ("."), which users passed instead.
				return fail(fmt.Errorf("wasi: restore: pre-open %q: its host directory %s: %w; pass --dir NEWDIR::%s (wasi.Config.WithPreopen) to give it another",
					x.Preopen, host, err, x.Preopen))
			}
			d.hostFD, d.ftype, d.HostPath, d.GuestPath = fd, FiletypeDirectory, host, "."
			d.RightsBase &= RightsDir
			d.RightsInheriting &= RightsDir | RightsFile
			if _, dup := roots[x.Preopen]; !dup {
				roots[x.Preopen] = fd
			}
		case KindFile, KindDir:
			rfd, err := root(x.Preopen)
			if err != nil {
				return fail(err)
			}
			if err := s.reopen(d, rfd, x, o.AcceptChangedFiles); err != nil {
				return fail(fmt.Errorf("%s: %w", where, err))
			}
		case KindListener:
			var ln net.Listener
			if nListener < len(o.Listeners) {
				ln = o.Listeners[nListener]
			} else if ln, err = net.Listen("tcp", x.Addr); err != nil { // a trusted loopback address: see CheckGrants
				return fail(fmt.Errorf("%s: listen %s: %w", where, x.Addr, err))
			}
			nListener++
			d.ln, d.ftype, d.Addr = ln, FiletypeSocketStream, ln.Addr().String()
			d.RightsBase &= RightsListener
			d.RightsInheriting &= RightsConn
		case KindConn:
			// Closed when the checkpoint was taken (CloseConnections).
			d.conn, d.hungUp, d.ftype, d.Peer = closedConn(), true, FiletypeSocketStream, x.Peer
			d.RightsBase &= RightsConn
			d.RightsInheriting = 0
		default:
			return fail(fmt.Errorf("%s: descriptor kind %d cannot be restored", where, x.Kind))
		}
		s.table.mu.Lock()
		s.table.fds[x.FD] = d
		s.table.mu.Unlock()
	}
	return s, nil
}

// CheckGrants refuses, before anything is opened or bound, a restore of
// st that would give the guest more than the restorer grants: preopens
// (guest path -> host directory) and listeners (how many sockets are
// given). A checkpoint is untrusted input, so every recorded pre-open
// must be granted a host directory and every recorded listener a socket,
// unless trusted (the checkpoint's signature by a key the restorer trusts
// verified): then the recorded directories are kept, and the recorded
// listeners on loopback addresses, since an address on every interface
// exposes the guest to the network and needs a grant of its own. A grant
// that matches nothing recorded is an error too: it is a mistake that
// would otherwise silently leave the recorded directory in place.
func CheckGrants(st *snapshot.WASI, preopens map[string]string, listeners int, trusted bool) error {
	recorded := map[string]bool{}
	var guests []string
	nListeners := 0
	for _, x := range st.Descriptors {
		switch Kind(x.Kind) {
		case KindPreopen, KindFile, KindDir:
			if !recorded[x.Preopen] {
				recorded[x.Preopen] = true
				guests = append(guests, strconv.Quote(x.Preopen))
			}
		case KindListener:
			nListeners++
		}
	}
	var unmatched []string
	for g := range preopens {
		if !recorded[g] {
			unmatched = append(unmatched, strconv.Quote(g))
		}
	}
	if len(unmatched) > 0 {
		sort.Strings(unmatched)
		// A forged file may record a million of them: name a few.
		list := "none"
		if len(guests) > maxListed {
			guests = append(guests[:maxListed], fmt.Sprintf("and %d more", len(guests)-maxListed))
		}
		if len(unmatched) > maxListed {
			unmatched = append(unmatched[:maxListed], fmt.Sprintf("and %d more", len(unmatched)-maxListed))
		}
		if len(guests) > 0 {
			list = strings.Join(guests, ", ")
		}
		return notGranted("--dir for guest path %s matches no pre-open the checkpoint records (recorded guest paths: %s); a restore maps recorded pre-opens, it cannot add one",
			strings.Join(unmatched, ", "), list)
	}
	if listeners > nListeners {
		return notGranted("%d listeners given (--tcplisten), the checkpoint records %d", listeners, nListeners)
	}
	n := 0
	for _, x := range st.Descriptors {
		switch Kind(x.Kind) {
		case KindPreopen:
			if _, ok := preopens[x.Preopen]; ok || trusted {
				continue
			}
			return notGranted("pre-open %q (recorded host dir %q) is not granted: pass --dir HOSTDIR::%s (wasi.Config.WithPreopen), or sign checkpoints with a key this host trusts",
				x.Preopen, x.HostPath, shellWord(x.Preopen))
		case KindListener:
			n++
			if n <= listeners {
				continue
			}
			if trusted && loopback(x.Addr) {
				continue
			}
			why := "or sign checkpoints with a key this host trusts (which re-creates loopback listeners only)"
			if trusted {
				why = "the recorded address is not a loopback address, and only those are re-created without a grant"
			}
			return notGranted("listener fd %d (recorded address %q) is not granted: pass --tcplisten ADDR (wasi.Config.WithTCPListen) for each of the %d recorded listeners, in order; %s",
				x.FD, x.Addr, nListeners, why)
		}
	}
	return nil
}

// maxListed is how many guest paths an error names.
const maxListed = 10

// loopback reports whether addr is HOST:PORT with a literal loopback IP.
// Names are not resolved: what "localhost" means is up to the host's
// resolver, not the checkpoint.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// shellWord quotes a guest path for the suggested command line when it
// holds anything a shell (or a terminal) would take specially.
func shellWord(s string) string {
	for _, c := range s {
		if !(c == '/' || c == '.' || c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return strconv.Quote(s)
		}
	}
	return s
}

// closedConn stands for a connection closed by a checkpoint, in the run
// that took it and in the restored one alike: a peer that closed, so that
// reads see end of file and writes fail with EPIPE.
func closedConn() net.Conn {
	c, peer := net.Pipe()
	peer.Close()
	return c
}

// reopen opens a file or directory descriptor again beneath its pre-open,
// checks that a file is unchanged and restores its offset.
func (s *System) reopen(d *fileDesc, root int, x snapshot.Descriptor, acceptChanged bool) error {
	flags := unix.O_CLOEXEC | unix.O_NOFOLLOW
	wantWrite := d.RightsBase&(RightFdWrite|RightFdAllocate|RightFdFilestatSetSize) != 0
	wantRead := d.RightsBase&(RightFdRead|RightFdReaddir) != 0
	switch {
	case d.Kind == KindDir:
		flags |= unix.O_RDONLY | unix.O_DIRECTORY
		d.RightsBase &= RightsDir
	case wantWrite && wantRead:
		flags |= unix.O_RDWR
	case wantWrite:
		flags |= unix.O_WRONLY
	default:
		flags |= unix.O_RDONLY
	}
	if d.Kind == KindFile {
		d.RightsBase &= RightsFile
		d.RightsInheriting = 0
		if d.FDFlags&FdflagAppend != 0 {
			flags |= unix.O_APPEND
		}
		if d.FDFlags&FdflagNonblock != 0 {
			flags |= unix.O_NONBLOCK
		}
		if d.FDFlags&FdflagDsync != 0 {
			flags |= unix.O_DSYNC
		}
		if d.FDFlags&FdflagRsync != 0 {
			flags |= unix.O_RSYNC
		}
		if d.FDFlags&FdflagSync != 0 {
			flags |= unix.O_SYNC
		}
	}
	r, e := s.res.resolve(root, x.GuestPath, true)
	if e != 0 {
		return fmt.Errorf("resolving beneath pre-open %q: errno %d", x.Preopen, e)
	}
	fd, err := unix.Openat(r.dir, r.name, flags, 0)
	r.close()
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return err
	}
	d.hostFD, d.ftype = fd, modeFiletype(st.Mode)
	if (d.Kind == KindDir) != (d.ftype == FiletypeDirectory) {
		unix.Close(fd)
		d.hostFD = -1
		return fmt.Errorf("%w: it is no longer a %v", ErrFileChanged, d.Kind)
	}
	d.HostPath = hostPathOf(fd, d.HostPath, ".")
	if d.Kind != KindFile {
		return nil
	}
	if !acceptChanged && (st.Size != x.Size || st.Mtim.Nano() != x.MtimeNs) {
		unix.Close(fd)
		d.hostFD = -1
		return fmt.Errorf("%w: %s is %d bytes, modified %s; the checkpoint recorded %d bytes, modified %s",
			ErrFileChanged, d.HostPath, st.Size, readableTime(st.Mtim.Nano()), x.Size, readableTime(x.MtimeNs))
	}
	if x.Offset < 0 {
		unix.Close(fd)
		d.hostFD = -1
		return fmt.Errorf("negative offset %d", x.Offset)
	}
	if _, err := unix.Seek(fd, x.Offset, io.SeekStart); err != nil {
		unix.Close(fd)
		d.hostFD = -1
		return err
	}
	return nil
}

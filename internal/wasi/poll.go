package wasi

import (
	"context"
	"encoding/binary"
	"math"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

type event struct {
	userdata uint64
	errno    Errno
	typ      uint8
	nbytes   uint64
	flags    uint16
}

type pollWait struct {
	userdata uint64
	typ      uint8
	hostFD   int
	stdin    bool // standard input, for Options.StdinWait
}

type clockWait struct {
	userdata uint64
	deadline time.Duration // from the start of the call
}

// MaxPollSubscriptions is the most subscriptions one poll_oneoff takes; a
// call with more fails with ErrnoInval, as poll(2) does beyond
// RLIMIT_NOFILE descriptors. The host keeps some 100 bytes per
// subscription, so without a cap a guest's count alone (20 million made
// 4.8 GB) would size the host's memory; 4096 is four times the usual
// RLIMIT_NOFILE soft limit, more than any program waits on at once.
const MaxPollSubscriptions = 4096

// pollOneoff waits for the first of its subscriptions. Regular files are
// always ready; sockets and *os.File stdio are polled on their host
// descriptors; other Go-backed stdio is reported ready. A cancelled context
// interrupts the wait (see InterruptedError).
func (s *System) pollOneoff(ctx context.Context, m guestMem, p []uint64) Errno {
	in, out, nsubs, neventsPtr := uint32(p[0]), uint32(p[1]), uint32(p[2]), uint32(p[3])
	if nsubs == 0 || nsubs > MaxPollSubscriptions {
		return ErrnoInval
	}
	raw, e := m.read(in, nsubs*sizeSubscription)
	if e != 0 {
		return e
	}
	raw = append([]byte(nil), raw...)
	if _, e := m.read(out, nsubs*sizeEvent); e != 0 {
		return e
	}
	var ready []event
	var waits []pollWait
	var clocks []clockWait
	for i := uint32(0); i < nsubs; i++ {
		sub := raw[i*sizeSubscription:]
		ud := binary.LittleEndian.Uint64(sub)
		tag := sub[8]
		switch tag {
		case EventtypeClock:
			id := binary.LittleEndian.Uint32(sub[16:])
			timeout := binary.LittleEndian.Uint64(sub[24:])
			flags := binary.LittleEndian.Uint16(sub[40:])
			now, e := s.clock.Now(id)
			if e != 0 {
				ready = append(ready, event{userdata: ud, errno: e, typ: tag})
				continue
			}
			var d time.Duration
			if flags&SubclockAbstime != 0 {
				if timeout > now {
					d = time.Duration(min(timeout-now, math.MaxInt64))
				}
			} else {
				d = time.Duration(min(timeout, math.MaxInt64))
			}
			clocks = append(clocks, clockWait{userdata: ud, deadline: d})
		case EventtypeFdRead, EventtypeFdWrite:
			fd := binary.LittleEndian.Uint32(sub[16:])
			ev := event{userdata: ud, typ: tag}
			d, e := s.table.get(fd)
			if e == 0 && d.RightsBase&RightPollFdReadwrite == 0 {
				e = ErrnoNotcapable
			}
			if e != 0 {
				ev.errno = e
				ready = append(ready, ev)
				continue
			}
			if hfd, ok := pollableFD(d); ok {
				waits = append(waits, pollWait{userdata: ud, typ: tag, hostFD: hfd, stdin: s.isStdin(d)})
				continue
			}
			if d.Kind == KindFile && tag == EventtypeFdRead {
				var st unix.Stat_t
				if unix.Fstat(d.hostFD, &st) == nil {
					if off, err := unix.Seek(d.hostFD, 0, 1); err == nil && st.Size > off {
						ev.nbytes = uint64(st.Size - off)
					}
				}
			}
			if d.Kind == KindDir || d.Kind == KindPreopen {
				ev.errno = ErrnoBadf
			}
			ready = append(ready, ev)
		default:
			return ErrnoInval
		}
	}
	if len(ready) == 0 {
		for _, w := range waits {
			if w.typ == EventtypeFdRead && w.stdin {
				s.stdinWaits(w.hostFD)
				break
			}
		}
		var err Errno
		ready, err = waitEvents(ctx, waits, clocks)
		if err == ErrnoIntr {
			interrupt(ctx, "poll_oneoff")
		}
		if err != 0 {
			return err
		}
	}
	for i, ev := range ready {
		var b [sizeEvent]byte
		le64(b[0:], ev.userdata)
		le16(b[8:], uint16(ev.errno))
		b[10] = ev.typ
		le64(b[16:], ev.nbytes)
		le16(b[24:], ev.flags)
		if e := m.write(out+uint32(i)*sizeEvent, b[:]); e != 0 {
			return e
		}
	}
	return m.putU32(neventsPtr, uint32(len(ready)))
}

// pollableFD returns the host descriptor of a socket, or of stdio backed
// by an *os.File, which poll(2) can wait on. It goes through
// syscall.Conn, which (unlike os.File.Fd) leaves the file's mode alone.
func pollableFD(d *fileDesc) (int, bool) {
	var obj any
	switch {
	case d.Kind == KindStdio && d.Stdio == 0:
		obj = d.reader
	case d.Kind == KindStdio:
		obj = d.writer
	case d.conn != nil:
		obj = d.conn
	case d.ln != nil:
		obj = d.ln
	}
	sc, ok := obj.(syscall.Conn)
	if !ok {
		return 0, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	fd := -1
	if rc.Control(func(f uintptr) { fd = int(f) }) != nil || fd < 0 {
		return 0, false
	}
	return fd, true
}

// waitEvents blocks until a socket is ready or the earliest clock fires, in
// slices short enough to notice cancellation promptly.
func waitEvents(ctx context.Context, waits []pollWait, clocks []clockWait) ([]event, Errno) {
	start := time.Now()
	var wake *wakeup // ends the poll when ctx is cancelled (see waitReady)
	defer func() { wake.close() }()
	for first := true; ; first = false {
		if ctx.Err() != nil {
			return nil, ErrnoIntr
		}
		elapsed := time.Since(start)
		var fired []event
		next := time.Duration(-1)
		for _, c := range clocks {
			if c.deadline <= elapsed {
				fired = append(fired, event{userdata: c.userdata, typ: EventtypeClock})
			} else if next < 0 || c.deadline-elapsed < next {
				next = c.deadline - elapsed
			}
		}
		if len(fired) > 0 {
			return fired, 0
		}
		wait := pollSlice
		if next >= 0 && next < wait {
			wait = next
		}
		if len(waits) == 0 {
			if next < 0 {
				// Nothing can ever fire: the guest would hang.
				return nil, ErrnoInval
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ErrnoIntr
			case <-t.C:
			}
			continue
		}
		pfds := make([]unix.PollFd, len(waits), len(waits)+1)
		for i, w := range waits {
			ev := int16(unix.POLLIN)
			if w.typ == EventtypeFdWrite {
				ev = unix.POLLOUT
			}
			pfds[i] = unix.PollFd{Fd: int32(w.hostFD), Events: ev}
		}
		ms := int(wait / time.Millisecond)
		if ms == 0 && wait > 0 {
			ms = 1
		}
		if first {
			ms = 0 // ready at once: no wakeup needed
		} else if wake == nil {
			wake = newWakeup(ctx)
		}
		pfds = wake.add(pfds)
		n, err := unix.Poll(pfds, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, ToErrno(err)
		}
		if n == 0 {
			continue
		}
		for i, w := range waits {
			re := pfds[i].Revents
			if re == 0 {
				continue
			}
			ev := event{userdata: w.userdata, typ: w.typ}
			if re&unix.POLLHUP != 0 {
				ev.flags = EventFdReadwriteHangup
			}
			if re&(unix.POLLERR|unix.POLLNVAL) != 0 && re&(unix.POLLIN|unix.POLLOUT) == 0 {
				ev.errno = ErrnoIo
			}
			if w.typ == EventtypeFdRead {
				var avail int
				if v, err := unix.IoctlGetInt(w.hostFD, unix.TIOCINQ); err == nil {
					avail = v
				}
				ev.nbytes = uint64(max(avail, 0))
			}
			fired = append(fired, ev)
		}
		if len(fired) == 0 {
			continue // only the wakeup: the loop's ctx check ends the wait
		}
		return fired, 0
	}
}

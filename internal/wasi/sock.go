package wasi

import (
	"context"
	"errors"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Sockets. Preview 1 cannot create sockets; the embedder pre-opens
// listeners (Options.Listeners) and the guest accepts connections on them.

func (s *System) sockAccept(ctx context.Context, m guestMem, p []uint64) Errno {
	flags := uint16(p[1])
	if flags&^FdflagNonblock != 0 {
		return ErrnoInval
	}
	d, e := s.table.get(uint32(p[0]))
	if e != 0 {
		return e
	}
	if d.Kind != KindListener {
		return ErrnoNotsock
	}
	if d.RightsBase&RightSockAccept == 0 {
		return ErrnoNotcapable
	}
	nonblock := d.FDFlags&FdflagNonblock != 0
	type deadliner interface{ SetDeadline(time.Time) error }
	if dl, ok := d.ln.(deadliner); ok {
		if nonblock {
			dl.SetDeadline(time.Now())
		} else {
			dl.SetDeadline(time.Time{})
		}
	}
	if fd, ok := pollableFD(d); ok && !nonblock {
		if e := waitReady(ctx, "sock_accept", fd, unix.POLLIN); e != 0 {
			return e
		}
	}
	conn, err := d.ln.Accept()
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return ErrnoAgain
		}
		return ToErrno(err)
	}
	nd := &fileDesc{FDState: FDState{
		Kind: KindConn, Addr: conn.LocalAddr().String(), Peer: conn.RemoteAddr().String(),
		FDFlags: flags, RightsBase: d.RightsInheriting & RightsConn,
	}, hostFD: -1, conn: conn, ftype: FiletypeSocketStream}
	n, e := s.table.insert(nd)
	if e != 0 {
		conn.Close()
		return e
	}
	return m.putU32(uint32(p[2]), n)
}

func (s *System) connDesc(fd uint32) (*fileDesc, Errno) {
	d, e := s.table.get(fd)
	if e != 0 {
		return nil, e
	}
	if d.Kind != KindConn {
		return nil, ErrnoNotsock
	}
	return d, 0
}

func (s *System) sockRecv(ctx context.Context, m guestMem, p []uint64) Errno {
	d, e := s.connDesc(uint32(p[0]))
	if e != 0 {
		return e
	}
	if d.RightsBase&RightFdRead == 0 {
		return ErrnoNotcapable
	}
	riflags := uint16(p[3])
	if riflags&^(RiflagRecvPeek|RiflagRecvWaitall) != 0 {
		return ErrnoInval
	}
	if riflags&RiflagRecvPeek != 0 {
		return ErrnoNotsup
	}
	bufs, e := m.iovecs(uint32(p[1]), uint32(p[2]))
	if e != 0 {
		return e
	}
	if d.FDFlags&FdflagNonblock != 0 {
		d.conn.SetReadDeadline(time.Now())
	} else {
		if fd, ok := pollableFD(d); ok {
			if e := waitReady(ctx, "sock_recv", fd, unix.POLLIN); e != 0 {
				return e
			}
		}
		d.conn.SetReadDeadline(time.Time{})
	}
	var n int
	if riflags&RiflagRecvWaitall != 0 {
		for _, b := range bufs {
			k, err := readFull(d.conn, b)
			n += k
			if err != nil {
				break
			}
		}
	} else {
		n, e = readInto(d.conn, bufs)
		if e != 0 {
			return e
		}
	}
	if e := m.putU32(uint32(p[4]), uint32(n)); e != 0 {
		return e
	}
	return m.write(uint32(p[5]), []byte{0, 0})
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := c.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (s *System) sockSend(ctx context.Context, m guestMem, p []uint64) Errno {
	d, e := s.connDesc(uint32(p[0]))
	if e != 0 {
		return e
	}
	if d.RightsBase&RightFdWrite == 0 {
		return ErrnoNotcapable
	}
	if uint16(p[3]) != 0 {
		return ErrnoInval
	}
	bufs, e := m.iovecs(uint32(p[1]), uint32(p[2]))
	if e != 0 {
		return e
	}
	n, e := writeAll(ctx, "sock_send", d.conn, bufs)
	if e != 0 {
		return e
	}
	return m.putU32(uint32(p[4]), uint32(n))
}

func (s *System) sockShutdown(_ context.Context, _ guestMem, p []uint64) Errno {
	how := uint32(p[1])
	d, e := s.connDesc(uint32(p[0]))
	if e != 0 {
		return e
	}
	if how == 0 || how&^uint32(SdflagRd|SdflagWr) != 0 {
		return ErrnoInval
	}
	if d.RightsBase&RightSockShutdown == 0 {
		return ErrnoNotcapable
	}
	type halfCloser interface {
		CloseRead() error
		CloseWrite() error
	}
	hc, ok := d.conn.(halfCloser)
	if !ok {
		if how == uint32(SdflagRd|SdflagWr) {
			return ToErrno(d.conn.Close())
		}
		return ErrnoNotsup
	}
	if how&uint32(SdflagRd) != 0 {
		if err := hc.CloseRead(); err != nil {
			return ToErrno(err)
		}
	}
	if how&uint32(SdflagWr) != 0 {
		if err := hc.CloseWrite(); err != nil {
			return ToErrno(err)
		}
	}
	d.shut |= uint8(how)
	return 0
}

package wasi

import (
	"context"
	"encoding/binary"
	"io"

	"golang.org/x/sys/unix"
)

// Directory listings are streamed, never copied whole. A cookie is the
// index of an entry in the listing plus one, so cookies stay stable for as
// long as the directory does not change and survive a checkpoint; each
// descriptor remembers only where its last whole entry ended (dirPos), so
// the usual read-on-from-the-last-cookie costs one seek. Any other cookie
// is reached by reading from the start, which costs time in the
// directory's size but no memory. (Caching the whole listing per
// descriptor let 200 descriptors of one 20,000-entry directory hold
// 1.56 GB.)

// dirPos is where a descriptor's last fd_readdir stopped: the cookie of
// the next entry and the host's telldir position before it.
type dirPos struct {
	cookie uint64
	off    int64
}

// getdents(2) buffers: sized by the guest's buffer when it reads on from
// where it stopped, so that a small buffer does not make the host read far
// past what it returns; never below one entry of the longest name.
const (
	minDirentBuf = 1 << 10
	maxDirentBuf = 32 << 10
)

// hostDirent is one entry as getdents(2) reports it; name aliases the
// buffer.
type hostDirent struct {
	ino  uint64
	off  int64 // position after this entry, for lseek(2)
	typ  uint8
	name []byte
}

// parseDirents splits a getdents(2) buffer into entries.
func parseDirents(b []byte, each func(hostDirent) bool) Errno {
	for len(b) >= 19 {
		reclen := int(binary.LittleEndian.Uint16(b[16:]))
		if reclen < 19 || reclen > len(b) {
			return ErrnoIo
		}
		name := b[19:reclen]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		ent := hostDirent{ino: binary.LittleEndian.Uint64(b[0:]), off: int64(binary.LittleEndian.Uint64(b[8:])), typ: b[18], name: name}
		if !each(ent) {
			return 0
		}
		b = b[reclen:]
	}
	return 0
}

func direntType(dir int, t uint8, name string) uint8 {
	switch t {
	case unix.DT_DIR:
		return FiletypeDirectory
	case unix.DT_REG:
		return FiletypeRegularFile
	case unix.DT_LNK:
		return FiletypeSymbolicLink
	case unix.DT_CHR:
		return FiletypeCharacterDevice
	case unix.DT_BLK:
		return FiletypeBlockDevice
	case unix.DT_SOCK:
		return FiletypeSocketStream
	case unix.DT_UNKNOWN:
		var st unix.Stat_t
		if unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
			return modeFiletype(st.Mode)
		}
	}
	return FiletypeUnknown
}

func (s *System) fdReaddir(ctx context.Context, m guestMem, p []uint64) Errno {
	d, e := s.desc(uint32(p[0]), RightFdReaddir)
	if e != 0 {
		return e
	}
	if d.Kind != KindDir && d.Kind != KindPreopen {
		return ErrnoNotdir
	}
	buf, e := m.read(uint32(p[1]), uint32(p[2]))
	if e != 0 {
		return e
	}
	cookie := p[3]
	// Read through a fresh descriptor so the guest's own offset is left
	// alone and concurrent listings do not interfere.
	dfd, err := unix.Openat(d.hostFD, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return ToErrno(err)
	}
	defer unix.Close(dfd)
	next := uint64(0) // the cookie of the entry getdents returns next
	if cookie != 0 && cookie == d.dirPos.cookie {
		if _, err := unix.Seek(dfd, d.dirPos.off, io.SeekStart); err == nil {
			next = cookie
		}
	}
	used := 0
	pos, dirCookie := d.dirPos, d.DirCookie
	hostSize := maxDirentBuf
	if next == cookie {
		hostSize = min(max(2*len(buf), minDirentBuf), maxDirentBuf)
	}
	host := make([]byte, hostSize)
	for used < len(buf) {
		// A cookie far into a huge directory is reached by reading from
		// the start; the guest's buffer bounds the rest. Either way a
		// pause or a cancellation is noticed between reads, and the
		// call then consumes nothing.
		if ctx.Err() != nil {
			interrupt(ctx, "fd_readdir")
		}
		n, err := unix.Getdents(dfd, host)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return ToErrno(err)
		}
		if n <= 0 {
			break
		}
		if e := parseDirents(host[:n], func(ent hostDirent) bool {
			next++
			if next <= cookie {
				return true
			}
			var rec [sizeDirent]byte
			le64(rec[0:], next)
			le64(rec[8:], ent.ino)
			le32(rec[16:], uint32(len(ent.name)))
			rec[20] = direntType(dfd, ent.typ, string(ent.name))
			// An entry that does not fit is truncated; the guest sees
			// bufused == buf_len and asks again from its cookie.
			whole := len(buf)-used >= sizeDirent+len(ent.name)
			used += copy(buf[used:], rec[:])
			used += copy(buf[used:], ent.name)
			if whole {
				dirCookie = next
				pos = dirPos{cookie: next, off: ent.off}
			}
			return used < len(buf)
		}); e != 0 {
			return e
		}
	}
	d.dirPos, d.DirCookie = pos, dirCookie
	return m.putU32(uint32(p[4]), uint32(used))
}

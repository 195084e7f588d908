package wasi

import (
	"context"
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// dirent is one directory entry as fd_readdir reports it. Its cookie is
// its index in the listing plus one, so cookies stay stable for as long as
// the directory does not change, and survive a checkpoint.
type dirent struct {
	ino   uint64
	ftype uint8
	name  string
}

// listDir reads the whole directory behind fd, "." and ".." included.
func listDir(fd int) ([]dirent, Errno) {
	// Read through a fresh descriptor so the guest's own offset is left
	// alone and concurrent listings do not interfere.
	dfd, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, ToErrno(err)
	}
	defer unix.Close(dfd)
	var out []dirent
	buf := make([]byte, 32<<10)
	for {
		n, err := unix.Getdents(dfd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, ToErrno(err)
		}
		if n <= 0 {
			return out, 0
		}
		b := buf[:n]
		for len(b) >= 19 {
			reclen := int(binary.LittleEndian.Uint16(b[16:]))
			if reclen < 19 || reclen > len(b) {
				return nil, ErrnoIo
			}
			ino := binary.LittleEndian.Uint64(b[0:])
			typ := b[18]
			name := b[19:reclen]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			out = append(out, dirent{ino: ino, ftype: direntType(fd, typ, string(name)), name: string(name)})
			b = b[reclen:]
		}
	}
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

func (s *System) fdReaddir(_ context.Context, m guestMem, p []uint64) Errno {
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
	if cookie == 0 || d.dirents == nil {
		list, e := listDir(d.hostFD)
		if e != 0 {
			return e
		}
		d.dirents = list
	}
	used := 0
	if cookie < uint64(len(d.dirents)) {
		for i := int(cookie); i < len(d.dirents) && used < len(buf); i++ {
			ent := d.dirents[i]
			var rec [sizeDirent]byte
			le64(rec[0:], uint64(i+1))
			le64(rec[8:], ent.ino)
			le32(rec[16:], uint32(len(ent.name)))
			rec[20] = ent.ftype
			// An entry that does not fit is truncated; the guest sees
			// bufused == buf_len and asks again from its cookie.
			whole := len(buf)-used >= sizeDirent+len(ent.name)
			used += copy(buf[used:], rec[:])
			used += copy(buf[used:], ent.name)
			if whole {
				d.DirCookie = uint64(i + 1)
			}
		}
	}
	return m.putU32(uint32(p[4]), uint32(used))
}

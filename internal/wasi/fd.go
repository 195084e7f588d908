package wasi

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// desc looks up fd and checks that it holds every right in need.
func (s *System) desc(fd uint32, need Rights) (*fileDesc, Errno) {
	d, e := s.table.get(fd)
	if e != 0 {
		return nil, e
	}
	if d.RightsBase&need != need {
		return nil, ErrnoNotcapable
	}
	return d, 0
}

// fileFD returns the host fd of a descriptor that has one (files and
// directories), or ErrnoBadf.
func (d *fileDesc) fileFD() (int, Errno) {
	if d.hostFD < 0 {
		return -1, ErrnoBadf
	}
	return d.hostFD, 0
}

func (s *System) fdAdvise(_ context.Context, _ guestMem, p []uint64) Errno {
	if uint32(p[3]) > 5 {
		return ErrnoInval
	}
	d, e := s.desc(uint32(p[0]), RightFdAdvise)
	if e != 0 {
		return e
	}
	if d.Kind != KindFile {
		return ErrnoBadf
	}
	if int64(p[1]) < 0 || int64(p[2]) < 0 {
		return ErrnoInval
	}
	// Advice is a hint; the host may ignore it, so errors are not reported.
	hostAdvice := [...]int{unix.FADV_NORMAL, unix.FADV_SEQUENTIAL, unix.FADV_RANDOM, unix.FADV_WILLNEED, unix.FADV_DONTNEED, unix.FADV_NOREUSE}
	_ = unix.Fadvise(d.hostFD, int64(p[1]), int64(p[2]), hostAdvice[p[3]])
	return 0
}

func (s *System) fdAllocate(_ context.Context, _ guestMem, p []uint64) Errno {
	d, e := s.desc(uint32(p[0]), RightFdAllocate)
	if e != 0 {
		return e
	}
	if d.Kind != KindFile {
		return ErrnoBadf
	}
	off, n := p[1], p[2]
	if off > math.MaxInt64 || n > math.MaxInt64 || off+n > math.MaxInt64 {
		return ErrnoInval
	}
	var st unix.Stat_t
	if err := unix.Fstat(d.hostFD, &st); err != nil {
		return ToErrno(err)
	}
	// posix_fallocate semantics: the file grows to cover the range and
	// never shrinks. ftruncate gives that on every filesystem.
	if end := int64(off + n); end > st.Size {
		if err := unix.Ftruncate(d.hostFD, end); err != nil {
			return ToErrno(err)
		}
	}
	return 0
}

func (s *System) fdClose(_ context.Context, _ guestMem, p []uint64) Errno {
	d, e := s.table.remove(uint32(p[0]))
	if e != 0 {
		return e
	}
	if err := d.close(); err != nil {
		return ToErrno(err)
	}
	return 0
}

func (s *System) fdDatasync(_ context.Context, _ guestMem, p []uint64) Errno {
	d, e := s.desc(uint32(p[0]), RightFdDatasync)
	if e != 0 {
		return e
	}
	fd, e := d.fileFD()
	if e != 0 {
		return e
	}
	return ToErrno(unix.Fdatasync(fd))
}

func (s *System) fdSync(_ context.Context, _ guestMem, p []uint64) Errno {
	d, e := s.desc(uint32(p[0]), RightFdSync)
	if e != 0 {
		return e
	}
	fd, e := d.fileFD()
	if e != 0 {
		return e
	}
	return ToErrno(unix.Fsync(fd))
}

func (s *System) fdFdstatGet(_ context.Context, m guestMem, p []uint64) Errno {
	d, e := s.table.get(uint32(p[0]))
	if e != 0 {
		return e
	}
	var b [sizeFdstat]byte
	b[0] = d.ftype
	le16(b[2:], d.FDFlags)
	le64(b[8:], uint64(d.RightsBase))
	le64(b[16:], uint64(d.RightsInheriting))
	return m.write(uint32(p[1]), b[:])
}

func (s *System) fdFdstatSetFlags(_ context.Context, _ guestMem, p []uint64) Errno {
	flags := uint16(p[1])
	if uint32(p[1])&^uint32(fdflagsAll) != 0 {
		return ErrnoInval
	}
	d, e := s.desc(uint32(p[0]), RightFdFdstatSetFlags)
	if e != 0 {
		return e
	}
	if d.hostFD < 0 {
		if d.Kind == KindStdio && flags&^FdflagNonblock == d.FDFlags&^FdflagNonblock {
			d.FDFlags = flags
			return 0
		}
		if d.Kind == KindConn || d.Kind == KindListener {
			d.FDFlags = flags & FdflagNonblock
			return 0
		}
		return ErrnoNotsup
	}
	// Linux cannot change the synchronisation flags of an open file.
	const syncFlags = FdflagDsync | FdflagRsync | FdflagSync
	if flags&syncFlags != d.FDFlags&syncFlags {
		return ErrnoNotsup
	}
	cur, err := unix.FcntlInt(uintptr(d.hostFD), unix.F_GETFL, 0)
	if err != nil {
		return ToErrno(err)
	}
	cur &^= unix.O_APPEND | unix.O_NONBLOCK
	if flags&FdflagAppend != 0 {
		cur |= unix.O_APPEND
	}
	if flags&FdflagNonblock != 0 {
		cur |= unix.O_NONBLOCK
	}
	if _, err := unix.FcntlInt(uintptr(d.hostFD), unix.F_SETFL, cur); err != nil {
		return ToErrno(err)
	}
	d.FDFlags = flags
	return 0
}

func (s *System) fdFdstatSetRights(_ context.Context, _ guestMem, p []uint64) Errno {
	d, e := s.table.get(uint32(p[0]))
	if e != 0 {
		return e
	}
	base, inh := Rights(p[1]), Rights(p[2])
	// Rights can only be dropped, never gained.
	if base&^d.RightsBase != 0 || inh&^d.RightsInheriting != 0 {
		return ErrnoNotcapable
	}
	d.RightsBase, d.RightsInheriting = base, inh
	return 0
}

// filestat encodes a host stat in the 64-byte filestat layout.
func filestat(st *unix.Stat_t) [sizeFilestat]byte {
	var b [sizeFilestat]byte
	le64(b[0:], st.Dev)
	le64(b[8:], st.Ino)
	b[16] = modeFiletype(st.Mode)
	le64(b[24:], uint64(st.Nlink))
	le64(b[32:], uint64(st.Size))
	le64(b[40:], uint64(st.Atim.Nano()))
	le64(b[48:], uint64(st.Mtim.Nano()))
	le64(b[56:], uint64(st.Ctim.Nano()))
	return b
}

func modeFiletype(mode uint32) uint8 {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return FiletypeRegularFile
	case unix.S_IFDIR:
		return FiletypeDirectory
	case unix.S_IFLNK:
		return FiletypeSymbolicLink
	case unix.S_IFCHR:
		return FiletypeCharacterDevice
	case unix.S_IFBLK:
		return FiletypeBlockDevice
	case unix.S_IFSOCK:
		return FiletypeSocketStream
	}
	return FiletypeUnknown
}

func (s *System) fdFilestatGet(_ context.Context, m guestMem, p []uint64) Errno {
	d, e := s.desc(uint32(p[0]), RightFdFilestatGet)
	if e != 0 {
		return e
	}
	if d.hostFD < 0 {
		var b [sizeFilestat]byte
		b[16] = d.ftype
		le64(b[24:], 1)
		return m.write(uint32(p[1]), b[:])
	}
	var st unix.Stat_t
	if err := unix.Fstat(d.hostFD, &st); err != nil {
		return ToErrno(err)
	}
	b := filestat(&st)
	return m.write(uint32(p[1]), b[:])
}

func (s *System) fdFilestatSetSize(_ context.Context, _ guestMem, p []uint64) Errno {
	d, e := s.desc(uint32(p[0]), RightFdFilestatSetSize)
	if e != 0 {
		return e
	}
	if d.Kind != KindFile {
		return ErrnoBadf
	}
	if p[1] > math.MaxInt64 {
		return ErrnoInval
	}
	return ToErrno(unix.Ftruncate(d.hostFD, int64(p[1])))
}

// timespecs converts WASI (atim, mtim, fstflags) to utimensat times.
func timespecs(atim, mtim uint64, flags uint16) ([2]unix.Timespec, Errno) {
	var ts [2]unix.Timespec
	if flags&^(FstflagAtim|FstflagAtimNow|FstflagMtim|FstflagMtimNow) != 0 {
		return ts, ErrnoInval
	}
	if flags&(FstflagAtim|FstflagAtimNow) == FstflagAtim|FstflagAtimNow ||
		flags&(FstflagMtim|FstflagMtimNow) == FstflagMtim|FstflagMtimNow {
		return ts, ErrnoInval
	}
	one := func(v uint64, set, now uint16) unix.Timespec {
		switch {
		case flags&now != 0:
			return unix.Timespec{Nsec: unix.UTIME_NOW}
		case flags&set != 0:
			return unix.NsecToTimespec(int64(v))
		}
		return unix.Timespec{Nsec: unix.UTIME_OMIT}
	}
	ts[0] = one(atim, FstflagAtim, FstflagAtimNow)
	ts[1] = one(mtim, FstflagMtim, FstflagMtimNow)
	return ts, 0
}

// futimens sets times on an open fd (utimensat with a NULL path).
func futimens(fd int, ts *[2]unix.Timespec) error {
	_, _, errno := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

func (s *System) fdFilestatSetTimes(_ context.Context, _ guestMem, p []uint64) Errno {
	ts, e := timespecs(p[1], p[2], uint16(p[3]))
	if e != 0 {
		return e
	}
	if uint32(p[3]) > 0xffff {
		return ErrnoInval
	}
	d, e := s.desc(uint32(p[0]), RightFdFilestatSetTimes)
	if e != 0 {
		return e
	}
	fd, e := d.fileFD()
	if e != 0 {
		return e
	}
	return ToErrno(futimens(fd, &ts))
}

func (s *System) fdPrestatGet(_ context.Context, m guestMem, p []uint64) Errno {
	d, e := s.table.get(uint32(p[0]))
	if e != 0 {
		return e
	}
	if d.Kind != KindPreopen {
		return ErrnoBadf
	}
	var b [sizePrestat]byte
	le32(b[4:], uint32(len(d.Preopen)))
	return m.write(uint32(p[1]), b[:])
}

func (s *System) fdPrestatDirName(_ context.Context, m guestMem, p []uint64) Errno {
	d, e := s.table.get(uint32(p[0]))
	if e != 0 {
		return e
	}
	if d.Kind != KindPreopen {
		return ErrnoBadf
	}
	if uint32(p[2]) < uint32(len(d.Preopen)) {
		return ErrnoNametoolong
	}
	return m.write(uint32(p[1]), []byte(d.Preopen))
}

// readv reads into bufs from a descriptor's stream.
func (s *System) readv(d *fileDesc, bufs [][]byte) (int, Errno) {
	switch {
	case d.hostFD >= 0:
		if d.Kind != KindFile {
			return 0, ErrnoIsdir
		}
		n, err := unix.Readv(d.hostFD, bufs)
		if err != nil {
			return 0, ToErrno(err)
		}
		return n, 0
	case d.reader != nil:
		return readInto(d.reader, bufs)
	case d.conn != nil:
		return readInto(d.conn, bufs)
	}
	return 0, ErrnoBadf
}

// readInto fills bufs from r with at most one blocking read per buffer,
// stopping at the first short read, like readv on a pipe.
func readInto(r io.Reader, bufs [][]byte) (int, Errno) {
	total := 0
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		n, err := r.Read(b)
		total += n
		if err != nil {
			if errors.Is(err, io.EOF) || total > 0 {
				return total, 0
			}
			return total, ToErrno(err)
		}
		if n < len(b) {
			break
		}
	}
	return total, 0
}

func (s *System) writev(ctx context.Context, d *fileDesc, bufs [][]byte) (int, Errno) {
	switch {
	case d.hostFD >= 0:
		if d.Kind != KindFile {
			return 0, ErrnoIsdir
		}
		n, err := unix.Writev(d.hostFD, bufs)
		if err != nil {
			return 0, ToErrno(err)
		}
		return n, 0
	case d.writer != nil:
		if f, ok := d.writer.(*os.File); ok {
			return writeFile(ctx, f, bufs)
		}
		return writeAll(ctx, "fd_write", d.writer, bufs)
	case d.conn != nil:
		return writeAll(ctx, "fd_write", d.conn, bufs)
	}
	return 0, ErrnoBadf
}

// writeChunk is the most writeAll hands a Go writer at once. Between
// chunks it looks at ctx, so that a pause or a cancellation (SIGINT) that
// comes while a guest writes gigabytes to a slow writer is acted on within
// a chunk rather than after the whole call.
const writeChunk = 1 << 20

// writeAll writes bufs to w in chunks. When ctx is done before anything
// was written, the call gives up having consumed nothing (interrupt), and
// is issued again on resume; when some was written, it returns that short
// count, as write(2) may, and the guest's next pause point stops it.
func writeAll(ctx context.Context, fn string, w io.Writer, bufs [][]byte) (int, Errno) {
	total := 0
	for _, b := range bufs {
		for len(b) > 0 {
			if ctx.Err() != nil {
				if total == 0 {
					interrupt(ctx, fn)
				}
				return total, 0
			}
			chunk := b[:min(len(b), writeChunk)]
			n, err := w.Write(chunk)
			if err == nil && n < len(chunk) {
				err = io.ErrShortWrite // a writer breaking io.Writer's contract
			}
			total += n
			if err != nil {
				if total > 0 {
					return total, 0
				}
				return 0, ToErrno(err)
			}
			b = b[n:]
		}
	}
	return total, 0
}

func (s *System) fdRead(ctx context.Context, m guestMem, p []uint64) Errno {
	d, e := s.desc(uint32(p[0]), RightFdRead)
	if e != 0 {
		return e
	}
	bufs, e := m.iovecs(uint32(p[1]), uint32(p[2]))
	if e != 0 {
		return e
	}
	// Wait for a pipe, terminal or socket interruptibly before reading.
	if d.Kind == KindStdio || d.Kind == KindConn {
		if fd, ok := pollableFD(d); ok {
			if d.FDFlags&FdflagNonblock != 0 {
				// The guest asked not to block (Go's wasip1 runtime does
				// for its standard streams, then waits in poll_oneoff):
				// reading the host's blocking stream would block anyway,
				// and uninterruptibly.
				if !readable(fd) {
					return ErrnoAgain
				}
			} else {
				if s.isStdin(d) {
					s.stdinWaits(fd)
				}
				if e := waitReady(ctx, "fd_read", fd, unix.POLLIN); e != 0 {
					return e
				}
			}
		}
	}
	n, e := s.readv(d, bufs)
	if e != 0 {
		return e
	}
	return m.putU32(uint32(p[3]), uint32(n))
}

func (s *System) fdWrite(ctx context.Context, m guestMem, p []uint64) Errno {
	d, e := s.desc(uint32(p[0]), RightFdWrite)
	if e != 0 {
		return e
	}
	bufs, e := m.iovecs(uint32(p[1]), uint32(p[2]))
	if e != 0 {
		return e
	}
	n, e := s.writev(ctx, d, bufs)
	if e != 0 {
		return e
	}
	return m.putU32(uint32(p[3]), uint32(n))
}

func (s *System) fdPread(_ context.Context, m guestMem, p []uint64) Errno {
	return s.positionedIO(m, p, RightFdRead|RightFdSeek, unix.Preadv)
}

func (s *System) fdPwrite(_ context.Context, m guestMem, p []uint64) Errno {
	return s.positionedIO(m, p, RightFdWrite|RightFdSeek, unix.Pwritev)
}

// positionedIO is fd_pread and fd_pwrite: (fd, iovs, iovs_len, offset,
// nread/nwritten) with io doing the transfer at the offset, which leaves
// the descriptor's own offset alone.
func (s *System) positionedIO(m guestMem, p []uint64, rights Rights, io func(fd int, iovs [][]byte, off int64) (int, error)) Errno {
	d, e := s.desc(uint32(p[0]), rights)
	if e != 0 {
		return e
	}
	if d.Kind != KindFile {
		if d.Kind == KindDir || d.Kind == KindPreopen {
			return ErrnoIsdir
		}
		return ErrnoSpipe
	}
	if p[3] > math.MaxInt64 {
		return ErrnoInval
	}
	bufs, e := m.iovecs(uint32(p[1]), uint32(p[2]))
	if e != 0 {
		return e
	}
	n, err := io(d.hostFD, bufs, int64(p[3]))
	if err != nil {
		return ToErrno(err)
	}
	return m.putU32(uint32(p[4]), uint32(n))
}

func (s *System) fdRenumber(_ context.Context, _ guestMem, p []uint64) Errno {
	return s.table.renumber(uint32(p[0]), uint32(p[1]))
}

func (s *System) fdSeek(_ context.Context, m guestMem, p []uint64) Errno {
	whence := uint32(p[2])
	need := RightFdSeek
	if whence == uint32(WhenceCur) && p[1] == 0 {
		need = RightFdTell
	}
	d, e := s.desc(uint32(p[0]), need)
	if e != 0 {
		return e
	}
	if whence > uint32(WhenceEnd) {
		return ErrnoInval
	}
	if d.Kind != KindFile {
		if d.Kind == KindDir || d.Kind == KindPreopen {
			return ErrnoIsdir
		}
		return ErrnoSpipe
	}
	off, err := unix.Seek(d.hostFD, int64(p[1]), int(whence))
	if err != nil {
		return ToErrno(err)
	}
	return m.putU64(uint32(p[3]), uint64(off))
}

func (s *System) fdTell(_ context.Context, m guestMem, p []uint64) Errno {
	d, e := s.desc(uint32(p[0]), RightFdTell)
	if e != 0 {
		return e
	}
	if d.Kind != KindFile {
		if d.Kind == KindDir || d.Kind == KindPreopen {
			return ErrnoIsdir
		}
		return ErrnoSpipe
	}
	off, err := unix.Seek(d.hostFD, 0, io.SeekCurrent)
	if err != nil {
		return ToErrno(err)
	}
	return m.putU64(uint32(p[1]), uint64(off))
}

package snapshot

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/klauspost/compress/zstd"
)

// SectionInfo describes one section of a file as read.
type SectionInfo struct {
	Type       SectionType
	Offset     int64  // file offset of the payload
	Length     uint64 // stored length
	RawLength  uint64 // decoded length
	Compressed bool
	Skipped    bool   // unknown type of a newer minor version
	Checksum   uint32 // CRC32C of the stored payload
}

// File is a checkpoint whose container and every section except memory
// data have been read and checked. Memory data stays in the file: see
// MemoryData, ReadMemory. Frame values stay encoded: see FrameHeaders,
// Frames.
type File struct {
	Major, Minor uint16
	Snapshot     Snapshot
	Sections     []SectionInfo
	memData      []SectionInfo   // one per memory
	memDigests   []MemoryDigests // signed digests of memData (sign.go), or nil
	chunkSums    []ChunkSums     // per-chunk CRCs of memData (chunksums.go), or nil
	frames       frameSection
	r            io.ReaderAt
}

// frameSection is the frames section as read: its checked payload, kept
// as stored (compressed or not, so no larger than its share of the file,
// and immune to later changes of the file), and the frame headers.
type frameSection struct {
	info   SectionInfo
	stored []byte
	heads  []FrameHeader
	lim    Limits
}

// Read reads the checkpoint in r (size bytes). Every checksum, length,
// count and encoding is checked; an error wraps ErrNotCheckpoint,
// ErrVersion or ErrCorrupt and says where. The memory data sections are
// located and bounds-checked, not read (their checksums are checked by
// ReadMemory, VerifyMemory or VerifyMemoryAt). The structures decoded
// stay within DefaultLimits.
func Read(r io.ReaderAt, size int64) (*File, error) {
	return ReadWithLimits(r, size, DefaultLimits())
}

// ReadWithLimits is Read with the structures decoded bounded by lim
// (a zero field, or one above the default, means the default).
func ReadWithLimits(r io.ReaderAt, size int64, lim Limits) (*File, error) {
	lim = lim.bounded()
	var hdr [fileHeaderSize]byte
	if size < fileHeaderSize {
		if size >= int64(len(Magic)) {
			if _, err := r.ReadAt(hdr[:len(Magic)], 0); err == nil && string(hdr[:len(Magic)]) != Magic {
				return nil, ErrNotCheckpoint
			}
		}
		return nil, fmt.Errorf("%w: truncated: %d bytes, not even a header", ErrCorrupt, size)
	}
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, fmt.Errorf("%w: reading the header: %v", ErrCorrupt, err)
	}
	if string(hdr[:8]) != Magic {
		return nil, ErrNotCheckpoint
	}
	f := &File{Major: binary.LittleEndian.Uint16(hdr[8:]), Minor: binary.LittleEndian.Uint16(hdr[10:]), r: r}
	if binary.LittleEndian.Uint32(hdr[12:]) != crc(hdr[:12]) {
		return nil, fmt.Errorf("%w: header checksum mismatch", ErrCorrupt)
	}
	if f.Major != Major {
		return nil, fmt.Errorf("%w: the file is format %d.%d, this Ferry reads format %d.x (%d.%d); use a Ferry release that reads format %d",
			ErrVersion, f.Major, f.Minor, Major, Major, Minor, f.Major)
	}
	off := int64(fileHeaderSize)
	seen := map[SectionType]bool{}
	s := &f.Snapshot
	var pendingMem *Memory
	runs := lim.PageRuns
	for {
		if size-off < sectionHeaderSize {
			return nil, fmt.Errorf("%w: truncated at byte %d: no end section", ErrCorrupt, off)
		}
		var h [sectionHeaderSize]byte
		if _, err := r.ReadAt(h[:], off); err != nil {
			return nil, fmt.Errorf("%w: reading section header at byte %d: %v", ErrCorrupt, off, err)
		}
		if binary.LittleEndian.Uint32(h[28:]) != crc(h[:28]) {
			return nil, fmt.Errorf("%w: section header checksum mismatch at byte %d", ErrCorrupt, off)
		}
		info := SectionInfo{
			Type:      SectionType(binary.LittleEndian.Uint16(h[0:])),
			Length:    binary.LittleEndian.Uint64(h[8:]),
			RawLength: binary.LittleEndian.Uint64(h[16:]),
		}
		flags := binary.LittleEndian.Uint16(h[2:])
		pad := binary.LittleEndian.Uint32(h[4:])
		sum := binary.LittleEndian.Uint32(h[24:])
		info.Compressed = flags&flagZstd != 0
		info.Checksum = sum
		where := fmt.Sprintf("%v section at byte %d", info.Type, off)
		if flags&^knownFlags != 0 || (flags&flagDataOmitted != 0 && info.Type != SectionMemory) {
			return nil, fmt.Errorf("%w: %s: unknown flags 0x%x", ErrCorrupt, where, flags)
		}
		if pad >= PageSize {
			return nil, fmt.Errorf("%w: %s: padding %d", ErrCorrupt, where, pad)
		}
		info.Offset = off + sectionHeaderSize + int64(pad)
		if info.Offset > size || info.Length > uint64(size-info.Offset) {
			return nil, fmt.Errorf("%w: %s: truncated: %d payload bytes declared, %d left", ErrCorrupt, where, info.Length, max(size-info.Offset, 0))
		}
		if !info.Compressed && info.RawLength != info.Length {
			return nil, fmt.Errorf("%w: %s: decoded length %d differs from stored length %d", ErrCorrupt, where, info.RawLength, info.Length)
		}
		if pad != 0 {
			zeros := make([]byte, pad)
			if _, err := r.ReadAt(zeros, off+sectionHeaderSize); err != nil || !allZero(zeros) {
				return nil, fmt.Errorf("%w: %s: padding is not zero", ErrCorrupt, where)
			}
		}
		next := info.Offset + int64(info.Length)
		known := info.Type == SectionEnd || info.Type == SectionIdle || info.Type == SectionHostState || (info.Type >= SectionMeta && info.Type <= SectionProfile) || info.Type == SectionChunkSums
		if !known {
			if f.Minor <= Minor {
				return nil, fmt.Errorf("%w: %s: unknown section type in a format %d.%d file", ErrCorrupt, where, f.Major, f.Minor)
			}
			info.Skipped = true
			f.Sections = append(f.Sections, info)
			off = next
			continue
		}
		if info.Type == SectionEnd {
			if info.Length != 0 {
				return nil, fmt.Errorf("%w: %s: end section has a payload", ErrCorrupt, where)
			}
			f.Sections = append(f.Sections, info)
			break
		}
		if len(f.Sections) == 0 && info.Type != SectionMeta {
			return nil, fmt.Errorf("%w: %s: the first section must be meta", ErrCorrupt, where)
		}
		if pendingMem != nil && info.Type != SectionMemoryData {
			return nil, fmt.Errorf("%w: %s: a memory section must be followed by its data", ErrCorrupt, where)
		}
		if seen[info.Type] && info.Type != SectionMemory && info.Type != SectionMemoryData {
			return nil, fmt.Errorf("%w: %s: duplicate section", ErrCorrupt, where)
		}
		seen[info.Type] = true
		if limit := maxPayload(info.Type, lim); info.RawLength > limit || info.Length > limit {
			return nil, fmt.Errorf("%w: %s: %d bytes exceed the limit %d", ErrCorrupt, where, max(info.RawLength, info.Length), limit)
		}
		f.Sections = append(f.Sections, info)
		if info.Type == SectionIdle {
			if info.Length != 0 || info.RawLength != 0 || info.Compressed {
				return nil, fmt.Errorf("%w: %s: the idle section has a payload", ErrCorrupt, where)
			}
			s.Idle = true
			off = next
			continue
		}
		if info.Type == SectionMemoryData {
			if pendingMem == nil {
				return nil, fmt.Errorf("%w: %s: memory data without a memory section", ErrCorrupt, where)
			}
			if want := pendingMem.PresentPages() * PageSize; info.RawLength != want {
				return nil, fmt.Errorf("%w: %s: %d bytes of data for %d present pages", ErrCorrupt, where, info.RawLength, want/PageSize)
			}
			if !info.Compressed && info.Offset%PageSize != 0 {
				return nil, fmt.Errorf("%w: %s: uncompressed memory data is not page-aligned", ErrCorrupt, where)
			}
			f.memData = append(f.memData, info)
			pendingMem = nil
			off = next
			continue
		}
		if info.Type == SectionModule || info.Type == SectionCallsites || info.Type == SectionProfile || info.Type == SectionChunkSums || info.Type == SectionHostState {
			payload, err := f.load(info)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			switch info.Type {
			case SectionModule:
				s.Module = payload
			case SectionCallsites:
				s.Callsites, err = decodeCallsites(payload)
			case SectionProfile:
				s.Profile, err = decodeProfile(payload)
			case SectionChunkSums:
				// After the memories it describes, so that their data
				// sections are known.
				var all []ChunkSums
				if all, err = decodeChunkSums(payload); err == nil {
					f.chunkSums, err = f.checkChunkSums(all)
				}
			case SectionHostState:
				s.Host, err = DecodeHostStates(payload)
			}
			if err != nil {
				return nil, err
			}
			off = next
			continue
		}
		stored, err := f.stored(info)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		d, done, err := decoderOf(info, stored)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		switch info.Type {
		case SectionMeta:
			s.Meta, err = readMeta(d)
		case SectionFrames:
			// The values are checked, not kept: a restore decodes them
			// (Frames) once their counts fit the module.
			f.frames = frameSection{info: info, stored: stored, lim: lim}
			f.frames.heads, err = readFrameHeaders(d, lim)
		case SectionGlobals:
			s.Globals, err = readGlobals(d, lim)
		case SectionTables:
			s.Tables, err = readTables(d, lim)
		case SectionMemory:
			if len(s.Memories) >= MaxMemories {
				done()
				return nil, fmt.Errorf("%w: %s: more than %d memories", ErrCorrupt, where, MaxMemories)
			}
			var m Memory
			m, err = readMemoryMap(d, len(s.Memories), &runs)
			if err == nil && flags&flagDataOmitted != 0 {
				m.DataOmitted = true
				if len(m.Runs) != 0 {
					err = fmt.Errorf("%w: %s: %d page runs in a memory whose data is omitted", ErrCorrupt, where, len(m.Runs))
				}
			}
			s.Memories = append(s.Memories, m)
			pendingMem = &s.Memories[len(s.Memories)-1]
		case SectionSegments:
			s.Segments, err = readSegments(d)
		case SectionWASI:
			s.WASI, err = readWASI(d, lim)
		}
		done()
		if err != nil {
			return nil, err
		}
		off = next
	}
	if pendingMem != nil {
		return nil, fmt.Errorf("%w: memory %d has no data section", ErrCorrupt, len(s.Memories)-1)
	}
	// Exactly one of frames (a paused call) and idle (none).
	switch {
	case seen[SectionFrames] && seen[SectionIdle]:
		return nil, fmt.Errorf("%w: both a frames and an idle section", ErrCorrupt)
	case !seen[SectionFrames] && !seen[SectionIdle]:
		return nil, fmt.Errorf("%w: missing frames section (and no idle section)", ErrCorrupt)
	}
	for _, t := range []SectionType{SectionMeta, SectionGlobals, SectionTables, SectionSegments} {
		if !seen[t] {
			return nil, fmt.Errorf("%w: missing %v section", ErrCorrupt, t)
		}
	}
	if s.Module != nil && uint64(len(s.Module)) != s.Meta.ModuleSize {
		return nil, fmt.Errorf("%w: module section has %d bytes, meta says %d", ErrCorrupt, len(s.Module), s.Meta.ModuleSize)
	}
	return f, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// FrameHeaders are the headers of the paused call's frames (none in an
// idle checkpoint), outermost first, with the number of each one's
// locals and operands. The slice is the File's: callers do not change it.
func (f *File) FrameHeaders() []FrameHeader { return f.frames.heads }

// Frames decodes the frames with their values, which Read checked but did
// not keep. What they take (24 bytes a value) is bounded only by the
// reader's Limits, up to 192 MiB from a file of a few kilobytes: check
// FrameHeaders against what the module and the runtime allow first.
func (f *File) Frames() ([]Frame, error) {
	if f.Snapshot.Idle {
		return nil, nil
	}
	fs := &f.frames
	d, done, err := decoderOf(fs.info, fs.stored)
	if err != nil {
		return nil, fmt.Errorf("%v section: %w", fs.info.Type, err)
	}
	defer done()
	return readFrames(d, fs.lim)
}

// decoderOf returns a decoder of a section's stored payload, whose
// checksum the caller checked. A compressed payload is decoded as it
// decompresses, so that what a forged section makes the reader allocate
// is bounded by the counts the decoding accepts, not by the decompressed
// length. done releases the decompressor.
func decoderOf(info SectionInfo, stored []byte) (d *decoder, done func(), err error) {
	what := info.Type.String()
	if !info.Compressed {
		return &decoder{b: stored, what: what}, func() {}, nil
	}
	zr, err := sectionDecompressor(stored, info)
	if err != nil {
		return nil, nil, err
	}
	return &decoder{r: bufio.NewReaderSize(zr, 32<<10), size: int(info.RawLength), what: what}, zr.Close, nil
}

// maxSectionWindow is the largest zstd window a section other than memory
// data may use: the decompressor allocates the window a frame declares
// before it decodes anything, so a forged section of a few kilobytes
// could otherwise cost as much as its decoded-length cap (hundreds of
// MiB). Write never uses more (its encoder's default window; a payload
// below that is one segment of its own size), and RFC 8878 recommends
// that every decoder support this much.
const maxSectionWindow = 8 << 20

// sectionDecompressor returns a streaming decompressor of a section's
// stored payload.
func sectionDecompressor(stored []byte, info SectionInfo) (*zstd.Decoder, error) {
	// The decompressor refuses a larger window too, but only once read
	// from, and with a message about sizes: say what is wrong here.
	var h zstd.Header
	if err := h.Decode(stored); err != nil {
		return nil, fmt.Errorf("%w: decompressing: %v", ErrCorrupt, err)
	}
	window := h.WindowSize
	if h.SingleSegment {
		window = h.FrameContentSize
	}
	if window > maxSectionWindow {
		return nil, fmt.Errorf("%w: a zstd window of %d bytes exceeds the limit %d", ErrCorrupt, window, maxSectionWindow)
	}
	zr, err := zstd.NewReader(bytes.NewReader(stored), zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxMemory(max(info.RawLength, 16<<20)), zstd.WithDecoderMaxWindow(maxSectionWindow),
		zstd.WithDecoderLowmem(true))
	if err != nil {
		return nil, fmt.Errorf("%w: decompressing: %v", ErrCorrupt, err)
	}
	return zr, nil
}

// stored reads a section's stored payload and checks its checksum.
func (f *File) stored(info SectionInfo) ([]byte, error) {
	stored := make([]byte, info.Length)
	if _, err := f.r.ReadAt(stored, info.Offset); err != nil {
		return nil, fmt.Errorf("%w: reading: %v", ErrCorrupt, err)
	}
	if crc(stored) != info.Checksum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return stored, nil
}

// load reads a section's payload, checks its checksum and decompresses it.
func (f *File) load(info SectionInfo) ([]byte, error) {
	stored, err := f.stored(info)
	if err != nil {
		return nil, err
	}
	if !info.Compressed {
		return stored, nil
	}
	// Stream the decoding so that memory grows with the data actually
	// decoded, never with a length a forged header claims.
	zr, err := sectionDecompressor(stored, info)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, int64(info.RawLength)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: decompressing: %v", ErrCorrupt, err)
	}
	if uint64(len(out)) != info.RawLength {
		return nil, fmt.Errorf("%w: decompressed to %d bytes, want %d", ErrCorrupt, len(out), info.RawLength)
	}
	return out, nil
}

// MemoryData returns where memory i's present pages are stored: the
// payload's file offset and length, and whether it is mappable (stored
// uncompressed, so the pages lie page-aligned in file order of Runs).
func (f *File) MemoryData(i int) (offset int64, length uint64, mappable bool) {
	d := f.memData[i]
	return d.Offset, d.Length, !d.Compressed
}

// VerifyMemory checks memory i's data checksum (reading the stored data,
// not the zero pages; see VerifyMemoryAt).
func (f *File) VerifyMemory(i int) error {
	return f.VerifyMemoryAt(context.Background(), i, f.r)
}

// ReadMemory copies memory i's present pages into dst, which must be
// Size bytes long and zero (absent pages are not written), checking the
// data checksum and decompressing as needed.
func (f *File) ReadMemory(i int, dst []byte) error {
	m := &f.Snapshot.Memories[i]
	if uint64(len(dst)) != m.Size {
		return fmt.Errorf("snapshot: memory %d: destination has %d bytes, want %d", i, len(dst), m.Size)
	}
	d := f.memData[i]
	if d.Compressed || f.memDigests != nil {
		// The checksum (or signed digest) covers the stored bytes: check
		// it before decompressing or copying anything.
		if err := f.VerifyMemory(i); err != nil {
			return err
		}
	}
	if d.Compressed {
		zr, err := zstd.NewReader(io.NewSectionReader(f.r, d.Offset, int64(d.Length)),
			zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<31))
		if err != nil {
			return err
		}
		defer zr.Close()
		if err := readRuns(zr, m, dst); err != nil {
			return fmt.Errorf("%w: memory %d data: %v", ErrCorrupt, i, err)
		}
		if n, err := io.Copy(io.Discard, zr); err != nil || n != 0 {
			return fmt.Errorf("%w: memory %d data: %d bytes beyond the page map (%v)", ErrCorrupt, i, n, err)
		}
		return nil
	}
	h := crc32.New(castagnoli)
	src := io.TeeReader(io.NewSectionReader(f.r, d.Offset, int64(d.Length)), h)
	if err := readRuns(src, m, dst); err != nil {
		return fmt.Errorf("%w: memory %d data: %v", ErrCorrupt, i, err)
	}
	if h.Sum32() != d.Checksum {
		return fmt.Errorf("%w: memory %d data: checksum mismatch", ErrCorrupt, i)
	}
	return nil
}

func readRuns(src io.Reader, m *Memory, dst []byte) error {
	for _, r := range m.Runs {
		if _, err := io.ReadFull(src, dst[r.First*PageSize:(r.First+r.Count)*PageSize]); err != nil {
			return err
		}
	}
	return nil
}

// ReadBytes reads a whole checkpoint held in memory.
func ReadBytes(b []byte) (*File, error) { return Read(bytes.NewReader(b), int64(len(b))) }

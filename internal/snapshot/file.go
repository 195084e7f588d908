// Package snapshot is Ferry's checkpoint file format: a defensive container
// (magic, major.minor version, length-prefixed sections each with a type,
// a length and CRC32C checksums, caps on every count and size) holding the
// portable state of a paused instance in WebAssembly terms only.
//
// The format is specified in docs/snapshot-format.md; this package is its
// reference implementation. It knows nothing about the engine: callers
// translate between the store and Snapshot.
package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/klauspost/compress/zstd"
)

// Format version written by this package. A reader accepts any minor
// version of its major version: sections it does not know are skipped
// when the file's minor version is newer than its own.
const (
	Major uint16 = 1
	Minor uint16 = 3
)

// Magic starts every checkpoint file.
const Magic = "FERRYCKP"

// PageSize is the granularity of the memory page map and the alignment of
// uncompressed memory data within the file.
const PageSize = 4096

const (
	fileHeaderSize    = 16
	sectionHeaderSize = 32
)

// SectionType identifies a section.
type SectionType uint16

// Section types of format 1.0 (SectionCallsites, 1.1, is in callsites.go;
// SectionProfile, 1.2, in profile.go).
const (
	SectionMeta       SectionType = 1
	SectionModule     SectionType = 2
	SectionFrames     SectionType = 3
	SectionGlobals    SectionType = 4
	SectionTables     SectionType = 5
	SectionMemory     SectionType = 6 // page map of the next memory
	SectionMemoryData SectionType = 7 // its present pages
	SectionSegments   SectionType = 8
	SectionWASI       SectionType = 9
	SectionEnd        SectionType = 0xFFFF
)

func (t SectionType) String() string {
	switch t {
	case SectionMeta:
		return "meta"
	case SectionModule:
		return "module"
	case SectionFrames:
		return "frames"
	case SectionGlobals:
		return "globals"
	case SectionTables:
		return "tables"
	case SectionMemory:
		return "memory"
	case SectionMemoryData:
		return "memory-data"
	case SectionSegments:
		return "segments"
	case SectionWASI:
		return "wasi"
	case SectionCallsites:
		return "callsites"
	case SectionIdle:
		return "idle"
	case SectionProfile:
		return "profile"
	case SectionChunkSums:
		return "chunk-sums"
	case SectionHostState:
		return "host state"
	case SectionEnd:
		return "end"
	}
	return fmt.Sprintf("section(%d)", uint16(t))
}

// Section flags.
const (
	flagZstd uint16 = 1 << 0
	// flagDataOmitted, on a memory section only: the file holds none of
	// the memory's pages (Memory.DataOmitted). It is a flag, not a new
	// section, because a reader that does not know it must refuse the
	// file rather than restore zeroes: readers refuse unknown flags, they
	// skip unknown sections of a newer minor version.
	flagDataOmitted uint16 = 1 << 1
	knownFlags             = flagZstd | flagDataOmitted
)

// maxPayload caps the stored and the decoded length of each section kind
// a reader loads into memory: the largest encoding of what lim allows,
// so that decompressing is bounded by the limits too, not only decoding.
func maxPayload(t SectionType, lim Limits) uint64 {
	switch t {
	case SectionMeta:
		return 1 << 20
	case SectionCallsites:
		// Decoded whole (decodeCallsites): a few KiB in practice.
		return 4 << 20
	case SectionProfile:
		return maxProfilePayload
	case SectionChunkSums:
		return maxChunkSumsPayload
	case SectionHostState:
		return maxHostStatePayload
	case SectionModule:
		return lim.ModuleBytes
	case SectionFrames:
		return 4 + uint64(lim.Frames)*maxFrameHeader + uint64(lim.Values)*maxValueBytes
	case SectionTables:
		return 4 + MaxTables*(1+4) + uint64(lim.TableElems)*maxElemBytes
	case SectionMemoryData:
		return MaxMemorySize
	default:
		return 64 << 20
	}
}

// Errors. Every reader error wraps exactly one of them.
var (
	// ErrNotCheckpoint: the file does not start with the magic.
	ErrNotCheckpoint = errors.New("not a Ferry checkpoint")
	// ErrVersion: the file's major version is not this reader's.
	ErrVersion = errors.New("unsupported checkpoint format version")
	// ErrCorrupt: a checksum, a length, a count or an encoding is wrong,
	// or the file is truncated.
	ErrCorrupt = errors.New("corrupt checkpoint")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// WriteOptions choose how a checkpoint is written.
type WriteOptions struct {
	// Compress stores sections zstd-compressed. Compressed memory cannot
	// be mapped by a restore; it is decompressed into memory instead.
	Compress bool
	// IsZeroPage reports whether a PageSize page is all zero; the runtime
	// passes its CPU-specific builtin here. Nil means a portable scan.
	IsZeroPage func(page []byte) bool
	// ChunkSums adds the chunk-sums section (format 1.3) for the memories
	// stored uncompressed, so that a restore can verify the chunks a guest
	// touched before its first effect. Without it the file is format 1.2.
	ChunkSums bool
}

// Write encodes s to w and returns the number of bytes written. Memory
// contents are read from s.Memories[i].Data; all-zero pages are left out
// (already, when the memory is Packed).
func Write(w io.Writer, s *Snapshot, o WriteOptions) (int64, error) {
	cw := &countingWriter{w: w}
	var hdr [fileHeaderSize]byte
	copy(hdr[:], Magic)
	binary.LittleEndian.PutUint16(hdr[8:], Major)
	minor := Minor
	if !o.ChunkSums || o.Compress || len(s.Memories) == 0 || len(s.Host) > 0 {
		// Readers of 1.2 read the file whole: it has nothing of 1.3. A
		// file with host state stays 1.2 as well, so that a 1.2 reader
		// that does not know section 14 refuses it rather than skip it as
		// a section of a newer minor version (see "Host state").
		minor = 2
	}
	var sums []ChunkSums // minor 3: memory i's are sums[i]
	binary.LittleEndian.PutUint16(hdr[10:], minor)
	binary.LittleEndian.PutUint32(hdr[12:], crc(hdr[:12]))
	cw.Write(hdr[:])
	var enc *zstd.Encoder
	if o.Compress {
		var err error
		if enc, err = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1)); err != nil {
			return cw.n, err
		}
		defer enc.Close()
	}
	putFlags := func(t SectionType, flags uint16, payload []byte) {
		if enc != nil && len(payload) > 256 {
			z := enc.EncodeAll(payload, nil)
			if len(z) < len(payload) {
				cw.section(t, flags|flagZstd, 0, z, uint64(len(payload)))
				return
			}
		}
		cw.section(t, flags, 0, payload, uint64(len(payload)))
	}
	put := func(t SectionType, payload []byte) { putFlags(t, 0, payload) }
	put(SectionMeta, encodeMeta(&s.Meta))
	if s.Module != nil {
		put(SectionModule, s.Module)
	}
	if s.Idle {
		if len(s.Frames) > 0 {
			return cw.n, fmt.Errorf("snapshot: an idle checkpoint with %d frames", len(s.Frames))
		}
		put(SectionIdle, nil)
	} else {
		put(SectionFrames, encodeFrames(s.Frames))
	}
	put(SectionGlobals, encodeGlobals(s.Globals))
	put(SectionTables, encodeTables(s.Tables))
	for i := range s.Memories {
		m := &s.Memories[i]
		var flags uint16
		switch {
		case m.DataOmitted:
			if len(m.Runs) != 0 {
				return cw.n, fmt.Errorf("snapshot: memory %d: data omitted, yet %d page runs", i, len(m.Runs))
			}
			flags = flagDataOmitted
		case m.Packed:
			if uint64(len(m.Data)) != m.PresentPages()*PageSize {
				return cw.n, fmt.Errorf("snapshot: memory %d: %d bytes of packed data for %d pages", i, len(m.Data), m.PresentPages())
			}
		case uint64(len(m.Data)) != m.Size:
			return cw.n, fmt.Errorf("snapshot: memory %d: %d bytes of data for size %d", i, len(m.Data), m.Size)
		default:
			m.Runs = presentRuns(m.Data, o.IsZeroPage)
		}
		putFlags(SectionMemory, flags, encodeMemoryMap(i, m))
		if enc != nil && !m.DataOmitted {
			var buf bytes.Buffer
			zw, err := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
			if err != nil {
				return cw.n, err
			}
			forRuns(m, func(b []byte) { zw.Write(b) })
			if err := zw.Close(); err != nil {
				return cw.n, err
			}
			cw.header(SectionMemoryData, flagZstd, 0, uint64(buf.Len()), m.PresentPages()*PageSize, crc(buf.Bytes()))
			cw.memoryData(func() { cw.Write(buf.Bytes()) })
		} else if minor == 3 {
			// One pass over memory gives the chunk sums, and the section's
			// checksum is combined from them.
			sums = append(sums, memoryChunkSums(uint32(i), m))
			cw.memorySection(m, sums[i].whole())
		} else {
			cw.memorySection(m, memoryCRC(m))
		}
	}
	put(SectionSegments, encodeSegments(&s.Segments))
	if s.WASI != nil {
		put(SectionWASI, EncodeWASI(s.WASI))
	}
	if s.Callsites != nil {
		put(SectionCallsites, encodeCallsites(s.Callsites))
	}
	if s.Profile != nil {
		put(SectionProfile, encodeProfile(s.Profile))
	}
	if minor == 3 {
		put(SectionChunkSums, encodeChunkSums(sums))
	}
	if len(s.Host) > 0 {
		if err := SortHostStates(s.Host); err != nil {
			return cw.n, fmt.Errorf("snapshot: %w", err)
		}
		put(SectionHostState, encodeHostStates(s.Host))
	}
	cw.section(SectionEnd, 0, 0, nil, 0)
	return cw.n, cw.err
}

// memoryCRC is the CRC-32C of m's stored pages.
func memoryCRC(m *Memory) uint32 {
	sum := uint32(0)
	forRuns(m, func(b []byte) { sum = crc32.Update(sum, castagnoli, b) })
	return sum
}

// presentRuns lists the runs of pages of data that are not all zero.
func presentRuns(data []byte, isZero func([]byte) bool) []PageRun {
	if isZero == nil {
		var zero [PageSize]byte
		isZero = func(p []byte) bool { return bytes.Equal(p, zero[:]) }
	}
	var runs []PageRun
	for p := uint64(0); p*PageSize < uint64(len(data)); p++ {
		if isZero(data[p*PageSize : (p+1)*PageSize]) {
			continue
		}
		if n := len(runs); n > 0 && runs[n-1].First+runs[n-1].Count == p {
			runs[n-1].Count++
		} else {
			runs = append(runs, PageRun{First: p, Count: 1})
		}
	}
	return runs
}

func forRuns(m *Memory, f func([]byte)) {
	off := uint64(0)
	for _, r := range m.Runs {
		if m.Packed {
			f(m.Data[off : off+r.Count*PageSize])
			off += r.Count * PageSize
			continue
		}
		f(m.Data[r.First*PageSize : (r.First+r.Count)*PageSize])
	}
}

type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(b []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
	return n, err
}

func (c *countingWriter) header(t SectionType, flags uint16, pad uint32, length, raw uint64, sum uint32) {
	var h [sectionHeaderSize]byte
	binary.LittleEndian.PutUint16(h[0:], uint16(t))
	binary.LittleEndian.PutUint16(h[2:], flags)
	binary.LittleEndian.PutUint32(h[4:], pad)
	binary.LittleEndian.PutUint64(h[8:], length)
	binary.LittleEndian.PutUint64(h[16:], raw)
	binary.LittleEndian.PutUint32(h[24:], sum)
	binary.LittleEndian.PutUint32(h[28:], crc(h[:28]))
	c.Write(h[:])
}

func (c *countingWriter) section(t SectionType, flags uint16, pad uint32, payload []byte, raw uint64) {
	c.header(t, flags, pad, uint64(len(payload)), raw, crc(payload))
	c.Write(payload)
}

// memorySection writes the present pages uncompressed, starting at a
// PageSize-aligned file offset so that a restore can map them.
// sum is the CRC-32C of the stored pages.
func (c *countingWriter) memorySection(m *Memory, sum uint32) {
	pad := uint32((PageSize - (c.n+sectionHeaderSize)%PageSize) % PageSize)
	n := m.PresentPages() * PageSize
	c.header(SectionMemoryData, 0, pad, n, n, sum)
	var zero [PageSize]byte
	c.Write(zero[:pad])
	c.memoryData(func() { forRuns(m, func(b []byte) { c.Write(b) }) })
}

// memoryData writes a memory data payload with write; a SigningWriter
// digests it apart from the rest, so that a trusted restore need not hash
// memory before mapping it (sign.go).
func (c *countingWriter) memoryData(write func()) {
	sw, _ := c.w.(*SigningWriter)
	if sw != nil {
		sw.beginMemory()
	}
	write()
	if sw != nil {
		sw.endMemory()
	}
}

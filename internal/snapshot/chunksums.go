package snapshot

import (
	"crypto/sha256"
	"fmt"
	"hash/crc32"
	"io"
)

// The chunk-sums section: a CRC-32C per MiB of each memory's stored data,
// so that a restore can check the few chunks a guest touched before its
// first effect instead of waiting for all of memory
// (docs/snapshot-format.md, "Chunk sums"). It is optional: a file without
// it keeps the one CRC over all memory and the wait-for-all scheme.

// SectionChunkSums holds the per-chunk checksums of memory data.
const SectionChunkSums SectionType = 13

// ChunkShift is log2 of the chunk size the section's sums cover. It is
// recorded in the section so that a later writer may pick another size;
// this reader accepts only 1 MiB, the size the restore's per-touch check
// was measured with (0.2–1.4 ms per chunk from the page cache).
const ChunkShift = 20

// ChunkSize is the bytes of stored memory data one sum covers; the last
// chunk of a memory may be shorter.
const ChunkSize = 1 << ChunkShift

// A signed file's digests and the chunk sums cut memory data alike, so a
// restore's per-chunk check is the same walk whichever it compares with:
// these fail to compile if the two sizes ever differ.
var (
	_ [ChunkSize - MemChunk]struct{}
	_ [MemChunk - ChunkSize]struct{}
)

const (
	// MaxChunkSumMemories caps the memories the section describes.
	MaxChunkSumMemories = 1 << 8
	// maxChunksPerMemory is a 64-bit memory's data at MaxMemoryData-like
	// scale: 2^32 chunks would be 4 PiB; 2^22 (4 TiB) leaves room while
	// keeping a forged section's decode bounded by its own length.
	maxChunksPerMemory = 1 << 22
	// maxChunkSumsPayload bounds the section: 4 bytes a sum plus the
	// headers, for up to 2^22 sums in all.
	maxChunkSumsPayload = 4<<22 + 1<<12
)

// ChunkCRC is the sum the section records for one chunk's bytes.
func ChunkCRC(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// ChunkSums are the sums of one memory's stored data: Sums[i] covers bytes
// [i*ChunkSize, min((i+1)*ChunkSize, Length)) of the memory data section's
// payload as stored (uncompressed).
type ChunkSums struct {
	Memory uint32
	Length uint64
	Sums   []uint32
}

// crcChunks is the number of chunks length bytes of data make.
func crcChunks(length uint64) uint64 { return (length + ChunkSize - 1) >> ChunkShift }

// ChunkRange returns the byte range of data chunk i of cs covers.
func (cs *ChunkSums) ChunkRange(i int) (off, n uint64) {
	off = uint64(i) << ChunkShift
	return off, min(ChunkSize, cs.Length-off)
}

func encodeChunkSums(all []ChunkSums) []byte {
	var e encoder
	e.uv(ChunkShift)
	e.uv(uint64(len(all)))
	for _, cs := range all {
		e.uv(uint64(cs.Memory))
		e.uv(cs.Length)
		for _, s := range cs.Sums {
			e.u32(s)
		}
	}
	return e.b
}

// decodeChunkSums checks what a reader can check without the memory
// sections: the chunk size, memories in increasing order and at most once,
// and a sum for every chunk of each memory's recorded length (the sum
// count follows from the length, so it cannot disagree with it). Whether
// each length is that of the memory's data section is the reader's check
// against the section table.
func decodeChunkSums(b []byte) ([]ChunkSums, error) {
	d := decoder{b: b, what: "chunk sums"}
	if shift := d.uv(); d.err == nil && shift != ChunkShift {
		d.fail("chunk size 2^%d: this reader checks 2^%d-byte chunks only", shift, ChunkShift)
	}
	// A memory takes at least 2 bytes (index, length).
	n := d.count("chunk-summed memories", MaxChunkSumMemories, 2)
	out := make([]ChunkSums, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		cs := ChunkSums{Memory: d.u32v("memory index"), Length: d.uv()}
		if d.err != nil {
			break
		}
		if len(out) > 0 && cs.Memory <= out[len(out)-1].Memory {
			d.fail("memory %d listed after memory %d", cs.Memory, out[len(out)-1].Memory)
			break
		}
		nc := crcChunks(cs.Length)
		switch {
		case nc > maxChunksPerMemory:
			d.fail("memory %d: %d bytes of data exceed the limit of %d chunks", cs.Memory, cs.Length, maxChunksPerMemory)
		case nc > uint64(d.left())/4:
			d.fail("memory %d: %d chunks but only %d bytes left", cs.Memory, nc, d.left())
		}
		if d.err != nil {
			break
		}
		cs.Sums = make([]uint32, nc)
		for j := range cs.Sums {
			cs.Sums[j] = d.u32()
		}
		out = append(out, cs)
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return out, nil
}

// memoryChunkSums computes the sums of m's data as the memory data section
// stores it: its present pages, run after run, chunks crossing runs.
func memoryChunkSums(mem uint32, m *Memory) ChunkSums {
	length := m.PresentPages() * PageSize
	cs := ChunkSums{Memory: mem, Length: length, Sums: make([]uint32, 0, crcChunks(length))}
	var sum uint32
	fill := 0
	forRuns(m, func(b []byte) {
		for len(b) > 0 {
			n := min(len(b), ChunkSize-fill)
			sum = crc32.Update(sum, castagnoli, b[:n])
			fill += n
			b = b[n:]
			if fill == ChunkSize {
				cs.Sums = append(cs.Sums, sum)
				sum, fill = 0, 0
			}
		}
	})
	if fill > 0 {
		cs.Sums = append(cs.Sums, sum)
	}
	return cs
}

// whole is the CRC-32C of all the data cs covers, combined from its
// chunks' sums.
func (cs *ChunkSums) whole() uint32 {
	sum := crc32.Checksum(nil, castagnoli)
	for i, c := range cs.Sums {
		_, n := cs.ChunkRange(i)
		sum = crcCombine(sum, c, int64(n))
	}
	return sum
}

// checkChunkSums checks the decoded sums against the memory data sections
// they describe, an existing memory's with the length recorded, and
// returns those a restore can use: the sums of a memory whose data is
// stored compressed are dropped, since such memory is copied and checked
// whole, never mapped (a file rewritten with its memory compressed stays
// valid, as with any section).
func (f *File) checkChunkSums(all []ChunkSums) ([]ChunkSums, error) {
	usable := all[:0]
	for _, cs := range all {
		if uint64(cs.Memory) >= uint64(len(f.memData)) {
			return nil, fmt.Errorf("%w: chunk sums for memory %d of %d", ErrCorrupt, cs.Memory, len(f.memData))
		}
		info := f.memData[cs.Memory]
		if info.Compressed {
			continue
		}
		if info.Length != cs.Length {
			return nil, fmt.Errorf("%w: chunk sums cover %d bytes of memory %d, whose data has %d", ErrCorrupt, cs.Length, cs.Memory, info.Length)
		}
		usable = append(usable, cs)
	}
	return usable, nil
}

// HasChunkSums reports whether memory i's data has per-chunk sums, so
// that VerifyChunk can check it piecewise. A file read with a trusted
// signature has none to use: its memory is vouched for by SHA-256
// digests, and a CRC is no defence against a forger who can write data
// to match it.
func (f *File) HasChunkSums(i int) bool { return f.chunkSumsOf(i) != nil }

func (f *File) chunkSumsOf(i int) *ChunkSums {
	if f.memDigests != nil {
		return nil
	}
	for k := range f.chunkSums {
		if int64(f.chunkSums[k].Memory) == int64(i) {
			return &f.chunkSums[k]
		}
	}
	return nil
}

// ChunksVerifiable reports whether memory i's stored data can be checked
// chunk by chunk (VerifyChunk), and how many chunks it has. A file read
// with a trusted signature checks each chunk against its signed SHA-256
// digest, whether or not it has chunk sums; any other file needs its
// chunk sums (section 13) for memory i.
func (f *File) ChunksVerifiable(i int) (chunks int, ok bool) {
	if i < 0 || i >= len(f.memData) {
		return 0, false
	}
	if f.memDigests != nil {
		if f.memData[i].Compressed {
			// The digests cover the compressed bytes, which no guest
			// reads: compressed memory is copied, and checked whole.
			return 0, false
		}
		return len(f.memDigests[i].Chunks), true
	}
	if cs := f.chunkSumsOf(i); cs != nil {
		return len(cs.Sums), true
	}
	return 0, false
}

// ChunkOf returns the chunk of memory i's stored data that holds byte off
// of that data, and whether memory i has chunk sums and off is within it.
func (f *File) ChunkOf(i int, off uint64) (int, bool) {
	cs := f.chunkSumsOf(i)
	if cs == nil || off >= cs.Length {
		return 0, false
	}
	return int(off >> ChunkShift), true
}

// VerifyChunk checks chunk c of memory i's stored data, read from r (the
// checkpoint file, never a mapping of it: a page the guest wrote is its
// private copy, and what must be checked is what the file gave it) into
// buf, which must hold ChunkSize bytes. In a file read with a trusted
// signature the chunk is compared with its signed SHA-256 digest (a
// mismatch wraps ErrSignature as well as ErrCorrupt), never with a CRC:
// a CRC-32C detects damage, and a forger can write data to match it.
func (f *File) VerifyChunk(i, c int, r io.ReaderAt, buf []byte) error {
	n, ok := f.ChunksVerifiable(i)
	if !ok || c < 0 || c >= n {
		return fmt.Errorf("snapshot: memory %d has no chunk %d", i, c)
	}
	if len(buf) < ChunkSize {
		return fmt.Errorf("snapshot: a %d-byte buffer for a %d-byte chunk", len(buf), ChunkSize)
	}
	off := uint64(c) << ChunkShift
	b := buf[:min(ChunkSize, f.memData[i].Length-off)]
	if k, err := r.ReadAt(b, f.memData[i].Offset+int64(off)); k < len(b) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("%w: memory %d: reading chunk %d: %v", ErrCorrupt, i, c, err)
	}
	end := off + uint64(len(b))
	if f.memDigests != nil {
		if sha256.Sum256(b) != f.memDigests[i].Chunks[c] {
			return fmt.Errorf("%w: %w: memory %d data: bytes %d to %d differ from the digest the trusted signature covers (changed after signing)", ErrCorrupt, ErrSignature, i, off, end)
		}
		return nil
	}
	cs := f.chunkSumsOf(i)
	if got := ChunkCRC(b); got != cs.Sums[c] {
		return fmt.Errorf("%w: memory %d: data bytes %d..%d: checksum %08x, the chunk sums say %08x", ErrCorrupt, i, off, end, got, cs.Sums[c])
	}
	return nil
}

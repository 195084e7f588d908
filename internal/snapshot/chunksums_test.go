package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"reflect"
	"testing"
)

func TestChunkSumsRoundTrip(t *testing.T) {
	data := make([]byte, 2*ChunkSize+123)
	for i := range data {
		data[i] = byte(i * 7)
	}
	all := []ChunkSums{ComputeChunkSums(0, data), ComputeChunkSums(2, nil), ComputeChunkSums(3, data[:ChunkSize])}
	if got := len(all[0].Sums); got != 3 {
		t.Fatalf("%d chunks for 2 MiB + 123 bytes, want 3", got)
	}
	if off, n := all[0].ChunkRange(2); off != 2*ChunkSize || n != 123 {
		t.Fatalf("last chunk range %d+%d, want %d+123", off, n, 2*ChunkSize)
	}
	got, err := decodeChunkSums(encodeChunkSums(all))
	if err != nil {
		t.Fatal(err)
	}
	// nil and empty Sums decode alike.
	all[1].Sums = []uint32{}
	if !reflect.DeepEqual(got, all) {
		t.Fatalf("decoded %+v, want %+v", got, all)
	}
	// A flipped byte in a chunk changes that chunk's sum and no other.
	data[ChunkSize+5] ^= 1
	again := ComputeChunkSums(0, data)
	if again.Sums[0] != all[0].Sums[0] || again.Sums[1] == all[0].Sums[1] || again.Sums[2] != all[0].Sums[2] {
		t.Fatalf("sums after a flip in chunk 1: %x, before %x", again.Sums, all[0].Sums)
	}
}

func TestChunkSumsRejects(t *testing.T) {
	good := encodeChunkSums([]ChunkSums{ComputeChunkSums(1, make([]byte, 10))})
	enc := func(f func(e *encoder)) []byte { var e encoder; f(&e); return e.b }
	cases := map[string][]byte{
		"empty":          nil,
		"other shift":    enc(func(e *encoder) { e.uv(12); e.uv(0) }),
		"truncated sums": good[:len(good)-1],
		"trailing":       append(append([]byte(nil), good...), 0),
		"out of order": enc(func(e *encoder) {
			e.uv(ChunkShift)
			e.uv(2)
			e.uv(3)
			e.uv(0)
			e.uv(3)
			e.uv(0)
		}),
		"huge length": enc(func(e *encoder) { e.uv(ChunkShift); e.uv(1); e.uv(0); e.uv(1 << 62) }),
		"too many memories": enc(func(e *encoder) {
			e.uv(ChunkShift)
			e.uv(MaxChunkSumMemories + 1)
			e.fixed(bytes.Repeat([]byte{0}, 2*(MaxChunkSumMemories+1)))
		}),
	}
	for name, b := range cases {
		if _, err := decodeChunkSums(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: error %v, want ErrCorrupt", name, err)
		}
	}
}

func FuzzDecodeChunkSums(f *testing.F) {
	f.Add(encodeChunkSums([]ChunkSums{ComputeChunkSums(0, make([]byte, ChunkSize+1))}))
	f.Add(encodeChunkSums(nil))
	f.Add([]byte{ChunkShift, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeChunkSums(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		// Whatever decodes re-encodes to the same bytes: the format has
		// one encoding of each value except non-minimal varints.
		back, err := decodeChunkSums(encodeChunkSums(got))
		if err != nil || !reflect.DeepEqual(back, got) {
			t.Fatalf("re-decode of %+v: %+v, %v", got, back, err)
		}
		for _, cs := range got {
			if uint64(len(cs.Sums)) != crcChunks(cs.Length) {
				t.Fatalf("memory %d: %d sums for %d bytes", cs.Memory, len(cs.Sums), cs.Length)
			}
		}
	})
}

// bigSample is sample with a memory whose stored data spans several
// chunks, runs of present pages crossing chunk boundaries.
func bigSample() *Snapshot {
	s := sample()
	mem := make([]byte, 3*ChunkSize+64<<10)
	for p := 0; p < len(mem)/PageSize; p++ {
		if p%5 != 3 {
			mem[p*PageSize+p%PageSize] = byte(p) | 1
		}
	}
	s.Memories = []Memory{{Size: uint64(len(mem)), Data: mem}}
	return s
}

func TestChunkSumsWrittenAndVerified(t *testing.T) {
	b := write(t, bigSample(), WriteOptions{ChunkSums: true})
	f, err := ReadBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if f.Minor != 3 || !f.HasChunkSums(0) || f.HasChunkSums(1) {
		t.Fatalf("format 1.%d, chunk sums %v %v", f.Minor, f.HasChunkSums(0), f.HasChunkSums(1))
	}
	off, length, _ := f.MemoryData(0)
	last, ok := f.ChunkOf(0, length-1)
	if !ok || last != int(crcChunks(length))-1 || last < 2 {
		t.Fatalf("last chunk %d (%v) of %d bytes", last, ok, length)
	}
	if _, ok := f.ChunkOf(0, length); ok {
		t.Fatal("a chunk past the data")
	}
	buf := make([]byte, ChunkSize)
	r := bytes.NewReader(b)
	for c := 0; c <= last; c++ {
		if err := f.VerifyChunk(0, c, r, buf); err != nil {
			t.Fatalf("chunk %d: %v", c, err)
		}
	}
	// Corrupt one byte of chunk 1's data in the file: that chunk, and only
	// it, fails; the file still reads (memory data is checked on use).
	bad := append([]byte(nil), b...)
	bad[off+ChunkSize+100] ^= 0x40
	f, err = ReadBytes(bad)
	if err != nil {
		t.Fatal(err)
	}
	r = bytes.NewReader(bad)
	for c := 0; c <= last; c++ {
		err := f.VerifyChunk(0, c, r, buf)
		if (c == 1) != errors.Is(err, ErrCorrupt) {
			t.Fatalf("chunk %d of a file with chunk 1 corrupt: %v", c, err)
		}
	}
	if f.VerifyMemory(0) == nil {
		t.Fatal("the whole-memory check missed the corruption")
	}
}

// Files written without chunk sums stay format 1.2 (readable by the Ferry
// before them) and have none: a restore keeps the wait-for-all check.
func TestChunkSumsAbsentKeepsFormat12(t *testing.T) {
	for _, o := range []WriteOptions{{}, {ChunkSums: true, Compress: true}} {
		f, err := ReadBytes(write(t, bigSample(), o))
		if err != nil {
			t.Fatal(err)
		}
		if f.Minor != 2 || f.HasChunkSums(0) {
			t.Fatalf("%+v: format 1.%d, chunk sums %v", o, f.Minor, f.HasChunkSums(0))
		}
		if err := f.VerifyChunk(0, 0, bytes.NewReader(nil), make([]byte, ChunkSize)); err == nil {
			t.Fatalf("%+v: VerifyChunk without chunk sums passed", o)
		}
	}
}

// A chunk-sums section that disagrees with the memory data it describes
// is refused when the file is read.
func TestChunkSumsMismatchedSectionRefused(t *testing.T) {
	b := write(t, bigSample(), WriteOptions{})
	f, err := ReadBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	_, length, _ := f.MemoryData(0)
	b = append([]byte(nil), b...)
	b[10] = 3 // format 1.3, header CRC fixed below
	fixHeader(b)
	for name, sums := range map[string][]ChunkSums{
		"no such memory": {{Memory: 1, Length: 0}},
		"short":          {{Memory: 0, Length: length - 1, Sums: make([]uint32, crcChunks(length-1))}},
	} {
		if _, err := ReadBytes(insertSection(b, SectionChunkSums, encodeChunkSums(sums))); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}

func fixHeader(b []byte) {
	binary.LittleEndian.PutUint32(b[12:], crc(b[:12]))
}

// BenchmarkVerifyChunk is the cost of checking one chunk a guest touched
// from a file in the page cache: what a first effect pays per chunk.
func BenchmarkVerifyChunk(b *testing.B) {
	path := b.TempDir() + "/ck"
	data := write(b, bigSample(), WriteOptions{ChunkSums: true})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer fh.Close()
	f, err := Read(fh, int64(len(data)))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, ChunkSize)
	b.SetBytes(ChunkSize)
	for i := 0; i < b.N; i++ {
		if err := f.VerifyChunk(0, i%2, fh, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// A file read with a trusted signature checks chunks against its signed
// SHA-256 digests, never its CRC-32C chunk sums, which a forger can
// recompute. Chunk 1's data changed: the trusted reading refuses it as a
// signature mismatch (the digest, not the CRC, was compared). Its chunk
// sum forged to match as well: the file read without trust passes the
// chunk (a CRC cannot tell), and the trusted open refuses the file, whose
// chunk sums section the signature covers.
func TestVerifyChunkTrustedUsesDigests(t *testing.T) {
	ed, _ := testKeys(t)
	var buf bytes.Buffer
	sw := NewSigningWriter(&buf)
	if _, err := Write(sw, bigSample(), WriteOptions{ChunkSums: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := sw.WriteSignatures([]Key{ed}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	trusted := []Key{public(ed)}
	f, _, err := ReadVerified(bytes.NewReader(b), int64(len(b)), trusted)
	if err != nil {
		t.Fatal(err)
	}
	n, ok := f.ChunksVerifiable(0)
	if !ok || n < 3 || f.HasChunkSums(0) {
		t.Fatalf("trusted: %d chunks verifiable (%v), chunk sums used %v", n, ok, f.HasChunkSums(0))
	}
	chunk := make([]byte, ChunkSize)
	for c := range n {
		if err := f.VerifyChunk(0, c, bytes.NewReader(b), chunk); err != nil {
			t.Fatalf("trusted, intact chunk %d: %v", c, err)
		}
	}

	off, _, _ := f.MemoryData(0)
	changed := append([]byte(nil), b...)
	changed[off+ChunkSize+100] ^= 0x40
	f, _, err = ReadVerified(bytes.NewReader(changed), int64(len(changed)), trusted)
	if err != nil {
		t.Fatalf("trusted open reads no memory data: %v", err)
	}
	err = f.VerifyChunk(0, 1, bytes.NewReader(changed), chunk)
	if !errors.Is(err, ErrSignature) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("trusted, changed chunk 1: %v, want a signature mismatch", err)
	}
	if err := f.VerifyChunk(0, 0, bytes.NewReader(changed), chunk); err != nil {
		t.Fatalf("trusted, intact chunk 0 of the changed file: %v", err)
	}

	// Forge chunk 1's sum and the chunk sums section's checksums to match.
	var cs *SectionInfo
	for i := range f.Sections {
		if f.Sections[i].Type == SectionChunkSums {
			cs = &f.Sections[i]
		}
	}
	if cs == nil {
		t.Fatal("no chunk sums section")
	}
	forged := changed
	payload := forged[cs.Offset : cs.Offset+int64(cs.Length)]
	sums, err := decodeChunkSums(payload)
	if err != nil {
		t.Fatal(err)
	}
	sums[0].Sums[1] = ChunkCRC(forged[off+ChunkSize : off+2*ChunkSize])
	copy(payload, encodeChunkSums(sums))
	h := forged[cs.Offset-sectionHeaderSize : cs.Offset]
	binary.LittleEndian.PutUint32(h[24:], crc(payload))
	binary.LittleEndian.PutUint32(h[28:], crc(h[:28]))
	u, _, err := ReadVerified(bytes.NewReader(forged), int64(len(forged)), nil)
	if err != nil {
		t.Fatalf("the forged file, untrusted: %v", err)
	}
	if err := u.VerifyChunk(0, 1, bytes.NewReader(forged), chunk); err != nil {
		t.Fatalf("untrusted, the forged chunk sum does not match the forged data: %v", err)
	}
	if _, _, err := ReadVerified(bytes.NewReader(forged), int64(len(forged)), trusted); !errors.Is(err, ErrSignature) {
		t.Fatalf("trusted open of forged chunk sums: %v, want a signature error", err)
	}
}

// A file with host state and memory stays format 1.2 without chunk sums
// even when they are asked for: a 1.2 reader that does not know the
// host-state section must refuse it, not skip it as a newer section.
func TestChunkSumsLeftOutWithHostState(t *testing.T) {
	s := bigSample()
	s.Host = []HostState{{Name: "embedder", Version: 1, Data: []byte("state")}}
	f, err := ReadBytes(write(t, s, WriteOptions{ChunkSums: true}))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.ChunksVerifiable(0); f.Minor != 2 || ok || len(f.Snapshot.Host) != 1 {
		t.Fatalf("format 1.%d, chunks verifiable %v, host state %v", f.Minor, ok, f.Snapshot.Host)
	}
}

// FuzzChunkSumsInFile puts a fuzzed chunk-sums payload, with valid
// checksums (mutations of a whole file mostly die at them; FuzzRead does
// that), into a real file of format 1.3 whose memory's stored data spans
// two chunks, flips one bit of that data when flip is not zero, and
// checks every chunk of every memory: nothing panics, every failure wraps
// ErrCorrupt, and a chunk that passes holds exactly the bytes its sum
// was computed from.
func FuzzChunkSumsInFile(f *testing.F) {
	s := sample()
	data := make([]byte, ChunkSize+64<<10)
	copy(data, bytes.Repeat([]byte{9}, ChunkSize+PageSize))
	s.Memories = []Memory{{Size: uint64(len(data)), Data: data}}
	full := write(f, s, WriteOptions{ChunkSums: true})
	file, err := ReadBytes(full)
	if err != nil {
		f.Fatal(err)
	}
	// The file without its chunk sums section (the last before the end).
	var cs SectionInfo
	for _, si := range file.Sections {
		if si.Type == SectionChunkSums {
			cs = si
		}
	}
	good := append([]byte(nil), full[cs.Offset:cs.Offset+int64(cs.Length)]...)
	base := append(append([]byte(nil), full[:cs.Offset-sectionHeaderSize]...), full[cs.Offset+int64(cs.Length):]...)
	memOff, memLen, _ := file.MemoryData(0)
	f.Add(good, uint64(0))
	f.Add(good, uint64(ChunkSize+77))
	f.Add(good[:len(good)-1], uint64(0))
	f.Add([]byte{ChunkShift, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, uint64(3))
	chunk := make([]byte, ChunkSize)
	f.Fuzz(func(t *testing.T, payload []byte, flip uint64) {
		b := insertSection(base, SectionChunkSums, payload)
		if flip != 0 {
			b[memOff+int64(flip%memLen)] ^= 1
		}
		file, err := ReadBytes(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("read error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		for i := range file.Snapshot.Memories {
			n, ok := file.ChunksVerifiable(i)
			if !ok {
				if file.VerifyChunk(i, 0, bytes.NewReader(b), chunk) == nil {
					t.Fatalf("memory %d: a chunk verified without sums", i)
				}
				continue
			}
			off, length, _ := file.MemoryData(i)
			if uint64(n) != crcChunks(length) {
				t.Fatalf("memory %d: %d chunks for %d bytes", i, n, length)
			}
			for c := range n {
				if err := file.VerifyChunk(i, c, bytes.NewReader(b), chunk); err != nil {
					if !errors.Is(err, ErrCorrupt) {
						t.Fatalf("memory %d chunk %d: %v does not wrap ErrCorrupt", i, c, err)
					}
					continue
				}
				from := off + int64(c)*ChunkSize
				to := min(from+ChunkSize, off+int64(length))
				if ChunkCRC(b[from:to]) != file.chunkSumsOf(i).Sums[c] {
					t.Fatalf("memory %d chunk %d passed with other bytes", i, c)
				}
			}
			if file.VerifyChunk(i, n, bytes.NewReader(b), chunk) == nil || file.VerifyChunk(i, -1, bytes.NewReader(b), chunk) == nil {
				t.Fatalf("memory %d: a chunk out of range verified", i)
			}
		}
	})
}

// BenchmarkWriteChunkSums is what chunk sums add to writing a checkpoint:
// the writer's one pass over 256 MiB of stored memory, the section's CRC
// alone (crc) against the chunk sums and the CRC combined from them
// (chunk-sums).
func BenchmarkWriteChunkSums(b *testing.B) {
	data := bytes.Repeat([]byte{1}, 256<<20)
	m := &Memory{Size: uint64(len(data)), Data: data, Runs: []PageRun{{First: 0, Count: uint64(len(data)) / PageSize}}}
	b.Run("crc", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			memoryCRC(m)
		}
	})
	b.Run("chunk-sums", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			cs := memoryChunkSums(0, m)
			cs.whole()
		}
	})
}

// ComputeChunkSums returns the sums of memory mem's stored data.
func ComputeChunkSums(mem uint32, data []byte) ChunkSums {
	cs := ChunkSums{Memory: mem, Length: uint64(len(data)), Sums: make([]uint32, 0, crcChunks(uint64(len(data))))}
	for off := 0; off < len(data); off += ChunkSize {
		cs.Sums = append(cs.Sums, ChunkCRC(data[off:min(off+ChunkSize, len(data))]))
	}
	return cs
}

package snapshot

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/api"
	"github.com/klauspost/compress/zstd"
)

// Structure caps (issue 14): counts are bounded by totals over the whole
// file, checked before anything is allocated for them, and compressed
// sections are decoded as they decompress. Files are forged as an
// attacker would: valid checksums around payloads no writer makes.

// allocatedBy is the number of heap bytes f allocates.
func allocatedBy(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

const mib = 1 << 20

// forgedSection is one section of a forged file: its payload,
// zstd-compressed by forge when compress, and the decoded length its
// header declares when raw is not 0.
type forgedSection struct {
	typ      SectionType
	payload  []byte
	compress bool
	zstd     bool   // payload is already compressed
	raw      uint64 // declared decoded length, if not len(payload)
}

// forge is a file of sections, with valid checksums, and an end section.
func forge(t testing.TB, sections ...forgedSection) []byte {
	t.Helper()
	var buf bytes.Buffer
	cw := &countingWriter{w: &buf}
	var hdr [fileHeaderSize]byte
	copy(hdr[:], Magic)
	hdr[8], hdr[10] = byte(Major), byte(Minor)
	putCRC(hdr[:])
	cw.Write(hdr[:])
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	for _, s := range sections {
		raw := s.raw
		if raw == 0 {
			raw = uint64(len(s.payload))
		}
		if s.zstd {
			cw.section(s.typ, flagZstd, 0, s.payload, raw)
		} else if s.compress {
			cw.section(s.typ, flagZstd, 0, enc.EncodeAll(s.payload, nil), raw)
		} else {
			cw.section(s.typ, 0, 0, s.payload, raw)
		}
	}
	cw.section(SectionEnd, 0, 0, nil, 0)
	return buf.Bytes()
}

func putCRC(hdr []byte) {
	c := crc(hdr[:12])
	hdr[12], hdr[13], hdr[14], hdr[15] = byte(c), byte(c>>8), byte(c>>16), byte(c>>24)
}

// basics are the sections every file needs, from sample(), with frames
// replaced by frames.
func basics(frames []byte) []forgedSection {
	s := sample()
	return []forgedSection{
		{typ: SectionMeta, payload: encodeMeta(&s.Meta)},
		{typ: SectionFrames, payload: frames, compress: true},
		{typ: SectionGlobals, payload: encodeGlobals(s.Globals)},
		{typ: SectionTables, payload: encodeTables(s.Tables)},
		{typ: SectionSegments, payload: encodeSegments(&s.Segments)},
	}
}

// nullLocalsFrames encodes frames frames of n null funcref locals each.
func nullLocalsFrames(frames, n int) []byte {
	var e encoder
	e.uv(uint64(frames))
	for range frames {
		e.uv(1)
		e.u8(uint8(api.PauseCall))
		e.uv(0)
		e.uv(uint64(n))
		e.fixed(bytes.Repeat([]byte{api.ValueTypeFuncref, 0}, n))
		e.uv(0)
	}
	return e.b
}

// Three frames of 2^22 locals each are within the cap of one frame but
// not of all frames together (the interpreter's stack, 2^23 values):
// refused at the third, having checked two.
func TestFramesValuesCappedTogether(t *testing.T) {
	b := forge(t, basics(nullLocalsFrames(3, 1<<22))...)
	var err error
	n := allocatedBy(func() { _, err = ReadBytes(b) })
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "local count 4194304 exceeds the limit 0") {
		t.Fatalf("got %v", err)
	}
	// No values kept (they were 2 × 96 MiB) and no decompressed copy of
	// the section (48 MiB).
	if n > 16*mib {
		t.Fatalf("allocated %d MiB", n/mib)
	}
}

// Four frames of 2^21 locals, 2^23 values, are at the cap: Read decoded
// them all (192 MiB from a 3 KB file) though only a restore that checked
// their counts against the module needs them. It now checks them and
// keeps their headers; Frames decodes them.
func TestReadFrameValuesAtCapStayEncoded(t *testing.T) {
	b := forge(t, basics(nullLocalsFrames(4, 1<<21))...)
	var f *File
	var err error
	n := allocatedBy(func() { f, err = ReadBytes(b) })
	if err != nil {
		t.Fatal(err)
	}
	if n > 16*mib {
		t.Fatalf("reading a %d-byte file allocated %d MiB", len(b), n/mib)
	}
	want := FrameHeader{Func: 1, Kind: api.PauseCall, Locals: 1 << 21}
	if hs := f.FrameHeaders(); len(hs) != 4 || hs[3] != want {
		t.Fatalf("frame headers %+v, want 4 × %+v", hs, want)
	}
	fs, err := f.Frames()
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 4 || len(fs[3].Locals) != 1<<21 || fs[3].Locals[1<<21-1] != (Value{Type: api.ValueTypeFuncref}) {
		t.Fatalf("%d frames decoded", len(fs))
	}
}

// Values Read does not keep are still checked: a bad one is refused by
// Read, not by the restore that decodes them.
func TestReadChecksFrameValuesItDoesNotKeep(t *testing.T) {
	for name, v := range map[string][]byte{
		"unknown type":        {0x00},
		"non-null externref":  {api.ValueTypeExternref, 1},
		"funcref beyond 2^32": {api.ValueTypeFuncref, 0x80, 0x80, 0x80, 0x80, 0x10},
		"truncated i64":       {api.ValueTypeI64, 1, 2, 3},
	} {
		var e encoder
		e.uv(1)
		e.uv(1)
		e.u8(uint8(api.PauseCall))
		e.uv(0)
		e.uv(1)
		e.fixed(v)
		e.uv(0)
		if _, err := ReadBytes(forge(t, basics(e.b)...)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want a corrupt frames section", name, err)
		}
	}
}

// A caller may lower a limit, not raise it.
func TestReadWithLimits(t *testing.T) {
	b := forge(t, basics(nullLocalsFrames(3, 1<<22))...)
	f, err := ReadWithLimits(bytes.NewReader(b), int64(len(b)), Limits{Values: 3 << 22})
	if err == nil || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a caller's limit above the default: %v", err)
	}
	b = forge(t, basics(nullLocalsFrames(2, 1<<10))...)
	if f, err = ReadWithLimits(bytes.NewReader(b), int64(len(b)), Limits{Values: 1 << 11}); err != nil || f.FrameHeaders()[1].Locals != 1<<10 {
		t.Fatalf("exactly at a caller's limit: %v", err)
	}
	if fs, err := f.Frames(); err != nil || len(fs[1].Locals) != 1<<10 {
		t.Fatalf("decoding the values exactly at a caller's limit: %v", err)
	}
	if _, err = ReadWithLimits(bytes.NewReader(b), int64(len(b)), Limits{Values: 1<<11 - 1}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("one value beyond a caller's limit: %v", err)
	}
}

// A compressed section that decompresses to more or fewer bytes than its
// header declares is refused, though it is never decompressed whole.
func TestStreamedSectionLength(t *testing.T) {
	frames := encodeFrames(sample().Frames)
	for _, raw := range []uint64{uint64(len(frames)) - 1, uint64(len(frames)) + 1, 1 << 20} {
		secs := basics(frames)
		secs[1].raw = raw
		if _, err := ReadBytes(forge(t, secs...)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("declared %d bytes for %d: %v", raw, len(frames), err)
		}
	}
	if _, err := ReadBytes(forge(t, basics(frames)...)); err != nil {
		t.Fatal(err)
	}
}

// memoryRuns is a memory section of size bytes with runs one-page runs
// a page apart, and its memory-data section (compressed, never read by
// Read: only its declared length is checked).
func memoryRuns(index int, size uint64, runs int) []forgedSection {
	m := &Memory{Size: size}
	for i := range runs {
		m.Runs = append(m.Runs, PageRun{First: uint64(2 * i), Count: 1})
	}
	return []forgedSection{
		{typ: SectionMemory, payload: encodeMemoryMap(index, m), compress: true},
		{typ: SectionMemoryData, payload: []byte("never read"), compress: true, raw: uint64(runs) * PageSize},
	}
}

// 16 memories of 2^19 page runs each decoded to 128 MiB of runs from a
// file of a few hundred KiB: the runs of all memories together are
// capped at 2^20.
func TestPageRunsBomb(t *testing.T) {
	secs := basics(encodeFrames(sample().Frames))
	for i := range 16 {
		secs = append(secs, memoryRuns(i, 1<<32, 1<<19)...)
	}
	b := forge(t, secs...)
	var err error
	n := allocatedBy(func() { _, err = ReadBytes(b) })
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "page run count") {
		t.Fatalf("got %v", err)
	}
	if n > 48*mib {
		t.Fatalf("allocated %d MiB", n/mib)
	}
	// More runs than a memory has room for are refused before any is
	// decoded.
	secs = append(basics(encodeFrames(sample().Frames)), memoryRuns(0, 64<<10, 9)...)
	if _, err := ReadBytes(forge(t, secs...)); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "page run count 9 exceeds the limit 8") {
		t.Fatalf("9 runs in 16 pages: %v", err)
	}
}

// A million descriptors (170 MiB decoded from 30 MiB that compress to
// kilobytes) are refused: no guest has more than 2^16 open.
func TestDescriptorsBomb(t *testing.T) {
	w := &WASI{Descriptors: make([]Descriptor, 1<<20)}
	for i := range w.Descriptors {
		w.Descriptors[i] = Descriptor{FD: uint32(i), Kind: KindFile}
	}
	secs := append(basics(encodeFrames(sample().Frames)), forgedSection{typ: SectionWASI, payload: EncodeWASI(w), compress: true})
	w = nil
	b := forge(t, secs...)
	secs = nil
	var err error
	n := allocatedBy(func() { _, err = ReadBytes(b) })
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "descriptor count") {
		t.Fatalf("got %v", err)
	}
	if n > 16*mib {
		t.Fatalf("allocated %d MiB", n/mib)
	}
}

// A zstd frame declares its window, which the decoder allocates before
// decoding anything: a frames section compressed as one 32 MiB segment
// made Read allocate 32 MiB for it, and one of the section's cap (about
// 155 MiB) as much. Ferry's writer never uses more than 8 MiB (RFC 8878's
// recommended decoder minimum); a larger window is refused.
func TestZstdWindowBeyond8MiBRefusedCheaply(t *testing.T) {
	var e encoder
	e.uv(1)
	e.uv(1)
	e.u8(uint8(api.PauseCall))
	e.uv(0)
	e.uv(1 << 21)
	for range 1 << 21 {
		e.value(Value{Type: api.ValueTypeV128})
	}
	e.uv(0)
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithSingleSegment(true))
	if err != nil {
		t.Fatal(err)
	}
	z := enc.EncodeAll(e.b, nil)
	enc.Close()
	secs := basics(nil)
	for i := range secs {
		if secs[i].typ == SectionFrames {
			secs[i] = forgedSection{typ: SectionFrames, payload: z, raw: uint64(len(e.b)), zstd: true}
		}
	}
	b := forge(t, secs...)
	n := allocatedBy(func() { _, err = ReadBytes(b) })
	if n > 16*mib {
		t.Fatalf("reading a %d-byte file allocated %d MiB", len(b), n/mib)
	}
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "window") {
		t.Fatalf("a %d MiB zstd window: got %v", len(e.b)/mib, err)
	}
}

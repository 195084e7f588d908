package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/api"
)

// sample is a snapshot exercising every section and value type.
func sample() *Snapshot {
	mem := make([]byte, 3*64<<10)
	mem[5] = 1
	mem[PageSize*3+7] = 2
	mem[PageSize*4] = 3
	mem[len(mem)-1] = 4
	return &Snapshot{
		Meta: Meta{RuntimeVersion: "test", Arch: "amd64", Features: []string{"avx2", "popcnt", "sse2", "sse41"}, ModuleHash: [32]byte{1, 2, 3},
			ModuleSize: 8, PauseCount: 42, PauseCountKnown: true, Created: 1700000000},
		Module: []byte("\x00asm\x01\x00\x00\x00"),
		Frames: []Frame{
			{Func: 3, Kind: api.PauseCall, Offset: 17, Locals: []Value{{Type: api.ValueTypeI32, Lo: 7}, {Type: api.ValueTypeF64, Lo: 0x400921fb54442d18}},
				Stack: []Value{{Type: api.ValueTypeV128, Lo: 1, Hi: 2}, {Type: api.ValueTypeFuncref, Lo: 4}, {Type: api.ValueTypeExternref}}},
			{Func: 4, Kind: api.PauseLoop, Offset: 2, Locals: []Value{{Type: api.ValueTypeI64, Lo: 1 << 60}, {Type: api.ValueTypeF32, Lo: 0x3f800000}}},
		},
		Globals:  []Global{{Mutable: true, Value: Value{Type: api.ValueTypeI32, Lo: 65536}}, {Value: Value{Type: api.ValueTypeFuncref}}},
		Tables:   []Table{{ElemType: api.ValueTypeFuncref, Elems: []uint32{0, 1, 5, 0}}, {ElemType: api.ValueTypeExternref, Elems: []uint32{0}}},
		Memories: []Memory{{Size: uint64(len(mem)), Data: mem}},
		Segments: Segments{DataDropped: []bool{true, false, true, true, false, false, false, false, true}, ElemDropped: []bool{false}},
		WASI: &WASI{Args: []string{"prog", "a b"}, Env: []string{"K=V"}, Monotonic: 123, CPUTime: 456,
			Descriptors: []Descriptor{
				{FD: 0, Kind: KindStdio, Stdio: 0},
				{FD: 3, Kind: KindPreopen, Preopen: "/", GuestPath: ".", HostPath: "/tmp/x", Rights: 1 << 40, Inherit: ^uint64(0)},
				{FD: 5, Kind: KindFile, Preopen: "/", GuestPath: "out.txt", HostPath: "/tmp/x/out.txt", OFlags: 9, FDFlags: 1,
					Offset: 1234, Size: 1234, MtimeNs: 99, Dev: 1, Ino: 77},
			}},
	}
}

func write(t testing.TB, s *Snapshot, o WriteOptions) []byte {
	var buf bytes.Buffer
	n, err := Write(&buf, s, o)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("Write reported %d bytes, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}

// frameHeaders are the headers of fs.
func frameHeaders(fs []Frame) []FrameHeader {
	hs := make([]FrameHeader, len(fs))
	for i, f := range fs {
		hs[i] = FrameHeader{Func: f.Func, Kind: f.Kind, Offset: f.Offset, Locals: len(f.Locals), Stack: len(f.Stack)}
	}
	return hs
}

func TestRoundTrip(t *testing.T) {
	for _, compress := range []bool{false, true} {
		s := sample()
		b := write(t, s, WriteOptions{Compress: compress})
		f, err := ReadBytes(b)
		if err != nil {
			t.Fatalf("compress=%v: %v", compress, err)
		}
		got := f.Snapshot
		if got.Frames != nil {
			t.Fatal("Read decoded the frame values")
		}
		if got.Frames, err = f.Frames(); err != nil {
			t.Fatal(err)
		}
		if want := frameHeaders(s.Frames); !reflect.DeepEqual(f.FrameHeaders(), want) {
			t.Fatalf("frame headers %+v, want %+v", f.FrameHeaders(), want)
		}
		mem := make([]byte, got.Memories[0].Size)
		if err := f.ReadMemory(0, mem); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mem, s.Memories[0].Data) {
			t.Fatal("memory differs")
		}
		if want := []PageRun{{0, 1}, {3, 2}, {47, 1}}; !reflect.DeepEqual(got.Memories[0].Runs, want) {
			t.Fatalf("runs %v, want %v", got.Memories[0].Runs, want)
		}
		got.Memories[0].Data, s.Memories[0].Data = nil, nil
		if !reflect.DeepEqual(&got, s) {
			t.Fatalf("compress=%v: round trip differs:\n got %+v\nwant %+v", compress, got, *s)
		}
		off, n, mappable := f.MemoryData(0)
		if mappable == compress || (!compress && (off%PageSize != 0 || n != 4*PageSize)) {
			t.Fatalf("compress=%v: memory data at %d, %d bytes, mappable %v", compress, off, n, mappable)
		}
	}
}

// Every single-byte change and every truncation is refused with an error
// wrapping one of the sentinels; nothing panics.
func TestCorruptionDetected(t *testing.T) {
	for _, compress := range []bool{false, true} {
		b := write(t, sample(), WriteOptions{Compress: compress})
		check := func(what string, c []byte) {
			f, err := ReadBytes(c)
			if err == nil {
				// Memory data is checked when it is read.
				mem := make([]byte, f.Snapshot.Memories[0].Size)
				err = f.ReadMemory(0, mem)
			}
			if err == nil {
				t.Fatalf("compress=%v: %s: accepted", compress, what)
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotCheckpoint) && !errors.Is(err, ErrVersion) {
				t.Fatalf("compress=%v: %s: error %v wraps no sentinel", compress, what, err)
			}
		}
		for i := range b {
			c := append([]byte(nil), b...)
			c[i] ^= 0x5a
			check("flip byte "+itoa(i), c)
		}
		for n := 0; n < len(b); n++ {
			check("truncate to "+itoa(n), b[:n])
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestVersions(t *testing.T) {
	b := write(t, sample(), WriteOptions{})
	setVersion := func(major, minor uint16) []byte {
		c := append([]byte(nil), b...)
		binary.LittleEndian.PutUint16(c[8:], major)
		binary.LittleEndian.PutUint16(c[10:], minor)
		binary.LittleEndian.PutUint32(c[12:], crc(c[:12]))
		return c
	}
	_, err := ReadBytes(setVersion(Major+1, 0))
	if !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), "format 2.0") {
		t.Fatalf("newer major: %v", err)
	}
	if _, err := ReadBytes(setVersion(Major, Minor+1)); err != nil {
		t.Fatalf("newer minor: %v", err)
	}
	if _, err := ReadBytes([]byte("#!/bin/sh\necho not a checkpoint\n")); !errors.Is(err, ErrNotCheckpoint) {
		t.Fatalf("not a checkpoint: %v", err)
	}
}

// insertSection puts an extra section of type typ right before the end
// section of b.
func insertSection(b []byte, typ SectionType, payload []byte) []byte {
	at := len(b) - sectionHeaderSize
	var cw countingWriter
	var buf bytes.Buffer
	cw.w = &buf
	cw.section(typ, 0, 0, payload, uint64(len(payload)))
	return append(append(append([]byte(nil), b[:at]...), buf.Bytes()...), b[at:]...)
}

// A section unknown to this reader is skipped in a file of a newer minor
// version and refused in a file of this reader's version.
func TestUnknownSections(t *testing.T) {
	b := insertSection(write(t, sample(), WriteOptions{}), 0x4000, []byte("from the future"))
	if _, err := ReadBytes(b); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("unknown section at the same minor version: %v", err)
	}
	binary.LittleEndian.PutUint16(b[10:], Minor+1)
	binary.LittleEndian.PutUint32(b[12:], crc(b[:12]))
	f, err := ReadBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	skipped := 0
	for _, s := range f.Sections {
		if s.Skipped {
			skipped++
		}
	}
	if skipped != 1 {
		t.Fatalf("%d sections skipped, want 1", skipped)
	}
	mem := make([]byte, f.Snapshot.Memories[0].Size)
	if err := f.ReadMemory(0, mem); err != nil {
		t.Fatal(err)
	}
}

// Forged counts far beyond the data are refused before anything is
// allocated for them.
func TestForgedCounts(t *testing.T) {
	d := decoder{b: binary.AppendUvarint(nil, 1<<40), what: "test"}
	if n := d.count("x", 1<<50, 1); n != 0 || !errors.Is(d.err, ErrCorrupt) {
		t.Fatalf("count %d, err %v", n, d.err)
	}
	var e encoder
	e.uv(MaxFrames)
	if _, err := decodeFrames(e.b, DefaultLimits()); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("frames: %v", err)
	}
}

func FuzzRead(f *testing.F) {
	f.Add(write(f, sample(), WriteOptions{}))
	f.Add(write(f, sample(), WriteOptions{Compress: true}))
	seeds, _ := filepath.Glob("testdata/*.ckpt")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := ReadBytes(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotCheckpoint) && !errors.Is(err, ErrVersion) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		for i, m := range file.Snapshot.Memories {
			if m.Size > 1<<20 {
				continue
			}
			_ = file.ReadMemory(i, make([]byte, m.Size))
			_ = file.VerifyMemory(i) // the parallel, chunked check restores run
		}
	})
}

// Files written by format 1.0 (testdata/real*.ckpt, real checkpoints of
// testdata/ckpt.wasm in the repository root) stay readable.
func TestReadsFormat10Files(t *testing.T) {
	for _, name := range []string{"real.ckpt", "real-zstd.ckpt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		f, err := ReadBytes(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if f.Major != 1 || f.Minor != 0 || len(f.FrameHeaders()) == 0 || len(f.Snapshot.Memories) != 1 || f.Snapshot.Module == nil {
			t.Fatalf("%s: %+v", name, f.Snapshot.Meta)
		}
		if err := f.ReadMemory(0, make([]byte, f.Snapshot.Memories[0].Size)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// FuzzSections feeds the section decoders directly, past the checksums
// that make FuzzRead's mutations mostly fail early.
func FuzzSections(f *testing.F) {
	s := sample()
	s.Memories[0].Runs = presentRuns(s.Memories[0].Data, nil)
	seeds := [][]byte{encodeMeta(&s.Meta), encodeFrames(s.Frames), encodeGlobals(s.Globals), encodeTables(s.Tables),
		encodeSegments(&s.Segments), EncodeWASI(s.WASI), encodeMemoryMap(0, &s.Memories[0])}
	for i, b := range seeds {
		f.Add(uint8(i), b)
	}
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		var err error
		lim := DefaultLimits()
		switch which % 7 {
		case 0:
			_, err = decodeMeta(b)
		case 1:
			// What Read checks and what Frames decodes must agree.
			var fs []Frame
			fs, err = decodeFrames(b, lim)
			hs, herr := readFrameHeaders(&decoder{b: b, what: "frames"}, lim)
			if (err == nil) != (herr == nil) || (err == nil && !reflect.DeepEqual(hs, frameHeaders(fs))) {
				t.Fatalf("decoding the values: %v, checking them: %v", err, herr)
			}
		case 2:
			_, err = decodeGlobals(b, lim)
		case 3:
			_, err = decodeTables(b, lim)
		case 4:
			_, err = decodeSegments(b)
		case 5:
			_, err = DecodeWASI(b)
		case 6:
			var m Memory
			if m, err = decodeMemoryMap(b, 0, &lim.PageRuns); err == nil && m.PresentPages()*PageSize > m.Size {
				t.Fatalf("runs %v beyond size %d", m.Runs, m.Size)
			}
		}
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error %v does not wrap ErrCorrupt", err)
		}
	})
}

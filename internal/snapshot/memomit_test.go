package snapshot

import (
	"encoding/binary"
	"errors"
	"testing"
)

// A memory written with DataOmitted reads back marked so, with no page
// and an empty data section, compressed or not.
func TestMemoryDataOmittedRoundTrip(t *testing.T) {
	for _, compress := range []bool{false, true} {
		s := sample()
		s.Memories[0] = Memory{Size: s.Memories[0].Size, DataOmitted: true}
		f, err := ReadBytes(write(t, s, WriteOptions{Compress: compress}))
		if err != nil {
			t.Fatalf("compress=%v: %v", compress, err)
		}
		m := f.Snapshot.Memories[0]
		if !m.DataOmitted || len(m.Runs) != 0 || m.Size != s.Memories[0].Size {
			t.Fatalf("compress=%v: read back %+v", compress, m)
		}
		if _, n, _ := f.MemoryData(0); n != 0 {
			t.Fatalf("compress=%v: %d bytes of memory data", compress, n)
		}
	}
	// Without the mark, a memory of no present page is only all-zero.
	f, err := ReadBytes(write(t, &Snapshot{Meta: sample().Meta, Memories: []Memory{{Size: 64 << 10, Packed: true}}}, WriteOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if f.Snapshot.Memories[0].DataOmitted {
		t.Fatal("an all-zero memory reads as omitted")
	}
}

// The writer refuses an omitted memory that lists pages.
func TestMemoryDataOmittedWithRunsNotWritten(t *testing.T) {
	s := sample()
	s.Memories[0] = Memory{Size: s.Memories[0].Size, DataOmitted: true, Runs: []PageRun{{0, 1}}}
	if _, err := Write(discard{}, s, WriteOptions{}); err == nil {
		t.Fatal("written")
	}
}

// setFlags rewrites the flags of the first section of type typ in b (a
// section written without padding) and its header checksum, as a forger
// would.
func setFlags(t *testing.T, b []byte, typ SectionType, flags uint16) []byte {
	t.Helper()
	f, err := ReadBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range f.Sections {
		if info.Type != typ {
			continue
		}
		b = append([]byte(nil), b...)
		h := b[info.Offset-sectionHeaderSize : info.Offset]
		if SectionType(binary.LittleEndian.Uint16(h)) != typ {
			t.Fatalf("%v section is padded", typ)
		}
		binary.LittleEndian.PutUint16(h[2:], flags)
		binary.LittleEndian.PutUint32(h[28:], crc(h[:28]))
		return b
	}
	t.Fatalf("no %v section", typ)
	return nil
}

// The mark on another section, or on a memory section that lists pages,
// is a forged file: refused as corrupt.
func TestMemoryDataOmittedMarkForgedRefused(t *testing.T) {
	b := write(t, sample(), WriteOptions{})
	for _, typ := range []SectionType{SectionGlobals, SectionTables, SectionSegments} {
		if _, err := ReadBytes(setFlags(t, b, typ, flagDataOmitted)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("mark on the %v section: %v, want ErrCorrupt", typ, err)
		}
	}
	if _, err := ReadBytes(setFlags(t, b, SectionMemory, flagDataOmitted)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("mark on a memory section with pages: %v, want ErrCorrupt", err)
	}
}

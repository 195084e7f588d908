package snapshot

import (
	"bytes"
	"errors"
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

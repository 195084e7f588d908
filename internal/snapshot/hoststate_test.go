package snapshot

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestHostStateRoundTrip(t *testing.T) {
	for _, o := range []WriteOptions{{}, {Compress: true}} {
		s := sample()
		// Unsorted on purpose: the writer sorts; an empty payload stays.
		s.Host = []HostState{
			{Name: "embedder/handles", Version: 3, Data: bytes.Repeat([]byte("handle"), 100)},
			{Name: "cache", Version: 0, Data: []byte{}},
		}
		f, err := ReadBytes(write(t, s, o))
		if err != nil {
			t.Fatal(err)
		}
		want := []HostState{
			{Name: "cache", Version: 0, Data: []byte{}},
			{Name: "embedder/handles", Version: 3, Data: bytes.Repeat([]byte("handle"), 100)},
		}
		if !equalHostStates(f.Snapshot.Host, want) {
			t.Fatalf("compress %v: got %+v", o.Compress, f.Snapshot.Host)
		}
	}
	if f, err := ReadBytes(write(t, sample(), WriteOptions{})); err != nil || f.Snapshot.Host != nil {
		t.Fatalf("no host state: %v, %+v", err, f.Snapshot.Host)
	}
}

func TestHostStateWriterRefuses(t *testing.T) {
	for name, h := range map[string][]HostState{
		"duplicate": {{Name: "a"}, {Name: "a"}},
		"wasi":      {{Name: WASIName}},
		"empty":     {{Name: ""}},
		"escape":    {{Name: "a\x1b[31m"}},
		"long":      {{Name: strings.Repeat("n", MaxHostStateName+1)}},
		"big":       {{Name: "a", Data: make([]byte, MaxHostStateData+1)}},
	} {
		s := sample()
		s.Host = h
		if _, err := Write(&bytes.Buffer{}, s, WriteOptions{}); err == nil {
			t.Errorf("%s: written", name)
		}
	}
}

// Sections a writer never produces, with valid checksums: each is refused
// as corrupt.
func TestHostStateForgedSectionRefused(t *testing.T) {
	valid := func(h ...HostState) []byte { return encodeHostStates(h) }
	for name, payload := range map[string][]byte{
		"unsorted":      valid(HostState{Name: "b"}, HostState{Name: "a"}),
		"duplicate":     valid(HostState{Name: "a"}, HostState{Name: "a"}),
		"wasi name":     valid(HostState{Name: WASIName}),
		"bad name":      valid(HostState{Name: "a b"}),
		"trailing":      append(valid(HostState{Name: "a"}), 0),
		"count":         {0xff, 0x01},
		"data length":   {1, 1, 'a', 0, 0xff, 0xff, 0xff, 0x7f},
		"version > u32": {1, 1, 'a', 0xff, 0xff, 0xff, 0xff, 0x7f, 0},
		"truncated":     valid(HostState{Name: "a", Data: []byte("xyz")})[:6],
	} {
		b := forge(t, append(basics(encodeFrames(sample().Frames)), forgedSection{typ: SectionHostState, payload: payload})...)
		if _, err := ReadBytes(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
	ok := forge(t, append(basics(encodeFrames(sample().Frames)), forgedSection{typ: SectionHostState, payload: valid(HostState{Name: "a", Version: 7, Data: []byte("x")})})...)
	if f, err := ReadBytes(ok); err != nil || len(f.Snapshot.Host) != 1 || f.Snapshot.Host[0].Version != 7 {
		t.Fatalf("valid forged section: %v", err)
	}
}

func FuzzHostStates(f *testing.F) {
	f.Add(encodeHostStates([]HostState{{Name: "a", Version: 1, Data: []byte("x")}, {Name: "b/c", Version: 2}}))
	f.Add(encodeHostStates(nil))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := DecodeHostStates(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if len(h) > MaxHostStates {
			t.Fatalf("%d entries accepted", len(h))
		}
		// What is accepted is what a writer could have written.
		if err := SortHostStates(append([]HostState(nil), h...)); err != nil {
			t.Fatalf("accepted entries a writer refuses: %v", err)
		}
		q, err := DecodeHostStates(encodeHostStates(h))
		if err != nil || !equalHostStates(h, q) {
			t.Fatalf("re-encoding: %v, %+v vs %+v", err, h, q)
		}
	})
}

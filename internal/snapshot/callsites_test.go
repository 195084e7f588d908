package snapshot

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestCallsitesRoundTrip(t *testing.T) {
	s := sample()
	s.Callsites = []Decision{
		{Builtin: "f32x4.floor", Impl: "sse41", Features: []string{"sse41"}},
		{Builtin: "f32x4.relaxed_madd", Impl: "hw-fma", Features: []string{"fma"}, Semantic: true, Semantics: "fused"},
		{Builtin: "i8x16.bitmask", Impl: "portable"},
	}
	for _, o := range []WriteOptions{{}, {Compress: true}} {
		f, err := ReadBytes(write(t, s, o))
		if err != nil {
			t.Fatal(err)
		}
		got := f.Snapshot.Callsites
		for i := range got {
			if len(got[i].Features) == 0 {
				got[i].Features = nil
			}
		}
		if !reflect.DeepEqual(got, s.Callsites) {
			t.Fatalf("compress=%v: got %+v, want %+v", o.Compress, got, s.Callsites)
		}
		found := false
		for _, sec := range f.Sections {
			found = found || sec.Type == SectionCallsites && sec.Type.String() == "callsites"
		}
		if !found {
			t.Fatal("no callsites section listed")
		}
	}
	// An empty table is recorded as such; no table at all writes no section.
	s.Callsites = []Decision{}
	if f, err := ReadBytes(write(t, s, WriteOptions{})); err != nil || f.Snapshot.Callsites == nil || len(f.Snapshot.Callsites) != 0 {
		t.Fatalf("empty table: %v %#v", err, f)
	}
	s.Callsites = nil
	if f, err := ReadBytes(write(t, s, WriteOptions{})); err != nil || f.Snapshot.Callsites != nil {
		t.Fatalf("no table: %v", err)
	}
}

func TestCallsitesMalformed(t *testing.T) {
	for name, ds := range map[string][]Decision{
		"empty builtin":           {{Impl: "x"}},
		"empty impl":              {{Builtin: "x"}},
		"duplicate":               {{Builtin: "x", Impl: "a"}, {Builtin: "x", Impl: "b"}},
		"semantics, not semantic": {{Builtin: "x", Impl: "a", Semantics: "fused"}},
	} {
		if _, err := decodeCallsites(encodeCallsites(ds)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
	good := encodeCallsites([]Decision{{Builtin: "x", Impl: "a", Features: []string{"sse2"}}})
	for n := 0; n < len(good); n++ {
		if _, err := decodeCallsites(good[:n]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated to %d bytes: %v", n, err)
		}
	}
	if _, err := decodeCallsites(append(good, 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("trailing byte: %v", err)
	}
	// A forged count far beyond the data is refused before allocating.
	if _, err := decodeCallsites([]byte{0xff, 0x1f}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("forged count: %v", err)
	}
}

// Format 1.0 files have no callsites section: they read with Callsites nil.
func TestFormat10HasNoCallsites(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "real.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := ReadBytes(b)
	if err != nil || f.Minor != 0 || f.Snapshot.Callsites != nil {
		t.Fatalf("%v, minor %d, callsites %v", err, f.Minor, f.Snapshot.Callsites)
	}
}

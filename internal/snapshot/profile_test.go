package snapshot

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func sampleProfile() *Profile {
	return &Profile{Funcs: []ProfileFunc{
		{Func: 7, Samples: 120, Loops: []ProfileLoop{{Offset: 31, Samples: 100}, {Offset: 12, Samples: 15}}},
		{Func: 3, Samples: 9},
		{Func: 1 << 20, Samples: 1 << 40, Loops: []ProfileLoop{{Offset: 1 << 31, Samples: 1 << 40}}},
	}}
}

func TestProfileRoundTrip(t *testing.T) {
	s := sample()
	s.Profile = sampleProfile()
	for _, o := range []WriteOptions{{}, {Compress: true}} {
		f, err := ReadBytes(write(t, s, o))
		if err != nil {
			t.Fatal(err)
		}
		if f.Minor != 2 {
			t.Errorf("minor version %d, want 2", f.Minor)
		}
		if !reflect.DeepEqual(f.Snapshot.Profile, s.Profile) {
			t.Fatalf("compress=%v: got %+v, want %+v", o.Compress, f.Snapshot.Profile, s.Profile)
		}
	}
	s.Profile = nil
	if f, err := ReadBytes(write(t, s, WriteOptions{})); err != nil || f.Snapshot.Profile != nil {
		t.Fatalf("no profile: %v, %+v", err, f.Snapshot.Profile)
	}
}

// A file with a profile is the file without it plus one section: the
// checkpoint of a profiled run equals the interpreter's apart from the
// profile (issue 11, "byte-identical apart from ... the profile").
func TestProfileOnlyAddsItsSection(t *testing.T) {
	s := sample()
	without := write(t, s, WriteOptions{})
	s.Profile = sampleProfile()
	with := write(t, s, WriteOptions{})
	f, err := ReadBytes(with)
	if err != nil {
		t.Fatal(err)
	}
	var sec SectionInfo
	for _, x := range f.Sections {
		if x.Type == SectionProfile {
			sec = x
		}
	}
	if sec.Type != SectionProfile {
		t.Fatal("no profile section listed")
	}
	start := sec.Offset - sectionHeaderSize
	cut := append(append([]byte(nil), with[:start]...), with[sec.Offset+int64(sec.Length):]...)
	if !bytes.Equal(cut, without) {
		t.Fatal("the file without its profile section differs from the file written without a profile")
	}
}

func TestProfileMalformed(t *testing.T) {
	for name, p := range map[string]*Profile{
		"function without samples": {Funcs: []ProfileFunc{{Func: 1}}},
		"loop without samples":     {Funcs: []ProfileFunc{{Func: 1, Samples: 3, Loops: []ProfileLoop{{Offset: 2}}}}},
		"duplicate function":       {Funcs: []ProfileFunc{{Func: 1, Samples: 1}, {Func: 1, Samples: 2}}},
		"duplicate loop":           {Funcs: []ProfileFunc{{Func: 1, Samples: 9, Loops: []ProfileLoop{{Offset: 2, Samples: 1}, {Offset: 2, Samples: 1}}}}},
		"loops above the function": {Funcs: []ProfileFunc{{Func: 1, Samples: 9, Loops: []ProfileLoop{{Offset: 2, Samples: 5}, {Offset: 3, Samples: 5}}}}},
	} {
		if _, err := decodeProfile(encodeProfile(p)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
	good := encodeProfile(sampleProfile())
	for n := 0; n < len(good); n++ {
		if _, err := decodeProfile(good[:n]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated to %d bytes: %v", n, err)
		}
	}
	if _, err := decodeProfile(append(good, 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("trailing byte: %v", err)
	}
	var e encoder
	e.uv(MaxProfileFuncs + 1)
	if _, err := decodeProfile(e.b); !errors.Is(err, ErrCorrupt) {
		t.Errorf("too many functions: %v", err)
	}
	// Loops over all functions together are capped too.
	var big Profile
	for i := range MaxProfileLoopsAll/MaxProfileLoops + 1 {
		f := ProfileFunc{Func: uint32(i), Samples: 1 << 20}
		for j := range MaxProfileLoops {
			f.Loops = append(f.Loops, ProfileLoop{Offset: uint32(j), Samples: 1})
		}
		big.Funcs = append(big.Funcs, f)
	}
	if _, err := decodeProfile(encodeProfile(&big)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("too many loops in all: %v", err)
	}
	big.Funcs = big.Funcs[:len(big.Funcs)-1]
	if p, err := decodeProfile(encodeProfile(&big)); err != nil || len(p.Funcs) != len(big.Funcs) {
		t.Errorf("loops at the cap: %v", err)
	}
	if n := len(encodeProfile(&big)); n > maxProfilePayload {
		t.Errorf("a profile at the caps takes %d bytes, above the section's limit %d", n, maxProfilePayload)
	}
}

// FuzzProfile feeds the profile decoder directly: any input is a profile
// or an error wrapping ErrCorrupt, and what decodes encodes back to the
// same bytes (the encoding has one form per profile).
func FuzzProfile(f *testing.F) {
	f.Add(encodeProfile(sampleProfile()))
	f.Add(encodeProfile(&Profile{}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodeProfile(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if len(p.Funcs) > MaxProfileFuncs {
			t.Fatalf("%d functions accepted", len(p.Funcs))
		}
		if got := encodeProfile(p); !bytes.Equal(got, b) {
			// LEB128 has several encodings of one number; a decoded
			// profile must at least decode again to itself.
			q, err := decodeProfile(got)
			if err != nil || !reflect.DeepEqual(p, q) {
				t.Fatalf("re-encoding: %v, %+v vs %+v", err, p, q)
			}
		}
	})
}

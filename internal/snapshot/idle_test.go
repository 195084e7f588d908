package snapshot

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func idleSample() *Snapshot {
	s := sample()
	s.Frames, s.Idle = nil, true
	return s
}

func TestIdleRoundTrip(t *testing.T) {
	for _, compress := range []bool{false, true} {
		s := idleSample()
		f, err := ReadBytes(write(t, s, WriteOptions{Compress: compress}))
		if err != nil {
			t.Fatalf("compress=%v: %v", compress, err)
		}
		if !f.Snapshot.Idle || len(f.FrameHeaders()) != 0 {
			t.Fatalf("compress=%v: read idle=%v with %d frames", compress, f.Snapshot.Idle, len(f.FrameHeaders()))
		}
		if fs, err := f.Frames(); err != nil || len(fs) != 0 {
			t.Fatalf("compress=%v: Frames of an idle checkpoint: %v, %v", compress, fs, err)
		}
		got := f.Snapshot
		got.Memories[0].Data, s.Memories[0].Data = nil, nil
		if !reflect.DeepEqual(&got, s) {
			t.Fatalf("compress=%v: round trip differs:\n got %+v\nwant %+v", compress, got, *s)
		}
		// What keeps an older reader from reading it as a paused call
		// with no frames: the frames section it requires is not there.
		for _, sec := range f.Sections {
			if sec.Type == SectionFrames {
				t.Fatal("an idle checkpoint has a frames section")
			}
		}
	}
}

func TestIdleWithFramesNotWritten(t *testing.T) {
	s := sample()
	s.Idle = true
	if _, err := Write(discard{}, s, WriteOptions{}); err == nil {
		t.Fatal("an idle snapshot with frames was written")
	}
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// A file that says both "paused here" and "idle" is refused, and so is an
// idle section with a payload (known sections never grow fields).
func TestIdleSectionForgeries(t *testing.T) {
	both := insertSection(write(t, sample(), WriteOptions{}), SectionIdle, nil)
	if _, err := ReadBytes(both); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "both") {
		t.Fatalf("frames and idle: %v", err)
	}
	twice := insertSection(write(t, idleSample(), WriteOptions{}), SectionIdle, nil)
	if _, err := ReadBytes(twice); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("two idle sections: %v", err)
	}
	payload := insertSection(write(t, idleSample(), WriteOptions{}), SectionIdle, []byte{0})
	if _, err := ReadBytes(payload); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("idle section with a payload: %v", err)
	}
}

// Every single-byte change and every truncation of an idle checkpoint is
// refused, as for a paused one (TestCorruptionDetected).
func TestIdleCorruptionDetected(t *testing.T) {
	b := write(t, idleSample(), WriteOptions{})
	for i := range b {
		c := append([]byte(nil), b...)
		c[i] ^= 0x5a
		f, err := ReadBytes(c)
		if err == nil {
			mem := make([]byte, f.Snapshot.Memories[0].Size)
			err = f.ReadMemory(0, mem)
		}
		if err == nil {
			t.Fatalf("flip byte %d: accepted", i)
		}
	}
	for n := 0; n < len(b); n++ {
		if _, err := ReadBytes(b[:n]); err == nil {
			t.Fatalf("truncated to %d: accepted", n)
		}
	}
}

package ferry

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/ferryvm/ferry/internal/snapshot"
)

// fuzzedSections are the sections FuzzRestore rewrites, by its first
// argument modulo their number.
var fuzzedSections = []snapshot.SectionType{
	snapshot.SectionMeta, snapshot.SectionFrames, snapshot.SectionGlobals, snapshot.SectionTables,
	snapshot.SectionMemory, snapshot.SectionMemoryData, snapshot.SectionSegments, snapshot.SectionWASI,
	snapshot.SectionCallsites, snapshot.SectionModule,
}

// fuzzAllocLimit bounds what reading and restoring any checkpoint of
// ckpt.wasm may allocate: its module, a few structures and, for the
// largest frames and tables any file may hold (snapshot.DefaultLimits),
// a few hundred MiB, which the fuzzer is far from reaching with inputs of
// a few KiB unless a count escapes its cap.
const fuzzAllocLimit = 512 << 20

// FuzzRestore rewrites one section of a real checkpoint with the fuzzer's
// payload, as an attacker would (every checksum made right again, so the
// input gets past them), and reads, restores and resumes it for a few
// thousand pause points: nothing may panic, every error must wrap one of
// the checkpoint errors, and what is allocated stays bounded.
func FuzzRestore(f *testing.F) {
	base := realCheckpoint(f, false)
	file, err := snapshot.ReadBytes(base)
	if err != nil {
		f.Fatal(err)
	}
	// Seeds: every section's own payload, as stored.
	for i, typ := range fuzzedSections {
		for _, sec := range file.Sections {
			if sec.Type == typ {
				payload := base[sec.Offset : sec.Offset+int64(sec.Length)]
				f.Add(uint8(i), append([]byte(nil), payload...), false)
				if typ == snapshot.SectionFrames {
					f.Add(uint8(i), append([]byte(nil), payload...), true)
				}
				break
			}
		}
	}
	// A WASI section, which the base checkpoint has none of.
	f.Add(uint8(7), snapshot.EncodeWASI(&snapshot.WASI{Args: []string{"prog", "-v"}, Env: []string{"HOME=/"}}), false)
	debug.SetMemoryLimit(1 << 30)
	f.Fuzz(func(t *testing.T, which uint8, payload []byte, compress bool) {
		typ := fuzzedSections[int(which)%len(fuzzedSections)]
		b := forgeSection(t, base, typ, payload, compress)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		restoreForged(t, b)
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > fuzzAllocLimit {
			t.Fatalf("reading and restoring allocated %d MiB", n>>20)
		}
	})
}

// restoreForged reads, restores and briefly resumes the checkpoint b.
func restoreForged(t *testing.T, b []byte) {
	ck, err := ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		if !errors.Is(err, ErrCheckpointCorrupt) && !errors.Is(err, ErrNotACheckpoint) && !errors.Is(err, ErrCheckpointVersion) {
			t.Fatalf("read: error %v wraps no checkpoint error", err)
		}
		return
	}
	_ = ck.Info()
	ctx := context.Background()
	rt := NewRuntime(NewRuntimeConfig())
	defer rt.Close(ctx)
	p, err := rt.Restore(ctx, ck, NewRestoreConfig().WithMemoryVerification(VerifyBeforeRun))
	if err != nil {
		if !errors.Is(err, ErrCheckpointMismatch) && !errors.Is(err, ErrCheckpointCorrupt) {
			t.Fatalf("restore: error %v wraps neither ErrCheckpointMismatch nor ErrCheckpointCorrupt", err)
		}
		return
	}
	// A forged but consistent state may run: it must do so within the
	// interpreter's checks, pausing again or ending with a result or a trap.
	_, _ = p.Resume(ctx, CallOptions{PauseAfter: 5000})
}

// The fuzz input format: which section, its payload, compressed or not.
// forgeSection must accept any of them, including ones the reader
// refuses, so that the fuzzer explores the reader and the restore alike.
func TestForgeSectionRoundTrip(t *testing.T) {
	base := realCheckpoint(t, false)
	f, err := snapshot.ReadBytes(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, compress := range []bool{false, true} {
		for _, sec := range f.Sections {
			if sec.Type == snapshot.SectionEnd {
				continue
			}
			payload := base[sec.Offset : sec.Offset+int64(sec.Length)]
			if sec.Compressed {
				t.Fatal("the base checkpoint is not compressed")
			}
			b := forgeSection(t, base, sec.Type, payload, compress)
			if _, _, err := restoreBytes(t, b, true); err != nil {
				t.Fatalf("%v rewritten as it was (compress %v): %v", sec.Type, compress, err)
			}
		}
	}
}

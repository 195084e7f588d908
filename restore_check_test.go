package ferry

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/snapshot"
)

// Expansion bombs (issue 14): forged checkpoints whose few compressed
// kilobytes decode to gigabytes of locals, table elements or strings.
// They are built as an attacker would, by writing section payloads and
// recomputing every checksum, and each test measures what reading or
// restoring them allocates (runtime.MemStats.TotalAlloc: deterministic,
// unlike timing or RSS).

const fileHeaderLen, sectionHeaderLen = 16, 32

// forgeSection returns the checkpoint b with the payload of its first
// section of type typ replaced by payload (or such a section added before
// the end section), zstd-compressed when compress, and every checksum and
// memory-data padding made right again.
func forgeSection(t testing.TB, b []byte, typ snapshot.SectionType, payload []byte, compress bool) []byte {
	t.Helper()
	flags := uint16(0)
	stored := payload
	if compress {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		stored = enc.EncodeAll(payload, nil)
		enc.Close()
		flags = 1
	}
	type section struct {
		typ        snapshot.SectionType
		flags      uint16
		raw        uint64
		payload    []byte
		replaced   bool
		terminator bool
	}
	var secs []section
	done := false
	for off := fileHeaderLen; off+sectionHeaderLen <= len(b); {
		h := b[off : off+sectionHeaderLen]
		s := section{typ: snapshot.SectionType(binary.LittleEndian.Uint16(h)), flags: binary.LittleEndian.Uint16(h[2:])}
		pad := int(binary.LittleEndian.Uint32(h[4:]))
		n := int(binary.LittleEndian.Uint64(h[8:]))
		s.raw = binary.LittleEndian.Uint64(h[16:])
		start := off + sectionHeaderLen + pad
		if start+n > len(b) {
			t.Fatalf("forgeSection: section at %d runs past the end", off)
		}
		s.payload = b[start : start+n]
		off = start + n
		if s.typ == typ && !done {
			s.flags, s.raw, s.payload, done = flags, uint64(len(payload)), stored, true
		}
		if s.typ == snapshot.SectionEnd {
			if !done {
				secs = append(secs, section{typ: typ, flags: flags, raw: uint64(len(payload)), payload: stored})
			}
			s.terminator = true
		}
		secs = append(secs, s)
		if s.terminator {
			break
		}
	}
	out := append([]byte(nil), b[:fileHeaderLen]...)
	for _, s := range secs {
		pad := 0
		if s.typ == snapshot.SectionMemoryData && s.flags == 0 {
			pad = (snapshot.PageSize - (len(out)+sectionHeaderLen)%snapshot.PageSize) % snapshot.PageSize
		}
		out = appendSection(out, s.typ, s.flags, pad, s.payload, s.raw)
	}
	return out
}

func appendSection(out []byte, typ snapshot.SectionType, flags uint16, pad int, payload []byte, raw uint64) []byte {
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	var h [sectionHeaderLen]byte
	binary.LittleEndian.PutUint16(h[0:], uint16(typ))
	binary.LittleEndian.PutUint16(h[2:], flags)
	binary.LittleEndian.PutUint32(h[4:], uint32(pad))
	binary.LittleEndian.PutUint64(h[8:], uint64(len(payload)))
	binary.LittleEndian.PutUint64(h[16:], raw)
	binary.LittleEndian.PutUint32(h[24:], crc32.Checksum(payload, castagnoli))
	binary.LittleEndian.PutUint32(h[28:], crc32.Checksum(h[:28], castagnoli))
	out = append(out, h[:]...)
	out = append(out, make([]byte, pad)...)
	return append(out, payload...)
}

// framesPayload encodes frames frames of function fn, each paused at
// offset at a pause point of kind, with locals (or, when nil, nulls
// null funcref locals) and operands i32 operands (docs/snapshot-format.md,
// "frames").
func framesPayload(frames int, fn uint32, kind api.PauseKind, offset uint32, locals []snapshot.Value, nulls, operands int) []byte {
	e := binary.AppendUvarint(nil, uint64(frames))
	for range frames {
		e = binary.AppendUvarint(e, uint64(fn))
		e = append(e, byte(kind))
		e = binary.AppendUvarint(e, uint64(offset))
		if locals != nil {
			e = binary.AppendUvarint(e, uint64(len(locals)))
			for _, v := range locals {
				e = appendValue(e, v)
			}
		} else {
			e = binary.AppendUvarint(e, uint64(nulls))
			e = append(e, bytes.Repeat([]byte{api.ValueTypeFuncref, 0}, nulls)...)
		}
		e = binary.AppendUvarint(e, uint64(operands))
		e = append(e, bytes.Repeat([]byte{api.ValueTypeI32, 0, 0, 0, 0}, operands)...)
	}
	return e
}

// appendValue encodes v as docs/snapshot-format.md ("Encodings") says.
func appendValue(e []byte, v snapshot.Value) []byte {
	e = append(e, v.Type)
	switch v.Type {
	case api.ValueTypeI32, api.ValueTypeF32:
		return binary.LittleEndian.AppendUint32(e, uint32(v.Lo))
	case api.ValueTypeI64, api.ValueTypeF64:
		return binary.LittleEndian.AppendUint64(e, v.Lo)
	case api.ValueTypeV128:
		return binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(e, v.Lo), v.Hi)
	}
	return binary.AppendUvarint(e, v.Lo)
}

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

// inspect does what "ferry inspect" does with a checkpoint's bytes.
func inspect(b []byte) (CheckpointInfo, error) {
	ck, err := ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return CheckpointInfo{}, err
	}
	return ck.Info(), nil
}

// The review's 192 KB checkpoint: 4 frames of 2^24 locals each made a
// restore peak at 3.4 GB and ferry inspect die. Reading it is refused
// (more values than any interpreter stack holds) after decompressing the
// frames section, and nothing is allocated for the values.
func TestInspectLocalsBomb(t *testing.T) {
	b := forgeSection(t, realCheckpoint(t, true), snapshot.SectionFrames, framesPayload(4, 2, api.PauseCall, 0, nil, 1<<24, 0), true)
	t.Logf("forged checkpoint: %d bytes", len(b))
	var err error
	n := allocatedBy(func() { _, err = inspect(b) })
	if !errors.Is(err, ErrCheckpointCorrupt) || !strings.Contains(err.Error(), "local count") {
		t.Fatalf("got %v, want a corrupt checkpoint with too many locals", err)
	}
	// The decompressed section is 128 MiB; decoding it would take 1.5 GiB.
	if n > 64*mib {
		t.Fatalf("reading allocated %d MiB", n/mib)
	}
	t.Logf("allocated %d MiB", n/mib)
}

// A frame within the reader's limits but with far more locals than its
// function declares is refused by Restore before it copies them.
func TestLocalsBombRefusedBeforeAllocation(t *testing.T) {
	base := realCheckpoint(t, true)
	f, err := snapshot.ReadBytes(base)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := f.Frames()
	if err != nil {
		t.Fatal(err)
	}
	inner := fs[len(fs)-1]
	b := forgeSection(t, base, snapshot.SectionFrames, framesPayload(1, inner.Func, inner.Kind, inner.Offset, nil, 1<<21, 0), true)
	restoreRefusedCheaply(t, b, "locals")
}

// Likewise an operand stack higher than the function's body can build.
func TestOperandStackBombRefusedBeforeAllocation(t *testing.T) {
	base := realCheckpoint(t, true)
	f, err := snapshot.ReadBytes(base)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := f.Frames()
	if err != nil {
		t.Fatal(err)
	}
	inner := fs[len(fs)-1]
	b := forgeSection(t, base, snapshot.SectionFrames, framesPayload(1, inner.Func, inner.Kind, inner.Offset, inner.Locals, 0, 1<<21), true)
	restoreRefusedCheaply(t, b, "operand")
}

// restoreRefusedCheaply reads b and checks that restoring it fails with
// ErrCheckpointMismatch mentioning want, allocating little.
func restoreRefusedCheaply(t *testing.T, b []byte, want string) {
	t.Helper()
	ck, err := ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := NewRuntime(NewRuntimeConfig())
	defer rt.Close(ctx)
	n := allocatedBy(func() { _, err = rt.Restore(ctx, ck, NewRestoreConfig()) })
	if !errors.Is(err, ErrCheckpointMismatch) || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want a mismatch about %s", err, want)
	}
	// Compiling and instantiating the module takes well under a MiB; a
	// copy of the forged values would take 48 MiB.
	if n > 8*mib {
		t.Fatalf("the refused restore allocated %d MiB", n/mib)
	}
}

// tablesPayload encodes tables funcref tables of elems null elements.
func tablesPayload(tables, elems int) []byte {
	e := binary.AppendUvarint(nil, uint64(tables))
	for range tables {
		e = append(e, api.ValueTypeFuncref)
		e = binary.AppendUvarint(e, uint64(elems))
		e = append(e, make([]byte, elems)...)
	}
	return e
}

// The review's 25 tables of 10,000,000 elements (1.25 GB decoded) are
// refused before the section is even decompressed: all tables together
// hold at most what one table may.
func TestTableElementsBomb(t *testing.T) {
	b := forgeSection(t, realCheckpoint(t, true), snapshot.SectionTables, tablesPayload(25, 10_000_000), true)
	var err error
	n := allocatedBy(func() { _, err = inspect(b) })
	if !errors.Is(err, ErrCheckpointCorrupt) {
		t.Fatalf("got %v, want a corrupt checkpoint", err)
	}
	if n > 64*mib {
		t.Fatalf("reading allocated %d MiB", n/mib)
	}
	// Under the section's cap, the total is what refuses them.
	b = forgeSection(t, realCheckpoint(t, true), snapshot.SectionTables, tablesPayload(5, 4_000_000), true)
	n = allocatedBy(func() { _, err = inspect(b) })
	if !errors.Is(err, ErrCheckpointCorrupt) || !strings.Contains(err.Error(), "table element count") {
		t.Fatalf("got %v, want a corrupt checkpoint with too many elements", err)
	}
	if n > 64*mib {
		t.Fatalf("reading allocated %d MiB", n/mib)
	}
}

// wasiPayload encodes a WASI section with args and env and no descriptor.
func wasiPayload(args, env []string) []byte {
	return snapshot.EncodeWASI(&snapshot.WASI{Args: args, Env: env})
}

// Hundreds of MiB of arguments and environment were accepted (and would
// be copied into the guest by args_get); they are capped at 1 MiB
// together, about Linux's ARG_MAX.
func TestArgsEnvBomb(t *testing.T) {
	big := strings.Repeat("A", 1<<20-1)
	args := make([]string, 40)
	for i := range args {
		args[i] = big
	}
	b := forgeSection(t, realCheckpoint(t, true), snapshot.SectionWASI, wasiPayload(args, nil), true)
	if _, err := inspect(b); !errors.Is(err, ErrCheckpointCorrupt) || !strings.Contains(err.Error(), "argument") {
		t.Fatalf("40 MiB of arguments: got %v", err)
	}
	env := []string{"A=" + strings.Repeat("x", 600<<10), "B=" + strings.Repeat("y", 600<<10)}
	b = forgeSection(t, realCheckpoint(t, true), snapshot.SectionWASI, wasiPayload([]string{"prog"}, env), true)
	if _, err := inspect(b); !errors.Is(err, ErrCheckpointCorrupt) || !strings.Contains(err.Error(), "environment") {
		t.Fatalf("1.2 MiB of environment: got %v", err)
	}
	// What a real program has is kept.
	b = forgeSection(t, realCheckpoint(t, true), snapshot.SectionWASI, wasiPayload([]string{"prog", "-v"}, []string{"HOME=/"}), true)
	info, err := inspect(b)
	if err != nil {
		t.Fatal(err)
	}
	if info.WASI == nil || len(info.WASI.Args) != 2 || info.WASI.Env[0] != "HOME=/" {
		t.Fatalf("WASI info %+v", info.WASI)
	}
}

// More frames than the restoring runtime's call depth allows are refused
// before the module is even compiled.
func TestFramesBeyondCallDepthRefused(t *testing.T) {
	b := forgeSection(t, realCheckpoint(t, true), snapshot.SectionFrames, framesPayload(3, 2, api.PauseCall, 0, nil, 1, 0), true)
	ck, err := ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := NewRuntime(NewRuntimeConfig().WithMaxCallDepth(2))
	defer rt.Close(ctx)
	if _, err := rt.Restore(ctx, ck, NewRestoreConfig()); !errors.Is(err, ErrCheckpointMismatch) || !strings.Contains(err.Error(), "3 frames exceed the call depth limit 2") {
		t.Fatalf("got %v", err)
	}
}

// localsAtCap is a forged checkpoint whose 4 frames of 2^21 null funcref
// locals (a 3 KB file) stay just inside the reader's caps: 2^23 values
// of all frames together, the interpreter's stack.
func localsAtCap(t *testing.T) []byte {
	return forgeSection(t, realCheckpoint(t, true), snapshot.SectionFrames, framesPayload(4, 2, api.PauseCall, 0, nil, 1<<21, 0), true)
}

// Inspecting localsAtCap decoded every value (192 MiB, 213 MB of RSS for
// ferry inspect) though it prints only their counts.
func TestInspectLocalsAtCapIsCheap(t *testing.T) {
	b := localsAtCap(t)
	var info CheckpointInfo
	var err error
	n := allocatedBy(func() { info, err = inspect(b) })
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Frames) != 4 || info.Frames[3].Locals != 1<<21 || info.Frames[3].Stack != 0 {
		t.Fatalf("frames %+v, want 4 of 2^21 locals", info.Frames)
	}
	if n > 16*mib {
		t.Fatalf("inspecting a %d-byte checkpoint allocated %d MiB", len(b), n/mib)
	}
	t.Logf("inspecting a %d-byte checkpoint allocated %d KiB", len(b), n>>10)
}

// Restoring localsAtCap decoded every value while reading it, before the
// check against the module, which has no function of 2^21 locals,
// refused it.
func TestRestoreLocalsAtCapRefusedCheaply(t *testing.T) {
	b := localsAtCap(t)
	ctx := context.Background()
	rt := NewRuntime(NewRuntimeConfig())
	defer rt.Close(ctx)
	var err error
	n := allocatedBy(func() {
		var ck *Checkpoint
		if ck, err = ReadCheckpoint(bytes.NewReader(b), int64(len(b))); err == nil {
			_, err = rt.Restore(ctx, ck, NewRestoreConfig())
		}
	})
	if !errors.Is(err, ErrCheckpointMismatch) || !strings.Contains(err.Error(), "locals") {
		t.Fatalf("got %v, want a mismatch about locals", err)
	}
	if n > 16*mib {
		t.Fatalf("refusing a %d-byte checkpoint allocated %d MiB", len(b), n/mib)
	}
	t.Logf("refusing a %d-byte checkpoint allocated %d KiB", len(b), n>>10)
}

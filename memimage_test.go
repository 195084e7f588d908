package ferry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// writeImage writes mem to a file in dir, as a live migration's
// destination keeps the pages it received, and opens it.
func writeImage(t testing.TB, mem []byte) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "image")
	if err := os.WriteFile(path, mem, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// The stop phase of a live migration: a checkpoint without memory data,
// restored over an image of the memory taken at the same pause, resumes
// exactly as an uninterrupted run, mapped or copied, at pause points
// before and after memory.grow; and the checkpoint carries no page.
func TestCheckpointWithoutMemoryDataRestoresOverImage(t *testing.T) {
	ctx := context.Background()
	rt, inst, res, err := runCkpt(t, 20, 3, CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := observable(inst, res)
	rt.Close(ctx)
	for _, n := range []int64{1, 9, 17, 30} {
		for _, mapped := range []bool{true, false} {
			rt, _, _, err := runCkpt(t, 20, 3, CallOptions{PauseAfter: n})
			var p *Paused
			if !errors.As(err, &p) {
				t.Fatalf("N=%d: no pause: %v", n, err)
			}
			mem := p.Instance().Memory("mem").Bytes()
			image := writeImage(t, mem)
			full := checkpointBytes(t, p, NewCheckpointConfig())
			b := checkpointBytes(t, p, NewCheckpointConfig().WithoutMemoryData())
			rt.Close(ctx)
			if len(b) >= len(full) && bytes.Count(mem, []byte{0}) != len(mem) {
				t.Fatalf("N=%d: the checkpoint without memory data has %d bytes, the full one %d", n, len(b), len(full))
			}
			ck, err := ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			rt2 := NewRuntime(NewRuntimeConfig())
			p2, err := rt2.Restore(ctx, ck, NewRestoreConfig().WithMemoryImage(image).WithMemoryMapping(mapped))
			if err != nil {
				t.Fatalf("N=%d mapped=%v: restore: %v", n, mapped, err)
			}
			res, err := p2.Resume(ctx, CallOptions{})
			if err != nil {
				t.Fatalf("N=%d mapped=%v: resume: %v", n, mapped, err)
			}
			if got := observable(p2.Instance(), res); got != want {
				t.Fatalf("N=%d mapped=%v: %s, want %s", n, mapped, got, want)
			}
			rt2.Close(ctx)
		}
	}
}

// An image whose size is not the checkpoint's memory size (a transfer cut
// short, or a memory.grow the image missed) is refused with
// ErrCheckpointMismatch, not restored over a truncated or zero-padded
// memory.
func TestMemoryImageOfWrongSizeRefused(t *testing.T) {
	ctx := context.Background()
	p := pausedWithData(t, 2)
	mem := p.Instance().Memory("mem").Bytes()
	b := checkpointBytes(t, p, NewCheckpointConfig().WithoutMemoryData())
	for _, size := range []int{0, len(mem) - 4096, len(mem) + 4096} {
		image := writeImage(t, make([]byte, size))
		ck, err := ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		rt := NewRuntime(NewRuntimeConfig())
		_, err = rt.Restore(ctx, ck, NewRestoreConfig().WithMemoryImage(image))
		rt.Close(ctx)
		if !errors.Is(err, ErrCheckpointMismatch) {
			t.Fatalf("image of %d bytes for a memory of %d: %v, want ErrCheckpointMismatch", size, len(mem), err)
		}
	}
}

// The restored memory is the image, byte for byte, mapped or copied: the
// guest's pages come from the image, never from the checkpoint (which has
// none) or zero fill.
func TestMemoryImageIsTheRestoredMemory(t *testing.T) {
	ctx := context.Background()
	p := pausedWithData(t, 64)
	mem := p.Instance().Memory("mem").Bytes()
	want := sha256.Sum256(mem)
	image := writeImage(t, mem)
	b := checkpointBytes(t, p, NewCheckpointConfig().WithoutMemoryData())
	if len(b) >= len(mem) {
		t.Fatalf("the checkpoint without memory data has %d bytes for a memory of %d", len(b), len(mem))
	}
	// From a file, the checkpoint's (empty) memory data is also mapped and
	// checked concurrently: neither may disturb the image.
	path := filepath.Join(t.TempDir(), "ck")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, viaFile := range []bool{false, true} {
		for _, mapped := range []bool{true, false} {
			ck, err := ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
			if viaFile {
				ck, err = OpenCheckpoint(path)
			}
			if err != nil {
				t.Fatal(err)
			}
			rt := NewRuntime(NewRuntimeConfig())
			p2, err := rt.Restore(ctx, ck, NewRestoreConfig().WithMemoryImage(image).WithMemoryMapping(mapped))
			if err != nil {
				t.Fatalf("file=%v mapped=%v: %v", viaFile, mapped, err)
			}
			if got := sha256.Sum256(p2.Instance().Memory("mem").Bytes()); got != want {
				t.Fatalf("file=%v mapped=%v: restored memory sha256 %x, the image's %x", viaFile, mapped, got, want)
			}
			if _, err := p2.Resume(ctx, CallOptions{}); err != nil {
				t.Fatalf("file=%v mapped=%v: resume: %v", viaFile, mapped, err)
			}
			rt.Close(ctx)
			ck.Close()
		}
	}
}

// BenchmarkRestoreOverMemoryImage times the destination's part of a live
// migration's downtime that the hooks own: reading the memory-less
// checkpoint and restoring it over an image of every page present.
// FERRY_MEMIMAGE_MIB sets the memory size (default 64; 1024 for the 1 GiB
// of docs/ferryd.md).
func BenchmarkRestoreOverMemoryImage(b *testing.B) {
	mib := uint64(64)
	if s := os.Getenv("FERRY_MEMIMAGE_MIB"); s != "" {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil || n == 0 {
			b.Fatalf("FERRY_MEMIMAGE_MIB=%q: want a positive number of MiB", s)
		}
		mib = n
	}
	ctx := context.Background()
	p := pausedWithData(b, mib*16)
	image := writeImage(b, p.Instance().Memory("mem").Bytes())
	ckb := checkpointBytes(b, p, NewCheckpointConfig().WithoutMemoryData())
	rt := NewRuntime(NewRuntimeConfig())
	defer rt.Close(ctx)
	b.ResetTimer()
	for range b.N {
		ck, err := ReadCheckpoint(bytes.NewReader(ckb), int64(len(ckb)))
		if err != nil {
			b.Fatal(err)
		}
		p2, err := rt.Restore(ctx, ck, NewRestoreConfig().WithMemoryImage(image))
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		p2.Instance().Close(ctx)
		b.StartTimer()
	}
	b.ReportMetric(float64(len(ckb)), "ckpt-bytes")
}

// The bug: a checkpoint written WithoutMemoryData and restored without
// its image came back with zeroed memory and ran. It is now marked in the
// file (Info says so, MemoryIncluded is false) and refused with
// ErrMemoryImageRequired, from bytes or from a file, copied or mapped.
func TestMemorylessCheckpointRefusedWithoutImage(t *testing.T) {
	ctx := context.Background()
	p := pausedWithData(t, 4)
	b := checkpointBytes(t, p, NewCheckpointConfig().WithoutMemoryData())
	full := checkpointBytes(t, p, NewCheckpointConfig())
	path := filepath.Join(t.TempDir(), "ck")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, viaFile := range []bool{false, true} {
		for _, mapped := range []bool{true, false} {
			ck, err := ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
			if viaFile {
				ck, err = OpenCheckpoint(path)
			}
			if err != nil {
				t.Fatal(err)
			}
			if ck.MemoryIncluded() {
				t.Fatal("MemoryIncluded is true")
			}
			if info := ck.Info(); len(info.Memories) != 1 || !info.Memories[0].DataOmitted {
				t.Fatalf("Info: %+v, want memory 0 omitted", info.Memories)
			}
			rt := NewRuntime(NewRuntimeConfig())
			p2, err := rt.Restore(ctx, ck, NewRestoreConfig().WithMemoryMapping(mapped))
			if !errors.Is(err, ErrMemoryImageRequired) {
				t.Fatalf("file=%v mapped=%v: restore without image: %v (paused %v), want ErrMemoryImageRequired", viaFile, mapped, err, p2 != nil)
			}
			rt.Close(ctx)
			ck.Close()
		}
	}
	ck, err := ReadCheckpoint(bytes.NewReader(full), int64(len(full)))
	if err != nil {
		t.Fatal(err)
	}
	if !ck.MemoryIncluded() || ck.Info().Memories[0].DataOmitted {
		t.Fatal("a full checkpoint reads as memory-less")
	}
}

// An image goes only with a memory-less checkpoint: over one that holds
// its pages it is refused, so the two sources never silently disagree.
func TestMemoryImageOverFullCheckpointRefused(t *testing.T) {
	ctx := context.Background()
	p := pausedWithData(t, 2)
	image := writeImage(t, p.Instance().Memory("mem").Bytes())
	b := checkpointBytes(t, p, NewCheckpointConfig())
	ck, err := ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	rt := NewRuntime(NewRuntimeConfig())
	defer rt.Close(ctx)
	if _, err := rt.Restore(ctx, ck, NewRestoreConfig().WithMemoryImage(image)); !errors.Is(err, ErrCheckpointMismatch) {
		t.Fatalf("%v, want ErrCheckpointMismatch", err)
	}
}

package ferry

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/snapshot"
)

// runCkpt calls ckpt.wasm's run(n, pages) with opts on a fresh instance.
func runCkpt(t testing.TB, n, pages uint64, o CallOptions) (*Runtime, *Instance, []uint64, error) {
	return runProgram(t, NewRuntimeConfig(), "testdata/ckpt.wasm", "run", o, n, pages)
}

// runProgram instantiates the module in file on a new runtime of cfg and
// calls its export fn with args and o.
func runProgram(t testing.TB, cfg RuntimeConfig, file, fn string, o CallOptions, args ...uint64) (*Runtime, *Instance, []uint64, error) {
	ctx := context.Background()
	rt := NewRuntime(cfg)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := rt.Compile(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := rt.Instantiate(ctx, cm, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := inst.Function(fn).CallWithOptions(ctx, o, args...)
	return rt, inst, res, err
}

// observable is what a finished run leaves behind.
func observable(inst *Instance, res []uint64) string {
	mem := inst.Memory("mem")
	sum, _ := mem.Read(64, 4)
	seg, _ := mem.Read(200, 7)
	act, _ := mem.Read(100, 6)
	return fmt.Sprintf("result %v sum %x seg %q active %q g %d size %d", res, sum, seg, act, inst.Global("g").Get(), mem.Size())
}

func checkpointBytes(t testing.TB, p *Paused, cfg CheckpointConfig) []byte {
	var buf bytes.Buffer
	if _, err := p.WriteCheckpoint(&buf, cfg); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func restoreBytes(t testing.TB, b []byte, viaFile bool) (*Runtime, *Paused, error) {
	ctx := context.Background()
	var ck *Checkpoint
	var err error
	if viaFile {
		path := filepath.Join(t.TempDir(), "ck")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		ck, err = OpenCheckpoint(path)
	} else {
		ck, err = ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
	}
	if err != nil {
		return nil, nil, err
	}
	defer ck.Close()
	rt := NewRuntime(NewRuntimeConfig())
	p, err := rt.Restore(ctx, ck, NewRestoreConfig())
	if err != nil {
		rt.Close(ctx)
		return nil, nil, err
	}
	return rt, p, nil
}

// Paused at every pause point of a run (funcref locals and tables, a
// dropped data and element segment, a grown memory, a mutable global),
// checkpointed, restored in a fresh runtime (mapped from a file or copied,
// compressed or not) and resumed, the run ends exactly as an
// uninterrupted one.
func TestCheckpointRestoreEverywhere(t *testing.T) {
	ctx := context.Background()
	rt, inst, res, err := runCkpt(t, 20, 3, CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := observable(inst, res)
	rt.Close(ctx)
	for n := int64(1); ; n++ {
		rt, _, _, err := runCkpt(t, 20, 3, CallOptions{PauseAfter: n})
		var p *Paused
		if !errors.As(err, &p) {
			if err != nil {
				t.Fatal(err)
			}
			if n < 40 {
				t.Fatalf("only %d pause points", n-1)
			}
			break
		}
		b := checkpointBytes(t, p, NewCheckpointConfig().WithCompression(n%2 == 0))
		rt.Close(ctx)
		rt2, p2, err := restoreBytes(t, b, n%3 != 0)
		if err != nil {
			t.Fatalf("N=%d: restore: %v", n, err)
		}
		res, err := p2.Resume(ctx, CallOptions{})
		if err != nil {
			t.Fatalf("N=%d: resume: %v", n, err)
		}
		if got := observable(p2.Instance(), res); got != want {
			t.Fatalf("N=%d: %s, want %s", n, got, want)
		}
		rt2.Close(ctx)
	}
}

func realCheckpoint(t testing.TB, compress bool) []byte {
	rt, _, _, err := runCkpt(t, 20, 2, CallOptions{PauseAfter: 9})
	defer rt.Close(context.Background())
	var p *Paused
	if !errors.As(err, &p) {
		t.Fatalf("no pause: %v", err)
	}
	return checkpointBytes(t, p, NewCheckpointConfig().WithCompression(compress))
}

// Every single-byte change of a real checkpoint and every truncation is
// refused by ReadCheckpoint or Restore with an error; nothing panics and
// nothing runs.
func TestRestoreRefusesDamage(t *testing.T) {
	for _, compress := range []bool{false, true} {
		b := realCheckpoint(t, compress)
		try := func(what string, c []byte) {
			rt, _, err := restoreBytes(t, c, false)
			if err == nil {
				rt.Close(context.Background())
				t.Fatalf("compress=%v: %s: restored", compress, what)
			}
		}
		for i := range b {
			c := append([]byte(nil), b...)
			c[i] ^= 1 << (i % 8)
			try(fmt.Sprintf("bit flip at %d", i), c)
		}
		for n := range len(b) {
			try(fmt.Sprintf("truncated to %d", n), b[:n])
		}
	}
}

// rewrite decodes a checkpoint, lets edit change it and encodes it again
// (with valid checksums): semantic damage that only the checks against
// the module can catch.
func rewrite(t *testing.T, b []byte, edit func(s *snapshot.Snapshot)) []byte {
	f, err := snapshot.ReadBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	s := f.Snapshot
	if s.Frames, err = f.Frames(); err != nil {
		t.Fatal(err)
	}
	for i := range s.Memories {
		s.Memories[i].Data = make([]byte, s.Memories[i].Size)
		if err := f.ReadMemory(i, s.Memories[i].Data); err != nil {
			t.Fatal(err)
		}
	}
	edit(&s)
	var buf bytes.Buffer
	if _, err := snapshot.Write(&buf, &s, snapshot.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRestoreChecksAgainstModule(t *testing.T) {
	ctx := context.Background()
	b := realCheckpoint(t, false)
	cases := map[string]func(s *snapshot.Snapshot){
		"global type":         func(s *snapshot.Snapshot) { s.Globals[0].Value.Type = api.ValueTypeI64 },
		"global count":        func(s *snapshot.Snapshot) { s.Globals = s.Globals[:1] },
		"immutable value":     func(s *snapshot.Snapshot) { s.Globals[1].Value.Lo = 5 },
		"table too big":       func(s *snapshot.Snapshot) { s.Tables[0].Elems = make([]uint32, 9) },
		"table too small":     func(s *snapshot.Snapshot) { s.Tables[0].Elems = s.Tables[0].Elems[:1] },
		"funcref range":       func(s *snapshot.Snapshot) { s.Tables[0].Elems[0] = 1000 },
		"memory too small":    func(s *snapshot.Snapshot) { s.Memories[0].Data, s.Memories[0].Size = nil, 0 },
		"live active segment": func(s *snapshot.Snapshot) { s.Segments.DataDropped[1] = false },
		"segment count":       func(s *snapshot.Snapshot) { s.Segments.ElemDropped = nil },
		"module hash":         func(s *snapshot.Snapshot) { s.Meta.ModuleHash[0] ^= 1 },
	}
	for name, edit := range cases {
		_, _, err := restoreBytes(t, rewrite(t, b, edit), false)
		if !errors.Is(err, ErrCheckpointMismatch) {
			t.Errorf("%s: got %v, want ErrCheckpointMismatch", name, err)
		}
	}
	// A memory beyond what the restoring runtime allows (2 pages > 1).
	ck, err := ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	small := NewRuntime(NewRuntimeConfig().WithMemoryLimitPages(1))
	if _, err := small.Restore(ctx, ck, NewRestoreConfig()); !errors.Is(err, ErrCheckpointMismatch) {
		t.Errorf("memory beyond the limit: got %v", err)
	}
	small.Close(ctx)
	// Frames are checked too, before anything runs.
	frames := map[string]func(s *snapshot.Snapshot){
		"function":   func(s *snapshot.Snapshot) { s.Frames[0].Func = 77 },
		"offset":     func(s *snapshot.Snapshot) { s.Frames[len(s.Frames)-1].Offset++ },
		"kind":       func(s *snapshot.Snapshot) { s.Frames[len(s.Frames)-1].Kind = api.PauseHostCall },
		"local type": func(s *snapshot.Snapshot) { s.Frames[0].Locals[0].Type = api.ValueTypeF32 },
		"stack depth": func(s *snapshot.Snapshot) {
			s.Frames[0].Stack = append(s.Frames[0].Stack, snapshot.Value{Type: api.ValueTypeI32})
		},
		"funcref":   func(s *snapshot.Snapshot) { s.Frames[0].Locals[4].Lo = 99 },
		"no frames": func(s *snapshot.Snapshot) { s.Frames = nil },
	}
	for name, edit := range frames {
		if _, _, err := restoreBytes(t, rewrite(t, b, edit), false); !errors.Is(err, ErrCheckpointMismatch) {
			t.Errorf("%s: got %v, want ErrCheckpointMismatch", name, err)
		}
	}
}

func TestCheckpointVersions(t *testing.T) {
	b := realCheckpoint(t, false)
	c := append([]byte(nil), b...)
	binary.LittleEndian.PutUint16(c[8:], snapshot.Major+1)
	binary.LittleEndian.PutUint32(c[12:], crc32c(c[:12]))
	if _, _, err := restoreBytes(t, c, false); !errors.Is(err, ErrCheckpointVersion) {
		t.Fatalf("newer major version: %v", err)
	}
	if _, _, err := restoreBytes(t, []byte("\x00asm\x01\x00\x00\x00"), false); !errors.Is(err, ErrNotACheckpoint) {
		t.Fatalf("a module: %v", err)
	}
}

// WriteSeeds refreshes the fuzz seeds of internal/snapshot from real
// checkpoints: FERRY_WRITE_SEEDS=1 go test -run TestWriteSeeds .
func TestWriteSeeds(t *testing.T) {
	if os.Getenv("FERRY_WRITE_SEEDS") == "" {
		t.Skip("set FERRY_WRITE_SEEDS=1 to rewrite internal/snapshot/testdata")
	}
	for name, compress := range map[string]bool{"real.ckpt": false, "real-zstd.ckpt": true} {
		if err := os.WriteFile(filepath.Join("internal/snapshot/testdata", name), realCheckpoint(t, compress), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkRestore restores a checkpoint of a 1 GiB memory with a few
// non-zero pages and one of a 64 KiB memory: with the memory mapped from
// the file, both take about the same time (the memory read waits for a
// concurrent verification, of a few pages here).
func BenchmarkRestore(b *testing.B) {
	for _, pages := range []uint64{1, 16384} {
		rt, inst, _, err := runCkpt(b, 1<<30, pages, CallOptions{PauseAfter: 50})
		var p *Paused
		if !errors.As(err, &p) {
			b.Fatalf("no pause: %v", err)
		}
		mem := inst.Memory("mem")
		for off := uint64(0); off < mem.Size(); off += mem.Size() / 8 {
			mem.Write(off+8, []byte("touched"))
		}
		path := filepath.Join(b.TempDir(), "ck")
		if err := p.WriteCheckpointFile(path, NewCheckpointConfig()); err != nil {
			b.Fatal(err)
		}
		rt.Close(context.Background())
		for _, verify := range []MemoryVerification{VerifyConcurrent, VerifyBeforeRun, VerifyOff} {
			b.Run(fmt.Sprintf("mem=%dKiB/verify=%v", pages*64, verify), func(b *testing.B) {
				ctx := context.Background()
				for b.Loop() {
					ck, err := OpenCheckpoint(path)
					if err != nil {
						b.Fatal(err)
					}
					rt := NewRuntime(NewRuntimeConfig())
					p, err := rt.Restore(ctx, ck, NewRestoreConfig().WithMemoryVerification(verify))
					if err != nil {
						b.Fatal(err)
					}
					if got, _ := p.Instance().Memory("mem").Read(8, 7); string(got) != "touched" {
						b.Fatalf("memory: %q", got)
					}
					rt.Close(ctx)
					ck.Close()
				}
			})
		}
	}
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

// Restored from a file, the memory data is mapped and, by default,
// verified while the run may already go on: a flipped bit anywhere in it
// lets Restore succeed but makes Resume fail with the corruption (nothing
// returned from the damaged run); with VerifyBeforeRun Restore refuses it.
func TestRestoreMappedRefusesDamagedMemoryData(t *testing.T) {
	ctx := context.Background()
	b := realCheckpoint(t, false)
	f, err := snapshot.ReadBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	off, n, mappable := f.MemoryData(0)
	if !mappable || n == 0 {
		t.Fatalf("memory data at %d, %d bytes, mappable %v", off, n, mappable)
	}
	path := filepath.Join(t.TempDir(), "ck")
	for i := off; i < off+int64(n); i += 13 {
		c := append([]byte(nil), b...)
		c[i] ^= 1 << (i % 8)
		if err := os.WriteFile(path, c, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, v := range []MemoryVerification{VerifyConcurrent, VerifyBeforeRun} {
			ck, err := OpenCheckpoint(path)
			if err != nil {
				t.Fatalf("bit flip at %d: open: %v", i, err)
			}
			rt := NewRuntime(NewRuntimeConfig())
			p, err := rt.Restore(ctx, ck, NewRestoreConfig().WithMemoryVerification(v))
			switch {
			case v == VerifyBeforeRun:
				if !errors.Is(err, ErrCheckpointCorrupt) {
					t.Fatalf("bit flip at %d, %v: restore: %v", i, v, err)
				}
			case err != nil:
				t.Fatalf("bit flip at %d, %v: restore: %v (want the check to run behind)", i, v, err)
			default:
				if res, err := p.Resume(ctx, CallOptions{}); !errors.Is(err, ErrCheckpointCorrupt) || res != nil {
					t.Fatalf("bit flip at %d, %v: resume: %v, %v", i, v, res, err)
				}
			}
			rt.Close(ctx)
			ck.Close()
		}
	}
}

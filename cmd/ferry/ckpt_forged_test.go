package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/snapshot"
)

// Forged checkpoints through "ferry restore": a checkpoint is untrusted
// input, so a file whose checksums are right but whose frames or memory do
// not fit the module, or which ends at a section boundary, is refused
// with a clear message before any guest code runs. The guest here is
// testdata/fileprog, which appends to log.txt and prints on every round:
// an untouched working directory and an empty stdout show that nothing
// ran, and the checkpoint file itself is left as it was.

// forgeSetup writes fileprog's starting files into a fresh directory.
func forgeSetup(t *testing.T) string {
	dir := t.TempDir()
	for name, content := range map[string]string{"data.txt": strings.Repeat("forged frames\n", 10), "log.txt": "log header\n", "tally.txt": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func snapshotDir(t *testing.T, dir string) map[string]string {
	files := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		files[e.Name()] = string(b)
	}
	return files
}

// editCheckpoint decodes the checkpoint b, lets edit change it and encodes
// it again with valid checksums.
func editCheckpoint(t *testing.T, b []byte, edit func(s *snapshot.Snapshot)) []byte {
	t.Helper()
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
	// A file with chunk sums keeps them (and its length).
	if _, err := snapshot.Write(&buf, &s, snapshot.WriteOptions{ChunkSums: f.Minor >= 3}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeTemp(t *testing.T, b []byte) string {
	path := filepath.Join(t.TempDir(), "ck")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// refused restores the checkpoint bytes b with "ferry restore" and checks
// that it failed with every one of wants in its message, printed nothing
// on stdout, changed nothing in dir and left the file as it was.
func refused(t *testing.T, what string, b []byte, dir string, wants ...string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "forged")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshotDir(t, dir)
	code, out, stderr := runCLI(t, append(grants(b, dir), path)...)
	if code != exitFail || out != "" {
		t.Errorf("%s: exit %d (want %d), stdout %q, stderr %s", what, code, exitFail, out, stderr)
		return
	}
	t.Logf("%s: %s", what, strings.TrimSpace(stderr))
	for _, w := range wants {
		if !strings.Contains(stderr, w) {
			t.Errorf("%s: message lacks %q: %s", what, w, stderr)
		}
	}
	if after := snapshotDir(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("%s: the guest ran: the working directory changed", what)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, b) {
		t.Errorf("%s: the checkpoint file changed", what)
	}
}

// grants is the "ferry restore" command line that grants dir to the
// checkpoint b's pre-open ".", if it records one: a forged file is
// unsigned, and the refusals tested must be the forgery's, not the
// missing grant's.
func grants(b []byte, dir string) []string {
	args := []string{"restore"}
	if f, err := snapshot.ReadBytes(b); err == nil && f.Snapshot.WASI != nil {
		for _, d := range f.Snapshot.WASI.Descriptors {
			if d.Kind == snapshot.KindPreopen && d.Preopen == "." {
				return append(args, "--dir", dir+"::.")
			}
		}
	}
	return args
}

func TestRestoreRefusesForgedFrames(t *testing.T) {
	dir := forgeSetup(t)
	ck := filepath.Join(t.TempDir(), "ck")
	// At pause point 3000 fileprog is six calls deep (the outer five
	// frames at calls, the innermost at a function entry).
	if code, _, stderr := runCLI(t, "run", "--dir", dir+"::.", "--checkpoint-to", ck, "--checkpoint-on", "pause:3000", "testdata/fileprog.wasm"); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	f, err := snapshot.ReadBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	frames, err := f.Frames()
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) < 2 {
		t.Fatalf("want a caller and a callee, got %d frames", len(frames))
	}
	inner := len(frames) - 1
	// The genuine checkpoint, from a copy of the same directory, restores
	// and finishes as an uninterrupted run: the refusals below are the
	// forgeries'.
	code, _, _ := runCLI(t, "run", "--dir", forgeSetup(t)+"::.", "testdata/fileprog.wasm")
	genuine := t.TempDir()
	for name, content := range snapshotDir(t, dir) {
		os.WriteFile(filepath.Join(genuine, name), []byte(content), 0o644)
	}
	mod := func(s *snapshot.Snapshot) {}
	if got, _, stderr := runCLI(t, "restore", "--dir", genuine+"::.", "--accept-changed-files", writeTemp(t, editCheckpoint(t, b, mod))); got != code {
		t.Fatalf("the genuine checkpoint, re-encoded: exit %d, want %d: %s", got, code, stderr)
	}

	flip := func(v *snapshot.Value) {
		switch v.Type {
		case api.ValueTypeI32:
			v.Type = api.ValueTypeF32
		default:
			v.Type = api.ValueTypeI32
			v.Lo &= 0xffffffff
		}
	}
	cases := []struct {
		name  string
		edit  func(s *snapshot.Snapshot)
		wants []string
	}{
		{"innermost local of the wrong type", func(s *snapshot.Snapshot) { flip(&s.Frames[inner].Locals[0]) }, []string{"does not fit the module", "local"}},
		{"outermost local of the wrong type", func(s *snapshot.Snapshot) {
			if len(s.Frames[0].Locals) == 0 {
				s.Frames[0].Locals = append(s.Frames[0].Locals, snapshot.Value{Type: api.ValueTypeI64})
				return
			}
			flip(&s.Frames[0].Locals[len(s.Frames[0].Locals)-1])
		}, []string{"does not fit the module"}},
		{"a missing local", func(s *snapshot.Snapshot) { s.Frames[inner].Locals = s.Frames[inner].Locals[1:] }, []string{"does not fit the module"}},
		{"an offset beyond the function body", func(s *snapshot.Snapshot) { s.Frames[inner].Offset = 1 << 30 }, []string{"does not fit the module", "pause point"}},
		{"an offset that is not a pause point", func(s *snapshot.Snapshot) { s.Frames[inner].Offset++ }, []string{"does not fit the module", "pause point"}},
		{"a caller offset that is not a call", func(s *snapshot.Snapshot) { s.Frames[0].Offset-- }, []string{"does not fit the module", "pause point"}},
		{"an unknown function index", func(s *snapshot.Snapshot) { s.Frames[inner].Func = 100000 }, []string{"does not fit the module", "func"}},
		{"the largest function index", func(s *snapshot.Snapshot) { s.Frames[0].Func = 1<<32 - 1 }, []string{"does not fit the module", "func"}},
		{"an imported function", func(s *snapshot.Snapshot) { s.Frames[inner].Func = 0 }, []string{"does not fit the module", "func"}},
		{"an unknown pause kind", func(s *snapshot.Snapshot) { s.Frames[inner].Kind = 9 }, []string{"corrupt checkpoint"}},
		{"no frames", func(s *snapshot.Snapshot) { s.Frames = nil }, []string{"does not fit the module"}},
		{"a memory smaller than the module's minimum", func(s *snapshot.Snapshot) {
			s.Memories[0].Size, s.Memories[0].Data = 0, nil
		}, []string{"does not fit the module", "memory"}},
	}
	for _, c := range cases {
		refused(t, c.name, editCheckpoint(t, b, c.edit), dir, c.wants...)
	}
}

// A caller's operand stack (the f64 below the call's argument) of the
// wrong type, and a memory beyond the module's maximum, are refused; the
// genuine checkpoint and one with a memory at the maximum restore and
// finish.
func TestRestoreRefusesForgedStackAndMemory(t *testing.T) {
	wasm := wat2wasm(t, `(module (memory 1 2)
  (func $count (param i32) (result i32) (local i32)
    (loop (br_if 0 (i32.lt_u (local.tee 1 (i32.add (local.get 1) (i32.const 1))) (i32.const 100))))
    (i32.add (local.get 0) (local.get 1)))
  (func (export "run") (result i32)
    (f64.const 1.5)
    (call $count (i32.const 5))
    (f64.convert_i32_u)
    (f64.add)
    (i32.trunc_f64_s)))`)
	ck := filepath.Join(t.TempDir(), "ck")
	if code, _, stderr := runCLI(t, "run", "--checkpoint-to", ck, "--checkpoint-on", "pause:10", "--invoke", "run", wasm); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(ck)
	restores := func(what string, edit func(s *snapshot.Snapshot)) {
		t.Helper()
		if code, out, stderr := runCLI(t, "restore", writeTemp(t, editCheckpoint(t, b, edit))); code != exitOK || out != "106\n" {
			t.Fatalf("%s: exit %d, stdout %q: %s", what, code, out, stderr)
		}
	}
	restores("the genuine checkpoint", func(s *snapshot.Snapshot) {
		if len(s.Frames) != 2 || len(s.Frames[0].Stack) != 1 || s.Frames[0].Stack[0].Type != api.ValueTypeF64 {
			t.Fatalf("frames %+v: want the caller's f64 on its operand stack", s.Frames)
		}
	})
	grow := func(pages uint64) func(s *snapshot.Snapshot) {
		return func(s *snapshot.Snapshot) {
			s.Memories[0].Size = pages << 16
			s.Memories[0].Data = make([]byte, pages<<16)
			s.Memories[0].Data[pages<<16-1] = 1
		}
	}
	restores("a memory at the maximum", grow(2))
	dir := t.TempDir()
	refused(t, "a memory beyond the maximum", editCheckpoint(t, b, grow(3)), dir, "does not fit the module", "memory 0 has 3 pages, the module allows 1 to 2")
	refused(t, "an operand of the wrong type", editCheckpoint(t, b, func(s *snapshot.Snapshot) {
		s.Frames[0].Stack[0] = snapshot.Value{Type: api.ValueTypeI64, Lo: 1}
	}), dir, "does not fit the module", "operand stack", "type i64, want f64")
	refused(t, "a missing operand", editCheckpoint(t, b, func(s *snapshot.Snapshot) { s.Frames[0].Stack = nil }), dir,
		"does not fit the module", "operand stack")
	refused(t, "a parameter of the wrong type", editCheckpoint(t, b, func(s *snapshot.Snapshot) {
		s.Frames[1].Locals[0] = snapshot.Value{Type: api.ValueTypeF32}
	}), dir, "does not fit the module", "locals", "type f32, want i32")
}

// A checkpoint cut at any section boundary (before a section header, after
// it, and one byte short of its end) is refused as truncated.
func TestRestoreRefusesTruncationAtSections(t *testing.T) {
	dir := forgeSetup(t)
	ck := filepath.Join(t.TempDir(), "ck")
	for _, compress := range []bool{false, true} {
		// Unsigned, so that the end section is the end of the file (cuts in
		// a signature trailer: TestTruncatedSignatureTrailerRefused).
		args := []string{"run", "--dir", dir + "::.", "--checkpoint-to", ck, "--no-sign", "--checkpoint-on", "pause:5000"}
		if compress {
			args = append(args, "--checkpoint-compress")
		}
		if code, _, stderr := runCLI(t, append(args, "testdata/fileprog.wasm")...); code != exitOK {
			t.Fatalf("run: exit %d: %s", code, stderr)
		}
		b, _ := os.ReadFile(ck)
		code, out, _ := runCLI(t, "inspect", "--json", ck)
		var info struct {
			Sections []struct {
				Type   string
				Offset int64
				Length int64
			}
		}
		if err := json.Unmarshal([]byte(out), &info); code != exitOK || err != nil || len(info.Sections) < 8 {
			t.Fatalf("inspect: exit %d, %v: %s", code, err, out)
		}
		cuts := map[int64]string{}
		for _, s := range info.Sections {
			cuts[s.Offset] = "before the " + s.Type + " section"
			cuts[s.Offset+32] = "after the " + s.Type + " section header"
			cuts[s.Offset-1] = "one byte short of the section before " + s.Type
		}
		cuts[int64(len(b))-1] = "one byte short of the end"
		for at, what := range cuts {
			if at <= 0 || at >= int64(len(b)) {
				continue
			}
			what = fmt.Sprintf("compress=%v: cut at %d, %s", compress, at, what)
			refused(t, what, b[:at], dir, "corrupt checkpoint", "truncated")
			path := filepath.Join(t.TempDir(), "cut")
			os.WriteFile(path, b[:at], 0o644)
			if code, out, stderr := runCLI(t, "inspect", path); code != exitFail || out != "" || !strings.Contains(stderr, "truncated") {
				t.Errorf("inspect, %s: exit %d: %s", what, code, stderr)
			}
		}
	}
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// verifySetup checkpoints ckptprog at pause point 3000 in a working
// directory of its own and returns the checkpoint's path and a function
// that copies that directory as it was at the checkpoint (modification
// times kept, as a restore requires) into a fresh one.
func verifySetup(t *testing.T) (ck string, workCopy func() string) {
	t.Helper()
	prog, err := filepath.Abs("../../wasi/testdata/ckptprog.wasm")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	work := filepath.Join(dir, "w")
	ck = filepath.Join(dir, "app.ckpt")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "in.txt"), []byte("alpha\nbravo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Unsigned: the signature of a signed file, checked when it is
	// opened, would find the damage before the memory checks tested here.
	if code, _, stderr := runCLI(t, "run", "--dir", work+"::.", "--checkpoint-to", ck, "--no-sign",
		"--checkpoint-on", "pause:3000", prog, "in.txt", "out.txt"); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	saved := t.TempDir()
	copyTree(t, work, saved)
	return ck, func() string {
		d := t.TempDir()
		copyTree(t, saved, d)
		return d
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		src, dst := filepath.Join(from, e.Name()), filepath.Join(to, e.Name())
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(dst, time.Time{}, st.ModTime()); err != nil {
			t.Fatal(err)
		}
	}
}

// corruptMemoryData flips a bit in the middle of the checkpoint's stored
// memory pages (their checksum left as it was) and returns the damaged
// copy's path.
func corruptMemoryData(t *testing.T, ck string) string {
	t.Helper()
	code, js, stderr := runCLI(t, "inspect", "--json", ck)
	if code != 0 {
		t.Fatalf("inspect: exit %d\n%s", code, stderr)
	}
	var info struct {
		Sections []struct {
			Type   string `json:"type"`
			Offset int64  `json:"offset"`
			Length int64  `json:"length"`
		} `json:"sections"`
	}
	if err := json.Unmarshal([]byte(js), &info); err != nil {
		t.Fatal(err)
	}
	var at int64 = -1
	for _, s := range info.Sections {
		if s.Type == "memory-data" && s.Length > 0 {
			at = s.Offset + s.Length/2
		}
	}
	if at < 0 {
		t.Fatalf("no memory-data section in %s", js)
	}
	b, err := os.ReadFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	b[at] ^= 0x40
	damaged := filepath.Join(t.TempDir(), "damaged.ckpt")
	if err := os.WriteFile(damaged, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return damaged
}

// An intact checkpoint continues to the same end under every
// --verify-memory setting and its alias.
func TestRestoreVerifyMemoryIntact(t *testing.T) {
	ck, workCopy := verifySetup(t)
	var want string
	for _, flags := range [][]string{nil, {"--verify-memory=concurrent"}, {"--verify-memory=before-run"},
		{"--verify-memory=off"}, {"--no-verify-memory"}, {"--no-verify-memory", "--verify-memory=off"},
		{"--verify-memory=first-touch"}} {
		work := workCopy()
		args := append(append([]string{"restore"}, flags...), "--dir", work+"::.", ck)
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 || stdout == "" {
			t.Fatalf("%v: exit %d, stdout %q\n%s", flags, code, stdout, stderr)
		}
		out, _ := os.ReadFile(filepath.Join(work, "out.txt"))
		got := stdout + "|" + string(out)
		if want == "" {
			want = got
		} else if got != want {
			t.Fatalf("%v: stdout|out.txt %q, another setting gave %q", flags, got, want)
		}
	}
}

// A flipped bit in the stored memory pages is refused by default (found
// while the program runs, before any of its effects: no output, out.txt
// untouched) and with --verify-memory=before-run (before it runs); with
// --verify-memory=off or --no-verify-memory the pages are mapped unread,
// so the same restore goes through and only the guest's memory differs.
func TestRestoreVerifyMemoryCorrupt(t *testing.T) {
	ck, workCopy := verifySetup(t)
	damaged := corruptMemoryData(t, ck)
	// ckptprog's stored memory is one chunk, which it touches before any
	// effect: first-touch refuses it before any effect too.
	for _, flags := range [][]string{nil, {"--verify-memory=concurrent"}, {"--verify-memory", "before-run"}, {"--verify-memory=first-touch"}} {
		work := workCopy()
		before := snapshotDir(t, work)
		args := append(append([]string{"restore"}, flags...), "--dir", work+"::.", damaged)
		code, stdout, stderr := runCLI(t, args...)
		if code != exitFail || stdout != "" || !strings.Contains(stderr, "corrupt checkpoint") || !strings.Contains(stderr, "checksum") {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q; want exit %d, no output, a corrupt checkpoint checksum error",
				flags, code, stdout, stderr, exitFail)
		}
		if after := snapshotDir(t, work); len(after) != len(before) || after["out.txt"] != before["out.txt"] {
			t.Fatalf("%v: the program wrote to its directory: %q, was %q", flags, after, before)
		}
	}
	for _, flags := range [][]string{{"--verify-memory=off"}, {"--no-verify-memory"}} {
		args := append(append([]string{"restore"}, flags...), "--dir", workCopy()+"::.", damaged)
		if code, _, stderr := runCLI(t, args...); code != 0 && code != exitTrap {
			t.Fatalf("%v: exit %d\n%s", flags, code, stderr)
		}
	}
}

func TestRestoreVerifyMemoryFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--verify-memory=sometimes"}, `--verify-memory "sometimes": want concurrent, before-run, off or first-touch`},
		{[]string{"--verify-memory="}, `--verify-memory "": want concurrent, before-run, off or first-touch`},
		{[]string{"--no-verify-memory", "--verify-memory=before-run"}, "--no-verify-memory contradicts --verify-memory=before-run"},
	} {
		code, stdout, stderr := runCLI(t, append(append([]string{"restore"}, c.args...), "x.ckpt")...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", c.args, code, stdout, stderr, exitUsage, c.want)
		}
	}
	code, help, _ := runCLI(t, "restore", "--help")
	for _, want := range []string{"--verify-memory MODE", "concurrent", "before-run", "--no-verify-memory"} {
		if code != exitOK || !strings.Contains(help, want) {
			t.Errorf("restore --help: exit %d, no %q in\n%s", code, want, help)
		}
	}
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A flipped byte in the stored memory pages is refused by default; with
// --no-verify-memory the pages are mapped unread (restore time flat in
// memory size), so the same restore goes through and only the guest's
// memory differs.
func TestRestoreNoVerifyMemory(t *testing.T) {
	prog, err := filepath.Abs("../../wasi/testdata/ckptprog.wasm")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	work, ck := filepath.Join(dir, "w"), filepath.Join(dir, "app.ckpt")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "in.txt"), []byte("alpha\nbravo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "run", "--dir", work+"::.", "--checkpoint-to", ck,
		"--checkpoint-on", "pause:3000", prog, "in.txt", "out.txt"); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
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
	if err := os.WriteFile(ck, b, 0o644); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCLI(t, "restore", "--dir", work+"::.", ck)
	if code != exitFail || stdout != "" || !strings.Contains(stderr, "checksum") {
		t.Fatalf("restore of a damaged memory page: exit %d, stdout %q, stderr %q; want exit %d, no output, a checksum error",
			code, stdout, stderr, exitFail)
	}
	if code, _, stderr = runCLI(t, "restore", "--no-verify-memory", "--dir", work+"::.", ck); code != 0 && code != 134 {
		t.Fatalf("restore --no-verify-memory: exit %d\n%s", code, stderr)
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/snapshot"
)

// A checkpoint written without its memory data (the stop phase of a live
// migration) used to restore over zeroed memory. "ferry inspect" says the
// memory is not included and "ferry restore" refuses it, saying where it
// restores, before any guest code runs.
func TestRestoreRefusesMemorylessCheckpoint(t *testing.T) {
	dir := forgeSetup(t)
	ck := filepath.Join(t.TempDir(), "ck")
	if code, _, stderr := runCLI(t, "run", "--dir", dir+"::.", "--checkpoint-to", ck, "--checkpoint-on", "pause:3000", "testdata/fileprog.wasm"); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	b = editCheckpoint(t, b, func(s *snapshot.Snapshot) {
		for i := range s.Memories {
			s.Memories[i] = snapshot.Memory{Size: s.Memories[i].Size, DataOmitted: true}
		}
	})
	code, out, stderr := runCLI(t, "inspect", writeTemp(t, b))
	if code != exitOK || !strings.Contains(out, "memory not included") {
		t.Fatalf("inspect: exit %d: %s%s", code, out, stderr)
	}
	refused(t, "memory-less", b, dir, "holds no memory data", "ferryd migrate")
}

package codecache

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A module hash record is trusted only for the very file it was made
// for, unchanged: a write that keeps size and modification time (set back
// with Chtimes) still changes the status-change time and voids it, as do a
// replacement, a damaged record and a record of another key; a file
// changed too recently to be told apart from a later change is not
// recorded at all.
func TestModuleHashRecord(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(filepath.Join(dir, "cache"), testMAC)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "m.ckpt")
	if err := os.WriteFile(path, []byte("module bytes, version 1"), 0o600); err != nil {
		t.Fatal(err)
	}
	stat := func() os.FileInfo {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if _, ok := fileID(stat()); !ok {
		t.Skip("no status-change time on this system")
	}
	h := sha256Sum([]byte("module bytes, version 1"))
	defer func(s time.Duration) { settle = s }(settle)

	settle = time.Hour // the file is younger than that: not recorded
	d.RememberHash(stat(), h)
	if _, ok := d.KnownHash(stat()); ok {
		t.Fatal("a file changed within settle was recorded")
	}
	settle = 0
	d.RememberHash(stat(), h)
	if got, ok := d.KnownHash(stat()); !ok || got != h {
		t.Fatalf("known %x %v, want %x", got, ok, h)
	}
	// Another user's key does not verify the record.
	other, _ := Open(filepath.Join(dir, "cache"), MACKey([]byte("another key, of another user....")))
	if _, ok := other.KnownHash(stat()); ok {
		t.Fatal("a record verified under another key")
	}
	// A damaged record is not trusted.
	recs, _ := filepath.Glob(filepath.Join(dir, "cache", "mod-*.fch"))
	if len(recs) != 1 {
		t.Fatalf("records %v", recs)
	}
	good, _ := os.ReadFile(recs[0])
	for i := range good {
		bad := append([]byte(nil), good...)
		bad[i] ^= 1
		os.WriteFile(recs[0], bad, 0o600)
		if _, ok := d.KnownHash(stat()); ok {
			t.Fatalf("record with byte %d flipped trusted", i)
		}
	}
	os.WriteFile(recs[0], good, 0o600)
	// Same size, modification time set back: the status-change time
	// still moved.
	before := stat()
	time.Sleep(20 * time.Millisecond)
	if err := os.WriteFile(path, []byte("module bytes, version 2"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, before.ModTime(), before.ModTime()); err != nil {
		t.Fatal(err)
	}
	if st := stat(); st.Size() != before.Size() || !st.ModTime().Equal(before.ModTime()) {
		t.Fatal("size or mtime not restored")
	}
	if _, ok := d.KnownHash(stat()); ok {
		t.Fatal("a record trusted for a file rewritten in place")
	}
	// A new file in its place.
	os.Remove(path)
	os.WriteFile(path, []byte("module bytes, version 1"), 0o600)
	if _, ok := d.KnownHash(stat()); ok {
		t.Fatal("a record trusted for a replaced file")
	}
}

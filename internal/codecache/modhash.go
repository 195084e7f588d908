package codecache

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"time"
)

// Module hash records: the SHA-256 of the module held in a file (a
// checkpoint that carries its module), remembered with the file's
// identity, so that a restore of that file need not hash the module's
// bytes again to find its cache entry (about 15 ms for 30 MB). A record
// is trusted only as the user's own (it carries an HMAC under the cache's
// key) and only while the file is provably unchanged: same device, inode,
// size, modification time and status-change time. The last is the proof:
// any write, truncation, chmod or rename of the file sets it to the
// current time, and no system call sets it back, so a file that was
// changed (or replaced, even by a new file that reuses the inode) never
// matches an older record. docs/code-cache.md has the whole argument.

// identity is what a record compares of a file.
type identity struct {
	dev, ino, size   uint64
	mtimeNs, ctimeNs int64
}

// recordLen is a record's length: the identity, the hash and the MAC.
const recordLen = 5*8 + 32 + macSize

// settle is how old a file's last change must be for its hash to be
// recorded: a change within the same tick of the file system's clock as
// the last one would leave the times as they were ("racy git"). A
// variable for tests.
var settle = 2 * time.Second

// recordPath is the record file of an identity: one per device and inode.
func (d *Dir) recordPath(id identity) string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], id.dev)
	binary.LittleEndian.PutUint64(b[8:], id.ino)
	sum := sha256.Sum256(b[:])
	return filepath.Join(d.path, "mod-"+hex.EncodeToString(sum[:12])+".fch")
}

func (d *Dir) recordMAC(b []byte) []byte {
	m := hmac.New(sha256.New, d.macKey)
	m.Write([]byte("ferry module hash record v1"))
	m.Write(b)
	return m.Sum(nil)
}

func (id identity) encode(hash [32]byte) []byte {
	b := make([]byte, 0, recordLen)
	for _, v := range []uint64{id.dev, id.ino, id.size, uint64(id.mtimeNs), uint64(id.ctimeNs)} {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return append(b, hash[:]...)
}

// KnownHash returns the module hash recorded for the file f, whose
// identity st is (f.Stat, taken after the module's bytes were read from
// it), when a record of this user's for exactly that identity exists.
func (d *Dir) KnownHash(st os.FileInfo) ([32]byte, bool) {
	var h [32]byte
	id, ok := fileID(st)
	if !ok {
		return h, false
	}
	b, err := os.ReadFile(d.recordPath(id))
	if err != nil || len(b) != recordLen {
		return h, false
	}
	want := id.encode(h)[:5*8]
	if !hmac.Equal(b[:5*8], want) || !hmac.Equal(d.recordMAC(b[:5*8+32]), b[5*8+32:]) {
		return h, false
	}
	return [32]byte(b[5*8:]), true
}

// RememberHash records hash as the SHA-256 of the module in the file of
// identity st, if the file's last change is old enough to be told apart
// from a later one (settle). A record that cannot be written is no
// error: the next restore hashes again.
func (d *Dir) RememberHash(st os.FileInfo, hash [32]byte) {
	id, ok := fileID(st)
	if !ok || time.Since(time.Unix(0, max(id.ctimeNs, id.mtimeNs))) < settle {
		return
	}
	b := id.encode(hash)
	b = append(b, d.recordMAC(b)...)
	WriteFile(d.recordPath(id), b)
}

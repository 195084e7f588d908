// Package codecache stores what compiling a module computes (the validated,
// lowered code of every function and its pause-point tables) in files, so
// that a fresh process restoring a checkpoint reads them instead of
// validating and lowering again. docs/code-cache.md describes the format
// and the trust model.
//
// An entry is untrusted input with a twist: the execution loop trusts the
// IR (slot indices are not checked at run time), so an entry that decodes
// cleanly but was forged would be a sandbox escape. Entries therefore
// carry an HMAC-SHA256 under a key derived from the user's signing key
// over a header that holds every function's SHA-256: the header is checked
// when the entry is opened, a function's bytes against their digest
// before they are decoded, the first time the function is needed. The
// decoder is still defensive (every count capped by the bytes left, every index
// checked against the module) so that no file can crash the reader.
package codecache

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/ferryvm/ferry/internal/ir"
)

// magic starts every entry.
var magic = [8]byte{0, 'f', 'e', 'r', 'r', 'y', 'c', 'c'}

// FormatVersion is the entry format's version; a reader refuses others
// (an entry is rebuilt, never migrated). Version 1 held one MAC over the
// whole entry, which made every load read and decode all of it; version 2
// is read one function at a time (docs/code-cache.md).
const FormatVersion = 2

// macSize is the length of the header's HMAC-SHA256.
const macSize = sha256.Size

// recordSize is the length of a function's record in the header: its
// encoding's length and instruction count (u32 each) and SHA-256.
const recordSize = 4 + 4 + sha256.Size

// maxHeadPrefix bounds the header before the records: magic, version,
// flags, module and the key's three strings.
const maxHeadPrefix = 8 + 2 + 2 + 32 + 3*(binary.MaxVarintLen64+maxString) + binary.MaxVarintLen64

// ErrInvalid is wrapped by every error about an entry that cannot be used:
// damaged, forged (its MAC or a function's digest does not verify), for
// another key, or malformed. The caller recompiles and rewrites it.
var ErrInvalid = errors.New("invalid code cache entry")

// Key identifies what an entry was compiled from and for; an entry is
// used only for exactly its key.
type Key struct {
	// Module is the SHA-256 of the module's bytes.
	Module [32]byte
	// Build identifies the Ferry that wrote it (BuildID): the IR is an
	// internal form that changes between builds.
	Build string
	// Tier names the code's form: "interp" or "interp-nopoll" today; the
	// compiled tier adds its own.
	Tier string
	// CPU is the effective CPU feature set the code was compiled for, in
	// cpu.Features' String form; empty for the interpreter, whose code
	// runs on every CPU.
	CPU string
}

// FileName is the entry's file name in a cache directory: a digest of the
// whole key, so that entries for other builds, tiers or CPUs sit side by
// side.
func (k Key) FileName() string {
	h := sha256.New()
	h.Write(k.Module[:])
	for _, s := range []string{k.Build, k.Tier, k.CPU} {
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil)[:20]) + ".fcc"
}

// Entry is a decoded entry.
type Entry struct {
	Key   Key
	Funcs []Func // one per defined function
}

// maxString caps the key's strings.
const maxString = 4096

// Encode returns the entry's bytes: the header (key and one record per
// function, with the SHA-256 of its encoding) authenticated with macKey
// (MACKey), then the functions' encodings.
func Encode(e *Entry, macKey []byte) []byte {
	var w writer
	w.b = append(w.b, magic[:]...)
	w.b = binary.LittleEndian.AppendUint16(w.b, FormatVersion)
	w.b = binary.LittleEndian.AppendUint16(w.b, 0) // flags, none yet
	w.b = append(w.b, e.Key.Module[:]...)
	w.str(e.Key.Build)
	w.str(e.Key.Tier)
	w.str(e.Key.CPU)
	w.uv(uint64(len(e.Funcs)))
	var bodies, fw writer
	for i := range e.Funcs {
		fw.b = fw.b[:0]
		encodeFunc(&fw, &e.Funcs[i])
		w.b = binary.LittleEndian.AppendUint32(w.b, uint32(len(fw.b)))
		w.b = binary.LittleEndian.AppendUint32(w.b, uint32(len(e.Funcs[i].IR.Code)))
		sum := sha256.Sum256(fw.b)
		w.b = append(w.b, sum[:]...)
		bodies.b = append(bodies.b, fw.b...)
	}
	m := hmac.New(sha256.New, macKey)
	m.Write(w.b)
	return append(m.Sum(w.b), bodies.b...)
}

// Decode authenticates b with macKey, checks that it is an entry for want
// and decodes every function. Any error wraps ErrInvalid.
func Decode(b, macKey []byte, want Key) (*Entry, error) {
	r, err := NewReader(bytes.NewReader(b), int64(len(b)), macKey, want)
	if err != nil {
		return nil, err
	}
	e := &Entry{Key: want, Funcs: make([]Func, r.NumFuncs())}
	for i := range e.Funcs {
		if e.Funcs[i], err = r.Func(i); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Reader reads an entry one function at a time: NewReader authenticates
// the header, which holds every function's length and SHA-256; Func reads
// one function, checks it against its digest and decodes it. Loading a
// module's code then costs a read of the header and a MAC over it (about
// 40 bytes a function), and each function costs its own bytes when it is
// first needed, never before. It is safe for concurrent use.
type Reader struct {
	src     io.ReaderAt
	records []byte // recordSize per function, authenticated
	starts  []int64
}

// NewReader authenticates the entry of size bytes in src with macKey and
// checks that it is for want. Every error wraps ErrInvalid but one from
// reading src, which is returned as it is. src must stay readable while
// the Reader is used.
func NewReader(src io.ReaderAt, size int64, macKey []byte, want Key) (*Reader, error) {
	if size < int64(len(magic)+4+32+macSize) {
		return nil, fmt.Errorf("%w: %d bytes, too short", ErrInvalid, size)
	}
	head := make([]byte, min(size, maxHeadPrefix))
	if _, err := src.ReadAt(head, 0); err != nil {
		return nil, readError(err)
	}
	r := reader{b: head}
	if [8]byte(r.bytes(8)) != magic {
		return nil, fmt.Errorf("%w: not a code cache entry", ErrInvalid)
	}
	if v := r.u16(); v != FormatVersion {
		return nil, fmt.Errorf("%w: format version %d, want %d", ErrInvalid, v, FormatVersion)
	}
	if f := r.u16(); f != 0 {
		return nil, fmt.Errorf("%w: unknown flags %#x", ErrInvalid, f)
	}
	var k Key
	copy(k.Module[:], r.bytes(32))
	k.Build, k.Tier, k.CPU = r.str(), r.str(), r.str()
	n := r.uv()
	if r.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, r.err)
	}
	// Every record is in the file, and every function takes at least a
	// byte: a count the size cannot hold allocates nothing.
	prefix := int64(r.p)
	if left := size - prefix - macSize; left < 0 || n > uint64(left)/(recordSize+1) {
		return nil, fmt.Errorf("%w: %d functions in %d bytes", ErrInvalid, n, size)
	}
	headLen := prefix + int64(n)*recordSize
	full := make([]byte, headLen+macSize)
	copy(full, head[:prefix])
	if _, err := src.ReadAt(full[prefix:], prefix); err != nil {
		return nil, readError(err)
	}
	m := hmac.New(sha256.New, macKey)
	m.Write(full[:headLen])
	if !hmac.Equal(m.Sum(nil), full[headLen:]) {
		return nil, fmt.Errorf("%w: authentication failed (damaged, or not written by this user's Ferry)", ErrInvalid)
	}
	if k != want {
		return nil, fmt.Errorf("%w: written for another module, build, tier or CPU", ErrInvalid)
	}
	rd := &Reader{src: src, records: full[prefix:headLen], starts: make([]int64, n+1)}
	at := headLen + macSize
	for i := range int(n) {
		rd.starts[i] = at
		nb, ni := rd.record(i)
		// An instruction and its offset take at least two bytes.
		if uint64(ni)*2 > uint64(nb) {
			return nil, fmt.Errorf("%w: function %d: %d instructions in %d bytes", ErrInvalid, i, ni, nb)
		}
		at += int64(nb)
	}
	rd.starts[n] = at
	if at != size {
		return nil, fmt.Errorf("%w: the functions end at byte %d of %d", ErrInvalid, at, size)
	}
	return rd, nil
}

// readError is the error of a read of an entry: one that ends early means
// the file is shorter than it was when it was opened (cut), which is an
// invalid entry; any other is the file system's.
func readError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: cut (%v)", ErrInvalid, err)
	}
	return fmt.Errorf("code cache: %w", err)
}

// record returns function i's byte length and instruction count.
func (r *Reader) record(i int) (nb, ni uint32) {
	rec := r.records[i*recordSize:]
	return binary.LittleEndian.Uint32(rec), binary.LittleEndian.Uint32(rec[4:])
}

// NumFuncs is the number of functions the entry holds.
func (r *Reader) NumFuncs() int { return len(r.starts) - 1 }

// Func reads function i, checks its bytes against the digest the header
// authenticated and decodes them. An error wraps ErrInvalid, but one from
// reading the source (a file cut since NewReader, an I/O error).
func (r *Reader) Func(i int) (Func, error) {
	var p Func
	if i < 0 || i >= r.NumFuncs() {
		return p, fmt.Errorf("%w: no function %d", ErrInvalid, i)
	}
	nb, ni := r.record(i)
	b := make([]byte, nb)
	if _, err := r.src.ReadAt(b, r.starts[i]); err != nil {
		return p, fmt.Errorf("function %d: %w", i, readError(err))
	}
	if sha256.Sum256(b) != [32]byte(r.records[i*recordSize+8:]) {
		return p, fmt.Errorf("%w: function %d does not match its digest (the entry changed since it was opened)", ErrInvalid, i)
	}
	d := decoder{reader: reader{b: b}}
	if err := d.function(&p, make([]ir.Instr, ni), make([]uint32, ni)); err != nil {
		return p, fmt.Errorf("%w: function %d: %v", ErrInvalid, i, err)
	}
	return p, nil
}

// MACKey derives the key that authenticates cache entries from secret
// material (a signing key's private part): a key of its own, so that a
// cache entry's MAC is never a checkpoint signature.
func MACKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("ferry code cache entry key v1"))
	return m.Sum(nil)
}

// writer appends the encoding's primitives.
type writer struct{ b []byte }

func (w *writer) uv(v uint64) { w.b = binary.AppendUvarint(w.b, v) }

func (w *writer) str(s string) {
	w.uv(uint64(len(s)))
	w.b = append(w.b, s...)
}

// reader reads the primitives; the first error sticks and later reads
// return zeros, so decoders check r.err once per record.
type reader struct {
	b   []byte
	p   int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("at byte %d: %s", r.p, fmt.Sprintf(format, args...))
	}
	r.p = len(r.b)
}

func (r *reader) byte() byte {
	if r.p >= len(r.b) {
		r.fail("truncated")
		return 0
	}
	c := r.b[r.p]
	r.p++
	return c
}

func (r *reader) u16() uint16 {
	if len(r.b)-r.p < 2 {
		r.fail("truncated")
		return 0
	}
	v := binary.LittleEndian.Uint16(r.b[r.p:])
	r.p += 2
	return v
}

// uv reads a uvarint; one-byte values, most of an entry's, take the
// inlined path.
func (r *reader) uv() uint64 {
	if r.p < len(r.b) && r.b[r.p] < 0x80 {
		v := r.b[r.p]
		r.p++
		return uint64(v)
	}
	return r.uvSlow()
}

func (r *reader) uvSlow() uint64 {
	v, n := binary.Uvarint(r.b[min(r.p, len(r.b)):])
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.p += n
	return v
}

// u32 reads a uvarint that must fit 32 bits.
func (r *reader) u32() uint32 {
	v := r.uv()
	if v > 1<<32-1 {
		r.fail("value %d exceeds 32 bits", v)
		return 0
	}
	return uint32(v)
}

// count reads a count of items each taking at least minBytes bytes, capped
// by the bytes left so that no count makes the decoder allocate more than
// the entry's size warrants.
func (r *reader) count(minBytes int) int {
	v := r.uv()
	if left := uint64(len(r.b) - r.p); v > left/uint64(minBytes) {
		r.fail("count %d exceeds the %d bytes left", v, left)
		return 0
	}
	return int(v)
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b)-r.p < n {
		r.fail("truncated")
		return nil
	}
	s := r.b[r.p : r.p+n]
	r.p += n
	return s
}

func (r *reader) str() string {
	n := r.count(1)
	if n > maxString {
		r.fail("string of %d bytes", n)
		return ""
	}
	return string(r.bytes(n))
}

// Package codecache stores what compiling a module computes (the validated,
// lowered code of every function and its pause-point tables) in files, so
// that a fresh process restoring a checkpoint reads them instead of
// validating and lowering again. docs/code-cache.md describes the format
// and the trust model.
//
// An entry is untrusted input with a twist: the execution loop trusts the
// IR (slot indices are not checked at run time), so an entry that decodes
// cleanly but was forged would be a sandbox escape. Entries therefore
// carry an HMAC-SHA256 under a key derived from the user's signing key,
// checked over the whole file before a byte of it is decoded; the decoder
// is still defensive (every count capped by the bytes left, every index
// checked against the module) so that no file can crash the reader.
package codecache

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// magic starts every entry.
var magic = [8]byte{0, 'f', 'e', 'r', 'r', 'y', 'c', 'c'}

// FormatVersion is the entry format's version; a reader refuses others
// (an entry is rebuilt, never migrated).
const FormatVersion = 1

// macSize is the length of the trailing HMAC-SHA256.
const macSize = sha256.Size

// Section ids of an entry's body.
const (
	// sectionIR is the interpreter's lowered code (ir.go).
	sectionIR = 1
	// sectionNative is reserved for the compiled tier (internal/jit): its
	// machine code, valid only for the CPU features in Key.CPU.
	sectionNative = 2
)

// ErrInvalid is wrapped by every error about an entry that cannot be used:
// damaged, forged (its MAC does not verify), for another key, or
// malformed. The caller recompiles and rewrites it.
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
	Funcs []Func // interp: one per defined function (sectionIR)
	// Native is the compiled tier's code (sectionNative), nil until that
	// tier writes one.
	Native []byte
}

// maxString caps the key's strings.
const maxString = 4096

// Encode returns the entry's bytes, authenticated with macKey (MACKey).
func Encode(e *Entry, macKey []byte) []byte {
	var w writer
	w.b = append(w.b, magic[:]...)
	w.b = binary.LittleEndian.AppendUint16(w.b, FormatVersion)
	w.b = binary.LittleEndian.AppendUint16(w.b, 0) // flags, none yet
	w.b = append(w.b, e.Key.Module[:]...)
	w.str(e.Key.Build)
	w.str(e.Key.Tier)
	w.str(e.Key.CPU)
	if e.Funcs != nil {
		body := encodeIR(e.Funcs)
		w.b = append(w.b, sectionIR)
		w.uv(uint64(len(body)))
		w.b = append(w.b, body...)
	}
	if e.Native != nil {
		w.b = append(w.b, sectionNative)
		w.uv(uint64(len(e.Native)))
		w.b = append(w.b, e.Native...)
	}
	m := hmac.New(sha256.New, macKey)
	m.Write(w.b)
	return m.Sum(w.b)
}

// Decode authenticates b with macKey, checks that it is an entry for want
// and decodes it. Any error wraps ErrInvalid.
func Decode(b, macKey []byte, want Key) (*Entry, error) {
	if len(b) < len(magic)+4+32+macSize {
		return nil, fmt.Errorf("%w: %d bytes, too short", ErrInvalid, len(b))
	}
	body, sum := b[:len(b)-macSize], b[len(b)-macSize:]
	m := hmac.New(sha256.New, macKey)
	m.Write(body)
	if !hmac.Equal(m.Sum(nil), sum) {
		return nil, fmt.Errorf("%w: authentication failed (damaged, or not written by this user's Ferry)", ErrInvalid)
	}
	e, err := decodeBody(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if e.Key != want {
		return nil, fmt.Errorf("%w: written for another module, build, tier or CPU", ErrInvalid)
	}
	return e, nil
}

// decodeBody decodes an authenticated entry without its MAC.
func decodeBody(b []byte) (*Entry, error) {
	if [8]byte(b[:8]) != magic {
		return nil, errors.New("not a code cache entry")
	}
	r := reader{b: b, p: 8}
	if v := r.u16(); v != FormatVersion {
		return nil, fmt.Errorf("format version %d, want %d", v, FormatVersion)
	}
	if f := r.u16(); f != 0 {
		return nil, fmt.Errorf("unknown flags %#x", f)
	}
	e := &Entry{}
	copy(e.Key.Module[:], r.bytes(32))
	e.Key.Build, e.Key.Tier, e.Key.CPU = r.str(), r.str(), r.str()
	last := 0
	for r.err == nil && r.p < len(r.b) {
		id := int(r.byte())
		n := r.count(1)
		sec := r.bytes(n)
		if r.err != nil {
			break
		}
		if id <= last {
			return nil, fmt.Errorf("section %d after section %d", id, last)
		}
		last = id
		switch id {
		case sectionIR:
			fs, err := decodeIR(sec)
			if err != nil {
				return nil, fmt.Errorf("ir section: %w", err)
			}
			e.Funcs = fs
		case sectionNative:
			e.Native = append([]byte{}, sec...)
		default:
			return nil, fmt.Errorf("unknown section %d", id)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return e, nil
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

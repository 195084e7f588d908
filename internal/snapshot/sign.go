package snapshot

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
)

// A signed checkpoint ends with a signature trailer after its end
// section: the signatures, then a fixed footer whose last 8 bytes are
// SigMagic, so that a reader finds it from the end of the file before it
// reads anything else. Readers of format 1.0 and 1.1 stop at the end
// section and never see it. See docs/snapshot-format.md.
const (
	SigMagic       = "FERRYSIG"
	sigEntrySize   = 80
	sigFooterSize  = 24
	MaxSignatures  = 8
	sigMaxLen      = 64
	sigDomain      = "ferry checkpoint signature v1\x00"
	hmacKeyIDLabel = "ferry hmac key id v1\x00"
)

// SigAlg is a signature algorithm.
type SigAlg uint16

const (
	SigEd25519    SigAlg = 1
	SigHMACSHA256 SigAlg = 2
)

func (a SigAlg) String() string {
	switch a {
	case SigEd25519:
		return "ed25519"
	case SigHMACSHA256:
		return "hmac-sha256"
	}
	return fmt.Sprintf("alg(%d)", uint16(a))
}

// ErrSignature: a signature by a key the reader trusts does not verify:
// the file was changed after it was signed. Errors that wrap it wrap
// ErrCorrupt too.
var ErrSignature = errors.New("checkpoint signature does not verify")

// KeyID names a key: the first 8 bytes of the SHA-256 of an Ed25519 public
// key, or of a domain label and an HMAC secret.
type KeyID [8]byte

// Ed25519KeyID is the id of an Ed25519 public key.
func Ed25519KeyID(pub ed25519.PublicKey) KeyID {
	sum := sha256.Sum256(pub)
	return KeyID(sum[:8])
}

// HMACKeyID is the id of an HMAC-SHA256 secret. Hashing it with a label
// keeps the id from being a plain hash that other uses of the secret
// could share.
func HMACKeyID(secret []byte) KeyID {
	sum := sha256.Sum256(append([]byte(hmacKeyIDLabel), secret...))
	return KeyID(sum[:8])
}

// Key signs or verifies: an Ed25519 private key (signs and verifies), an
// Ed25519 public key (verifies) or an HMAC secret (both).
type Key struct {
	Alg     SigAlg
	ID      KeyID
	Private ed25519.PrivateKey // Ed25519, signing only
	Public  ed25519.PublicKey  // Ed25519
	Secret  []byte             // HMAC-SHA256
}

// Signature is one entry of a trailer.
type Signature struct {
	Alg   SigAlg
	KeyID KeyID
	Sig   []byte
}

// message is what a signature signs: a domain label, the algorithm and
// key id (so that an entry cannot be relabelled), the signed length and
// the SHA-256 of the signed bytes.
func message(alg SigAlg, id KeyID, signedLen int64, digest [32]byte) []byte {
	m := make([]byte, 0, len(sigDomain)+2+8+8+32)
	m = append(m, sigDomain...)
	m = binary.LittleEndian.AppendUint16(m, uint16(alg))
	m = append(m, id[:]...)
	m = binary.LittleEndian.AppendUint64(m, uint64(signedLen))
	return append(m, digest[:]...)
}

func hmacSum(secret, msg []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write(msg)
	return h.Sum(nil)
}

// Sign signs the digest of the first signedLen bytes of a file with k.
func (k *Key) Sign(signedLen int64, digest [32]byte) (Signature, error) {
	msg := message(k.Alg, k.ID, signedLen, digest)
	switch {
	case k.Alg == SigEd25519 && len(k.Private) == ed25519.PrivateKeySize:
		return Signature{Alg: k.Alg, KeyID: k.ID, Sig: ed25519.Sign(k.Private, msg)}, nil
	case k.Alg == SigHMACSHA256 && len(k.Secret) > 0:
		return Signature{Alg: k.Alg, KeyID: k.ID, Sig: hmacSum(k.Secret, msg)}, nil
	}
	return Signature{}, fmt.Errorf("snapshot: a %v key without its private part cannot sign", k.Alg)
}

// Verify reports whether s is k's signature of the digest.
func (k *Key) Verify(s Signature, signedLen int64, digest [32]byte) bool {
	if s.Alg != k.Alg || s.KeyID != k.ID {
		return false
	}
	msg := message(k.Alg, k.ID, signedLen, digest)
	switch k.Alg {
	case SigEd25519:
		return len(k.Public) == ed25519.PublicKeySize && ed25519.Verify(k.Public, msg, s.Sig)
	case SigHMACSHA256:
		return len(k.Secret) > 0 && hmac.Equal(hmacSum(k.Secret, msg), s.Sig)
	}
	return false
}

// SigningWriter passes a checkpoint through to w while hashing it, so that
// WriteSignatures can sign it without reading it back.
type SigningWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

// NewSigningWriter hashes what is written through it to w.
func NewSigningWriter(w io.Writer) *SigningWriter {
	return &SigningWriter{w: w, h: sha256.New()}
}

func (s *SigningWriter) Write(b []byte) (int, error) {
	n, err := s.w.Write(b)
	s.h.Write(b[:n])
	s.n += int64(n)
	return n, err
}

// WriteSignatures appends the trailer signing everything written so far
// with keys, and returns its length.
func (s *SigningWriter) WriteSignatures(keys []Key) (int64, error) {
	if len(keys) == 0 || len(keys) > MaxSignatures {
		return 0, fmt.Errorf("snapshot: %d signing keys, want 1 to %d", len(keys), MaxSignatures)
	}
	var digest [32]byte
	s.h.Sum(digest[:0])
	signedLen := s.n
	buf := make([]byte, 0, len(keys)*sigEntrySize+sigFooterSize)
	for i := range keys {
		sig, err := keys[i].Sign(signedLen, digest)
		if err != nil {
			return 0, err
		}
		var e [sigEntrySize]byte
		binary.LittleEndian.PutUint16(e[0:], uint16(sig.Alg))
		binary.LittleEndian.PutUint16(e[2:], uint16(len(sig.Sig)))
		copy(e[8:16], sig.KeyID[:])
		copy(e[16:], sig.Sig)
		buf = append(buf, e[:]...)
	}
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(keys)))
	buf = binary.LittleEndian.AppendUint32(buf, crc(buf))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(signedLen))
	buf = append(buf, SigMagic...)
	n, err := s.w.Write(buf)
	return int64(n), err
}

// Trailer is a file's signature trailer as found, not yet verified.
type Trailer struct {
	Signatures []Signature
	// SignedLen is the length of the signed prefix: the checkpoint
	// proper, which is all a reader may parse.
	SignedLen int64
}

// ReadTrailer finds the signature trailer at the end of the size bytes of
// r. It returns nil for an unsigned file (no SigMagic at the end) and an
// error wrapping ErrCorrupt for a malformed trailer. Nothing before the
// trailer is read.
func ReadTrailer(r io.ReaderAt, size int64) (*Trailer, error) {
	if size < fileHeaderSize+sigFooterSize {
		return nil, nil
	}
	var foot [sigFooterSize]byte
	if _, err := r.ReadAt(foot[:], size-sigFooterSize); err != nil {
		return nil, fmt.Errorf("%w: reading the signature trailer: %v", ErrCorrupt, err)
	}
	if string(foot[16:]) != SigMagic {
		return nil, nil
	}
	count := binary.LittleEndian.Uint32(foot[0:])
	signedLen := binary.LittleEndian.Uint64(foot[8:])
	if count == 0 || count > MaxSignatures {
		return nil, fmt.Errorf("%w: signature trailer: %d signatures, want 1 to %d", ErrCorrupt, count, MaxSignatures)
	}
	entries := int64(count) * sigEntrySize
	if size-sigFooterSize-entries < fileHeaderSize || signedLen != uint64(size-sigFooterSize-entries) {
		return nil, fmt.Errorf("%w: signature trailer: signed length %d does not fit a %d-byte file with %d signatures", ErrCorrupt, signedLen, size, count)
	}
	buf := make([]byte, entries+8)
	if _, err := r.ReadAt(buf, int64(signedLen)); err != nil {
		return nil, fmt.Errorf("%w: reading the signature trailer: %v", ErrCorrupt, err)
	}
	if binary.LittleEndian.Uint32(buf[entries+4:]) != crc(buf[:entries+4]) {
		return nil, fmt.Errorf("%w: signature trailer checksum mismatch", ErrCorrupt)
	}
	t := &Trailer{SignedLen: int64(signedLen)}
	for i := int64(0); i < int64(count); i++ {
		e := buf[i*sigEntrySize : (i+1)*sigEntrySize]
		alg := SigAlg(binary.LittleEndian.Uint16(e[0:]))
		n := int(binary.LittleEndian.Uint16(e[2:]))
		if n > sigMaxLen || binary.LittleEndian.Uint32(e[4:]) != 0 || !allZero(e[16+n:]) {
			return nil, fmt.Errorf("%w: signature %d: malformed entry", ErrCorrupt, i)
		}
		t.Signatures = append(t.Signatures, Signature{Alg: alg, KeyID: KeyID(e[8:16]), Sig: append([]byte(nil), e[16:16+n]...)})
	}
	return t, nil
}

// Digest is the SHA-256 of the first n bytes of r.
func Digest(r io.ReaderAt, n int64) ([32]byte, error) {
	var d [32]byte
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, n)); err != nil {
		return d, fmt.Errorf("%w: reading the signed bytes: %v", ErrCorrupt, err)
	}
	h.Sum(d[:0])
	return d, nil
}

// Verification is what checking a trailer against trusted keys found.
type Verification struct {
	Trailer *Trailer // nil: unsigned
	// By is the trusted key whose signature verified; nil when no
	// signature is by a trusted key.
	By *Key
}

// VerifyTrailer finds the trailer of the size bytes of r and checks its
// signatures against trusted, before anything else in the file is read.
// A signature by a trusted key that does not verify is an error wrapping
// ErrSignature (the file was changed after signing); signatures by other
// keys are listed but not checked (an attacker can write any). The signed
// prefix is hashed only when a trusted key signed the file.
func VerifyTrailer(r io.ReaderAt, size int64, trusted []Key) (Verification, error) {
	t, err := ReadTrailer(r, size)
	if err != nil || t == nil {
		return Verification{Trailer: t}, err
	}
	v := Verification{Trailer: t}
	var digest *[32]byte
	for _, s := range t.Signatures {
		for i := range trusted {
			k := &trusted[i]
			if k.Alg != s.Alg || k.ID != s.KeyID {
				continue
			}
			if digest == nil {
				d, err := Digest(r, t.SignedLen)
				if err != nil {
					return v, err
				}
				digest = &d
			}
			if !k.Verify(s, t.SignedLen, *digest) {
				return v, fmt.Errorf("%w: %w: signed by %v key %x, which this host trusts, but the file changed since it was signed (damaged or tampered with)", ErrCorrupt, ErrSignature, k.Alg, k.ID)
			}
			v.By = k
			return v, nil
		}
	}
	return v, nil
}

// ReadVerified reads a checkpoint whose trailer VerifyTrailer checked
// first: only the signed bytes are read as the checkpoint, and bytes after
// the end section that are not a trailer are corrupt (a trailer cut short,
// say), not ignored.
func ReadVerified(r io.ReaderAt, size int64, trusted []Key) (*File, Verification, error) {
	v, err := VerifyTrailer(r, size, trusted)
	if err != nil {
		return nil, v, err
	}
	if v.Trailer != nil {
		size = v.Trailer.SignedLen
	}
	f, err := Read(r, size)
	if err != nil {
		return nil, v, err
	}
	if end := f.Sections[len(f.Sections)-1].Offset; end != size {
		return nil, v, fmt.Errorf("%w: %d bytes after the end section are not a signature trailer", ErrCorrupt, size-end)
	}
	return f, v, nil
}

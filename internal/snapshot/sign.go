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
// section: the signatures, then (trailer version 2) the digests of the
// memory data, then a fixed footer whose last 8 bytes are the trailer's
// magic, so that a reader finds it from the end of the file before it
// reads anything else. Readers of format 1.0 and 1.1 stop at the end
// section and never see it. See docs/snapshot-format.md.
//
// Version 1 (SigMagic) signs the SHA-256 of every byte of the checkpoint,
// so a trusted restore hashes the whole file before it can map a page:
// restore time grows with memory size again. Version 2 (SigMagicV2),
// what this package writes, signs the SHA-256 of every byte except the
// memory data payloads, followed by the digests block: the offset and
// length of each payload and a SHA-256 per MemChunk of it. Opening a file
// hashes only the small part; the memory check (VerifyMemoryAt) compares
// the chunks with their signed digests, concurrently like the CRCs.
const (
	SigMagic       = "FERRYSIG"
	SigMagicV2     = "FERRYSG2"
	sigEntrySize   = 80
	sigFooterSize  = 24
	MaxSignatures  = 8
	sigMaxLen      = 64
	sigDomain      = "ferry checkpoint signature v1\x00"
	sigDomainV2    = "ferry checkpoint signature v2\x00"
	hmacKeyIDLabel = "ferry hmac key id v1\x00"
	// MemChunk is the size of the pieces of memory data digested apart:
	// one verifyRead, so that the concurrent check hashes each read it
	// makes and compares it at once.
	MemChunk = verifyRead
	// memDigestsHeader is the digests block's count and chunk size.
	memDigestsHeader = 8
	memRangeSize     = 16
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

// message is what a signature signs: a domain label (which names the
// trailer version, so that a digest of one version's bytes cannot pass for
// the other's), the algorithm and key id (so that an entry cannot be
// relabelled), the signed length and the digest of the signed bytes.
func message(version int, alg SigAlg, id KeyID, signedLen int64, digest [32]byte) []byte {
	domain := sigDomain
	if version == 2 {
		domain = sigDomainV2
	}
	m := make([]byte, 0, len(domain)+2+8+8+32)
	m = append(m, domain...)
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

// Sign signs the digest of the first signedLen bytes of a file with k
// (trailer version 2; see Verify).
func (k *Key) Sign(signedLen int64, digest [32]byte) (Signature, error) {
	return k.sign(2, signedLen, digest)
}

func (k *Key) sign(version int, signedLen int64, digest [32]byte) (Signature, error) {
	msg := message(version, k.Alg, k.ID, signedLen, digest)
	switch {
	case k.Alg == SigEd25519 && len(k.Private) == ed25519.PrivateKeySize:
		return Signature{Alg: k.Alg, KeyID: k.ID, Sig: ed25519.Sign(k.Private, msg)}, nil
	case k.Alg == SigHMACSHA256 && len(k.Secret) > 0:
		return Signature{Alg: k.Alg, KeyID: k.ID, Sig: hmacSum(k.Secret, msg)}, nil
	}
	return Signature{}, fmt.Errorf("snapshot: a %v key without its private part cannot sign", k.Alg)
}

// Verify reports whether s is k's signature of the digest in a trailer
// of version 2: the SHA-256 of the signed bytes but the memory data, then
// the digests block (Trailer.Digest).
func (k *Key) Verify(s Signature, signedLen int64, digest [32]byte) bool {
	return k.verify(2, s, signedLen, digest)
}

func (k *Key) verify(version int, s Signature, signedLen int64, digest [32]byte) bool {
	if s.Alg != k.Alg || s.KeyID != k.ID {
		return false
	}
	msg := message(version, k.Alg, k.ID, signedLen, digest)
	switch k.Alg {
	case SigEd25519:
		return len(k.Public) == ed25519.PublicKeySize && ed25519.Verify(k.Public, msg, s.Sig)
	case SigHMACSHA256:
		return len(k.Secret) > 0 && hmac.Equal(hmacSum(k.Secret, msg), s.Sig)
	}
	return false
}

// SigningWriter passes a checkpoint through to w while hashing it, so that
// WriteSignatures can sign it without reading it back. Write tells it
// where memory data payloads start and end (beginMemory, endMemory): those
// are digested per MemChunk, apart from the rest.
type SigningWriter struct {
	w io.Writer
	h hash.Hash // every byte outside memory data
	n int64
	// mem is the memory data payload being written, nil outside one.
	mem      *MemoryDigests
	chunk    hash.Hash
	chunkLen int
	memory   []MemoryDigests
}

// MemoryDigests are the signed digests of one memory data payload.
type MemoryDigests struct {
	Offset, Length int64
	Chunks         [][32]byte // SHA-256 of each MemChunk, the last maybe shorter
}

// NewSigningWriter hashes what is written through it to w, which must be
// at the start of the file.
func NewSigningWriter(w io.Writer) *SigningWriter {
	return &SigningWriter{w: w, h: sha256.New(), chunk: sha256.New()}
}

func (s *SigningWriter) Write(b []byte) (int, error) {
	n, err := s.w.Write(b)
	s.n += int64(n)
	if s.mem == nil {
		s.h.Write(b[:n])
		return n, err
	}
	for rest := b[:n]; len(rest) > 0; {
		k := min(len(rest), MemChunk-s.chunkLen)
		s.chunk.Write(rest[:k])
		s.chunkLen += k
		rest = rest[k:]
		if s.chunkLen == MemChunk {
			s.endChunk()
		}
	}
	return n, err
}

func (s *SigningWriter) endChunk() {
	var d [32]byte
	s.chunk.Sum(d[:0])
	s.mem.Chunks = append(s.mem.Chunks, d)
	s.chunk.Reset()
	s.chunkLen = 0
}

// beginMemory: what is written next is a memory data payload.
func (s *SigningWriter) beginMemory() {
	s.mem = &MemoryDigests{Offset: s.n}
}

// endMemory: the memory data payload is complete.
func (s *SigningWriter) endMemory() {
	if s.chunkLen > 0 {
		s.endChunk()
	}
	s.mem.Length = s.n - s.mem.Offset
	s.memory = append(s.memory, *s.mem)
	s.mem = nil
}

// encodeMemoryDigests is the digests block: the count of payloads and
// the chunk size, each payload's offset and length, then every chunk
// digest in file order.
func encodeMemoryDigests(mem []MemoryDigests) []byte {
	chunks := 0
	for _, m := range mem {
		chunks += len(m.Chunks)
	}
	b := make([]byte, 0, memDigestsHeader+len(mem)*memRangeSize+chunks*32)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(mem)))
	b = binary.LittleEndian.AppendUint32(b, MemChunk)
	for _, m := range mem {
		b = binary.LittleEndian.AppendUint64(b, uint64(m.Offset))
		b = binary.LittleEndian.AppendUint64(b, uint64(m.Length))
	}
	for _, m := range mem {
		for _, c := range m.Chunks {
			b = append(b, c[:]...)
		}
	}
	return b
}

// WriteSignatures appends the trailer (version 2) signing everything
// written so far with keys, and returns its length.
func (s *SigningWriter) WriteSignatures(keys []Key) (int64, error) {
	if len(keys) == 0 || len(keys) > MaxSignatures {
		return 0, fmt.Errorf("snapshot: %d signing keys, want 1 to %d", len(keys), MaxSignatures)
	}
	if s.mem != nil {
		return 0, errors.New("snapshot: signing inside memory data")
	}
	block := encodeMemoryDigests(s.memory)
	s.h.Write(block)
	var digest [32]byte
	s.h.Sum(digest[:0])
	signedLen := s.n
	buf := make([]byte, 0, len(keys)*sigEntrySize+len(block)+sigFooterSize)
	for i := range keys {
		sig, err := keys[i].sign(2, signedLen, digest)
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
	buf = append(buf, block...)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(keys)))
	buf = binary.LittleEndian.AppendUint32(buf, crc(buf))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(signedLen))
	buf = append(buf, SigMagicV2...)
	n, err := s.w.Write(buf)
	return int64(n), err
}

// Trailer is a file's signature trailer as found, not yet verified.
type Trailer struct {
	// Version is 1 (every signed byte hashed as one) or 2 (memory data
	// digested per chunk).
	Version    int
	Signatures []Signature
	// SignedLen is the length of the signed prefix: the checkpoint
	// proper, which is all a reader may parse.
	SignedLen int64
	// Memory lists the memory data payloads the signature covers by
	// digest (version 2), in file order.
	Memory []MemoryDigests
	block  []byte // the encoded digests block, signed after the prefix
}

// ReadTrailer finds the signature trailer at the end of the size bytes of
// r. It returns nil for an unsigned file (no trailer magic at the end)
// and an error wrapping ErrCorrupt for a malformed trailer. Nothing
// before the trailer is read.
func ReadTrailer(r io.ReaderAt, size int64) (*Trailer, error) {
	if size < fileHeaderSize+sigFooterSize {
		return nil, nil
	}
	var foot [sigFooterSize]byte
	if _, err := r.ReadAt(foot[:], size-sigFooterSize); err != nil {
		return nil, fmt.Errorf("%w: reading the signature trailer: %v", ErrCorrupt, err)
	}
	t := &Trailer{}
	switch string(foot[16:]) {
	case SigMagic:
		t.Version = 1
	case SigMagicV2:
		t.Version = 2
	default:
		return nil, nil
	}
	count := binary.LittleEndian.Uint32(foot[0:])
	signedLen := binary.LittleEndian.Uint64(foot[8:])
	if count == 0 || count > MaxSignatures {
		return nil, fmt.Errorf("%w: signature trailer: %d signatures, want 1 to %d", ErrCorrupt, count, MaxSignatures)
	}
	entries := int64(count) * sigEntrySize
	// The trailer's own bytes: entries, the digests block, the footer.
	rest := size - sigFooterSize - entries
	if rest < fileHeaderSize || signedLen > uint64(rest) || (t.Version == 1 && signedLen != uint64(rest)) {
		return nil, fmt.Errorf("%w: signature trailer: signed length %d does not fit a %d-byte file with %d signatures", ErrCorrupt, signedLen, size, count)
	}
	t.SignedLen = int64(signedLen)
	blockLen := rest - t.SignedLen
	if t.Version == 2 {
		if err := t.readMemoryRanges(r, blockLen, t.SignedLen+entries); err != nil {
			return nil, err
		}
	}
	buf := make([]byte, entries+blockLen+8)
	if _, err := r.ReadAt(buf, t.SignedLen); err != nil {
		return nil, fmt.Errorf("%w: reading the signature trailer: %v", ErrCorrupt, err)
	}
	if binary.LittleEndian.Uint32(buf[len(buf)-4:]) != crc(buf[:len(buf)-4]) {
		return nil, fmt.Errorf("%w: signature trailer checksum mismatch", ErrCorrupt)
	}
	for i := int64(0); i < int64(count); i++ {
		e := buf[i*sigEntrySize : (i+1)*sigEntrySize]
		alg := SigAlg(binary.LittleEndian.Uint16(e[0:]))
		n := int(binary.LittleEndian.Uint16(e[2:]))
		if n > sigMaxLen || binary.LittleEndian.Uint32(e[4:]) != 0 || !allZero(e[16+n:]) {
			return nil, fmt.Errorf("%w: signature %d: malformed entry", ErrCorrupt, i)
		}
		t.Signatures = append(t.Signatures, Signature{Alg: alg, KeyID: KeyID(e[8:16]), Sig: append([]byte(nil), e[16:16+n]...)})
	}
	if t.Version == 2 {
		t.block = buf[entries : entries+blockLen]
		chunks := t.block[memDigestsHeader+len(t.Memory)*memRangeSize:]
		for i := range t.Memory {
			m := &t.Memory[i]
			m.Chunks = make([][32]byte, chunkCount(m.Length))
			for c := range m.Chunks {
				m.Chunks[c] = [32]byte(chunks[:32])
				chunks = chunks[32:]
			}
		}
	}
	return t, nil
}

func chunkCount(n int64) int64 { return (n + MemChunk - 1) / MemChunk }

// readMemoryRanges reads the payloads' offsets and lengths from the
// digests block of blockLen bytes at off and checks them: in file order,
// apart, within the signed bytes and the limits, and with exactly one
// digest per chunk left in the block. The block's size is checked before
// it is read whole.
func (t *Trailer) readMemoryRanges(r io.ReaderAt, blockLen, off int64) error {
	if blockLen < memDigestsHeader {
		return fmt.Errorf("%w: signature trailer: %d bytes of memory digests, not even their count", ErrCorrupt, blockLen)
	}
	var hdr [memDigestsHeader]byte
	if _, err := r.ReadAt(hdr[:], off); err != nil {
		return fmt.Errorf("%w: reading the signature trailer: %v", ErrCorrupt, err)
	}
	count := binary.LittleEndian.Uint32(hdr[0:])
	if chunk := binary.LittleEndian.Uint32(hdr[4:]); chunk != MemChunk {
		return fmt.Errorf("%w: signature trailer: memory digests of %d-byte chunks, this Ferry reads %d-byte ones", ErrCorrupt, chunk, MemChunk)
	}
	if count > MaxMemories || int64(count)*memRangeSize > blockLen-memDigestsHeader {
		return fmt.Errorf("%w: signature trailer: %d memory digests in %d bytes (at most %d)", ErrCorrupt, count, blockLen, MaxMemories)
	}
	b := make([]byte, count*memRangeSize)
	if _, err := r.ReadAt(b, off+memDigestsHeader); err != nil {
		return fmt.Errorf("%w: reading the signature trailer: %v", ErrCorrupt, err)
	}
	end := int64(fileHeaderSize)
	want := int64(memDigestsHeader) + int64(len(b))
	for i := range int(count) {
		o := binary.LittleEndian.Uint64(b[i*memRangeSize:])
		n := binary.LittleEndian.Uint64(b[i*memRangeSize+8:])
		if o < uint64(end) || o > uint64(t.SignedLen) || n > MaxMemorySize || n > uint64(t.SignedLen)-o {
			return fmt.Errorf("%w: signature trailer: memory %d data at byte %d, %d bytes, is not within the signed bytes after the previous one", ErrCorrupt, i, o, n)
		}
		m := MemoryDigests{Offset: int64(o), Length: int64(n)}
		end = m.Offset + m.Length
		want += chunkCount(m.Length) * 32
		t.Memory = append(t.Memory, m)
	}
	if want != blockLen {
		return fmt.Errorf("%w: signature trailer: %d bytes of memory digests, want %d", ErrCorrupt, blockLen, want)
	}
	return nil
}

// Digest is the digest t's signatures sign: version 1, the SHA-256 of
// the signed bytes; version 2, of the signed bytes but the memory data
// payloads, then of the digests block.
func (t *Trailer) Digest(r io.ReaderAt) ([32]byte, error) {
	return digestExcept(r, t.SignedLen, t.Memory, t.block)
}

func digestExcept(r io.ReaderAt, n int64, skip []MemoryDigests, tail []byte) ([32]byte, error) {
	var d [32]byte
	h := sha256.New()
	at := int64(0)
	for i := 0; i <= len(skip); i++ {
		end, next := n, n
		if i < len(skip) {
			end, next = skip[i].Offset, skip[i].Offset+skip[i].Length
		}
		if _, err := io.Copy(h, io.NewSectionReader(r, at, end-at)); err != nil {
			return d, fmt.Errorf("%w: reading the signed bytes: %v", ErrCorrupt, err)
		}
		at = next
	}
	h.Write(tail)
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
// bytes are hashed only when a trusted key signed the file, and in a
// version 2 trailer only those outside memory data: the memory is
// checked against its digests by VerifyMemoryAt, after ReadVerified.
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
				d, err := t.Digest(r)
				if err != nil {
					return v, err
				}
				digest = &d
			}
			if !k.verify(t.Version, s, t.SignedLen, *digest) {
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
// say), not ignored. When a trusted key signed a version 2 trailer, the
// file's memory data must be exactly the payloads the trailer digests,
// and its memory checks (VerifyMemoryAt, ReadMemory) compare SHA-256
// digests instead of CRCs: a mismatch wraps ErrSignature.
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
	if v.By == nil || v.Trailer.Version != 2 {
		return f, v, nil
	}
	// The signature covers the section headers, so a file read as signed
	// has its memory data where the writer put it; a difference means
	// the writer and reader disagree about the format.
	mem := v.Trailer.Memory
	if len(mem) != len(f.memData) {
		return nil, v, fmt.Errorf("%w: %w: the trusted signature covers %d memory data sections, the file has %d", ErrCorrupt, ErrSignature, len(mem), len(f.memData))
	}
	for i, d := range f.memData {
		if d.Offset != mem[i].Offset || int64(d.Length) != mem[i].Length {
			return nil, v, fmt.Errorf("%w: %w: memory %d data at byte %d (%d bytes) is not what the trusted signature covers (byte %d, %d bytes)", ErrCorrupt, ErrSignature, i, d.Offset, d.Length, mem[i].Offset, mem[i].Length)
		}
	}
	f.memDigests = mem
	return f, v, nil
}

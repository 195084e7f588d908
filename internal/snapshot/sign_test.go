package snapshot

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"
)

func testKeys(t testing.TB) (ed, mac Key) {
	seed := sha256.Sum256([]byte("ferry test key"))
	priv := ed25519.NewKeyFromSeed(seed[:])
	pub := priv.Public().(ed25519.PublicKey)
	secret := []byte("0123456789abcdef0123456789abcdef")
	return Key{Alg: SigEd25519, ID: Ed25519KeyID(pub), Private: priv, Public: pub},
		Key{Alg: SigHMACSHA256, ID: HMACKeyID(secret), Secret: secret}
}

func writeSigned(t testing.TB, keys ...Key) []byte {
	var buf bytes.Buffer
	sw := NewSigningWriter(&buf)
	if _, err := Write(sw, sample(), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := sw.WriteSignatures(keys); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func public(k Key) Key {
	k.Private = nil
	return k
}

func TestSignedRoundTrip(t *testing.T) {
	ed, mac := testKeys(t)
	plain := write(t, sample(), WriteOptions{})
	b := writeSigned(t, ed, mac)
	pf, err := ReadBytes(plain)
	if err != nil {
		t.Fatal(err)
	}
	// The memory digests: count and chunk size, then per memory its
	// offset, length and one SHA-256 per chunk.
	digests := memDigestsHeader
	for _, d := range pf.memData {
		digests += memRangeSize + 32*int(chunkCount(int64(d.Length)))
	}
	if want := len(plain) + 2*sigEntrySize + digests + sigFooterSize; len(b) != want || !bytes.Equal(b[:len(plain)], plain) {
		t.Fatalf("signed file: %d bytes, want the unsigned file's %d and a %d-byte trailer", len(b), len(plain), want-len(plain))
	}
	// A reader of format 1.1 stops at the end section: it reads a signed
	// file as it reads the unsigned one.
	if _, err := Read(bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatalf("a 1.1 reader: %v", err)
	}
	for _, trusted := range [][]Key{{public(ed)}, {mac}, {public(ed), mac}, {mac, public(ed)}} {
		f, v, err := ReadVerified(bytes.NewReader(b), int64(len(b)), trusted)
		if err != nil || v.By == nil || len(v.Trailer.Signatures) != 2 {
			t.Fatalf("trusting %v: %v, %+v", trusted[0].Alg, err, v)
		}
		if f.Sections[len(f.Sections)-1].Offset != v.Trailer.SignedLen {
			t.Fatalf("the checkpoint read does not end where the signed bytes do")
		}
		if v.Trailer.Version != 2 || len(f.memDigests) != len(f.memData) {
			t.Fatalf("trailer version %d, %d memory digests for %d memories", v.Trailer.Version, len(f.memDigests), len(f.memData))
		}
		for i := range f.memData {
			if err := f.VerifyMemory(i); err != nil {
				t.Fatalf("memory %d: %v", i, err)
			}
		}
	}
	// Untrusted: listed, not verified, no error.
	other, _ := testKeys(t)
	other.ID[0] ^= 1
	if _, v, err := ReadVerified(bytes.NewReader(b), int64(len(b)), []Key{other}); err != nil || v.By != nil || v.Trailer == nil {
		t.Fatalf("an untrusted key: %v, %+v", err, v)
	}
	// Unsigned.
	if _, v, err := ReadVerified(bytes.NewReader(plain), int64(len(plain)), []Key{public(ed)}); err != nil || v.Trailer != nil || v.By != nil {
		t.Fatalf("unsigned: %v, %+v", err, v)
	}
}

// Every byte of a signed file flipped (past the first sections and before
// the last, one in 97, to keep the test short: each read hashes the
// file): the signed bytes outside memory data fail the trusted signature
// (ErrSignature, never a successful read), those of memory data the
// memory check (ErrSignature too, from VerifyMemory and ReadMemory), the
// trailer's fail its checksum or its checks; never a panic, never
// trusted with changed bytes.
func TestSignedFileEveryByteFlipped(t *testing.T) {
	ed, mac := testKeys(t)
	for _, k := range []Key{ed, mac} {
		b := writeSigned(t, k)
		tr, err := ReadTrailer(bytes.NewReader(b), int64(len(b)))
		if err != nil || tr == nil {
			t.Fatalf("no trailer: %v", err)
		}
		inMemory := func(i int64) int {
			for k, m := range tr.Memory {
				if i >= m.Offset && i < m.Offset+m.Length {
					return k
				}
			}
			return -1
		}
		trusted := []Key{public(k)}
		for i := 0; i < len(b); i++ {
			if i > 512 && i < len(b)-256 && i%97 != 0 && inMemory(int64(i)) < 0 {
				continue
			}
			c := append([]byte(nil), b...)
			c[i] ^= 0x01
			f, v, err := ReadVerified(bytes.NewReader(c), int64(len(c)), trusted)
			if m := inMemory(int64(i)); m >= 0 {
				if err != nil || v.By == nil {
					t.Fatalf("%v: memory byte %d flipped: %v, want the file opened (memory is checked later)", k.Alg, i, err)
				}
				if err := f.VerifyMemory(m); !errors.Is(err, ErrSignature) || !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%v: memory byte %d flipped: VerifyMemory: %v, want ErrSignature", k.Alg, i, err)
				}
				dst := make([]byte, f.Snapshot.Memories[m].Size)
				if err := f.ReadMemory(m, dst); !errors.Is(err, ErrSignature) {
					t.Fatalf("%v: memory byte %d flipped: ReadMemory: %v, want ErrSignature", k.Alg, i, err)
				}
				continue
			}
			if err == nil {
				if v.By != nil {
					t.Fatalf("%v: byte %d flipped: still trusted", k.Alg, i)
				}
				// The magic broken: an unsigned file followed by bytes
				// that are no trailer, which is corrupt too.
				t.Fatalf("%v: byte %d flipped: read without error (%+v)", k.Alg, i, v.Trailer)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%v: byte %d flipped: %v, want ErrCorrupt", k.Alg, i, err)
			}
			if int64(i) < tr.SignedLen && !errors.Is(err, ErrSignature) {
				t.Fatalf("%v: signed byte %d flipped: %v, want ErrSignature", k.Alg, i, err)
			}
		}
	}
}

// memoryOnlyReader fails any read of the memory data payloads: what a
// trusted open must not read, so that it costs the same whatever the
// memory size.
type memoryOnlyReader struct {
	r      io.ReaderAt
	ranges []MemoryDigests
}

func (m memoryOnlyReader) ReadAt(b []byte, off int64) (int, error) {
	for _, d := range m.ranges {
		if off < d.Offset+d.Length && off+int64(len(b)) > d.Offset {
			return 0, fmt.Errorf("read of bytes %d to %d, memory data", off, off+int64(len(b)))
		}
	}
	return m.r.ReadAt(b, off)
}

// TestSignedOpenReadsNoMemoryData: opening a file signed by a trusted key
// verifies the signature without reading memory data (the bug: it hashed
// the whole file, so a trusted restore grew with memory size); the
// memory check then compares every chunk, the last one short, with its
// signed digest, from several goroutines when the memory is large.
func TestSignedOpenReadsNoMemoryData(t *testing.T) {
	ed, _ := testKeys(t)
	s := sample()
	s.Memories[0].Size = 40 << 20
	s.Memories[0].Data = make([]byte, s.Memories[0].Size)
	for i := range s.Memories[0].Data[:(36<<20)+12345] {
		s.Memories[0].Data[i] = byte(i>>12) | 1
	}
	var buf bytes.Buffer
	sw := NewSigningWriter(&buf)
	if _, err := Write(sw, s, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := sw.WriteSignatures([]Key{ed}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	tr, err := ReadTrailer(bytes.NewReader(b), int64(len(b)))
	if err != nil || tr == nil || len(tr.Memory) != 1 || tr.Memory[0].Length < 36<<20 {
		t.Fatalf("trailer %+v: %v", tr, err)
	}
	r := memoryOnlyReader{bytes.NewReader(b), tr.Memory}
	f, v, err := ReadVerified(r, int64(len(b)), []Key{public(ed)})
	if err != nil || v.By == nil {
		t.Fatalf("trusted open: %v", err)
	}
	if err := f.VerifyMemoryAt(context.Background(), 0, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	m := tr.Memory[0]
	for _, at := range []int64{0, MemChunk - 1, 20 << 20, m.Length - 1} {
		c := append([]byte(nil), b...)
		c[m.Offset+at] ^= 0x40
		if err := f.VerifyMemoryAt(context.Background(), 0, bytes.NewReader(c)); !errors.Is(err, ErrSignature) || !errors.Is(err, ErrCorrupt) {
			t.Fatalf("memory byte %d changed: %v, want ErrSignature", at, err)
		}
	}
}

// writeV1 signs like the first signing Ferry did: a version 1 trailer
// whose signatures sign the SHA-256 of every byte before them.
func writeV1(t testing.TB, k Key) []byte {
	b := write(t, sample(), WriteOptions{})
	sig, err := k.sign(1, int64(len(b)), sha256.Sum256(b))
	if err != nil {
		t.Fatal(err)
	}
	var e [sigEntrySize]byte
	binary.LittleEndian.PutUint16(e[0:], uint16(sig.Alg))
	binary.LittleEndian.PutUint16(e[2:], uint16(len(sig.Sig)))
	copy(e[8:16], sig.KeyID[:])
	copy(e[16:], sig.Sig)
	tr := binary.LittleEndian.AppendUint32(e[:], 1)
	tr = binary.LittleEndian.AppendUint32(tr, crc(tr))
	tr = binary.LittleEndian.AppendUint64(tr, uint64(len(b)))
	return append(append(b, tr...), SigMagic...)
}

// TestSignedV1TrailerStillVerifies: files signed before memory was
// digested apart are still trusted, their whole signed bytes hashed on
// open, and a changed memory byte refuses them there.
func TestSignedV1TrailerStillVerifies(t *testing.T) {
	ed, mac := testKeys(t)
	for _, k := range []Key{ed, mac} {
		b := writeV1(t, k)
		f, v, err := ReadVerified(bytes.NewReader(b), int64(len(b)), []Key{public(k)})
		if err != nil || v.By == nil || v.Trailer.Version != 1 || f.memDigests != nil {
			t.Fatalf("%v: version 1 trailer: %v, %+v", k.Alg, err, v.Trailer)
		}
		if err := f.VerifyMemory(0); err != nil {
			t.Fatal(err)
		}
		off, _, _ := f.MemoryData(0)
		b[off] ^= 1
		if _, _, err := ReadVerified(bytes.NewReader(b), int64(len(b)), []Key{public(k)}); !errors.Is(err, ErrSignature) {
			t.Fatalf("%v: version 1, memory byte changed: %v, want ErrSignature", k.Alg, err)
		}
	}
}

// TestSignedCompressedMemoryChecked: compressed memory data is digested
// as stored, and checked before it is decompressed.
func TestSignedCompressedMemoryChecked(t *testing.T) {
	ed, _ := testKeys(t)
	var buf bytes.Buffer
	sw := NewSigningWriter(&buf)
	if _, err := Write(sw, sample(), WriteOptions{Compress: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := sw.WriteSignatures([]Key{ed}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	f, v, err := ReadVerified(bytes.NewReader(b), int64(len(b)), []Key{public(ed)})
	if err != nil || v.By == nil {
		t.Fatal(err)
	}
	m := f.Snapshot.Memories[0]
	dst := make([]byte, m.Size)
	if err := f.ReadMemory(0, dst); err != nil || !bytes.Equal(dst, sample().Memories[0].Data) {
		t.Fatalf("compressed signed memory: %v", err)
	}
	off, n, mappable := f.MemoryData(0)
	if mappable {
		t.Fatal("compressed memory is mappable")
	}
	b[off+int64(n)/2] ^= 1
	f, _, err = ReadVerified(bytes.NewReader(b), int64(len(b)), []Key{public(ed)})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.ReadMemory(0, make([]byte, m.Size)); !errors.Is(err, ErrSignature) {
		t.Fatalf("compressed memory changed: %v, want ErrSignature", err)
	}
}

// A signature entry cannot be moved to another key id or algorithm: the
// message signed names them.
func TestSignatureBoundToKeyID(t *testing.T) {
	ed, _ := testKeys(t)
	var d [32]byte
	s, err := ed.Sign(100, d)
	if err != nil {
		t.Fatal(err)
	}
	if !ed.Verify(s, 100, d) {
		t.Fatal("does not verify")
	}
	if ed.Verify(s, 101, d) {
		t.Fatal("verifies for another signed length")
	}
	k2 := ed
	k2.ID[7] ^= 1
	s.KeyID = k2.ID
	if k2.Verify(s, 100, d) {
		t.Fatal("verifies under another key id")
	}
	pub := public(ed)
	if _, err := pub.Sign(100, d); err == nil {
		t.Fatal("a public key signed")
	}
}

func TestTrailerCaps(t *testing.T) {
	ed, _ := testKeys(t)
	var buf bytes.Buffer
	sw := NewSigningWriter(&buf)
	sw.Write(write(t, sample(), WriteOptions{}))
	keys := make([]Key, MaxSignatures+1)
	for i := range keys {
		keys[i] = ed
	}
	if _, err := sw.WriteSignatures(keys); err == nil {
		t.Fatal("more than MaxSignatures signatures written")
	}
	if _, err := sw.WriteSignatures(nil); err == nil {
		t.Fatal("an empty trailer written")
	}
}

// signedFile is a checkpoint of mib MiB of present memory pages signed
// by k, and its unsigned form.
func signedFile(b *testing.B, k Key, mib int) (signed, plain []byte) {
	s := sample()
	s.Memories[0].Size = uint64(mib) << 20
	s.Memories[0].Data = bytes.Repeat([]byte{1, 2, 3, 4}, mib<<18)
	var buf bytes.Buffer
	sw := NewSigningWriter(&buf)
	if _, err := Write(sw, s, WriteOptions{}); err != nil {
		b.Fatal(err)
	}
	if _, err := sw.WriteSignatures([]Key{k}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes(), write(b, s, WriteOptions{})
}

// BenchmarkSignedRestoreIsFlat is what a trusted signature costs opening
// a checkpoint (ReadVerified) at several memory sizes: the signature
// covers memory by digests, so opening hashes only the non-memory bytes
// and its time does not grow with memory (read from memory here; a file
// adds nothing, no memory page being read). An untrusted signature costs
// nothing: its key is not looked up, the file is not hashed.
func BenchmarkSignedRestoreIsFlat(b *testing.B) {
	ed, _ := testKeys(b)
	for _, mib := range []int{16, 64, 256} {
		file, _ := signedFile(b, ed, mib)
		trusted := []Key{public(ed)}
		b.Run(fmt.Sprintf("%dMiB", mib), func(b *testing.B) {
			for b.Loop() {
				if _, v, err := ReadVerified(bytes.NewReader(file), int64(len(file)), trusted); err != nil || v.By == nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignedMemoryCheck is the memory check the signature moves
// the hashing to (VerifyMemory, over GOMAXPROCS goroutines), for 64 MiB
// of memory: the SHA-256 chunk digests of a trusted file against the
// CRC-32C of an unsigned one.
func BenchmarkSignedMemoryCheck(b *testing.B) {
	ed, _ := testKeys(b)
	signed, plain := signedFile(b, ed, 64)
	for _, c := range []struct {
		name    string
		file    []byte
		trusted []Key
	}{{"sha256", signed, []Key{public(ed)}}, {"crc32c", plain, nil}} {
		f, _, err := ReadVerified(bytes.NewReader(c.file), int64(len(c.file)), c.trusted)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(64 << 20)
			for b.Loop() {
				if err := f.VerifyMemory(0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriteSigned is Write of the same 64 MiB checkpoint to memory,
// unsigned and signed: the difference is the SHA-256 a signature needs.
func BenchmarkWriteSigned(b *testing.B) {
	ed, _ := testKeys(b)
	s := sample()
	s.Memories[0].Size = 64 << 20
	s.Memories[0].Data = bytes.Repeat([]byte{1, 2, 3, 4}, 16<<20)
	var buf bytes.Buffer
	for _, signed := range []bool{false, true} {
		name := "unsigned"
		if signed {
			name = "signed"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(s.Memories[0].Size))
			for b.Loop() {
				buf.Reset()
				if !signed {
					if _, err := Write(&buf, s, WriteOptions{}); err != nil {
						b.Fatal(err)
					}
					continue
				}
				sw := NewSigningWriter(&buf)
				if _, err := Write(sw, s, WriteOptions{}); err != nil {
					b.Fatal(err)
				}
				if _, err := sw.WriteSignatures([]Key{ed}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzReadVerified: any bytes, any trailer, never a panic, and never
// trusted unless the signature verifies, nor memory passed as checked
// unless its chunks are those signed (the seeds: a signed and an unsigned
// file, a signed one with its trailer cut, a signed one with a page of
// memory, and one with a version 1 trailer).
func FuzzReadVerified(f *testing.F) {
	ed, mac := testKeys(f)
	// Small files (no memory, or one page), so that the fuzzer mutates
	// what matters.
	small := sample()
	small.Memories = nil
	signedWith := func(s *Snapshot) []byte {
		var buf bytes.Buffer
		sw := NewSigningWriter(&buf)
		if _, err := Write(sw, s, WriteOptions{}); err != nil {
			f.Fatal(err)
		}
		if _, err := sw.WriteSignatures([]Key{ed, mac}); err != nil {
			f.Fatal(err)
		}
		return buf.Bytes()
	}
	signed := signedWith(small)
	f.Add(signed)
	f.Add(write(f, small, WriteOptions{}))
	f.Add(signed[:len(signed)-30])
	onePage := sample()
	onePage.Memories[0] = Memory{Size: 64 << 10, Data: make([]byte, 64<<10)}
	onePage.Memories[0].Data[100] = 7
	f.Add(signedWith(onePage))
	f.Add(writeV1(f, mac))
	trusted := []Key{public(ed), mac}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, v, err := ReadVerified(bytes.NewReader(b), int64(len(b)), trusted)
		if err != nil || v.By == nil {
			return
		}
		// Trusted: the signed bytes must be the ones the keys signed.
		// Version 2 signs those outside memory data, then the digests
		// block (between the entries and the footer).
		tr := v.Trailer
		h := sha256.New()
		at := int64(0)
		for _, m := range tr.Memory {
			h.Write(b[at:m.Offset])
			at = m.Offset + m.Length
		}
		h.Write(b[at:tr.SignedLen])
		if tr.Version == 2 {
			h.Write(b[tr.SignedLen+int64(len(tr.Signatures))*sigEntrySize : len(b)-sigFooterSize])
		}
		var d [32]byte
		h.Sum(d[:0])
		ok := false
		for _, s := range tr.Signatures {
			ok = ok || v.By.verify(tr.Version, s, tr.SignedLen, d)
		}
		if !ok {
			t.Fatal("trusted without a verifying signature")
		}
		// Memory checked against the digests only if its chunks are
		// the signed ones.
		for i := range file.Snapshot.Memories {
			if file.VerifyMemory(i) != nil || tr.Version != 2 {
				continue
			}
			m := tr.Memory[i]
			for c := int64(0); c < chunkCount(m.Length); c++ {
				chunk := b[m.Offset+c*MemChunk : m.Offset+min((c+1)*MemChunk, m.Length)]
				if sha256.Sum256(chunk) != m.Chunks[c] {
					t.Fatalf("memory %d chunk %d passed, not the signed bytes", i, c)
				}
			}
		}
	})
}

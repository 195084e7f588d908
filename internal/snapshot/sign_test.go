package snapshot

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
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
	if want := len(plain) + 2*sigEntrySize + sigFooterSize; len(b) != want || !bytes.Equal(b[:len(plain)], plain) {
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
// file): the signed bytes fail the trusted
// signature (ErrSignature, never a successful read), the trailer's fail
// its checksum or its checks; never a panic, never trusted.
func TestSignedFileEveryByteFlipped(t *testing.T) {
	ed, mac := testKeys(t)
	for _, k := range []Key{ed, mac} {
		b := writeSigned(t, k)
		signedLen := int64(len(b) - sigEntrySize - sigFooterSize)
		trusted := []Key{public(k)}
		for i := 0; i < len(b); i++ {
			if i > 512 && i < len(b)-256 && i%97 != 0 {
				continue
			}
			c := append([]byte(nil), b...)
			c[i] ^= 0x01
			_, v, err := ReadVerified(bytes.NewReader(c), int64(len(c)), trusted)
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
			if int64(i) < signedLen && !errors.Is(err, ErrSignature) {
				t.Fatalf("%v: signed byte %d flipped: %v, want ErrSignature", k.Alg, i, err)
			}
		}
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

// BenchmarkVerifyTrailer is what a trusted signature costs a restore: the
// SHA-256 of the whole file, 64 MiB of memory pages here (read from
// memory; a file adds the page cache's copy). An untrusted signature costs
// nothing: its key is not looked up, the file is not hashed.
func BenchmarkVerifyTrailer(b *testing.B) {
	ed, _ := testKeys(b)
	s := sample()
	s.Memories[0].Size = 64 << 20
	s.Memories[0].Data = bytes.Repeat([]byte{1, 2, 3, 4}, 16<<20)
	var buf bytes.Buffer
	sw := NewSigningWriter(&buf)
	if _, err := Write(sw, s, WriteOptions{}); err != nil {
		b.Fatal(err)
	}
	if _, err := sw.WriteSignatures([]Key{ed}); err != nil {
		b.Fatal(err)
	}
	file := buf.Bytes()
	trusted := []Key{public(ed)}
	b.SetBytes(int64(len(file)))
	b.ResetTimer()
	for b.Loop() {
		if _, v, err := ReadVerified(bytes.NewReader(file), int64(len(file)), trusted); err != nil || v.By == nil {
			b.Fatal(err)
		}
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
// trusted unless the signature verifies (the seeds: a signed and an
// unsigned file, and a signed one with its trailer cut).
func FuzzReadVerified(f *testing.F) {
	ed, mac := testKeys(f)
	// Small files (no memory), so that the fuzzer mutates what matters.
	small := sample()
	small.Memories = nil
	var buf bytes.Buffer
	sw := NewSigningWriter(&buf)
	if _, err := Write(sw, small, WriteOptions{}); err != nil {
		f.Fatal(err)
	}
	if _, err := sw.WriteSignatures([]Key{ed, mac}); err != nil {
		f.Fatal(err)
	}
	signed := buf.Bytes()
	f.Add(signed)
	f.Add(write(f, small, WriteOptions{}))
	f.Add(signed[:len(signed)-30])
	trusted := []Key{public(ed), mac}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, v, err := ReadVerified(bytes.NewReader(b), int64(len(b)), trusted)
		if err != nil || v.By == nil {
			return
		}
		// Trusted: the signed bytes must be the ones the keys signed.
		d := sha256.Sum256(b[:v.Trailer.SignedLen])
		ok := false
		for _, s := range v.Trailer.Signatures {
			ok = ok || v.By.Verify(s, v.Trailer.SignedLen, d)
		}
		if !ok {
			t.Fatal("trusted without a verifying signature")
		}
	})
}

package ferry

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ferryvm/ferry/internal/snapshot"
)

// Signed checkpoints. A checkpoint's checksums detect damage, not forgery:
// anyone can write a file that records any pre-open or listener. A
// signature says who wrote it, so that a restorer can let a checkpoint
// written by a key it trusts keep what it recorded (see wasi.Restore),
// while any other file gets only what the restore grants. The on-disk
// form is in docs/snapshot-format.md ("Signature trailer").

// ErrCheckpointSignature is wrapped by the error of reading a checkpoint
// signed by a key the reader trusts whose signature does not verify: the
// file was changed after it was signed. The error wraps
// ErrCheckpointCorrupt too.
var ErrCheckpointSignature = snapshot.ErrSignature

// PEM block types of key files. Ed25519 keys are the standard PKCS #8 and
// PKIX forms (openssl genpkey -algorithm ed25519 writes the same); an
// HMAC secret has a block of its own.
const (
	pemPrivate = "PRIVATE KEY"
	pemPublic  = "PUBLIC KEY"
	pemHMAC    = "FERRY HMAC-SHA256 KEY"
)

// minHMACSecret is the shortest HMAC secret accepted: 128 bits.
const minHMACSecret = 16

// SigningKey signs checkpoints (CheckpointConfig.WithSigningKey): an
// Ed25519 private key, whose public half (TrustedKey) is all a restoring
// host needs, or an HMAC-SHA256 secret shared by writer and restorer.
type SigningKey struct{ k snapshot.Key }

// TrustedKey verifies checkpoint signatures (OpenConfig.WithTrustedKey):
// an Ed25519 public key or an HMAC-SHA256 secret.
type TrustedKey struct{ k snapshot.Key }

// GenerateSigningKey makes a new Ed25519 signing key.
func GenerateSigningKey() (SigningKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return SigningKey{}, err
	}
	return ed25519Key(priv), nil
}

func ed25519Key(priv ed25519.PrivateKey) SigningKey {
	pub := priv.Public().(ed25519.PublicKey)
	return SigningKey{snapshot.Key{Alg: snapshot.SigEd25519, ID: snapshot.Ed25519KeyID(pub), Private: priv, Public: pub}}
}

// NewHMACKey makes an HMAC-SHA256 key of secret (at least 16 bytes; 32
// random bytes are best), which both signs and verifies.
func NewHMACKey(secret []byte) (SigningKey, error) {
	if len(secret) < minHMACSecret {
		return SigningKey{}, fmt.Errorf("ferry: HMAC secret of %d bytes, want at least %d", len(secret), minHMACSecret)
	}
	s := append([]byte(nil), secret...)
	return SigningKey{snapshot.Key{Alg: snapshot.SigHMACSHA256, ID: snapshot.HMACKeyID(s), Secret: s}}, nil
}

// ID is the key id, in hex: the first 8 bytes of the SHA-256 of the
// Ed25519 public key (what "ferry inspect" shows for a signed file).
func (k SigningKey) ID() string { return hex.EncodeToString(k.k.ID[:]) }

// Algorithm is "ed25519" or "hmac-sha256".
func (k SigningKey) Algorithm() string { return k.k.Alg.String() }

// Trusted is the key that verifies k's signatures: its public half, or
// the HMAC secret itself.
func (k SigningKey) Trusted() TrustedKey {
	t := k.k
	t.Private = nil
	return TrustedKey{t}
}

// MarshalPEM encodes k for a key file (keep it private: mode 0600).
func (k SigningKey) MarshalPEM() ([]byte, error) {
	switch k.k.Alg {
	case snapshot.SigEd25519:
		der, err := x509.MarshalPKCS8PrivateKey(k.k.Private)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: pemPrivate, Bytes: der}), nil
	case snapshot.SigHMACSHA256:
		return pem.EncodeToMemory(&pem.Block{Type: pemHMAC, Bytes: k.k.Secret}), nil
	}
	return nil, errors.New("ferry: the zero SigningKey")
}

// ID is the key id, in hex.
func (k TrustedKey) ID() string { return hex.EncodeToString(k.k.ID[:]) }

// Algorithm is "ed25519" or "hmac-sha256".
func (k TrustedKey) Algorithm() string { return k.k.Alg.String() }

// MarshalPEM encodes k: the PKIX public key, or the HMAC secret.
func (k TrustedKey) MarshalPEM() ([]byte, error) {
	switch k.k.Alg {
	case snapshot.SigEd25519:
		der, err := x509.MarshalPKIXPublicKey(k.k.Public)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: pemPublic, Bytes: der}), nil
	case snapshot.SigHMACSHA256:
		return pem.EncodeToMemory(&pem.Block{Type: pemHMAC, Bytes: k.k.Secret}), nil
	}
	return nil, errors.New("ferry: the zero TrustedKey")
}

// ParseSigningKey decodes a key file written by SigningKey.MarshalPEM (or
// an Ed25519 PKCS #8 private key from another tool).
func ParseSigningKey(b []byte) (SigningKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return SigningKey{}, errors.New("ferry: not a PEM key file")
	}
	switch blk.Type {
	case pemPrivate:
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return SigningKey{}, fmt.Errorf("ferry: private key: %w", err)
		}
		priv, ok := k.(ed25519.PrivateKey)
		if !ok {
			return SigningKey{}, fmt.Errorf("ferry: a %T private key; checkpoints are signed with Ed25519", k)
		}
		return ed25519Key(priv), nil
	case pemHMAC:
		return NewHMACKey(blk.Bytes)
	}
	return SigningKey{}, fmt.Errorf("ferry: a %q PEM block is not a signing key (want %q or %q)", blk.Type, pemPrivate, pemHMAC)
}

// ParseTrustedKey decodes a public key file (TrustedKey.MarshalPEM), an
// HMAC key file, or a private key file (whose public half is trusted).
func ParseTrustedKey(b []byte) (TrustedKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return TrustedKey{}, errors.New("ferry: not a PEM key file")
	}
	if blk.Type != pemPublic {
		k, err := ParseSigningKey(b)
		return k.Trusted(), err
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return TrustedKey{}, fmt.Errorf("ferry: public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return TrustedKey{}, fmt.Errorf("ferry: a %T public key; checkpoints are signed with Ed25519", k)
	}
	return TrustedKey{snapshot.Key{Alg: snapshot.SigEd25519, ID: snapshot.Ed25519KeyID(pub), Public: pub}}, nil
}

// WithSigningKey signs the checkpoint with k; called again, it adds a
// signature (up to 8), for restorers that trust different keys.
func (c CheckpointConfig) WithSigningKey(k SigningKey) CheckpointConfig {
	c.signers = append(append([]snapshot.Key(nil), c.signers...), k.k)
	return c
}

// writeSigned writes s, followed by its signatures when cfg has signing
// keys: they sign the SHA-256 of every byte written before them.
func writeSigned(w io.Writer, s *snapshot.Snapshot, cfg CheckpointConfig, o snapshot.WriteOptions) (int64, error) {
	if len(cfg.signers) == 0 {
		return snapshot.Write(w, s, o)
	}
	if len(cfg.signers) > snapshot.MaxSignatures {
		return 0, fmt.Errorf("ferry: %d signing keys, at most %d", len(cfg.signers), snapshot.MaxSignatures)
	}
	sw := snapshot.NewSigningWriter(w)
	n, err := snapshot.Write(sw, s, o)
	if err != nil {
		return n, err
	}
	m, err := sw.WriteSignatures(cfg.signers)
	return n + m, err
}

// OpenConfig says how a checkpoint is read. It is immutable: every With
// method returns a modified copy.
type OpenConfig struct {
	trusted []snapshot.Key
}

// NewOpenConfig returns the defaults: no key trusted, so that whatever
// signs a file, it is restored with only what the restore grants.
func NewOpenConfig() OpenConfig { return OpenConfig{} }

// WithTrustedKey trusts checkpoints signed by k: their signature is
// verified before anything else in the file is read, and one that does
// not verify refuses the file (ErrCheckpointSignature).
func (c OpenConfig) WithTrustedKey(k TrustedKey) OpenConfig {
	c.trusted = append(append([]snapshot.Key(nil), c.trusted...), k.k)
	return c
}

// OpenCheckpointWith is OpenCheckpoint checking the file's signature
// against cfg's trusted keys first.
func OpenCheckpointWith(path string, cfg OpenConfig) (*Checkpoint, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, err
	}
	c, err := ReadCheckpointWith(fh, st.Size(), cfg)
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.own = true
	return c, nil
}

// ReadCheckpointWith is ReadCheckpoint checking the file's signature
// against cfg's trusted keys first. Only the signed bytes are read as the
// checkpoint.
func ReadCheckpointWith(r io.ReaderAt, size int64, cfg OpenConfig) (*Checkpoint, error) {
	f, v, err := snapshot.ReadVerified(r, size, cfg.trusted)
	if err != nil {
		return nil, err
	}
	c := &Checkpoint{f: f, sig: v}
	if fh, ok := r.(*os.File); ok {
		c.file = fh
	}
	return c, nil
}

// SignatureInfo says who signed a checkpoint.
type SignatureInfo struct {
	// Signed: the file has a signature trailer.
	Signed bool `json:"signed"`
	// Signatures lists each signature's algorithm and key id, verified
	// or not.
	Signatures []SignatureKey `json:"signatures,omitempty"`
	// Trusted: a signature by a key the reader trusts verified; the
	// checkpoint's recorded grants may then be kept (wasi.Restore).
	Trusted bool `json:"trusted"`
	// TrustedKeyID is the key id of that signature.
	TrustedKeyID string `json:"trusted_key_id,omitempty"`
}

// SignatureKey is one signature of a file.
type SignatureKey struct {
	Algorithm string `json:"algorithm"`
	KeyID     string `json:"key_id"`
}

// Signature says whether the checkpoint is signed, by which keys, and
// whether one of them is trusted by the OpenConfig it was read with.
func (c *Checkpoint) Signature() SignatureInfo {
	var si SignatureInfo
	if t := c.sig.Trailer; t != nil {
		si.Signed = true
		for _, s := range t.Signatures {
			si.Signatures = append(si.Signatures, SignatureKey{Algorithm: s.Alg.String(), KeyID: hex.EncodeToString(s.KeyID[:])})
		}
	}
	if k := c.sig.By; k != nil {
		si.Trusted, si.TrustedKeyID = true, hex.EncodeToString(k.ID[:])
	}
	return si
}

package ferry_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ferryvm/ferry"
)

// Keys survive their files: a signing key, its public half and an HMAC
// key parse back to the same id; a private key file is trusted as its
// public half; foreign and malformed files are refused with a reason.
func TestSigningKeyFiles(t *testing.T) {
	k, err := ferry.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := k.MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.Trusted().MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(priv, []byte("BEGIN PRIVATE KEY")) || !bytes.Contains(pub, []byte("BEGIN PUBLIC KEY")) {
		t.Fatalf("not PKCS #8 / PKIX PEM:\n%s%s", priv, pub)
	}
	k2, err := ferry.ParseSigningKey(priv)
	if err != nil || k2.ID() != k.ID() || len(k.ID()) != 16 || k.Algorithm() != "ed25519" {
		t.Fatalf("parsed signing key %v, %v; want id %s", k2.ID(), err, k.ID())
	}
	for _, b := range [][]byte{pub, priv} {
		tk, err := ferry.ParseTrustedKey(b)
		if err != nil || tk.ID() != k.ID() {
			t.Fatalf("parsed trusted key %v, %v; want id %s", tk.ID(), err, k.ID())
		}
	}
	if _, err := ferry.ParseSigningKey(pub); err == nil {
		t.Error("a public key parsed as a signing key")
	}
	h, err := ferry.NewHMACKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := h.MarshalPEM()
	if h2, err := ferry.ParseTrustedKey(hb); err != nil || h2.ID() != h.ID() || h2.Algorithm() != "hmac-sha256" {
		t.Fatalf("HMAC key: %v, %v", h2, err)
	}
	if _, err := ferry.NewHMACKey(make([]byte, 15)); err == nil {
		t.Error("a 15-byte HMAC secret accepted")
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(ec)
	if _, err := ferry.ParseSigningKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err == nil || !strings.Contains(err.Error(), "Ed25519") {
		t.Errorf("an ECDSA key: %v, want a refusal naming Ed25519", err)
	}
	for _, junk := range []string{"", "not a key", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"} {
		if _, err := ferry.ParseTrustedKey([]byte(junk)); err == nil {
			t.Errorf("%q parsed as a key", junk)
		}
	}
}

// WithTrustedKey returns a copy: two configs derived from one base (with
// room to grow in place, three keys) do not share their additions.
func TestSigningConfigImmutable(t *testing.T) {
	var keys [5]ferry.SigningKey
	for i := range keys {
		keys[i], _ = ferry.GenerateSigningKey()
	}
	base := ferry.NewOpenConfig().WithTrustedKey(keys[0].Trusted()).WithTrustedKey(keys[1].Trusted()).WithTrustedKey(keys[2].Trusted())
	trustsB := base.WithTrustedKey(keys[3].Trusted())
	_ = base.WithTrustedKey(keys[4].Trusted())
	ck := signedCheckpoint(t, keys[3])
	got, err := ferry.ReadCheckpointWith(bytes.NewReader(ck), int64(len(ck)), trustsB)
	if err != nil || !got.Signature().Trusted || got.Signature().TrustedKeyID != keys[3].ID() {
		t.Errorf("the config trusting the key: %v, %+v", err, got.Signature())
	}
	got, err = ferry.ReadCheckpointWith(bytes.NewReader(ck), int64(len(ck)), base)
	if err != nil {
		t.Fatal(err)
	}
	if sig := got.Signature(); !sig.Signed || sig.Trusted || len(sig.Signatures) != 1 || sig.Signatures[0].KeyID != keys[3].ID() {
		t.Errorf("the base config: Signature() = %+v; want signed by %s, untrusted", sig, keys[3].ID())
	}
}

// signedCheckpoint is a checkpoint of testdata/ckpt.wasm's run, signed by k.
func signedCheckpoint(t *testing.T, k ferry.SigningKey) []byte {
	ctx := context.Background()
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt.Close(ctx)
	b, err := os.ReadFile("testdata/ckpt.wasm")
	if err != nil {
		t.Fatal(err)
	}
	cm, err := rt.Compile(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := rt.Instantiate(ctx, cm, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = inst.Function("run").CallWithOptions(ctx, ferry.CallOptions{PauseAfter: 5}, 20, 2)
	var p *ferry.Paused
	if !errors.As(err, &p) {
		t.Fatalf("did not pause: %v", err)
	}
	var buf bytes.Buffer
	if _, err := p.WriteCheckpoint(&buf, ferry.NewCheckpointConfig().WithSigningKey(k)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

package stream

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"testing"
)

// pipePair returns a source and a destination framing one byte stream
// (source to destination only) under the same key.
func pipePair(key []byte) (*Conn, *Conn, *bytes.Buffer) {
	var wire bytes.Buffer
	src := NewWithKey(bytes.NewReader(nil), &wire, key, true)
	dst := NewWithKey(&wire, io.Discard, key, false)
	return src, dst, &wire
}

func TestStreamRoundTrip(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	src, dst, _ := pipePair(key)
	data := make([]byte, 3*MaxPayload+12345)
	rand.New(rand.NewSource(1)).Read(data)
	if err := src.SendJSON(Header, map[string]string{"name": "x"}); err != nil {
		t.Fatal(err)
	}
	w := src.NewWriter()
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var h map[string]string
	if err := dst.RecvJSON(Header, &h); err != nil || h["name"] != "x" {
		t.Fatalf("header %v %v", h, err)
	}
	var got bytes.Buffer
	n, err := dst.ReceiveData(&got, 1<<30)
	if err != nil || n != int64(len(data)) || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("received %d bytes, err %v", n, err)
	}
}

// Every single-bit flip anywhere in a stream is refused with ErrIntegrity
// (or a short read), never accepted as data.
func TestStreamBitFlipRefused(t *testing.T) {
	key := bytes.Repeat([]byte{9}, 32)
	src, _, wire := pipePair(key)
	w := src.NewWriter()
	w.Write(bytes.Repeat([]byte("ferry"), 1000))
	w.Close()
	clean := append([]byte(nil), wire.Bytes()...)
	for i := 0; i < len(clean)*8; i += 7 {
		b := append([]byte(nil), clean...)
		b[i/8] ^= 1 << (i % 8)
		dst := NewWithKey(bytes.NewReader(b), io.Discard, key, false)
		_, err := dst.ReceiveData(io.Discard, 1<<30)
		if err == nil {
			t.Fatalf("flip of bit %d accepted", i)
		}
	}
}

// A frame dropped, repeated or reflected back is refused.
func TestStreamSequenceAndDirection(t *testing.T) {
	key := bytes.Repeat([]byte{3}, 32)
	src, _, wire := pipePair(key)
	src.Send(Data, []byte("one"))
	first := append([]byte(nil), wire.Bytes()...)
	src.Send(Data, []byte("two"))
	all := wire.Bytes()
	second := all[len(first):]

	dst := NewWithKey(bytes.NewReader(second), io.Discard, key, false)
	if _, _, err := dst.Recv(); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("dropped frame: %v", err)
	}
	dst = NewWithKey(bytes.NewReader(append(append([]byte(nil), first...), first...)), io.Discard, key, false)
	dst.Recv()
	if _, _, err := dst.Recv(); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("repeated frame: %v", err)
	}
	back := NewWithKey(bytes.NewReader(first), io.Discard, key, true)
	if _, _, err := back.Recv(); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("reflected frame: %v", err)
	}
	other := NewWithKey(bytes.NewReader(first), io.Discard, bytes.Repeat([]byte{4}, 32), false)
	if _, _, err := other.Recv(); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("frame under another key: %v", err)
	}
}

// A length field beyond MaxPayload is refused before anything is read or
// allocated for it.
func TestStreamHugeLengthRefused(t *testing.T) {
	b := []byte{byte(Data), 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}
	dst := NewWithKey(bytes.NewReader(b), io.Discard, make([]byte, 32), false)
	if _, _, err := dst.Recv(); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("got %v", err)
	}
}

package snapshot

import (
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"testing"
)

// crcCombine agrees with hash/crc32 over the whole input for every split
// point of inputs around the sizes where the squaring loop changes shape
// (0, 1, powers of two and their neighbours).
func TestCRCCombine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 4099)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for _, n := range []int{0, 1, 2, 3, 7, 8, 9, 255, 256, 257, 1024, 4096, 4099} {
		b := data[:n]
		want := crc32.Checksum(b, castagnoli)
		for split := range n + 1 {
			a, c := b[:split], b[split:]
			if got := crcCombine(crc32.Checksum(a, castagnoli), crc32.Checksum(c, castagnoli), int64(len(c))); got != want {
				t.Fatalf("n=%d split=%d: combined %08x, want %08x", n, split, got, want)
			}
		}
	}
	// A long B exercises the high bits of the length (the data need not
	// exist: only its checksum and length enter the combination, so
	// compare with feeding crc32 the zeros themselves).
	zeros := make([]byte, 3<<20+5)
	a := data[:100]
	want := crc32.Checksum(append(append([]byte(nil), a...), zeros...), castagnoli)
	if got := crcCombine(crc32.Checksum(a, castagnoli), crc32.Checksum(zeros, castagnoli), int64(len(zeros))); got != want {
		t.Fatalf("3 MiB of zeros: combined %08x, want %08x", got, want)
	}
}

// checksumAt gives hash/crc32's answer for every number of workers and
// read size, including pieces that end mid-read and reads that end at the
// end of the reader (io.EOF with a full read).
func TestChecksumAt(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 100_003)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	r := bytes.NewReader(data)
	for _, span := range [][2]int64{{0, 100_003}, {17, 99_000}, {5, 0}, {0, 1}, {99_000, 1003}} {
		off, n := span[0], span[1]
		want := crc32.Checksum(data[off:off+n], castagnoli)
		for _, workers := range []int{1, 2, 3, 8} {
			for _, read := range []int{1, 7, 4096, 1 << 20} {
				got, err := checksumAt(context.Background(), r, off, n, workers, read)
				if err != nil || got != want {
					t.Fatalf("off=%d n=%d workers=%d read=%d: %08x, %v; want %08x", off, n, workers, read, got, err, want)
				}
			}
		}
	}
	// checksumAt only splits above verifyPiece: force pieces with a large
	// (sparse) reader.
	big := &zeroReader{size: 3*verifyPiece + 12345}
	want := crc32.Checksum(make([]byte, big.size), castagnoli)
	if got, err := checksumAt(context.Background(), big, 0, big.size, 4, verifyRead); err != nil || got != want {
		t.Fatalf("%d zero bytes over 4 workers: %08x, %v; want %08x", big.size, got, err, want)
	}
}

// A short read, a read error and cancellation each end the verification
// with an error; a read error wraps ErrCorrupt, cancellation does not.
func TestVerifyMemoryAtErrors(t *testing.T) {
	b := write(t, sample(), WriteOptions{})
	f, err := ReadBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := f.VerifyMemoryAt(ctx, 0, bytes.NewReader(b)); err != nil {
		t.Fatalf("intact: %v", err)
	}
	off, n, _ := f.MemoryData(0)
	damaged := append([]byte(nil), b...)
	damaged[off+int64(n)/2] ^= 1
	if err := f.VerifyMemoryAt(ctx, 0, bytes.NewReader(damaged)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("flipped bit: %v, want ErrCorrupt", err)
	}
	if err := f.VerifyMemoryAt(ctx, 0, bytes.NewReader(b[:off+int64(n)-1])); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("short file: %v, want ErrCorrupt", err)
	}
	if err := f.VerifyMemoryAt(ctx, 0, failingReader{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("read error: %v, want ErrCorrupt", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := f.VerifyMemoryAt(cancelled, 0, bytes.NewReader(b)); !errors.Is(err, context.Canceled) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("cancelled: %v, want context.Canceled only", err)
	}
}

type zeroReader struct{ size int64 }

func (z *zeroReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= z.size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), z.size-off)
	clear(p[:n])
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, errors.New("disk on fire") }

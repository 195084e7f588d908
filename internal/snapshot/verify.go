package snapshot

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"sync"
)

// Memory data is the one part of a checkpoint whose size grows with the
// guest, so its checksum is computed at the speed of the storage and the
// CPUs rather than of a small copy loop: large reads (few system calls)
// spread over GOMAXPROCS goroutines. The format keeps one CRC-32C per
// section, so each goroutine checksums a contiguous piece and the pieces'
// checksums are combined in file order (crcCombine).
const (
	// verifyRead is the size of one read: big enough that system calls
	// cost nothing next to the copy, small enough that cancellation is
	// noticed within a millisecond or two.
	verifyRead = 1 << 20
	// verifyPiece is the least data worth a goroutine of its own.
	verifyPiece = 16 << 20
)

// VerifyMemoryAt checks memory i's data checksum like VerifyMemory, reading
// the stored data from r, which must hold the same bytes as the file that
// was read (another handle of it, say, that outlives the first). It stops
// early with ctx's error (not wrapping ErrCorrupt) when ctx is done.
func (f *File) VerifyMemoryAt(ctx context.Context, i int, r io.ReaderAt) error {
	d := f.memData[i]
	sum, err := checksumAt(ctx, r, d.Offset, int64(d.Length), runtime.GOMAXPROCS(0), verifyRead)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
			return err
		}
		return fmt.Errorf("%w: memory %d data: %v", ErrCorrupt, i, err)
	}
	if sum != d.Checksum {
		return fmt.Errorf("%w: memory %d data: checksum mismatch", ErrCorrupt, i)
	}
	return nil
}

// checksumAt returns the CRC-32C of the n bytes of r at off, read in reads
// of at most read bytes by up to workers goroutines.
func checksumAt(ctx context.Context, r io.ReaderAt, off, n int64, workers, read int) (uint32, error) {
	workers = int(min(int64(max(workers, 1)), max(n/verifyPiece, 1)))
	// Pieces are whole reads so that every read but the last is full.
	piece := (n + int64(workers) - 1) / int64(workers)
	piece = (piece + int64(read) - 1) / int64(read) * int64(read)
	if piece == 0 {
		return crc32.Checksum(nil, castagnoli), nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		sum uint32
		len int64
	}
	results := make([]result, (n+piece-1)/piece)
	// The first failure is the one to report: the others are the
	// cancellation it caused.
	var failed sync.Once
	var firstErr error
	var wg sync.WaitGroup
	for w := range results {
		start := int64(w) * piece
		end := min(start+piece, n)
		wg.Go(func() {
			sum, err := checksumPiece(ctx, r, off+start, end-start, read)
			if err != nil {
				failed.Do(func() { firstErr = err })
				cancel()
			}
			results[w] = result{sum, end - start}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	sum := results[0].sum
	for _, res := range results[1:] {
		sum = crcCombine(sum, res.sum, res.len)
	}
	return sum, nil
}

// readBuffers keeps the verifyRead-sized buffers between verifications: a
// restore would otherwise leave megabytes of garbage per CPU, and the
// collection they cause lands on the restored program.
var readBuffers = sync.Pool{New: func() any { return new([verifyRead]byte) }}

func checksumPiece(ctx context.Context, r io.ReaderAt, off, n int64, read int) (uint32, error) {
	var buf []byte
	if read == verifyRead && n >= verifyRead {
		b := readBuffers.Get().(*[verifyRead]byte)
		defer readBuffers.Put(b)
		buf = b[:]
	} else {
		buf = make([]byte, min(int64(read), n))
	}
	var sum uint32
	for done := int64(0); done < n; {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		b := buf[:min(int64(len(buf)), n-done)]
		// ReadAt returns fewer bytes only with an error; a full read at
		// the end of the file may come with io.EOF.
		if k, err := r.ReadAt(b, off+done); k < len(b) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		sum = crc32.Update(sum, castagnoli, b)
		done += int64(len(b))
	}
	return sum, nil
}

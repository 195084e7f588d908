package snapshot

import (
	"context"
	"crypto/sha256"
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
// early with ctx's error (not wrapping ErrCorrupt) when ctx is done. In a
// file read with a trusted signature (ReadVerified), each MemChunk is
// compared with its signed SHA-256 instead: a mismatch wraps ErrSignature
// as well as ErrCorrupt.
func (f *File) VerifyMemoryAt(ctx context.Context, i int, r io.ReaderAt) error {
	return f.VerifyMemoryWorkers(ctx, i, r, runtime.GOMAXPROCS(0))
}

// VerifyMemoryWorkers is VerifyMemoryAt reading with at most workers
// goroutines: a check that nothing waits for (a restore's first-touch
// check, behind the chunks it verifies itself) leaves the other CPUs to
// the restored program.
func (f *File) VerifyMemoryWorkers(ctx context.Context, i int, r io.ReaderAt, workers int) error {
	d := f.memData[i]
	if f.memDigests != nil {
		err := digestsAt(ctx, r, d.Offset, int64(d.Length), workers, f.memDigests[i].Chunks)
		if err == nil {
			return nil
		}
		if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
			return err
		}
		var c chunkMismatch
		if errors.As(err, &c) {
			return fmt.Errorf("%w: %w: memory %d data: bytes %d to %d differ from the digest the trusted signature covers (changed after signing)",
				ErrCorrupt, ErrSignature, i, int64(c)*MemChunk, min(int64(c+1)*MemChunk, int64(d.Length)))
		}
		return fmt.Errorf("%w: memory %d data: %v", ErrCorrupt, i, err)
	}
	sum, err := checksumAt(ctx, r, d.Offset, int64(d.Length), workers, verifyRead)
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

// split divides n bytes among up to workers goroutines: count pieces of
// piece bytes (the last maybe shorter), each a whole number of reads so
// that every read but the last is full and starts at a multiple of read.
func split(n int64, workers, read int) (piece int64, count int) {
	workers = int(min(int64(max(workers, 1)), max(n/verifyPiece, 1)))
	piece = (n + int64(workers) - 1) / int64(workers)
	piece = (piece + int64(read) - 1) / int64(read) * int64(read)
	if piece == 0 {
		return 0, 0
	}
	return piece, int((n + piece - 1) / piece)
}

// scanAt reads the n bytes of r at off, split among goroutines, and passes
// every read to visit(w, pos, b): w the piece, pos b's offset from off.
// The first failure stops the others and is returned.
func scanAt(ctx context.Context, r io.ReaderAt, off, n int64, piece int64, count, read int, visit func(w int, pos int64, b []byte) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The first failure is the one to report: the others are the
	// cancellation it caused.
	var failed sync.Once
	var firstErr error
	var wg sync.WaitGroup
	for w := range count {
		start := int64(w) * piece
		end := min(start+piece, n)
		wg.Go(func() {
			err := readPiece(ctx, r, off, start, end-start, read, func(pos int64, b []byte) error { return visit(w, pos, b) })
			if err != nil {
				failed.Do(func() { firstErr = err })
				cancel()
			}
		})
	}
	wg.Wait()
	return firstErr
}

// checksumAt returns the CRC-32C of the n bytes of r at off, read in reads
// of at most read bytes by up to workers goroutines, whose pieces'
// checksums are combined in file order.
func checksumAt(ctx context.Context, r io.ReaderAt, off, n int64, workers, read int) (uint32, error) {
	piece, count := split(n, workers, read)
	if count == 0 {
		return crc32.Checksum(nil, castagnoli), nil
	}
	sums := make([]uint32, count)
	err := scanAt(ctx, r, off, n, piece, count, read, func(w int, _ int64, b []byte) error {
		sums[w] = crc32.Update(sums[w], castagnoli, b)
		return nil
	})
	if err != nil {
		return 0, err
	}
	sum := sums[0]
	for w := 1; w < count; w++ {
		sum = crcCombine(sum, sums[w], min(piece, n-int64(w)*piece))
	}
	return sum, nil
}

// chunkMismatch is the index of a MemChunk whose SHA-256 is not its
// signed digest.
type chunkMismatch int64

func (c chunkMismatch) Error() string { return fmt.Sprintf("chunk %d: digest mismatch", int64(c)) }

// digestsAt checks the n bytes of r at off against want, the SHA-256 of
// each MemChunk, by up to workers goroutines. Reads are MemChunk long and
// pieces whole reads, so each read is one chunk.
func digestsAt(ctx context.Context, r io.ReaderAt, off, n int64, workers int, want [][32]byte) error {
	if int64(len(want)) != chunkCount(n) {
		return fmt.Errorf("%d chunk digests for %d bytes", len(want), n)
	}
	piece, count := split(n, workers, MemChunk)
	return scanAt(ctx, r, off, n, piece, count, MemChunk, func(_ int, pos int64, b []byte) error {
		c := pos / MemChunk
		if sha256.Sum256(b) != want[c] {
			return chunkMismatch(c)
		}
		return nil
	})
}

// readBuffers keeps the verifyRead-sized buffers between verifications: a
// restore would otherwise leave megabytes of garbage per CPU, and the
// collection they cause lands on the restored program.
var readBuffers = sync.Pool{New: func() any { return new([verifyRead]byte) }}

// readPiece reads the n bytes at off+start in reads of at most read bytes
// and passes each to visit with its position from off.
func readPiece(ctx context.Context, r io.ReaderAt, off, start, n int64, read int, visit func(pos int64, b []byte) error) error {
	var buf []byte
	if read == verifyRead && n >= verifyRead {
		b := readBuffers.Get().(*[verifyRead]byte)
		defer readBuffers.Put(b)
		buf = b[:]
	} else {
		buf = make([]byte, min(int64(read), n))
	}
	for done := int64(0); done < n; {
		if err := ctx.Err(); err != nil {
			return err
		}
		b := buf[:min(int64(len(buf)), n-done)]
		// ReadAt returns fewer bytes only with an error; a full read at
		// the end of the file may come with io.EOF.
		if k, err := r.ReadAt(b, off+start+done); k < len(b) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if err := visit(start+done, b); err != nil {
			return err
		}
		done += int64(len(b))
	}
	return nil
}

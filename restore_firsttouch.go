package ferry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"

	"github.com/ferryvm/ferry/internal/pagemap"
	"github.com/ferryvm/ferry/internal/snapshot"
	"github.com/ferryvm/ferry/internal/store"
)

// touchedCheck lets the effects of a run restored with VerifyFirstTouch out
// before the background check of all memory finished, once the chunks
// behind every page the run could have read are verified
// (docs/snapshot-format.md, "First-touch verification"): the pages of the
// mapped memories that are resident (the guest, interpreted or compiled,
// reads memory only by faulting its pages in) and the ranges host
// functions read (guarded memory, Range). It exists only when every
// mapped memory can be checked chunk by chunk and every mapped page stays
// resident once touched; otherwise effects wait for the whole check.
type touchedCheck struct {
	mu    sync.Mutex
	f     *snapshot.File
	fh    *os.File // the check's own handle of the checkpoint file
	pm    *pagemap.Reader
	mems  []touchedMem
	buf   []byte
	err   error // a chunk found corrupt, or the whole check's failure: sticky
	ended bool  // the whole check finished: fh and pm are closed
	abort func(error)
}

// touchedMem is one mapped memory: where it is, which pages are stored
// (and so mapped from the file), and which chunks passed.
type touchedMem struct {
	k        int
	base     uintptr // address of the memory's byte 0
	runs     []snapshot.PageRun
	verified []bool // per chunk of the stored data
	left     int    // chunks not verified yet
}

// lockOnFault pins pages once faulted in; a variable so that tests can
// refuse it as a small RLIMIT_MEMLOCK would.
var lockOnFault = pagemap.LockOnFault

// newTouchedCheck sets up the first-touch check of memories mems of ck
// (restored into si), or returns nil when it cannot be exact: a memory
// without chunk sums (and no trusted digests), no page map, or pages that
// cannot be pinned. abort stops the run when a chunk is found corrupt.
func newTouchedCheck(si *store.Instance, ck *Checkpoint, mems []int, abort func(error)) *touchedCheck {
	if len(mems) == 0 {
		return nil
	}
	t := &touchedCheck{f: ck.f, abort: abort}
	for _, k := range mems {
		n, ok := ck.f.ChunksVerifiable(k)
		buf := si.Memories[k].Buf
		if !ok {
			return nil
		}
		if len(buf) == 0 || n == 0 {
			continue
		}
		t.mems = append(t.mems, touchedMem{k: k, base: uintptr(unsafe.Pointer(&buf[0])),
			runs: ck.f.Snapshot.Memories[k].Runs, verified: make([]bool, n), left: n})
	}
	if len(t.mems) == 0 {
		return nil
	}
	var err error
	if t.pm, err = pagemap.Open(); err != nil {
		return nil
	}
	// A clean page of a file mapping that the kernel drops is no longer
	// resident: pinned, a page the guest read stays visible to the scan.
	for mi := range t.mems {
		m := &t.mems[mi]
		for ri, r := range m.runs {
			if lockOnFault(m.base+uintptr(r.First*snapshot.PageSize), uintptr(r.Count*snapshot.PageSize)) != nil {
				t.unlock(mi, ri)
				t.pm.Close()
				return nil
			}
		}
	}
	if t.fh, err = dupFile(ck.file); err != nil {
		t.unlock(len(t.mems), 0)
		t.pm.Close()
		return nil
	}
	t.buf = make([]byte, snapshot.ChunkSize)
	return t
}

// unlock unpins the runs pinned before run ri of memory mi.
func (t *touchedCheck) unlock(mi, ri int) {
	for i := range t.mems[:min(mi+1, len(t.mems))] {
		m := &t.mems[i]
		runs := m.runs
		if i == mi {
			runs = runs[:ri]
		}
		for _, r := range runs {
			pagemap.Unlock(m.base+uintptr(r.First*snapshot.PageSize), uintptr(r.Count*snapshot.PageSize))
		}
	}
}

// end closes the check once the whole check finished with err. It runs
// before the instance's memory can be unmapped (Instance.close stops the
// check first), so that no unpinning reaches a later mapping at the same
// address.
func (t *touchedCheck) end(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return
	}
	t.ended = true
	if t.err == nil {
		t.err = err
	}
	t.fh.Close()
	t.pm.Close()
	t.unlock(len(t.mems), 0)
}

// failure returns the error of a chunk found corrupt, nil if none was.
func (t *touchedCheck) failure() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// errTouchedUnavailable: the first-touch check cannot answer (it ended,
// or the page map could not be read); the caller waits for the whole
// check instead.
var errTouchedUnavailable = errors.New("first-touch check unavailable")

// touched verifies the chunks behind every resident page of the mapped
// memories. A corrupt chunk stops the run.
func (t *touchedCheck) touched() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return t.err
	}
	if t.ended {
		return errTouchedUnavailable
	}
	pageSize := uint64(os.Getpagesize())
	var chunks []int
	for i := range t.mems {
		m := &t.mems[i]
		stored := uint64(0)
		for _, r := range m.runs {
			length := r.Count * snapshot.PageSize
			first, last := stored/snapshot.ChunkSize, (stored+length-1)/snapshot.ChunkSize
			if m.left > 0 && !allTrue(m.verified[first:last+1]) {
				chunks = chunks[:0]
				err := t.pm.Touched(m.base+uintptr(r.First*snapshot.PageSize), uintptr(length), func(p uintptr) {
					at := stored + uint64(p)*pageSize
					for c := at / snapshot.ChunkSize; c <= (at+pageSize-1)/snapshot.ChunkSize && c <= last; c++ {
						if !m.verified[c] && (len(chunks) == 0 || chunks[len(chunks)-1] != int(c)) {
							chunks = append(chunks, int(c))
						}
					}
				})
				if err != nil {
					return errTouchedUnavailable
				}
				for _, c := range chunks {
					if err := t.verify(m, c); err != nil {
						return err
					}
				}
			}
			stored += length
		}
	}
	return nil
}

func allTrue(b []bool) bool {
	for _, v := range b {
		if !v {
			return false
		}
	}
	return true
}

// verify checks chunk c of m once, under t.mu. Any failure stops the run:
// a chunk that cannot be read from the file would fail the whole check
// too, which reads the same bytes.
func (t *touchedCheck) verify(m *touchedMem, c int) error {
	if m.verified[c] {
		return nil
	}
	if err := t.f.VerifyChunk(m.k, c, t.fh, t.buf); err != nil {
		if !errors.Is(err, snapshot.ErrCorrupt) {
			err = fmt.Errorf("%w: %v", snapshot.ErrCorrupt, err)
		}
		t.err = fmt.Errorf("%w (found in memory the restored run was about to use: it was stopped before any effect of it)", err)
		t.abort(t.err)
		return t.err
	}
	m.verified[c] = true
	m.left--
	return nil
}

// Range verifies the chunks behind bytes [off, off+n) of memory 0 before
// a host function reads them (store.MemoryGuard).
func (t *touchedCheck) Range(off, n uint64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil || t.ended {
		// Ended without an error: the whole check passed.
		return t.err
	}
	var m *touchedMem
	for i := range t.mems {
		if t.mems[i].k == 0 {
			m = &t.mems[i]
		}
	}
	if m == nil || n == 0 || m.left == 0 {
		return nil
	}
	first, last := off/snapshot.PageSize, (off+n-1)/snapshot.PageSize
	stored := uint64(0)
	for _, r := range m.runs {
		if lo, hi := max(first, r.First), min(last, r.First+r.Count-1); lo <= hi {
			from := (stored + (lo-r.First)*snapshot.PageSize) / snapshot.ChunkSize
			to := (stored + (hi-r.First+1)*snapshot.PageSize - 1) / snapshot.ChunkSize
			for c := from; c <= to; c++ {
				if err := t.verify(m, int(c)); err != nil {
					return err
				}
			}
		}
		stored += r.Count * snapshot.PageSize
	}
	return nil
}

// All verifies every chunk of memory 0, for a host function that takes
// the whole memory (api.Memory.Bytes).
func (t *touchedCheck) All() error { return t.Range(0, 1<<63) }

var _ store.MemoryGuard = (*touchedCheck)(nil)

// effect returns nil once an effect of the run may leave the process:
// with a first-touch check, once the chunks the run could have read so
// far passed; otherwise (or when the page map fails) once the whole check
// passed. ctx is the waiting call's: it gives up when ctx is done.
func (c *memoryCheck) effect(ctx context.Context) error {
	select {
	case <-c.done:
		return c.err
	default:
	}
	if c.touched != nil {
		err := c.touched.touched()
		if err == nil || !errors.Is(err, errTouchedUnavailable) {
			return err
		}
	}
	return c.wait(ctx)
}

package node

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
	"github.com/ferryvm/ferry/ferryd/internal/dirty"
	"github.com/ferryvm/ferry/ferryd/internal/stream"
)

// A Pages frame's payload is the memory's size in bytes (u64) and the
// index of its first page (u64), both little-endian, then whole pages:
// the size travels with every frame, so the destination's image follows
// memory.grow and ends exactly as large as the memory at the pause.
const (
	pagesHeaderLen = 16
	pagesPerFrame  = (stream.MaxPayload - pagesHeaderLen) / dirty.PageSize
	// maxMemoryBytes is a 32-bit linear memory's largest size.
	maxMemoryBytes = 1 << 32
	// wasmPage is the unit memory sizes come in.
	wasmPage = 64 << 10
)

// Pre-copy bounds: rounds continue while the dirty set shrinks, and stop
// at the first of these. The defaults keep a memory dirtied as fast as
// it can be sent from being copied forever.
const (
	defaultMaxRounds = 30
	// maxPrecopyTime bounds the rounds' wall time.
	maxPrecopyTime = 5 * time.Minute
	// maxPrecopyFactor bounds the bytes the rounds send, in memories'
	// worth.
	maxPrecopyFactor = 4
	// keepaliveZeroPages is how many zero pages round 0 skips between
	// two frames (64 MiB).
	keepaliveZeroPages = 16384
	// smallDirtySet ends the rounds at once: the stop phase sends so few
	// pages that another round would cost more than it saves.
	smallDirtySet = 64
)

// memoryImageFile is the pre-copy's memory image in a migrated-in
// instance's directory; the instance's memory is mapped from it.
const memoryImageFile = "memory.img"

// errNoPrecopy marks why a migration falls back to stop-and-copy.
var errNoPrecopy = errors.New("no pre-copy")

// precopy is the source's side of the rounds: a tracker over the
// instance's memory, armed from the first round to the pause.
type precopy struct {
	sc *stream.Conn
	tr *dirty.Tracker
	// mem is the memory as of the last pause point it was read at: its
	// base never moves (a Ferry memory is one reservation), and growth
	// since is picked up at the next pause point.
	mem []byte
	buf []byte
	// pageBytes counts the page bytes sent, rounds and stop phase.
	pageBytes  int64
	rounds     int
	roundPages []int // pages each round after round 0 sent
}

// armPrecopy registers a tracker over the instance's memory. The memory
// is read at a pause point (its size changes only there), the tracker
// registered once the instance continues: registering write-protects
// every page, which takes time in proportion to the memory, and round 0
// reads every page after it, so a write the registration raced with is
// either read by round 0 or reported by a collect.
func (n *Node) armPrecopy(in *instance) (*precopy, error) {
	pc := &precopy{buf: make([]byte, 0, stream.MaxPayload)}
	err := n.withPaused(in, false, func(p *ferry.Paused) error {
		m := p.Instance().Memory("memory")
		if m == nil || m.Size() == 0 {
			return fmt.Errorf("%w: the program exports no memory named \"memory\", or it is empty", errNoPrecopy)
		}
		pc.mem = m.Bytes()
		return nil
	})
	if err != nil {
		return nil, err
	}
	if pc.tr, err = dirty.New(pc.mem); err != nil {
		return nil, fmt.Errorf("%w: %v", errNoPrecopy, err)
	}
	return pc, nil
}

// close stops tracking; it may be called more than once.
func (pc *precopy) close() {
	if pc != nil && pc.tr != nil {
		pc.tr.Close()
		pc.tr = nil
	}
}

// refresh reads the memory at pause point p and extends the tracker to a
// memory that grew.
func (pc *precopy) refresh(p *ferry.Paused) error {
	m := p.Instance().Memory("memory")
	if m == nil {
		return errors.New("the memory disappeared")
	}
	b := m.Bytes()
	if len(b) > pc.tr.Size() {
		if err := pc.tr.Grow(len(b)); err != nil {
			return fmt.Errorf("track the grown memory: %w", err)
		}
	}
	pc.mem = b
	return nil
}

// collect lists the pages written since the previous collect.
func (pc *precopy) collect() ([]dirty.Range, int, error) {
	var rs []dirty.Range
	pages := 0
	err := pc.tr.Collect(func(r dirty.Range) {
		rs = append(rs, r)
		pages += r.Count
	})
	return rs, pages, err
}

var zeroPage [dirty.PageSize]byte

// send streams the pages of rs as Pages frames, announcing the memory's
// size first; skipZero leaves out all-zero pages (round 0 only: the
// destination's image starts all zero, while a page dirtied later may
// have been zeroed since). The memory may be written meanwhile: a page
// written after it was read here is collected again by a later round.
func (pc *precopy) send(rs []dirty.Range, skipZero bool) error {
	size := len(pc.mem)
	if err := pc.frame(0, 0); err != nil {
		return err
	}
	limit := size / dirty.PageSize
	skipped := 0
	for _, r := range rs {
		p, end := r.First, min(r.First+r.Count, limit)
		for p < end {
			if skipZero && bytes.Equal(pc.page(p), zeroPage[:]) {
				p++
				// A long zero stretch sends nothing for a while: the size
				// alone now and then keeps the destination, which gives
				// a silent source up after its pending timeout, waiting.
				if skipped++; skipped%keepaliveZeroPages == 0 {
					if err := pc.frame(0, 0); err != nil {
						return err
					}
					if err := pc.sc.Flush(); err != nil {
						return err
					}
				}
				continue
			}
			k := 1
			for p+k < end && k < pagesPerFrame && !(skipZero && bytes.Equal(pc.page(p+k), zeroPage[:])) {
				k++
			}
			if err := pc.frame(p, k); err != nil {
				return err
			}
			p += k
		}
	}
	return pc.sc.Flush()
}

// sync waits until the destination has applied every page sent.
func (pc *precopy) sync() error {
	if err := pc.sc.Send(stream.Sync, nil); err != nil {
		return err
	}
	return pc.sc.RecvJSON(stream.Synced, nil)
}

func (pc *precopy) page(p int) []byte {
	return pc.mem[p*dirty.PageSize : (p+1)*dirty.PageSize]
}

// frame sends count pages from first (none: the size alone).
func (pc *precopy) frame(first, count int) error {
	b := pc.buf[:pagesHeaderLen]
	binary.LittleEndian.PutUint64(b[0:], uint64(len(pc.mem)))
	binary.LittleEndian.PutUint64(b[8:], uint64(first))
	b = append(b, pc.mem[first*dirty.PageSize:(first+count)*dirty.PageSize]...)
	pc.pageBytes += int64(count * dirty.PageSize)
	return pc.sc.SendPages(b)
}

// rounds runs the pre-copy while the instance runs: round 0 sends every
// page that is not all zero, round k the pages written during round k−1,
// until the dirty set is small, stops shrinking, or a bound is hit. The
// instance pauses only for a moment per round, to read the memory's
// size (memory.grow); the collect and the copy run beside it.
func (n *Node) rounds(ctx context.Context, in *instance, pc *precopy, prog *progress, maxRounds int) error {
	start := time.Now()
	limit := int64(maxPrecopyFactor) * int64(max(len(pc.mem), wasmPage))
	prog.setPhase("precopy")
	t0 := time.Now()
	if err := pc.send([]dirty.Range{{First: 0, Count: len(pc.mem) / dirty.PageSize}}, true); err != nil {
		return err
	}
	if err := pc.sync(); err != nil {
		return err
	}
	prog.round(0, 0, 0, pc.pageBytes, time.Since(t0))
	prev := -1
	for k := 1; ; k++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if n.testBeforeRound != nil {
			n.testBeforeRound(k)
		}
		roundStart := time.Now()
		if err := n.withPaused(in, false, pc.refresh); err != nil {
			return err
		}
		rs, pages, err := pc.collect()
		if err != nil {
			return err
		}
		since := roundStart.Sub(t0)
		t0 = roundStart
		sent := pc.pageBytes
		if err := pc.send(rs, false); err != nil {
			return err
		}
		// Applied, not only sent: the rate and the pause's estimate are
		// the destination's, and the pause never waits for a backlog.
		if err := pc.sync(); err != nil {
			return err
		}
		pc.rounds = k
		pc.roundPages = append(pc.roundPages, pages)
		prog.round(k, pages, float64(pages*dirty.PageSize)/max(since.Seconds(), 1e-6), pc.pageBytes-sent, time.Since(roundStart))
		switch {
		case pages <= smallDirtySet:
			return nil
		case prev >= 0 && pages >= prev:
			return nil // not shrinking: more rounds would not shorten the pause
		case k >= maxRounds, pc.pageBytes >= limit, time.Since(start) >= maxPrecopyTime:
			return nil
		}
		prev = pages
	}
}

// stopPhase sends, with the instance paused at p, the pages written
// since the last round. The tracker stays registered: unregistering
// walks every page of the memory (118 ms for 256 MiB on the test
// machine), so it is closed once the destination runs the program.
func (pc *precopy) stopPhase(p *ferry.Paused) (pages int, err error) {
	if err := pc.refresh(p); err != nil {
		return 0, err
	}
	rs, pages, err := pc.collect()
	if err != nil {
		return 0, err
	}
	return pages, pc.send(rs, false)
}

// imageWriter writes received Pages frames into the destination's memory
// image, a sparse file as large as the memory.
type imageWriter struct {
	f     *os.File
	size  uint64
	bytes int64 // page bytes received
	limit int64
}

// put checks a Pages payload against what the source may send (a size
// that is a whole number of WebAssembly pages, never shrinking, within
// 4 GiB; pages inside it) before it writes a byte.
func (w *imageWriter) put(b []byte) error {
	if len(b) < pagesHeaderLen || (len(b)-pagesHeaderLen)%dirty.PageSize != 0 {
		return fmt.Errorf("%w: a pages frame of %d bytes", stream.ErrIntegrity, len(b))
	}
	size := binary.LittleEndian.Uint64(b[0:])
	first := binary.LittleEndian.Uint64(b[8:])
	data := b[pagesHeaderLen:]
	count := uint64(len(data) / dirty.PageSize)
	switch {
	case size%wasmPage != 0 || size > maxMemoryBytes:
		return fmt.Errorf("%w: memory size %d in a pages frame", stream.ErrIntegrity, size)
	case size < w.size:
		return fmt.Errorf("%w: the memory shrank from %d to %d bytes", stream.ErrIntegrity, w.size, size)
	case first > size/dirty.PageSize || count > size/dirty.PageSize-first:
		return fmt.Errorf("%w: pages %d..%d beyond a memory of %d bytes", stream.ErrIntegrity, first, first+count, size)
	}
	w.bytes += int64(len(data))
	if w.bytes > w.limit {
		return fmt.Errorf("the pre-copy exceeds the %d bytes this daemon accepts", w.limit)
	}
	if size > w.size {
		if err := w.f.Truncate(int64(size)); err != nil {
			return err
		}
		w.size = size
	}
	if count == 0 {
		return nil
	}
	_, err := w.f.WriteAt(data, int64(first*dirty.PageSize))
	return err
}

// round records a finished round in the progress report.
func (p *progress) round(k, dirtyPages int, dirtyRate float64, sent int64, took time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rounds = k
	p.dirtyPages = int64(dirtyPages)
	p.dirtyRate = dirtyRate
	if took > 0 && sent > 0 {
		p.sendRate = float64(sent) / took.Seconds()
	}
}

// precopyReport fills the pre-copy's part of a progress report.
func (p *progress) precopyReport(r *apiv1.MigrationProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.precopy {
		return
	}
	r.Precopy = true
	r.Rounds = p.rounds
	r.DirtyPages = p.dirtyPages
	r.DirtyRate = p.dirtyRate
	if p.sendRate > 0 {
		r.Rate = p.sendRate
		// The stop phase sends about the last round's dirty set.
		r.ExpectedDowntime = time.Duration(float64(p.dirtyPages*dirty.PageSize) / p.sendRate * float64(time.Second))
	}
}

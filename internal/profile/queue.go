package profile

import (
	"container/heap"
	"context"
	"errors"
	"sync"

	"github.com/ferryvm/ferry/internal/store"
)

// CompileFunc compiles fn's body for the runtime's CPU and installs the
// code (the tier's one atomic store), so that the next call or the next
// sampled loop header enters it. An error (a refusal: v128, a function too
// large for the compiler) leaves the function interpreted. The body is
// the module's, shared by its instances: it is compiled once, for the
// first instance that submits it.
type CompileFunc func(ctx context.Context, fn *store.Function) error

// ErrClosed is returned by Queue.Flush after Close.
var ErrClosed = errors.New("profile: compile queue closed")

// Queue is a runtime's background compile queue: at most its number of
// workers compile at once, the hottest submitted function first. It
// remembers only what is pending: a body compiled (or refused) before is
// the compile function's to recognise (the engine's CompileHot does, with
// the body's own compile state), so that the queue keeps no body, and no
// module behind it, alive after its last instance is gone (a runtime
// that restored and closed an app 1,000 times kept all 1,000 modules).
// Close stops the workers and waits for them.
type Queue struct {
	compile CompileFunc
	ctx     context.Context
	cancel  context.CancelFunc

	mu       sync.Mutex
	cond     *sync.Cond // signals work, completion and closing
	pending  jobHeap
	queued   map[store.Code]*job // pending, by body
	failed   int
	seq      uint64
	busy     int // jobs being compiled
	compiled int
	closed   bool
	wg       sync.WaitGroup
}

type job struct {
	fn    *store.Function
	key   store.Code
	heat  uint64
	seq   uint64 // submission order breaks ties: first come, first served
	index int    // in the heap
}

// NewQueue starts workers (at least 1) goroutines that compile with
// compile.
func NewQueue(workers int, compile CompileFunc) *Queue {
	q := &Queue{compile: compile, queued: map[store.Code]*job{}}
	q.cond = sync.NewCond(&q.mu)
	q.ctx, q.cancel = context.WithCancel(context.Background())
	for range max(workers, 1) {
		q.wg.Add(1)
		go q.work()
	}
	return q
}

// Submit asks for fn's body to be compiled with priority heat (its
// samples): a body already pending gets the higher heat; one already
// being compiled is left alone, and one compiled or refused before is
// the compile function's to skip. It reports whether the body is pending
// after the call.
func (q *Queue) Submit(fn *store.Function, heat uint64) bool {
	key := fn.Code
	if key == nil {
		return false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	if j := q.queued[key]; j != nil {
		if heat > j.heat {
			j.heat = heat
			heap.Fix(&q.pending, j.index)
		}
		return true
	}
	q.seq++
	j := &job{fn: fn, key: key, heat: heat, seq: q.seq}
	q.queued[key] = j
	heap.Push(&q.pending, j)
	q.cond.Signal()
	return true
}

func (q *Queue) work() {
	defer q.wg.Done()
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		for len(q.pending) == 0 && !q.closed {
			q.cond.Wait()
		}
		if q.closed {
			return
		}
		j := heap.Pop(&q.pending).(*job)
		delete(q.queued, j.key)
		q.busy++
		q.mu.Unlock()
		err := q.compile(q.ctx, j.fn)
		q.mu.Lock()
		q.busy--
		if err != nil {
			q.failed++
		} else {
			q.compiled++
		}
		q.cond.Broadcast()
	}
}

// Flush waits until nothing is pending or being compiled (a restore's
// eager compilation of the hot set), or ctx is done.
func (q *Queue) Flush(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		q.cond.Broadcast()
		q.mu.Unlock()
	})
	defer stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.pending) > 0 || q.busy > 0 {
		if q.closed {
			return ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		q.cond.Wait()
	}
	return nil
}

// Stats returns how many functions compiled, how many failed, and how
// many are pending or being compiled.
func (q *Queue) Stats() (compiled, failed, pending int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.compiled, q.failed, len(q.pending) + q.busy
}

// Close drops what is pending, cancels the compilations under way (their
// context) and waits until every worker has returned. It is idempotent.
func (q *Queue) Close() {
	q.mu.Lock()
	q.closed = true
	q.pending = nil
	clear(q.queued)
	q.cond.Broadcast()
	q.mu.Unlock()
	q.cancel()
	q.wg.Wait()
}

// jobHeap is a max-heap by heat, then first submitted.
type jobHeap []*job

func (h jobHeap) Len() int { return len(h) }
func (h jobHeap) Less(i, j int) bool {
	if h[i].heat != h[j].heat {
		return h[i].heat > h[j].heat
	}
	return h[i].seq < h[j].seq
}
func (h jobHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *jobHeap) Push(x any) {
	j := x.(*job)
	j.index = len(*h)
	*h = append(*h, j)
}
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return j
}

package engine

import (
	"context"
	"sync/atomic"
)

// PollCounter counts the pause points a run polls, across its calls and
// resumes, for a tool that reports them: "ferry run --count-pauses" tells
// a user which N "--checkpoint-on pause:N" can take. A run counts into
// the counter its context carries (WithPollCounter); counting costs what
// CallOptions.PauseAfter costs (every poll takes the slow path), so it is
// only on when asked for.
type PollCounter struct{ n atomic.Int64 }

type pollCounterKey struct{}

// WithPollCounter returns a context whose runs count their polls into c.
func WithPollCounter(ctx context.Context, c *PollCounter) context.Context {
	return context.WithValue(ctx, pollCounterKey{}, c)
}

// PollCounterFrom returns the counter ctx carries, or nil.
func PollCounterFrom(ctx context.Context) *PollCounter {
	c, _ := ctx.Value(pollCounterKey{}).(*PollCounter)
	return c
}

// Add counts n more polls.
func (c *PollCounter) Add(n int64) { c.n.Add(n) }

// Count is the number of pause points polled: a resumed leg's first poll,
// the pause point it continues from, is not counted twice.
func (c *PollCounter) Count() int64 { return c.n.Load() }

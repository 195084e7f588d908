package bench

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Result is what one runtime did with one kernel.
type Result struct {
	Runtime  string
	Checksum uint32
	Times    []time.Duration // one per timed repetition
	Err      error
}

// Median is the median of the timed repetitions (0 if none).
func (r Result) Median() time.Duration {
	if len(r.Times) == 0 {
		return 0
	}
	t := append([]time.Duration(nil), r.Times...)
	sort.Slice(t, func(i, j int) bool { return t[i] < t[j] })
	if len(t)%2 == 1 {
		return t[len(t)/2]
	}
	return (t[len(t)/2-1] + t[len(t)/2]) / 2
}

// Measure loads k once in rt, makes warmup untimed calls, then times reps
// calls of run(k.Arg). Every call's checksum must equal the first one's.
func Measure(ctx context.Context, rt Runtime, k Kernel, warmup, reps int) Result {
	res := Result{Runtime: rt.Name}
	call, release, err := rt.Load(ctx, k.Wasm, "run")
	if err != nil {
		res.Err = fmt.Errorf("load: %w", err)
		return res
	}
	defer release()
	first := true
	for i := 0; i < warmup+reps; i++ {
		start := time.Now()
		out, err := call(ctx, k.Arg)
		elapsed := time.Since(start)
		if err != nil {
			res.Err = fmt.Errorf("call %d: %w", i, err)
			return res
		}
		if len(out) != 1 {
			res.Err = fmt.Errorf("call %d: %d results, want 1", i, len(out))
			return res
		}
		sum := uint32(out[0])
		if first {
			res.Checksum, first = sum, false
		} else if sum != res.Checksum {
			res.Err = fmt.Errorf("call %d: checksum %#x, first call gave %#x", i, sum, res.Checksum)
			return res
		}
		if i >= warmup {
			res.Times = append(res.Times, elapsed)
		}
	}
	return res
}

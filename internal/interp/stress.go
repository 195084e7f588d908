package interp

import "math/rand/v2"

// Deopt stress (Config.DeoptStress, FERRY_DEOPT_STRESS): compiled frames
// are forced out of their code at every k-th pause point they reach, k
// drawn at random from a seeded generator, and re-enter compiled code
// later (at once through the pause point's continuation, or at their
// function's next call). A run under stress must give exactly the
// interpreter's results: it exercises every deoptimization and re-entry
// path far more often than pause requests do.

// stressMaxK bounds the distance between two forced deoptimizations.
const stressMaxK = 64

// stress is a machine's stress state; a nil *stress is off.
type stress struct {
	rng  *rand.Rand
	left int64 // pause points until the next forced deoptimization
}

func newStress(seed, stream uint64) *stress {
	s := &stress{rng: rand.New(rand.NewPCG(seed, stream))}
	s.left = s.next()
	return s
}

func (s *stress) next() int64 { return 1 + s.rng.Int64N(stressMaxK) }

// tick charges one pause point and reports whether it is the one to
// deoptimize at.
func (s *stress) tick() bool {
	if s == nil {
		return false
	}
	s.left--
	if s.left > 0 {
		return false
	}
	s.left = s.next()
	return true
}

// coin is a fair random choice.
func (s *stress) coin() bool { return s.rng.IntN(2) == 0 }

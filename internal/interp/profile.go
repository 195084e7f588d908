package interp

import "github.com/ferryvm/ferry/internal/store"

// sample takes the profile sample a Sampler asked for with
// store.InterruptSample: the innermost frame stands at the pause point
// being polled (a function entry, a loop header, or a host call), whose
// function and id are what the profile counts (docs/compiler.md,
// "Tiering"). Clearing the bit disarms the code again, so that the
// interpreter runs unarmed until the next tick.
func (m *machine) sample() {
	m.root.ClearInterrupt(store.InterruptSample)
	s := m.e.cfg.Sampler
	if s == nil || len(m.frames) == 0 {
		return
	}
	fr := &m.frames[len(m.frames)-1]
	id, ok := fr.code.PauseAt(fr.pc)
	if !ok {
		return
	}
	s.Sample(fr.fn, id, fr.code.pauses.Points[id].Kind)
}

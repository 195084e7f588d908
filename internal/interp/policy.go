package interp

// The auto tier's policy, kept in this one file so that the driver does
// not depend on it. With a profile.Sampler (the runtime's default) the
// profile decides: calls stay on the interpreter's fast path, the sampler
// submits the functions where the run spends its time to the runtime's
// compile queue, which compiles them through CompileHot, and a sampled
// loop header of a compiled function continues in compiled code (OSR,
// profile.go). Without one, a function is compiled in the background
// once it has been called hotCalls times: until then every call of it
// leaves the interpreter's call fast path (funcCode.tiered) and lands in
// onCall.

// hotCalls is the number of calls after which the auto tier compiles a
// function.
const hotCalls = 1000

// prepareAuto readies a freshly lowered module's functions for the auto
// tier.
func (t *tierState) prepareAuto(fs []*funcCode) {
	if t.sampled {
		return // the sampler finds them; their calls stay fast meanwhile
	}
	for _, f := range fs {
		f.hot.Store(hotCalls)
		f.setTiered(true)
	}
}

// onCall is called for every call of a function without compiled code
// whose calls are still counted.
func (t *tierState) onCall(f *funcCode) {
	if f.hot.Add(-1) == 0 {
		t.enqueue(f)
	}
}

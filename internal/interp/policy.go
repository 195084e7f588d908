package interp

// The auto tier's policy, kept in this one file so that a better one
// (profiles, back-edge counts, OSR at loop headers) replaces it without
// touching the driver: a function is compiled in the background once it
// has been called hotCalls times. Until then every call of it leaves the
// interpreter's call fast path (funcCode.tiered) and lands in onCall.

// hotCalls is the number of calls after which the auto tier compiles a
// function.
const hotCalls = 1000

// onCall is called for every call of a function without compiled code
// whose calls are still counted.
func (t *tierState) onCall(f *funcCode) {
	if f.hot.Add(-1) == 0 {
		t.enqueue(f)
	}
}

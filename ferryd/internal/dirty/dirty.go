// Package dirty tracks which pages of a linear memory are written while
// a program runs, for live migration's pre-copy rounds: the kernel's
// userfaultfd write-protection in asynchronous mode marks a page written
// at its first write after a round started (a fault the kernel resolves
// itself, with no handler thread and no signal), and PAGEMAP_SCAN reads
// the written pages and protects them again in one call. Stores cost
// nothing; the first write to a page per round costs one minor fault.
// Nothing in the engine's store paths knows about it, so it covers the
// interpreter, compiled code, bulk memory operations and host functions
// (WASI reads into guest memory) alike: every write reaches the page
// tables. docs/ferryd.md ("Dirty tracking") has the choice and numbers.
package dirty

import "errors"

// PageSize is the unit of tracking: the host's page, as the kernel
// tracks it (4 KiB on amd64 and on the arm64 kernels Ferry runs on).
const PageSize = 4096

// ErrUnavailable is wrapped when this kernel or platform cannot track
// writes this way (not Linux, a kernel before 6.7, userfaultfd forbidden,
// or memory the kernel cannot write-protect, such as a private file
// mapping): migrations are then stop-and-copy.
var ErrUnavailable = errors.New("dirty-page tracking (userfaultfd asynchronous write-protection with PAGEMAP_SCAN) unavailable")

// Range is a run of pages written during a round: [First, First+Count).
type Range struct {
	First, Count int
}

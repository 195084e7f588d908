package binary

import (
	"errors"
	"fmt"
)

// Implementation limits of a module, checked while decoding and before the
// structures a count sizes are allocated. Counts are already bounded by the
// bytes that encode them, but a byte per entry still lets a 16 MB module
// ask for millions of functions or types, each of which costs the host far
// more than its byte: 3 million one-byte functions took 1.9 GB and seconds
// to compile. The values are those of the JS API's implementation-defined
// limits (the WebAssembly JS API specification, section "Limits"), which
// every browser enforces, so a module that loads in a browser loads here;
// docs/limits.md gives the reasons and the host memory each one bounds.
const (
	MaxModuleSize         = 1 << 30 // bytes of the whole module
	MaxTypes              = 1_000_000
	MaxFunctions          = 1_000_000 // imported and defined together
	MaxImports            = 100_000
	MaxExports            = 100_000
	MaxGlobals            = 1_000_000 // imported and defined together
	MaxTables             = 100_000   // imported and defined together
	MaxMemories           = 100       // imported and defined together
	MaxDataSegments       = 100_000
	MaxElemSegments       = 100_000
	MaxElemSegmentEntries = 10_000_000 // entries of one element segment
	MaxParams             = 1_000      // of one function type
	MaxResults            = 1_000      // of one function type
	MaxFunctionBodySize   = 7_654_321  // bytes, local declarations included
)

// ErrLimit is a module beyond one of the implementation limits above. It is
// reported like any decoding failure (an *Error, hence ErrMalformed at the
// API), with what was counted and the limit in its text.
var ErrLimit = errors.New("implementation limit exceeded")

// limit fails at pos when n things (of which the module already has have)
// exceed max.
func (r *reader) limit(pos int, what string, have, n uint64, max uint64) error {
	if have+n > max {
		return r.fail(pos, fmt.Errorf("%w: %d %s, at most %d", ErrLimit, have+n, what, max))
	}
	return nil
}

// limitedCount is count followed by limit: a vector length that must fit
// both the bytes left and an implementation limit.
func (r *reader) limitedCount(minSize int, what string, have, max uint64) (uint32, error) {
	pos := r.pos
	n, err := r.count(minSize)
	if err != nil {
		return 0, err
	}
	return n, r.limit(pos, what, have, uint64(n), max)
}

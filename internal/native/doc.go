// Package native runs generated machine code from pure Go, without cgo.
//
// It is the way in and out of the compiled tier: an allocator of
// executable code units (mapped read-write, filled, then made
// read-execute, never writable and executable at once), a context block
// that generated code reads and writes through a fixed register, and a
// Go-assembly trampoline that enters a unit and returns to Go when the
// code takes an exit. Generated code never calls Go: every host call,
// trap, stack or memory growth and budget expiry is an exit with a kind,
// an argument and a continuation, and Go re-enters at the continuation.
//
// Only amd64 on Linux and the BSDs (Darwin included) is implemented;
// elsewhere every entry point reports ErrNotSupported. docs/native.md
// gives the register convention, the context block layout, the exit
// protocol and why the Go garbage collector and scheduler stay safe.
package native

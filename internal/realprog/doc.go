// Package realprog holds tests that run real, unmodified programs under the
// ferry command: C programs built with clang and wasi-libc, compared with
// the same sources built natively, and the Go standard library's own test
// binaries built for GOOS=wasip1, run the way Go's go_wasip1_wasm_exec
// wrapper runs them under wasmtime. See docs/realprog.md.
//
// The package has no code of its own; everything is in its tests.
package realprog

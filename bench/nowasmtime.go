//go:build !cgo || nowasmtime

package bench

// Without cgo, or with the nowasmtime tag, wasmtime.go is left out and the
// wasmtime peer is absent from every table.
var (
	wasmtimeRuntime *Runtime
	wasmtimeWASI    *WASIRuntime
)

//go:build !cgo

package main

import (
	"fmt"
	"os"
)

// Without cgo there is no wasmtime: say so rather than fail to build.
func main() {
	fmt.Fprintln(os.Stderr, "wasmtime-run: built without cgo; wasmtime-go needs cgo and a C toolchain")
	os.Exit(1)
}

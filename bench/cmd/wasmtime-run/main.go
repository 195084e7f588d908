//go:build cgo

// Command wasmtime-run is the equivalent of `wasmtime run FILE.wasm
// [ARGS...]` built on wasmtime-go, for the start-up comparison in
// ../startup (there is no wasmtime CLI on the benchmark machines). Like
// `wasmtime run` with no flags it compiles the module with wasmtime's
// default configuration (Cranelift, no compilation cache), links WASI
// preview 1, gives the guest argv = FILE.wasm ARGS, this process's standard
// streams, no environment and no directories, and calls _start.
//
// Exit status: the guest's proc_exit code, 0 when _start returns, 134 on a
// trap (message on stderr, as wasmtime: 128 + SIGABRT), 1 when the module
// fails to compile or link, 2 on usage errors.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if len(args) < 1 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(os.Stderr, "usage: wasmtime-run FILE.wasm [ARGS...]")
		return 2
	}
	path := args[0]
	wasm, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmtime-run:", err)
		return 2
	}
	engine := wasmtime.NewEngine()
	mod, err := wasmtime.NewModule(engine, wasm)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wasmtime-run: %s: %v\n", path, err)
		return 1
	}
	linker := wasmtime.NewLinker(engine)
	if err := linker.DefineWasi(); err != nil {
		fmt.Fprintln(os.Stderr, "wasmtime-run:", err)
		return 1
	}
	wc := wasmtime.NewWasiConfig()
	wc.SetArgv(args)
	wc.InheritStdin()
	wc.InheritStdout()
	wc.InheritStderr()
	store := wasmtime.NewStore(engine)
	store.SetWasi(wc)
	inst, err := linker.Instantiate(store, mod)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wasmtime-run: %s: %v\n", path, err)
		return 1
	}
	start := inst.GetFunc(store, "_start")
	if start == nil {
		fmt.Fprintf(os.Stderr, "wasmtime-run: %s: no _start export\n", path)
		return 1
	}
	_, err = start.Call(store)
	if err == nil {
		return 0
	}
	var werr *wasmtime.Error
	if errors.As(err, &werr) {
		if code, ok := werr.ExitStatus(); ok {
			return int(code)
		}
	}
	fmt.Fprintf(os.Stderr, "wasmtime-run: %s: %v\n", path, err)
	return 134
}

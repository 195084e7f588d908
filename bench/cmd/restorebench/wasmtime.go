//go:build cgo && !nowasmtime

package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// The wasmtime row: wasmtime (through wasmtime-go, which links its C API
// statically: cgo only) booting the program from scratch in a fresh
// process, its code compiled ahead of time into its own .cwasm
// (Module.Serialize, what `wasmtime compile` writes) and deserialized,
// the closest it has to a code cache. wasmtime cannot restore a
// checkpoint, so this is a boot, and the row to compare it with is
// "boot, cache". This program runs again as that process
// (-wasmtime-cwasm FILE).

func init() {
	wasmtimeCompile = func(wasm []byte, out string) error {
		engine := wasmtime.NewEngine()
		defer engine.Close()
		mod, err := wasmtime.NewModule(engine, wasm)
		if err != nil {
			return err
		}
		b, err := mod.Serialize()
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o600)
	}
	wasmtimeRun = func(cwasm string) int {
		engine := wasmtime.NewEngine()
		mod, err := wasmtime.NewModuleDeserializeFile(engine, cwasm)
		if err != nil {
			fmt.Fprintln(os.Stderr, "wasmtime:", err)
			return 1
		}
		linker := wasmtime.NewLinker(engine)
		if err := linker.DefineWasi(); err != nil {
			fmt.Fprintln(os.Stderr, "wasmtime:", err)
			return 1
		}
		wc := wasmtime.NewWasiConfig()
		wc.SetArgv([]string{"big.wasm"})
		wc.InheritStdin()
		wc.InheritStdout()
		wc.InheritStderr()
		store := wasmtime.NewStore(engine)
		store.SetWasi(wc)
		inst, err := linker.Instantiate(store, mod)
		if err != nil {
			fmt.Fprintln(os.Stderr, "wasmtime:", err)
			return 1
		}
		start := inst.GetFunc(store, "_start")
		if start == nil {
			fmt.Fprintln(os.Stderr, "wasmtime: no _start")
			return 1
		}
		_, err = start.Call(store)
		var werr *wasmtime.Error
		if err == nil {
			return 0
		}
		if errors.As(err, &werr) {
			if code, ok := werr.ExitStatus(); ok {
				return int(code)
			}
		}
		fmt.Fprintln(os.Stderr, "wasmtime:", err)
		return 134
	}
}

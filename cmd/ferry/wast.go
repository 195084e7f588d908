package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/internal/wast"
)

const wastUsage = `usage: ferry wast [--timeout D] [--tier T] FILE...

Runs WebAssembly scripts such as the spec test suite. A FILE is a .wast
script, read by Ferry's own text-format reader (no other tool needed), or
the .json that wabt's wast2json writes (with its .wasm and .wat files
beside it).

Prints one line per failed command, a summary line per file, and the total.

Flags:
  --timeout D   limit for each instantiation and action (default 10s)
` + tierUsage + `
Exit codes:
  0    every command passed
  1    some command failed
  2    bad flags, or a FILE that cannot be read or is not a script
  130  interrupted (SIGINT)
`

func runWast(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("wast", stderr)
	timeout := fs.Duration("timeout", wast.DefaultCommandTimeout, "limit for each instantiation and action")
	var tf tierFlag
	tf.register(fs)
	if code, done := parseFlagsAnywhere(fs, args, wastUsage, stdout, stderr); done {
		return code
	}
	if fs.NArg() == 0 {
		return usageError(stderr, wastUsage, "wast: no FILE given")
	}
	if *timeout <= 0 {
		return usageError(stderr, wastUsage, "wast: --timeout must be positive")
	}
	opts := wast.Options{CommandTimeout: *timeout}
	var runtimes []*ferry.Runtime // for the compiled-function counts
	if tf.set {
		cfg := tf.apply(ferry.NewRuntimeConfig())
		var once sync.Once
		opts.NewRuntime = func() *ferry.Runtime {
			rt := ferry.NewRuntime(cfg)
			once.Do(func() { tf.note(rt, stderr) })
			runtimes = append(runtimes, rt)
			return rt
		}
	}
	var total wast.Result
	ioErrors := 0
	for _, path := range fs.Args() {
		res, err := runScript(ctx, path, stdout, opts)
		total.Add(res)
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "ferry: %s: interrupted\n", path)
			return exitInterrupted
		}
		if err != nil {
			fmt.Fprintf(stderr, "ferry: %v\n", err)
			ioErrors++
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed, %d skipped\n", total.Passed, total.Failed, total.Skipped)
	if len(runtimes) > 0 {
		var compiled, interpreted int64
		for _, rt := range runtimes {
			c, i := rt.CompiledFunctions()
			compiled, interpreted = compiled+c, interpreted+i
		}
		fmt.Fprintf(stdout, "tier %s: %d functions compiled, %d left to the interpreter\n", tf.t, compiled, interpreted)
	}
	switch {
	case ioErrors > 0:
		return exitUsage
	case total.Failed > 0:
		return exitFail
	}
	return exitOK
}

// runScript runs one script: a .wast read by Ferry's own text-format
// reader, or the .json wabt's wast2json wrote (with its modules beside it).
func runScript(ctx context.Context, path string, out io.Writer, opts wast.Options) (wast.Result, error) {
	return wast.RunWithOptions(ctx, path, out, opts)
}

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/internal/wast"
)

const wastUsage = `usage: ferry wast [--timeout D] [--tier T] FILE...

Runs WebAssembly scripts such as the spec test suite. A FILE is either the
.json that wabt's wast2json writes (with its .wasm files beside it), or a
.wast script, converted with wast2json (default features) into a temporary
directory; wast2json must then be on PATH.

Prints one line per failed command, a summary line per file, and the total.
Text-format modules (assert_malformed and assert_invalid on .wat source) are
skipped: Ferry's input is the binary format.

Flags:
  --timeout D   limit for each instantiation and action (default 10s)
` + tierUsage + `
Exit codes:
  0    every command passed
  1    some command failed
  2    bad flags, an unreadable FILE, or wast2json missing or failing
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
	if tf.t != ferry.TierInterp {
		cfg := ferry.NewRuntimeConfig().WithTier(tf.t)
		var once sync.Once
		opts.NewRuntime = func() *ferry.Runtime {
			rt := ferry.NewRuntime(cfg)
			once.Do(func() { noteTier(rt, stderr) })
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

// runScript runs one .json script, converting a .wast first.
func runScript(ctx context.Context, path string, out io.Writer, opts wast.Options) (wast.Result, error) {
	if !strings.HasSuffix(path, ".wast") {
		return wast.RunWithOptions(ctx, path, out, opts)
	}
	dir, err := os.MkdirTemp("", "ferry-wast-")
	if err != nil {
		return wast.Result{}, err
	}
	defer os.RemoveAll(dir)
	jsonPath, err := convertWast(ctx, path, dir)
	if err != nil {
		return wast.Result{}, err
	}
	return wast.RunWithOptions(ctx, jsonPath, out, opts)
}

// convertWast runs wast2json on a script, writing into dir, and returns the
// path of the .json.
func convertWast(ctx context.Context, path, dir string) (string, error) {
	if _, err := os.Stat(path); err != nil {
		return "", err
	}
	tool, err := exec.LookPath("wast2json")
	if err != nil {
		return "", fmt.Errorf("%s: wast2json not found on PATH: install wabt (Debian package wabt), or pass the .json it writes", path)
	}
	// The JSON keeps the script's own name: the runner names a script's
	// summary line after the file it reads, and "my.json" was a file the
	// user never saw.
	jsonPath := filepath.Join(dir, filepath.Base(path))
	cmd := exec.CommandContext(ctx, tool, path, "-o", jsonPath)
	var msg bytes.Buffer
	cmd.Stdout, cmd.Stderr = &msg, &msg
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("%s: wast2json: %v\n%s", path, err, strings.TrimSpace(msg.String()))
	}
	return jsonPath, nil
}

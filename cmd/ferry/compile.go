package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ferryvm/ferry"
)

const compileUsage = `usage: ferry compile [FLAGS] FILE.wasm

Validates and lowers a module and writes the result to the code cache, so
that "ferry run" and "ferry restore" with the same cache directory start
without compiling it (as "wasmtime compile" writes a .cwasm). An entry is
keyed by the module's SHA-256, this build of Ferry and the execution tier,
and authenticated with this user's signing key (made on first use, see
"ferry keygen"): an entry written by anyone else, or damaged, is refused
and compiled again. The cache directory is --cache-dir, else
$FERRY_CACHE_DIR.

Flags:
` + cacheUsage + `  -o OUT          write the entry to the file OUT instead; it is used once
                  copied into a cache directory under the name printed
  --no-pause-polling
                  compile for runs without pause polling (the form the
                  library's WithPausePolling(false) uses)

Exit codes: 0, 1 when the module does not compile or the entry cannot be
written, 2 for usage errors (an unreadable FILE.wasm too).
`

func runCompile(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("compile", stderr)
	out := fs.String("o", "", "write the entry to OUT")
	noPoll := fs.Bool("no-pause-polling", false, "compile without pause polling")
	var cf cacheFlags
	cf.register(fs)
	if code, done := parseFlagsAnywhere(fs, args, compileUsage, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stderr, compileUsage, "compile: want exactly one FILE.wasm")
	}
	path := fs.Arg(0)
	dir := cf.directory()
	if *out != "" {
		// The entry is made in a directory of its own beside OUT, then
		// renamed to OUT: as atomic as the cache's own writes.
		tmp, err := os.MkdirTemp(filepath.Dir(*out), ".ferry-compile-*")
		if err != nil {
			fmt.Fprintf(stderr, "ferry: compile: %v\n", err)
			return exitFail
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	if dir == "" {
		return usageError(stderr, compileUsage, "compile: say where the code goes: --cache-dir DIR, FERRY_CACHE_DIR or -o OUT")
	}
	wasm, err := readModule(ctx, path)
	if err != nil {
		fmt.Fprintf(stderr, "ferry: %v\n", err)
		return moduleReadFailure(err)
	}
	k, _, _, err := ownSigningKey(true)
	if err != nil {
		fmt.Fprintf(stderr, "ferry: compile: this user's signing key: %v\n", err)
		return exitFail
	}
	cfg := ferry.NewRuntimeConfig().WithPausePolling(!*noPoll).WithCodeCache(dir, k)
	rt := ferry.NewRuntime(cfg)
	defer rt.Close(context.WithoutCancel(ctx))
	m, err := rt.Compile(ctx, wasm)
	if err != nil {
		fmt.Fprintf(stderr, "ferry: %s: %v\n", path, err)
		return exitFail
	}
	o := m.CodeCache()
	if o.WriteErr != nil {
		fmt.Fprintf(stderr, "ferry: compile: %v\n", o.WriteErr)
		return exitFail
	}
	reportCache(stderr, path, m)
	if *out == "" {
		how := "written"
		if o.Hit {
			how = "already there"
		}
		fmt.Fprintf(stdout, "%s: %s in %s\n", path, how, dir)
		return exitOK
	}
	entries, err := filepath.Glob(filepath.Join(dir, "*.fcc"))
	if err != nil || len(entries) != 1 {
		fmt.Fprintf(stderr, "ferry: compile: the entry was not written (%d files)\n", len(entries))
		return exitFail
	}
	if err := os.Rename(entries[0], *out); err != nil {
		fmt.Fprintf(stderr, "ferry: compile: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "%s: written to %s (in a cache directory, name it %s)\n", path, *out, filepath.Base(entries[0]))
	return exitOK
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"math"
	"strconv"
	"strings"
	"syscall"

	"github.com/ferryvm/ferry"
)

// newFlagSet makes a subcommand's flag set. Errors are reported by parse,
// not printed by the flag package's own usage.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("ferry "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args, flags before the first positional argument only
// (run: what follows FILE.wasm belongs to the guest). It returns done with
// an exit code when the command should stop: after printing help for -h
// (stdout, exit 0), or after a flag error (one line on stderr, exit 2).
func parseFlags(fs *flag.FlagSet, args []string, help string, stdout, stderr io.Writer) (code int, done bool) {
	return flagResult(fs.Parse(args), help, stdout, stderr)
}

// parseFlagsAnywhere is parseFlags for a command whose positional
// arguments are no program, so that flags may also follow them, as in
// "ferry inspect x.ckpt --json"; "--" still ends the flags.
func parseFlagsAnywhere(fs *flag.FlagSet, args []string, help string, stdout, stderr io.Writer) (code int, done bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return flagResult(err, help, stdout, stderr)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if at := len(args) - len(rest); at > 0 && args[at-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	// Parsing "--" alone leaves the positional arguments as fs.Args().
	return flagResult(fs.Parse(append([]string{"--"}, pos...)), help, stdout, stderr)
}

func flagResult(err error, help string, stdout, stderr io.Writer) (code int, done bool) {
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, help)
		return exitOK, true
	}
	// The flag package words its errors for one-dash flags ("flag provided
	// but not defined: -bogus"); say it as the help text does.
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		msg = "unknown flag -" + name
	} else {
		msg = strings.Replace(msg, "flag: -", "flag --", 1)
		msg = strings.Replace(msg, "for flag -", "for --", 1)
		msg = strings.Replace(msg, "flag needs an argument: -", "flag needs a value: --", 1)
	}
	return usageError(stderr, help, "%s", msg), true
}

// usageError prints a one-line message and where to find the command's
// help on stderr: the whole help text would bury the line that matters.
func usageError(stderr io.Writer, help, format string, args ...any) int {
	fmt.Fprintf(stderr, "ferry: "+format+"; see 'ferry help %s'\n", append(args, helpName(help))...)
	return exitUsage
}

// helpName is the command a help text is for ("usage: ferry NAME ...").
func helpName(help string) string {
	if f := strings.Fields(help); len(f) >= 3 {
		return f[2]
	}
	return ""
}

// openFailure is the exit code for a checkpoint that could not be opened:
// a file that is not there or may not be read is a usage error (exit 2), as
// "ferry run" treats its FILE.wasm; a file that is there but damaged or
// foreign is a failure (exit 1).
func openFailure(err error) int {
	if errors.Is(err, iofs.ErrNotExist) || errors.Is(err, iofs.ErrPermission) || errors.Is(err, syscall.EISDIR) {
		return exitUsage
	}
	return exitFail
}

// limitsUsage documents the resource-limit flags of run and restore.
const limitsUsage = `  --max-memory SIZE
                  the most each linear memory of the program may hold
                  (default 4GiB, the most a 32-bit memory addresses):
                  a memory declared larger fails to instantiate or to
                  restore, and memory.grow beyond it returns -1. SIZE is
                  bytes, or a number with K/KiB, M/MiB or G/GiB (powers of
                  1024), rounded down to 64 KiB pages
  --max-table-elements N
                  the most elements all the program's tables hold together
                  (default 10000000, 80 MB): table.grow beyond it returns
                  -1, a module whose tables need more fails to instantiate
`

// limitFlags are the runtime limits that run and restore share.
type limitFlags struct {
	maxMemory     string
	maxTableElems uint64
}

func (l *limitFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.maxMemory, "max-memory", "4GiB", "the most each memory may hold")
	fs.Uint64Var(&l.maxTableElems, "max-table-elements", 10_000_000, "the most elements all tables hold together")
}

// apply returns cfg with the limits, or an error naming the bad flag.
func (l *limitFlags) apply(cfg ferry.RuntimeConfig) (ferry.RuntimeConfig, error) {
	size, err := parseSize(l.maxMemory)
	if err != nil {
		return cfg, fmt.Errorf("--max-memory %q: %v", l.maxMemory, err)
	}
	const page, maxPages = 64 << 10, 65536
	if size/page > maxPages {
		return cfg, fmt.Errorf("--max-memory %q: more than 4GiB", l.maxMemory)
	}
	if l.maxTableElems < 1 {
		return cfg, errors.New("--max-table-elements must be at least 1")
	}
	return cfg.WithMemoryLimitPages(uint32(size / page)).WithMaxTableElements(l.maxTableElems), nil
}

// parseSize reads a byte count: digits and an optional binary unit.
func parseSize(s string) (uint64, error) {
	digits := len(s) - len(strings.TrimLeft(s, "0123456789"))
	num, unit := s[:digits], strings.ToLower(s[digits:])
	shift := map[string]uint{"": 0, "b": 0, "k": 10, "kib": 10, "m": 20, "mib": 20, "g": 30, "gib": 30}
	sh, ok := shift[unit]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q (want K, KiB, M, MiB, G or GiB)", s[digits:])
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, errors.New("want a whole number of bytes, KiB, MiB or GiB")
	}
	if n > math.MaxUint64>>sh {
		return 0, errors.New("too large")
	}
	return n << sh, nil
}

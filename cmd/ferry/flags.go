package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// newFlagSet makes a subcommand's flag set. Errors are reported by parse,
// not printed by the flag package's own usage.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("ferry "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args. It returns done with an exit code when the
// command should stop: after printing help for -h (stdout, exit 0), or after
// a flag error (message and help on stderr, exit 2).
func parseFlags(fs *flag.FlagSet, args []string, help string, stdout, stderr io.Writer) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, help)
		return exitOK, true
	}
	// The flag package has already printed the error itself.
	fmt.Fprintln(stderr)
	fmt.Fprint(stderr, help)
	return exitUsage, true
}

// usageError prints a message and the command's help on stderr.
func usageError(stderr io.Writer, help, format string, args ...any) int {
	fmt.Fprintf(stderr, "ferry: "+format+"\n\n", args...)
	fmt.Fprint(stderr, help)
	return exitUsage
}

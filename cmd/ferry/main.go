// Command ferry runs WebAssembly modules and WebAssembly test scripts.
//
// Usage:
//
//	ferry COMMAND [FLAGS] [ARGS...]
//	ferry [RUN FLAGS] FILE.wasm [ARGS...]    (ferry run)
//
// Run "ferry help" for the list of commands and "ferry help COMMAND" for one
// command's flags.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
)

// Exit codes shared by the subcommands.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran and failed (compile, link, failing tests)
	exitUsage = 2 // bad flags or arguments, unreadable input
	// exitTrap is a guest trap: 128 + SIGABRT, as a process that aborted.
	exitTrap = 134
	// exitInterrupted is a run cancelled by SIGINT: 128 + SIGINT.
	exitInterrupted = 130
	// exitTerminated is a run stopped by SIGTERM: 128 + SIGTERM.
	exitTerminated = 143
)

// subcommand is one entry of the command table.
type subcommand struct {
	name    string
	group   string // heading the command is listed under in the help text
	summary string // one line for the command list
	run     func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

// groups orders the help text's headings.
var groups = []string{"Running programs", "Testing", "Information"}

func commands() []subcommand {
	return []subcommand{
		{"run", "Running programs", "run a WebAssembly module", runRun},
		{"restore", "Running programs", "continue a program from a checkpoint", runRestore},
		{"inspect", "Information", "describe a checkpoint", runInspect},
		{"keygen", "Running programs", "make a key that signs checkpoints", runKeygen},
		{"compile", "Running programs", "compile a module into the code cache", runCompile},
		{"wast", "Testing", "run WebAssembly scripts (spec tests)", runWast},
		{"cpu", "Information", "show CPU features, levels and the effective mask", runCPU},
		{"version", "Information", "print Ferry's version", runVersion},
		{"help", "Information", "show help for a command", runHelp},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args (without the program name), with this
// process's standard input, and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	return runStdio(args, os.Stdin, stdout, stderr)
}

// runStdio is run with the guest-visible standard input given explicitly.
func runStdio(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "-V", "--version", "-version":
		name, args = "version", args[:1]
	}
	cmd, ok := lookup(name)
	if !ok {
		if !looksLikeRun(name) {
			fmt.Fprintf(stderr, "ferry: unknown command %q; see 'ferry help'\n", name)
			return exitUsage
		}
		// As wasmtime: "ferry [FLAGS] FILE.wasm ARGS" is "ferry run".
		cmd, _ = lookup("run")
		args = append([]string{"run"}, args...)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return cmd.run(ctx, args[1:], stdin, stdout, stderr)
}

// looksLikeRun tells whether a first argument that names no command
// starts a run: a flag, or a module file (by its name, or because it exists).
func looksLikeRun(arg string) bool {
	if strings.HasPrefix(arg, "-") || strings.HasSuffix(arg, ".wasm") || strings.HasSuffix(arg, ".wat") {
		return true
	}
	st, err := os.Stat(arg)
	return err == nil && st.Mode().IsRegular()
}

func lookup(name string) (subcommand, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return subcommand{}, false
}

// usage prints the command list grouped by purpose.
func usage(w io.Writer) {
	fmt.Fprintln(w, "Ferry is a WebAssembly virtual machine whose programs can be checkpointed and restored.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: ferry COMMAND [FLAGS] [ARGS...]")
	fmt.Fprintln(w, "       ferry [RUN FLAGS] FILE.wasm [ARGS...]   (as ferry run)")
	fmt.Fprintln(w, "       ferry --version | -V")
	cmds := commands()
	width := 0
	for _, c := range cmds {
		width = max(width, len(c.name))
	}
	for _, g := range groups {
		fmt.Fprintf(w, "\n%s:\n", g)
		for _, c := range cmds {
			if c.group == g {
				fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
			}
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "ferry help COMMAND" for a command's flags and exit codes.`)
}

func runHelp(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return exitOK
	}
	if len(args) > 1 {
		fmt.Fprintln(stderr, "usage: ferry help [COMMAND]")
		return exitUsage
	}
	cmd, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(stderr, "ferry: unknown command %q\n", args[0])
		return exitUsage
	}
	if cmd.name == "help" {
		usage(stdout)
		return exitOK
	}
	// Every subcommand prints its help for -h on stdout and exits 0.
	return cmd.run(context.Background(), []string{"-h"}, nil, stdout, stderr)
}

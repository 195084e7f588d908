// Command ferryd is Ferry's node agent: a daemon that runs WebAssembly
// programs under an authenticated API and moves them between hosts, and
// the client of that API. docs/ferryd.md describes it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: ferryd COMMAND [FLAGS] [ARGS...]

The daemon:
  serve     run the node agent (mutual TLS API, instances, migrations)

Setup:
  certs     make a certificate authority and certificates for daemons and clients

The client (talks to a daemon over mutual TLS):
  ctl run        start a WASI program
  ctl ps         list instances and their states
  ctl inspect    describe one instance
  ctl pause      stop an instance at its next pause point
  ctl resume     continue a paused instance
  ctl checkpoint write a checkpoint (into the daemon's state directory, or to a file here)
  ctl restore    run a checkpoint (uploaded, or one in the daemon's state directory)
  ctl rm         stop and remove an instance
  ctl logs       print (or follow with -f) an instance's stdout or stderr
  ctl migrate    move an instance to another daemon
  ctl resolve    settle a migration that broke after its commit
  ctl metrics    print the daemon's metrics (Prometheus text format)

"ferryd COMMAND -h" describes a command's flags.
`

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the request failed
	exitUsage = 2 // bad flags or arguments
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "certs":
		return runCerts(args[1:], stdout, stderr)
	case "ctl":
		return runCtl(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "ferryd: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name, help string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, help)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args; done reports that the caller should return code.
func parse(fs *flag.FlagSet, args []string) (code int, done bool) {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK, true
		}
		return exitUsage, true
	}
	return 0, false
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return fmt.Sprint([]string(*l)) }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

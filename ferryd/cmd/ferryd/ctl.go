package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
	"github.com/ferryvm/ferry/ferryd/internal/client"
	"github.com/ferryvm/ferry/ferryd/internal/pki"
)

const ctlUsage = `usage: ferryd ctl [--addr HOST:PORT] [--cert FILE --key FILE --ca FILE] VERB [FLAGS] [ARGS...]

Talks to a ferryd daemon over mutual TLS. The connection flags default to
the environment: FERRYD_ADDR (default 127.0.0.1:7411), FERRYD_CERT,
FERRYD_KEY and FERRYD_CA.

Verbs:
  run [--name N] [--tier interp|compiled|auto] [--dir HOST[::GUEST]] [--listen HOST:PORT]
      [--env NAME=VAL] FILE.wasm [ARGS...]
  ps
  inspect NAME
  pause NAME
  resume NAME
  checkpoint [--exit] [--out FILE] NAME
                 without --out, into the daemon's state directory (its
                 name is printed, for restore --from); --out - is stdout
  restore --name N [--dir HOST[::GUEST]] [--listen HOST:PORT] (FILE | --from CHECKPOINT)
  rm NAME
  logs [-f] [--stderr] NAME
  migrate [--verify-memory] [--stop-and-copy] [--max-rounds N] [--progress]
          [--dir HOST[::GUEST]] [--listen HOST:PORT] --to HOST:PORT NAME
                 live: memory pre-copied in rounds while the program runs;
                 --progress prints rounds, bytes, dirty rate and expected
                 downtime to stderr while it runs
  resolve NAME   settle a migration that broke after its commit: ask the
                 destination, then delete the instance here or resume it
  metrics

Connection flags:
`

func runCtl(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("ctl", ctlUsage, stderr)
	addr := fs.String("addr", envOr("FERRYD_ADDR", "127.0.0.1:7411"), "the daemon's API address")
	var files pki.Files
	fs.StringVar(&files.Cert, "cert", os.Getenv("FERRYD_CERT"), "client certificate (PEM)")
	fs.StringVar(&files.Key, "key", os.Getenv("FERRYD_KEY"), "its private key (PEM)")
	fs.StringVar(&files.CA, "ca", os.Getenv("FERRYD_CA"), "the authority that signed the daemon's certificate (PEM)")
	if code, done := parse(fs, args); done {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, "ferryd ctl: missing VERB\n\n"+ctlUsage)
		return exitUsage
	}
	tlsCfg, err := files.ClientConfig()
	if err != nil {
		fmt.Fprintf(stderr, "ferryd ctl: %v\n", err)
		return exitUsage
	}
	c := client.New(*addr, tlsCfg)
	defer c.Close()
	verb, rest := fs.Arg(0), fs.Args()[1:]
	v, ok := ctlVerbs[verb]
	if !ok {
		fmt.Fprintf(stderr, "ferryd ctl: unknown verb %q\n\n%s", verb, ctlUsage)
		return exitUsage
	}
	vfs := newFlagSet("ctl "+verb, "usage: ferryd ctl "+v.usage+"\n", stderr)
	return v.run(ctx, c, vfs, rest, stdout, stderr)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

type ctlVerb struct {
	usage string
	run   func(ctx context.Context, c *client.Client, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int
}

var ctlVerbs = map[string]ctlVerb{
	"run":        {"run [--name N] [--tier T] [--dir HOST[::GUEST]] [--listen HOST:PORT] [--env NAME=VAL] FILE.wasm [ARGS...]", ctlRun},
	"ps":         {"ps", ctlPs},
	"inspect":    {"inspect NAME", byName(func(ctx context.Context, c *client.Client, n string) (any, error) { return c.Get(ctx, n) })},
	"pause":      {"pause NAME", byName(func(ctx context.Context, c *client.Client, n string) (any, error) { return c.Pause(ctx, n) })},
	"resume":     {"resume NAME", byName(func(ctx context.Context, c *client.Client, n string) (any, error) { return c.Resume(ctx, n) })},
	"rm":         {"rm NAME", byName(func(ctx context.Context, c *client.Client, n string) (any, error) { return nil, c.Delete(ctx, n) })},
	"checkpoint": {"checkpoint [--exit] [--out FILE] NAME", ctlCheckpoint},
	"restore":    {"restore --name N [--dir HOST[::GUEST]] [--listen HOST:PORT] (FILE | --from CHECKPOINT)", ctlRestore},
	"logs":       {"logs [-f] [--stderr] NAME", ctlLogs},
	"migrate":    {"migrate [--verify-memory] [--stop-and-copy] [--max-rounds N] [--progress] [--dir HOST[::GUEST]] [--listen HOST:PORT] --to HOST:PORT NAME", ctlMigrate},
	"metrics":    {"metrics", ctlMetrics},
	"resolve": {"resolve NAME", byName(func(ctx context.Context, c *client.Client, n string) (any, error) {
		return c.Resolve(ctx, n)
	})},
}

// fail reports a failed request.
func fail(stderr io.Writer, verb string, err error) int {
	fmt.Fprintf(stderr, "ferryd ctl %s: %v\n", verb, err)
	return exitFail
}

func printJSON(w io.Writer, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	fmt.Fprintf(w, "%s\n", b)
}

// byName makes a verb whose one argument is an instance name and whose
// result is printed as JSON.
func byName(f func(context.Context, *client.Client, string) (any, error)) func(context.Context, *client.Client, *flag.FlagSet, []string, io.Writer, io.Writer) int {
	return func(ctx context.Context, c *client.Client, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
		if code, done := parse(fs, args); done {
			return code
		}
		if fs.NArg() != 1 {
			fs.Usage()
			return exitUsage
		}
		v, err := f(ctx, c, fs.Arg(0))
		if err != nil {
			return fail(stderr, fs.Name(), err)
		}
		if v != nil {
			printJSON(stdout, v)
		}
		return exitOK
	}
}

// dirs parses HOST[::GUEST] grants.
func dirs(list []string) []apiv1.Dir {
	var out []apiv1.Dir
	for _, d := range list {
		h, g, _ := strings.Cut(d, "::")
		out = append(out, apiv1.Dir{Host: h, Guest: g})
	}
	return out
}

func ctlRun(ctx context.Context, c *client.Client, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	name := fs.String("name", "", "instance name (default: the file's base name)")
	tier := fs.String("tier", "", "the code that runs it: interp, compiled or auto (default: the daemon's)")
	var dirFlags, envs, listens listFlag
	fs.Var(&dirFlags, "dir", "grant HOST[::GUEST] (repeatable)")
	fs.Var(&listens, "listen", "listen on the TCP address HOST:PORT for the guest, pre-opened after the directories (repeatable)")
	fs.Var(&envs, "env", "guest environment NAME=VAL (repeatable)")
	if code, done := parse(fs, args); done {
		return code
	}
	if fs.NArg() < 1 {
		fs.Usage()
		return exitUsage
	}
	path := fs.Arg(0)
	wasm, err := os.ReadFile(path)
	if err != nil {
		return fail(stderr, "run", err)
	}
	if *name == "" {
		base := path[strings.LastIndexAny(path, `/\`)+1:]
		*name = strings.TrimSuffix(base, ".wasm")
	}
	req := apiv1.RunRequest{Name: *name, Module: wasm, Args: append([]string{path}, fs.Args()[1:]...), Env: envs, Dirs: dirs(dirFlags), Tier: *tier, Listen: listens}
	in, err := c.Run(ctx, req)
	if err != nil {
		return fail(stderr, "run", err)
	}
	printJSON(stdout, in)
	return exitOK
}

func ctlPs(ctx context.Context, c *client.Client, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	if code, done := parse(fs, args); done {
		return code
	}
	all, err := c.List(ctx)
	if err != nil {
		return fail(stderr, "ps", err)
	}
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tEXIT\tCREATED\tFROM")
	for _, in := range all {
		exit := ""
		if in.ExitCode != nil {
			exit = fmt.Sprint(*in.ExitCode)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", in.Name, in.State, exit, in.Created.Format(time.RFC3339), in.RestoredFrom)
	}
	tw.Flush()
	return exitOK
}

func ctlCheckpoint(ctx context.Context, c *client.Client, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	exit := fs.Bool("exit", false, "stop the instance after the checkpoint")
	out := fs.String("out", "", "write the checkpoint here (- for stdout) instead of the daemon's state directory")
	if code, done := parse(fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	if *out == "" {
		r, err := c.Checkpoint(ctx, fs.Arg(0), *exit)
		if err != nil {
			return fail(stderr, "checkpoint", err)
		}
		printJSON(stdout, r)
		return exitOK
	}
	w := stdout
	var f *os.File
	if *out != "-" {
		var err error
		if f, err = os.Create(*out); err != nil {
			return fail(stderr, "checkpoint", err)
		}
		w = f
	}
	_, err := c.CheckpointTo(ctx, fs.Arg(0), *exit, w)
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(*out)
		}
	}
	if err != nil {
		return fail(stderr, "checkpoint", err)
	}
	return exitOK
}

func ctlRestore(ctx context.Context, c *client.Client, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	name := fs.String("name", "", "name of the restored instance (required)")
	from := fs.String("from", "", "restore this checkpoint of the daemon's state directory instead of uploading FILE")
	var dirFlags, listens listFlag
	fs.Var(&dirFlags, "dir", "grant HOST[::GUEST] (repeatable): the checkpoint's pre-opens need their directories")
	fs.Var(&listens, "listen", "grant HOST:PORT (repeatable): the checkpoint's listening sockets, in order")
	if code, done := parse(fs, args); done {
		return code
	}
	if *name == "" || (*from == "") == (fs.NArg() != 1) {
		fs.Usage()
		return exitUsage
	}
	req := apiv1.RestoreRequest{Name: *name, From: *from, Dirs: dirs(dirFlags), Listen: listens}
	var body io.Reader
	if *from == "" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return fail(stderr, "restore", err)
		}
		defer f.Close()
		body = f
	}
	in, err := c.Restore(ctx, req, body)
	if err != nil {
		return fail(stderr, "restore", err)
	}
	printJSON(stdout, in)
	return exitOK
}

func ctlLogs(ctx context.Context, c *client.Client, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	follow := fs.Bool("f", false, "follow: keep printing until the instance ends")
	errStream := fs.Bool("stderr", false, "print stderr instead of stdout")
	if code, done := parse(fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	s := "stdout"
	if *errStream {
		s = "stderr"
	}
	if err := c.Logs(ctx, fs.Arg(0), s, *follow, stdout); err != nil && !errors.Is(err, context.Canceled) {
		return fail(stderr, "logs", err)
	}
	return exitOK
}

func ctlMigrate(ctx context.Context, c *client.Client, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	to := fs.String("to", "", "the destination daemon's API address HOST:PORT (required)")
	verify := fs.Bool("verify-memory", false, "hash the memory on both sides at the switch (slower; a check of the whole path)")
	stopAndCopy := fs.Bool("stop-and-copy", false, "pause first and send the whole memory (no pre-copy rounds)")
	maxRounds := fs.Int("max-rounds", 0, "bound the pre-copy rounds (default 30)")
	showProgress := fs.Bool("progress", false, "print the migration's progress to stderr while it runs")
	var dirFlags, listens listFlag
	fs.Var(&dirFlags, "dir", "grant HOST[::GUEST] on the destination (repeatable; default: the source's grants)")
	fs.Var(&listens, "listen", "bind the guest's listening sockets to HOST:PORT on the destination (repeatable; default: the source's addresses)")
	if code, done := parse(fs, args); done {
		return code
	}
	if *to == "" || fs.NArg() != 1 || *maxRounds < 0 {
		fs.Usage()
		return exitUsage
	}
	if *showProgress {
		done := make(chan struct{})
		defer close(done)
		go reportProgress(ctx, c, fs.Arg(0), stderr, done)
	}
	r, err := c.Migrate(ctx, fs.Arg(0), apiv1.MigrateRequest{To: *to, VerifyMemory: *verify, Dirs: dirs(dirFlags), StopAndCopy: *stopAndCopy, MaxRounds: *maxRounds, Listen: listens})
	if err != nil {
		return fail(stderr, "migrate", err)
	}
	printJSON(stdout, r)
	return exitOK
}

func ctlMetrics(ctx context.Context, c *client.Client, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	if code, done := parse(fs, args); done {
		return code
	}
	m, err := c.Metrics(ctx)
	if err != nil {
		return fail(stderr, "metrics", err)
	}
	fmt.Fprint(stdout, m)
	return exitOK
}

// progressInterval is how often ctl migrate --progress asks.
const progressInterval = 500 * time.Millisecond

// reportProgress prints the migration's progress, as the source's
// instance description carries it, until done is closed.
func reportProgress(ctx context.Context, c *client.Client, name string, stderr io.Writer, done <-chan struct{}) {
	tick := time.NewTicker(progressInterval)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		in, err := c.Get(ctx, name)
		if err != nil || in.Migration == nil {
			continue
		}
		fmt.Fprintln(stderr, formatProgress(in.Migration))
	}
}

// formatProgress is one line of ctl migrate --progress.
func formatProgress(m *apiv1.MigrationProgress) string {
	s := fmt.Sprintf("%s: %.1f MiB sent of %.1f MiB", m.Phase, float64(m.Bytes)/(1<<20), float64(m.Total)/(1<<20))
	if m.Precopy {
		s += fmt.Sprintf(", round %d, %d pages dirtied (%.1f MiB/s)", m.Rounds, m.DirtyPages, m.DirtyRate/(1<<20))
	}
	if m.Rate > 0 {
		s += fmt.Sprintf(", %.1f MiB/s, expected downtime %v", m.Rate/(1<<20), m.ExpectedDowntime.Round(time.Millisecond))
	}
	if m.Paused > 0 {
		s += fmt.Sprintf(", paused %v", m.Paused.Round(time.Millisecond))
	}
	return s
}

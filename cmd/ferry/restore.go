package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/wasi"
)

const restoreUsage = `usage: ferry restore [FLAGS] CHECKPOINT

Continues a program from a checkpoint written by "ferry run --checkpoint-to"
(or "ferry restore --checkpoint-to"), on this machine or another: the call
that was interrupted goes on exactly where it stopped, with the guest's
arguments, environment and descriptors as they were. Standard streams are
this process's. Files the guest had open are reopened beneath their
pre-opened directories, at their recorded offsets, and must be unchanged
(size and modification time) unless --accept-changed-files. The monotonic
clock continues from its checkpointed value; the realtime clock is this
host's. Run "ferry inspect CHECKPOINT" to see what a checkpoint holds.

Grants come from this command line, not from the file: anyone can write a
checkpoint that records a pre-open of "/". Every pre-open the checkpoint
records must be granted a host directory with --dir HOST::GUEST (matched by
its guest path), and every listener a socket with --tcplisten; the restore
fails otherwise and says what to pass. A --dir whose guest path the
checkpoint does not record, or more --tcplisten than recorded listeners, is
an error too. Only a checkpoint signed by a key this host trusts (this
user's own key, which "ferry run --checkpoint-to" signs with by default,
a key file in the configuration directory's trusted/, or --trust-key) keeps
what it recorded for what is not granted: its pre-opens' recorded host
directories, and its listeners' recorded addresses when they are loopback
addresses. See "ferry keygen".

Flags:
  --dir HOST[::GUEST]
                  grant the recorded pre-open GUEST (default: HOST) the host
                  directory HOST. Repeatable.
  --tcplisten ADDR
                  grant the recorded listeners, in order, sockets listening
                  on ADDR. Repeatable.
  --trust-key FILE
                  also trust checkpoints signed by the key in FILE (a public
                  key from "ferry keygen --out", or an HMAC key file); a file
                  signed by a trusted key whose signature does not verify is
                  refused. Repeatable.
  --module FILE.wasm
                  the module, for a checkpoint written without it (its
                  SHA-256 must match)
  --accept-changed-files
                  reopen files that changed since the checkpoint
  --verify-memory MODE
                  when the checksums of the stored memory pages are checked
                  (every other part of the checkpoint is checked before the
                  program continues, whatever MODE):
                    concurrent  (default) the pages are mapped and the
                                program continues at once while they are
                                checked; nothing it does leaves the process
                                (no output, no file written, no exit status)
                                until the check passed, and a failed check
                                stops it: exit 1, "corrupt checkpoint".
                                Restore time does not grow with memory size
                    before-run  check them all before the program continues
                    off         never check them: a damaged page goes
                                unnoticed ("ferry inspect" still checks);
                                a checkpoint signed by a trusted key is
                                checked concurrently all the same, since
                                its signature is what grants its pre-opens
                    first-touch as concurrent, but what the program
                                does waits only for the 1 MiB chunks it
                                has read so far, each checked on its own;
                                if the rest is found corrupt while it runs
                                it stops (exit 1, "corrupt checkpoint")
                                after that early output
                  A compressed checkpoint is copied, not mapped, and always
                  checked as it is read.
  --no-verify-memory
                  the same as --verify-memory=off
  --max-call-depth N
                  nested calls allowed (default 50000)
` + limitsUsage + cpuFeaturesUsage + tierUsage + cacheUsage + `  -v              print on stderr, one line each, the builtin decisions
                  of the checkpointed run that this restore makes
                  differently for the effective CPU features
                  ("BUILTIN: OLD-IMPL -> NEW-IMPL"); semantic decisions
                  (observable results) are kept, emulated where needed

` + checkpointFlagsUsage + `
Exit codes: as "ferry run": 0 when the program returned (or stopped at a
checkpoint), N for proc_exit(N), 1 when the checkpoint cannot be restored
(damaged, another module, a changed file, a pre-open or listener not
granted, a signature by a trusted key that does not verify), 2 for usage
errors (an unreadable CHECKPOINT, --module or --trust-key too, as "ferry
run" for an unreadable FILE.wasm), 134 on a trap, 130 on SIGINT, 143 on
SIGTERM (a checkpoint being written is finished first).
`

func runRestore(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("restore", stderr)
	modPath := fs.String("module", "", "the module file")
	acceptChanged := fs.Bool("accept-changed-files", false, "reopen changed files")
	verifyMemory := fs.String("verify-memory", "concurrent", "when memory checksums are checked: concurrent, before-run, off or first-touch")
	noVerifyMemory := fs.Bool("no-verify-memory", false, "the same as --verify-memory=off")
	maxDepth := fs.Int("max-call-depth", 50000, "nested calls allowed")
	cpuSpec := fs.String("cpu-features", "native", "CPU feature mask")
	verbose := fs.Bool("v", false, "report changed builtin decisions")
	var dirs, listens, trustFiles listFlag
	fs.Var(&dirs, "dir", "grant a pre-open HOST[::GUEST]")
	fs.Var(&listens, "tcplisten", "listen on ADDR")
	fs.Var(&trustFiles, "trust-key", "trust checkpoints signed by the key in FILE")
	var cf checkpointFlags
	cf.register(fs)
	var lf limitFlags
	lf.register(fs)
	var tf tierFlag
	tf.register(fs)
	var cache cacheFlags
	cache.register(fs)
	if code, done := parseFlagsAnywhere(fs, args, restoreUsage, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stderr, restoreUsage, "restore: want exactly one CHECKPOINT")
	}
	if *maxDepth < 1 {
		return usageError(stderr, restoreUsage, "restore: --max-call-depth must be at least 1")
	}
	rtCfg, code, stop := cpuRuntimeConfig(*cpuSpec, "restore", restoreUsage, stderr)
	if stop {
		return code
	}
	rtCfg, err := lf.apply(tf.apply(rtCfg.WithMaxCallDepth(*maxDepth)))
	if err != nil {
		return usageError(stderr, restoreUsage, "restore: %v", err)
	}
	rtCfg = cache.apply(rtCfg, stderr)
	trig, err := cf.parse()
	if err != nil {
		return usageError(stderr, restoreUsage, "restore: %v", err)
	}
	ctx, stopTerm := trig.onTerm(ctx)
	defer stopTerm()
	cfg, err := wasiConfig("", dirs, nil, listens)
	if err != nil {
		return usageError(stderr, restoreUsage, "restore: %v", err)
	}
	cfg = trig.withStdinWait(cfg.WithCloseConnectionsOnCheckpoint(cf.closeConns))
	verify, err := ferry.ParseMemoryVerification(*verifyMemory)
	if err != nil {
		return usageError(stderr, restoreUsage, "restore: --verify-memory %q: want concurrent, before-run, off or first-touch", *verifyMemory)
	}
	if *noVerifyMemory {
		if verify != ferry.VerifyOff && flagSet(fs, "verify-memory") {
			return usageError(stderr, restoreUsage, "restore: --no-verify-memory contradicts --verify-memory=%s", verify)
		}
		verify = ferry.VerifyOff
	}
	path := fs.Arg(0)
	rc := ferry.NewRestoreConfig().WithMemoryVerification(verify)
	var module []byte // --module's, for trap source lines (dwarf.go)
	if *modPath != "" {
		b, err := readModule(ctx, *modPath)
		if err != nil {
			fmt.Fprintf(stderr, "ferry: %v\n", err)
			return moduleReadFailure(err)
		}
		rc, module = rc.WithModule(b), b
	}
	trust, err := trustedKeys(trustFiles)
	if err != nil {
		fmt.Fprintf(stderr, "ferry: restore: %v\n", err)
		return exitUsage
	}
	ck, err := ferry.OpenCheckpointWith(path, trust)
	if err != nil {
		fmt.Fprintf(stderr, "ferry: restore: %v\n", err)
		return openFailure(err)
	}
	defer ck.Close()
	if ck.Idle() {
		fmt.Fprintf(stderr, "ferry: restore %s: an idle checkpoint (an instance between calls, written through the Go API) has no call to continue; restore it with Runtime.RestoreInstance and call its exports\n", path)
		return exitFail
	}
	if !ck.MemoryIncluded() {
		fmt.Fprintf(stderr, "ferry: restore %s: the checkpoint holds no memory data: it is the stop phase of a live migration, whose memory pages travel apart; restore it where those pages were received (ferryd migrate does both), or through the Go API with RestoreConfig.WithMemoryImage\n", path)
		return exitFail
	}
	rt := ferry.NewRuntime(rtCfg)
	tf.note(rt, stderr)
	defer rt.Close(context.WithoutCancel(ctx))
	tty := isTTY(stderr)
	stderr = &lockedWriter{w: stderr} // shared with checkpoints written in the background
	w, err := wasi.Restore(ctx, rt, ck, cfg.WithStdin(stdin).WithStdout(stdout).WithStderr(stderr),
		wasi.RestoreOptions{AcceptChangedFiles: *acceptChanged})
	if err != nil {
		fmt.Fprintf(stderr, "ferry: restore %s: %v\n", path, err)
		if errors.Is(err, wasi.ErrFileChanged) {
			fmt.Fprintln(stderr, "ferry: if the program may see the file as it is now, pass --accept-changed-files; files copied to another host keep their times with cp -p or rsync -t")
		}
		return exitFail
	}
	defer w.Close(context.WithoutCancel(ctx))
	// A compressed checkpoint of a large memory is read and decompressed
	// for seconds: say how far it got (a mapped one is quick).
	stopProgress := func() {}
	if tty && !cf.quiet {
		if st, err := os.Stat(path); err == nil {
			base := readBytes()
			stopProgress = showProgress(stderr, "restoring "+path, uint64(st.Size()), "", func() uint64 { return readBytes() - base })
		}
	}
	p, err := rt.Restore(ctx, ck, rc)
	stopProgress()
	if err != nil {
		fmt.Fprintf(stderr, "ferry: restore %s: %v\n", path, err)
		return exitFail
	}
	if *verbose {
		for _, c := range p.CallsiteChanges() {
			fmt.Fprintln(stderr, c)
		}
	}
	done, known := p.PauseCount()
	sup := &supervisor{flags: cf, trig: trig, inst: p.Instance(), w: w, stderr: stderr, done: done - 1, known: known, resumed: true, tty: tty}
	results, err := sup.run(ctx, func(o ferry.CallOptions) ([]uint64, error) { return p.Resume(ctx, o) })
	if errors.Is(err, ferry.ErrCheckpointCorrupt) {
		// Memory data found corrupt while the program ran
		// (--verify-memory=concurrent: it was stopped before any effect;
		// first-touch: before any effect that depended on the corrupt
		// chunk).
		fmt.Fprintf(stderr, "ferry: restore %s: %v\n", path, err)
		return exitFail
	}
	if err = terminated(ctx, notLost(ctx, err)); err != nil {
		return reportCallError(stderr, path, withRestoredSourceLines(err, module, path))
	}
	if sup.stopped {
		return exitOK
	}
	// The results of a call run with ferry run --invoke, printed as it
	// would have (a _start has none).
	return printResults(stdout, stderr, path, p.ResultTypes(), results)
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/wasi"
)

// The checkpoint flags shared by ferry run and ferry restore.
const checkpointFlagsUsage = `Checkpoints:
  --checkpoint-to PATH
                  write a checkpoint to PATH when a trigger fires (replacing
                  the previous one atomically); PATH's directory must exist
                  when ferry starts. Without --leave-running the
                  program then stops and ferry exits 0 after saying where the
                  checkpoint is. Continue it with "ferry restore PATH".
  --checkpoint-on TRIGGER
                  when to checkpoint (repeatable; default signal:USR1):
                    signal:NAME     on the signal NAME (USR1, USR2, HUP, ...)
                    interval:DUR    every DUR (e.g. 30s, 5m)
                    pause:N         at the N-th polled pause point, counted
                                    from the start of the run (a restored
                                    run counts on from its checkpoint); if
                                    the program ends first, no checkpoint,
                                    and ferry says so at the end
                    stdin           when the program first waits for
                                    standard input (a booted server before
                                    its first request): the read is issued
                                    again by "echo req | ferry restore";
                                    only a pipe, terminal or socket can
                                    make it wait; if it never does, no
                                    checkpoint, and ferry says so at the end
  --leave-running keep the program running after each checkpoint: it is
                  paused only while the checkpoint is written to the page
                  cache, and the file is synced in the background; ferry
                  waits for the last one before it exits
  --checkpoint-copy-memory
                  with --leave-running, pause the program only while its
                  memory is copied (into the previous checkpoint's copy,
                  from the second one on), and write the copy in the
                  background: a shorter pause (about a fifth), for twice
                  the memory; always so with --checkpoint-compress
  --checkpoint-no-module
                  leave the module bytes out of the checkpoint (it keeps
                  their SHA-256; restore then needs --module)
  --checkpoint-compress
                  compress the checkpoint (zstd); a restore then copies
                  memory instead of mapping it
  --checkpoint-close-connections
                  close the connections the program accepted when a
                  checkpoint is taken (it then sees peers that hung up:
                  reads end, writes fail with EPIPE) instead of refusing
                  the checkpoint, which is the default: a connection's
                  peer and bytes in flight cannot move to another process
  --sign-key FILE sign checkpoints with the key in FILE ("ferry keygen --out")
                  instead of this user's own key
  -q, --quiet     say nothing of checkpoints written (failures still).
                  Otherwise each gets a line with its size and time, and on
                  a terminal one that takes over half a second shows its
                  progress meanwhile (bytes, rate, time left at most)
  --no-sign       write checkpoints unsigned. By default they are signed
                  with this user's own key (made on first use, see "ferry
                  keygen"), so that restoring them where that key is
                  trusted keeps their pre-opens without --dir
  A checkpoint that fails (refused, or not writable) leaves the previous
  one in place and the program running; stderr says why.
`

// checkpointFlags are the parsed checkpoint flags.
type checkpointFlags struct {
	to           string
	on           listFlag
	leaveRunning bool
	noModule     bool
	compress     bool
	closeConns   bool
	copyMemory   bool
	signKeyFile  string
	noSign       bool
	quiet        bool
	// signer signs the checkpoints (nil: unsigned); set by parse.
	signer *ferry.SigningKey
}

func (c *checkpointFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.to, "checkpoint-to", "", "write checkpoints to PATH")
	fs.Var(&c.on, "checkpoint-on", "checkpoint trigger")
	fs.BoolVar(&c.leaveRunning, "leave-running", false, "keep running after a checkpoint")
	fs.BoolVar(&c.noModule, "checkpoint-no-module", false, "leave the module out of checkpoints")
	fs.BoolVar(&c.compress, "checkpoint-compress", false, "compress checkpoints")
	fs.BoolVar(&c.closeConns, "checkpoint-close-connections", false, "close accepted connections at a checkpoint instead of refusing it")
	fs.BoolVar(&c.copyMemory, "checkpoint-copy-memory", false, "with --leave-running, copy the memory while paused and write the copy in the background")
	fs.StringVar(&c.signKeyFile, "sign-key", "", "sign checkpoints with the key in FILE")
	fs.BoolVar(&c.noSign, "no-sign", false, "write checkpoints unsigned")
	fs.BoolVar(&c.quiet, "q", false, "say nothing of checkpoints written")
	fs.BoolVar(&c.quiet, "quiet", false, "say nothing of checkpoints written")
}

// triggers is the parsed set of --checkpoint-on values.
type triggers struct {
	signals   []os.Signal
	intervals []time.Duration
	points    []int64 // pause:N, sorted, distinct
	stdin     *stdinTrigger
}

// stdinTrigger is --checkpoint-on stdin: the WASI stdin-wait hook
// (wasi.Config.WithStdinWait) requests a pause the first time the
// program is about to block reading standard input. The pause lands in
// that read, a host call, which has consumed nothing: the checkpoint's
// program reads its input from whoever restores it.
type stdinTrigger struct {
	// inst is the instance the supervisor runs, set while it is armed.
	inst  atomic.Pointer[ferry.Instance]
	fired atomic.Bool
}

// wait is the hook, called in the guest's call before the read blocks.
func (t *stdinTrigger) wait() {
	if inst := t.inst.Load(); inst != nil && t.fired.CompareAndSwap(false, true) {
		inst.RequestPause()
	}
}

// withStdinWait adds the stdin trigger's hook to the guest's WASI
// configuration when it is armed.
func (t triggers) withStdinWait(cfg wasi.Config) wasi.Config {
	if t.stdin == nil {
		return cfg
	}
	return cfg.WithStdinWait(t.stdin.wait)
}

var signalNames = map[string]syscall.Signal{
	"USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "HUP": syscall.SIGHUP,
	"TERM": syscall.SIGTERM, "QUIT": syscall.SIGQUIT, "WINCH": syscall.SIGWINCH,
	"ALRM": syscall.SIGALRM,
}

// parse checks the flags; with no trigger given, signal:USR1 is the one.
func (c *checkpointFlags) parse() (triggers, error) {
	var t triggers
	if c.to == "" {
		if len(c.on) > 0 || c.leaveRunning || c.noModule || c.compress || c.closeConns || c.copyMemory || c.signKeyFile != "" || c.noSign {
			return t, errors.New("--checkpoint-on, --leave-running, --checkpoint-no-module, --checkpoint-compress, --checkpoint-close-connections, --checkpoint-copy-memory, --sign-key and --no-sign need --checkpoint-to")
		}
		return t, nil
	}
	if c.copyMemory && !c.leaveRunning {
		return t, errors.New("--checkpoint-copy-memory needs --leave-running")
	}
	// A directory that is not there was only noticed when the trigger
	// fired, maybe hours into the run.
	if st, err := os.Stat(c.to); err == nil && st.IsDir() {
		return t, fmt.Errorf("--checkpoint-to %s: is a directory; give the checkpoint's file name", c.to)
	}
	if st, err := os.Stat(filepath.Dir(c.to)); err != nil {
		return t, fmt.Errorf("--checkpoint-to %s: %w", c.to, err)
	} else if !st.IsDir() {
		return t, fmt.Errorf("--checkpoint-to %s: %s is not a directory", c.to, filepath.Dir(c.to))
	}
	if err := c.loadSigner(); err != nil {
		return t, err
	}
	on := c.on
	if len(on) == 0 {
		on = listFlag{"signal:USR1"}
	}
	for _, s := range on {
		kind, arg, _ := strings.Cut(s, ":")
		switch kind {
		case "signal":
			sig, ok := signalNames[strings.TrimPrefix(strings.ToUpper(arg), "SIG")]
			if !ok {
				return t, fmt.Errorf("--checkpoint-on %q: unknown signal (USR1, USR2, HUP, TERM, QUIT, WINCH, ALRM)", s)
			}
			t.signals = append(t.signals, sig)
		case "interval":
			d, err := time.ParseDuration(arg)
			if err != nil || d <= 0 {
				return t, fmt.Errorf("--checkpoint-on %q: want a positive duration such as 30s", s)
			}
			t.intervals = append(t.intervals, d)
		case "pause":
			n, err := strconv.ParseInt(arg, 10, 64)
			if err != nil || n < 1 {
				return t, fmt.Errorf("--checkpoint-on %q: want a pause point number of at least 1", s)
			}
			t.points = append(t.points, n)
		case "stdin":
			if arg != "" || strings.HasSuffix(s, ":") {
				return t, fmt.Errorf("--checkpoint-on %q: stdin takes no argument", s)
			}
			t.stdin = &stdinTrigger{}
		default:
			return t, fmt.Errorf("--checkpoint-on %q: want signal:NAME, interval:DURATION, pause:N or stdin", s)
		}
	}
	sort.Slice(t.points, func(i, j int) bool { return t.points[i] < t.points[j] })
	return t, nil
}

// errTerminated is the cause of a run stopped by SIGTERM.
var errTerminated = errors.New("terminated (SIGTERM)")

// onTerm makes SIGTERM, which orchestrators send before they kill, stop
// the program as SIGINT does: at its next pause point, a checkpoint being
// written finished first (a background one too: the supervisor waits for
// it), and ferry exits 143. Go's default, dying at once, lost a checkpoint
// in the middle of its write. With --checkpoint-on signal:TERM the signal
// is a checkpoint trigger instead, and this does nothing.
func (t triggers) onTerm(ctx context.Context) (context.Context, func()) {
	for _, s := range t.signals {
		if s == syscall.SIGTERM {
			return ctx, func() {}
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-ch:
			cancel(errTerminated)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// stopCause names what cancelled ctx.
func stopCause(ctx context.Context) string {
	if errors.Is(context.Cause(ctx), errTerminated) {
		return "SIGTERM"
	}
	return "interrupted"
}

// terminated turns the cancellation of a run SIGTERM stopped into
// errTerminated, for its message and exit status.
func terminated(ctx context.Context, err error) error {
	if errors.Is(err, context.Canceled) && errors.Is(context.Cause(ctx), errTerminated) {
		return errTerminated
	}
	return err
}

// loadSigner finds the key that signs the checkpoints: --sign-key's, or
// this user's own, made now if there is none, so that the first
// checkpoint is signed like every later one.
func (c *checkpointFlags) loadSigner() error {
	switch {
	case c.noSign && c.signKeyFile != "":
		return errors.New("--no-sign contradicts --sign-key")
	case c.noSign:
		return nil
	case c.signKeyFile != "":
		b, err := os.ReadFile(c.signKeyFile)
		if err != nil {
			return fmt.Errorf("--sign-key: %w", err)
		}
		k, err := ferry.ParseSigningKey(b)
		if err != nil {
			return fmt.Errorf("--sign-key %s: %w", c.signKeyFile, err)
		}
		c.signer = &k
		return nil
	}
	k, _, _, err := ownSigningKey(true)
	if err != nil {
		return fmt.Errorf("this user's signing key: %w (pass --sign-key FILE, or --no-sign to write unsigned checkpoints)", err)
	}
	c.signer = &k
	return nil
}

// supervisor drives a guest call under the checkpoint flags: it arms the
// triggers, writes a checkpoint whenever the call pauses, and either stops
// or resumes it.
type supervisor struct {
	flags  checkpointFlags
	trig   triggers
	inst   *ferry.Instance
	w      *wasi.Module
	stderr io.Writer
	// done is the pause count before the leg about to run: the number of
	// pause points polled since the start of the run; known says whether
	// it is. resumed says that the leg resumes from a checkpoint taken at
	// pause point done+1: its first poll is that point again, which must
	// not trigger a second checkpoint.
	done    int64
	known   bool
	resumed bool
	// stopped is set when the program stopped at a checkpoint.
	stopped bool
	// writing is closed when the checkpoint written in the background
	// (--leave-running) is done; nil when none is.
	writing chan struct{}
	// lastCapture is the capture last written in the background, set
	// before writing is closed and read only after waiting for it.
	lastCapture *ferry.Capture
	// pausedAt is when the checkpoint being taken started.
	pausedAt time.Time
	// tty says that ferry's stderr is a terminal: long checkpoints then
	// show their progress there.
	tty bool
	// ctx is the run's: SIGINT or SIGTERM cancels it.
	ctx context.Context
	// nWritten counts the checkpoints written.
	nWritten int
}

// nextPauseAfter is the CallOptions.PauseAfter of the next leg: the
// distance to the next pause:N trigger, or 0.
func (s *supervisor) nextPauseAfter() int64 {
	if len(s.trig.points) == 0 {
		return 0
	}
	if !s.known {
		// A run restored from a checkpoint whose pause count is unknown
		// (taken on a signal without pause:N) counts from the restore.
		s.done, s.known, s.resumed = 0, true, false
	}
	passed := s.done
	if s.resumed {
		passed++
	}
	for _, n := range s.trig.points {
		if n > passed {
			return n - s.done
		}
	}
	return 0
}

// run calls first (a call or a resume) with the next leg's options and
// handles every pause until the call ends or stops at a checkpoint.
func (s *supervisor) run(ctx context.Context, first func(ferry.CallOptions) ([]uint64, error)) ([]uint64, error) {
	if s.flags.to == "" {
		return first(ferry.CallOptions{})
	}
	s.ctx = ctx
	stop := s.arm()
	defer stop()
	defer s.waitWritten() // the last checkpoint is whole before ferry exits
	s.warnBehind()
	leg := first
	for {
		o := ferry.CallOptions{PauseAfter: s.nextPauseAfter()}
		results, err := leg(o)
		var p *ferry.Paused
		if !errors.As(err, &p) {
			var exit *wasi.ExitError
			if err == nil || errors.As(err, &exit) {
				s.warnUnfired()
			}
			return results, err
		}
		n, known := p.PauseCount()
		where := ""
		if known {
			where = fmt.Sprintf(" at pause point %d", n)
		}
		cfg := ferry.NewCheckpointConfig().WithModule(!s.flags.noModule).WithCompression(s.flags.compress).WithHostState(s.w)
		if s.flags.signer != nil {
			cfg = cfg.WithSigningKey(*s.flags.signer)
		}
		start := time.Now()
		s.pausedAt = start
		if s.flags.leaveRunning {
			s.checkpointInBackground(p, cfg, where)
		} else if err := s.withProgress(func() error { return p.WriteCheckpointFile(s.flags.to, cfg) }); err != nil {
			s.failed(where, err)
		} else {
			s.written(where, start, 0, fmt.Sprintf("; the program stopped (continue with: ferry restore %s)", s.flags.to))
			s.stopped = true
			return nil, nil
		}
		// The resume's first poll is the pause point it stopped at.
		s.done, s.known, s.resumed = n-1, known, true
		leg = func(o ferry.CallOptions) ([]uint64, error) { return p.Resume(ctx, o) }
	}
}

// passed is the number of pause points the run has gone past.
func (s *supervisor) passed() int64 {
	if s.resumed {
		return s.done + 1
	}
	return s.done
}

// warnBehind says which pause:N triggers of a restored run are behind its
// checkpoint: a restored run counts on from it, so they cannot fire.
func (s *supervisor) warnBehind() {
	if !s.known || !s.resumed {
		return
	}
	for _, n := range s.trig.points {
		if n <= s.passed() {
			fmt.Fprintf(s.stderr, "ferry: --checkpoint-on pause:%d cannot fire: the run restored is at pause point %d already (pause points count on from the start of the run)\n", n, s.passed())
		}
	}
}

// warnUnfired says which pause:N triggers the program ended before: a
// checkpoint that silently never came was taken for one written somewhere.
func (s *supervisor) warnUnfired() {
	if !s.known && len(s.trig.points) > 0 {
		s.nextPauseAfter() // a run whose count was unknown counts from the restore
	}
	for _, n := range s.trig.points {
		if n > s.passed() {
			fmt.Fprintf(s.stderr, "ferry: --checkpoint-on pause:%d did not fire: the program ended first; no checkpoint was written for it\n", n)
		}
	}
	if t := s.trig.stdin; t != nil && !t.fired.Load() {
		fmt.Fprintln(s.stderr, "ferry: --checkpoint-on stdin did not fire: the program never waited for standard input (it read none, or its input was a file, at end, or already there); no checkpoint was written for it")
	}
}

// failed reports a checkpoint that could not be taken or written. The
// previous checkpoint is intact (writes are atomic) and so is the
// program: it goes on, as if nothing was asked.
func (s *supervisor) failed(where string, err error) {
	fmt.Fprintf(s.stderr, "ferry: checkpoint%s failed, the program continues: %v\n", where, err)
}

// checkpointInBackground checkpoints the paused program and lets it run
// on while the checkpoint is finished; one checkpoint at a time, the
// previous one finishing first. By default the checkpoint is written
// while the program is paused, straight from its memory into a temporary
// file (the page cache), and synced and renamed in the background: no
// copy of the memory, which used to double ferry's resident size. With
// --checkpoint-copy-memory, and always when compressing (compressing
// while paused would stop the program for far longer than a copy), it is
// captured (the memory copied, into the previous capture's copy from the
// second one on) and written in the background.
func (s *supervisor) checkpointInBackground(p *ferry.Paused, cfg ferry.CheckpointConfig, where string) {
	s.waitWritten()
	var finish func() error
	if s.flags.compress || s.flags.copyMemory {
		c, err := p.Capture(cfg, s.lastCapture)
		s.lastCapture = nil
		if err != nil {
			s.failed(where, err)
			return
		}
		finish = func() error {
			defer func() { s.lastCapture = c }() // its buffers serve the next capture
			return s.withProgress(func() error { return c.WriteFile(s.flags.to) })
		}
	} else {
		var staged *ferry.StagedCheckpoint
		err := s.withProgress(func() (err error) {
			staged, err = p.StageCheckpointFile(s.flags.to, cfg)
			return err
		})
		if err != nil {
			s.failed(where, err)
			return
		}
		finish = staged.Commit
	}
	start := time.Now()
	// Copied: the run's next pause sets s.pausedAt while this write may
	// still be going on (a data race TestCLILeaveRunning showed under -race).
	pausedAt := s.pausedAt
	paused := start.Sub(pausedAt)
	done := make(chan struct{})
	s.writing = done
	go func() {
		defer close(done)
		if err := finish(); err != nil {
			s.failed(where, err)
			return
		}
		s.written(where, pausedAt, paused, "")
	}()
}

// written reports a checkpoint written, unless --quiet: its size and the
// time it took (and, when the program ran on, how long it was paused), and
// how many this run has written, since periodic checkpoints to one PATH
// otherwise print identical lines.
func (s *supervisor) written(where string, start time.Time, paused time.Duration, tail string) {
	s.nWritten++
	if s.flags.quiet {
		return
	}
	size := "?"
	if st, err := os.Stat(s.flags.to); err == nil {
		size = byteSize(st.Size())
	}
	took := shortDuration(time.Since(start))
	pause := ""
	if paused > 0 {
		pause = ", paused " + shortDuration(paused)
	}
	fmt.Fprintf(s.stderr, "ferry: checkpoint written to %s%s (#%d, %s in %s%s)%s\n", s.flags.to, where, s.nWritten, size, took, pause, tail)
}

// progressAfter is how long a checkpoint runs before its progress shows:
// the short ones, most of them, print only their final line.
var progressAfter = 500 * time.Millisecond

// withProgress runs write, a checkpoint's write, showing on a terminal
// how far it got: bytes, rate and, against the program's memory (an upper
// bound, pages of zeros being left out), an estimate of the time left. A
// 1 GiB checkpoint takes seconds, and nothing was said meanwhile. The
// checkpoint writer reports no progress and writes memory in a few huge
// write(2)s, so the bytes are read from the file being written: the
// temporary file beside PATH that this process holds open.
func (s *supervisor) withProgress(write func() error) error {
	// Ctrl-C or SIGTERM during a write said nothing while ferry went on
	// writing: say why it does not stop at once.
	if s.ctx != nil {
		written := make(chan struct{})
		defer close(written)
		go func() {
			select {
			case <-s.ctx.Done():
				clear := ""
				if s.tty {
					clear = "\r\x1b[K" // over the progress line, which goes on below
				}
				fmt.Fprintf(s.stderr, "%sferry: %s: finishing the checkpoint being written to %s first\n", clear, stopCause(s.ctx), s.flags.to)
			case <-written:
			}
		}()
	}
	if !s.tty || s.flags.quiet {
		return write()
	}
	dir, err := filepath.Abs(filepath.Dir(s.flags.to))
	if err != nil {
		return write()
	}
	var total uint64
	if m := s.inst.Memory("memory"); m != nil {
		total = m.Size()
	}
	stop := showProgress(s.stderr, "writing checkpoint to "+s.flags.to, total, "at most ", func() uint64 {
		return uint64(max(0, openFileSizeIn(dir)))
	})
	err = write()
	stop()
	return err
}

// showProgress shows on a terminal, from progressAfter on until stop is
// called, how far a long operation got: the bytes done() reports, the
// rate, and against total (0: unknown; bound qualifies it, as "at most ")
// the time left.
func showProgress(w io.Writer, what string, total uint64, bound string, done func() uint64) (stop func()) {
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		start := time.Now()
		tick := time.NewTicker(progressAfter / 2)
		defer tick.Stop()
		shown := false
		for {
			select {
			case <-quit:
				if shown {
					fmt.Fprint(w, "\r\x1b[K")
				}
				return
			case <-tick.C:
			}
			elapsed := time.Since(start)
			if elapsed < progressAfter {
				continue
			}
			n := done()
			rate := float64(n) / elapsed.Seconds()
			line := fmt.Sprintf("ferry: %s: %s", what, byteSize(int64(n)))
			if total > n {
				line += " of " + bound + byteSize(int64(total))
			}
			line += fmt.Sprintf(", %s/s", byteSize(int64(rate)))
			if total > n && rate > 0 {
				line += ", " + bound + shortDuration(time.Duration(float64(total-n)/rate*float64(time.Second))) + " left"
			}
			fmt.Fprint(w, "\r"+line+"\x1b[K")
			shown = true
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}

// readBytes is the number of bytes this process has read with read(2) and
// its kin (/proc/self/io rchar).
func readBytes() uint64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// openFileSizeIn is the size of the largest regular file in dir that this
// process has open: the checkpoint being written (an unnamed O_TMPFILE
// shows as "dir/#inode (deleted)", a named temporary by its name).
func openFileSizeIn(dir string) int64 {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	var size int64
	for _, fd := range fds {
		link := "/proc/self/fd/" + fd.Name()
		target, err := os.Readlink(link)
		if err != nil || filepath.Dir(strings.TrimSuffix(target, " (deleted)")) != dir {
			continue
		}
		if st, err := os.Stat(link); err == nil && st.Mode().IsRegular() {
			size = max(size, st.Size())
		}
	}
	return size
}

// isTTY says whether w is a terminal.
func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// shortDuration rounds d to three or so significant digits.
func shortDuration(d time.Duration) string {
	if d >= 10*time.Second {
		return d.Round(time.Second).String()
	}
	for _, r := range []time.Duration{time.Second, time.Millisecond, time.Microsecond} {
		if d >= r {
			return d.Round(r / 100).String()
		}
	}
	return d.String()
}

// byteSize shows a size in the largest binary unit under which it is at
// least 1.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, u := float64(n), 0
	for v >= unit && u < 4 {
		v /= unit
		u++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGT"[u-1])
}

// waitWritten waits for the checkpoint being written in the background.
func (s *supervisor) waitWritten() {
	if s.writing != nil {
		<-s.writing
		s.writing = nil
	}
}

// lockedWriter serialises writes to ferry's standard error, which the
// guest (through WASI) and checkpoints written in the background share.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// arm starts the signal, interval and stdin triggers; they request a
// pause of the instance, which the running leg honours at its next pause
// point (the stdin trigger's, in the read it is about to block in).
func (s *supervisor) arm() (stop func()) {
	var wg sync.WaitGroup
	quit := make(chan struct{})
	if t := s.trig.stdin; t != nil {
		t.inst.Store(s.inst)
	}
	if len(s.trig.signals) > 0 {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, s.trig.signals...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer signal.Stop(ch)
			for {
				select {
				case <-ch:
					s.inst.RequestPause()
				case <-quit:
					return
				}
			}
		}()
	}
	for _, d := range s.trig.intervals {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(d)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					s.inst.RequestPause()
				case <-quit:
					return
				}
			}
		}()
	}
	return func() {
		if t := s.trig.stdin; t != nil {
			t.inst.Store(nil)
		}
		close(quit)
		wg.Wait()
	}
}

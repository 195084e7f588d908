// Command restorebench times what issue 13 asks of a restore: a booted
// program (one that waits for a request on stdin) restored from its
// checkpoint and answering its first request, against booting it from
// scratch, for a big module (≥20 MB of code: build one with GOOS=wasip1
// GOARCH=wasm go build; the checkpoint is made here). Rows:
//
//	boot            ferry run FILE.wasm                  (validate, lower, boot)
//	boot, cache     ferry run --cache-dir C FILE.wasm    (boot, code from the cache)
//	restore, cold   ferry restore CKPT                   (no cache: the module is compiled)
//	restore, warm   ferry restore --cache-dir C CKPT     (the code from the cache)
//	in-process      Runtime.Restore of the module compiled once (Go API, one process)
//	wasmtime .cwasm wasmtime booting from its own precompiled .cwasm (cgo builds only)
//
// Each fresh process is given one line on stdin and timed from its start
// to the first line it prints (the first response), then to its exit; its
// CPU time comes from the kernel (rusage), its peak RSS at the first
// response from /proc. The in-process
// row restores with RestoreConfig.WithCompiledModule and times Restore to
// the first line written. The rows run round-robin, -n times each, and the
// medians are printed. Every run must print the line the booted program
// prints for the input.
//
//	cd bench && go run ./cmd/restorebench -wasm /tmp/big.wasm [-n 5] [-input hi] [-want "echo: HI"]
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/wasi"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-wasmtime-cwasm" && wasmtimeRun != nil {
		os.Exit(wasmtimeRun(os.Args[2]))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// wasmtimeCompile writes the module's .cwasm, and wasmtimeRun runs one as
// a WASI command with this process's streams; both nil without wasmtime
// (wasmtime.go, cgo builds only).
var (
	wasmtimeCompile func(wasm []byte, out string) error
	wasmtimeRun     func(cwasm string) int
)

// sample is one timed run.
type sample struct {
	first, exit time.Duration // to the first response, to the exit
	cpu         time.Duration // user + system
	rssKB       int64
}

// row is a way of getting the program to its first response.
type row struct {
	name    string
	exe     string   // the process to run (ferry's when "")
	args    []string // nil for the in-process row
	samples []sample
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("restorebench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wasmPath := fs.String("wasm", "", "the module, a WASI command that answers lines of stdin (required)")
	reps := fs.Int("n", 5, "timed `runs` per row (the median is reported)")
	input := fs.String("input", "hi", "the request: one line given on stdin")
	want := fs.String("want", "echo: HI", "the first line the program must print for it")
	ferryBin := fs.String("ferry", "", "the ferry binary (default: built from ../cmd/ferry)")
	work := fs.String("dir", "", "the working directory (default: a temporary one, removed after)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *wasmPath == "" || *reps < 1 {
		fmt.Fprintln(stderr, "restorebench: -wasm is required, -n at least 1")
		return 2
	}
	if err := bench(*wasmPath, *reps, *input, *want, *ferryBin, *work, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "restorebench:", err)
		return 1
	}
	return 0
}

func bench(wasmPath string, reps int, input, want, ferryBin, work string, stdout, stderr io.Writer) error {
	wasmPath, err := filepath.Abs(wasmPath)
	if err != nil {
		return err
	}
	if work == "" {
		if work, err = os.MkdirTemp("", "restorebench"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	if ferryBin == "" {
		ferryBin = filepath.Join(work, "ferry")
		fmt.Fprintln(stderr, "building ferry")
		if out, err := exec.Command("go", "build", "-o", ferryBin, "../cmd/ferry").CombinedOutput(); err != nil {
			return fmt.Errorf("go build ../cmd/ferry: %v\n%s", err, out)
		}
	}
	cache, ckpt := filepath.Join(work, "cache"), filepath.Join(work, "boot.ckpt")
	fmt.Fprintln(stderr, "filling the code cache and booting to the checkpoint")
	if out, err := exec.Command(ferryBin, "compile", "--cache-dir", cache, wasmPath).CombinedOutput(); err != nil {
		return fmt.Errorf("ferry compile: %v\n%s", err, out)
	}
	if err := checkpoint(ferryBin, wasmPath, ckpt); err != nil {
		return err
	}
	rows := []*row{
		{name: "boot", args: []string{"run", wasmPath}},
		{name: "boot, cache", args: []string{"run", "--cache-dir", cache, wasmPath}},
		{name: "restore, cold", args: []string{"restore", ckpt}},
		{name: "restore, warm", args: []string{"restore", "--cache-dir", cache, ckpt}},
		{name: "in-process"},
	}
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		return err
	}
	if wasmtimeCompile == nil {
		fmt.Fprintln(stderr, "no wasmtime row: this build has no wasmtime (cgo off or the nowasmtime tag)")
	} else {
		cwasm := filepath.Join(work, "module.cwasm")
		fmt.Fprintln(stderr, "compiling the .cwasm for wasmtime")
		if err := wasmtimeCompile(wasm, cwasm); err != nil {
			return fmt.Errorf("wasmtime compile: %w", err)
		}
		self, err := os.Executable()
		if err != nil {
			return err
		}
		rows = append(rows, &row{name: "wasmtime .cwasm", exe: self, args: []string{"-wasmtime-cwasm", cwasm}})
	}
	inproc, err := newInProcess(wasm, ckpt)
	if err != nil {
		return err
	}
	defer inproc.close()
	for i := -1; i < reps; i++ { // round -1 warms the page cache, untimed
		for _, r := range rows {
			var s sample
			if r.args == nil {
				s, err = inproc.restore(input, want)
			} else {
				exe := r.exe
				if exe == "" {
					exe = ferryBin
				}
				s, err = timeProcess(exe, r.args, input, want)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			if i >= 0 {
				r.samples = append(r.samples, s)
			}
		}
	}
	fmt.Fprintf(stdout, "%s, %d runs per row, medians (load average %s)\n", filepath.Base(wasmPath), reps, loadAverage())
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tfirst response\texit\tuser+sys CPU\tpeak RSS at response\t")
	for _, r := range rows {
		m := median(r.samples)
		// The in-process row has no process of its own to measure.
		rss, exit, cpu := "-", "-", "-"
		if r.args != nil {
			rss, exit, cpu = fmt.Sprintf("%.0f MiB", float64(m.rssKB)/1024), ms(m.exit), ms(m.cpu)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", r.name, ms(m.first), exit, cpu, rss)
	}
	return tw.Flush()
}

// checkpoint boots the program to its first read of stdin and writes the
// checkpoint there (ferry run --checkpoint-on stdin), its stdin a pipe
// that stays open and empty.
func checkpoint(ferryBin, wasmPath, ckpt string) error {
	cmd := exec.Command(ferryBin, "run", "--checkpoint-to", ckpt, "--checkpoint-on", "stdin", wasmPath)
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	defer in.Close()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("booting to the checkpoint: %v\n%s", err, out.Bytes())
	}
	if _, err := os.Stat(ckpt); err != nil {
		return fmt.Errorf("no checkpoint written:\n%s", out.Bytes())
	}
	return nil
}

// timeProcess runs exe args with input on stdin and times it. Its peak
// RSS is read from /proc (VmHWM) once it has answered, while its stdin is
// still open: the kernel's rusage would not do, since a child started by
// vfork and exec keeps its parent's peak (this process's, which holds a
// compiled module for the in-process row) as its own.
func timeProcess(exe string, args []string, input, want string) (sample, error) {
	var s sample
	cmd := exec.Command(exe, args...)
	in, err := cmd.StdinPipe()
	if err != nil {
		return s, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return s, err
	}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return s, err
	}
	io.WriteString(in, input+"\n")
	line, rerr := bufio.NewReader(out).ReadString('\n')
	s.first = time.Since(start)
	s.rssKB = peakRSS(cmd.Process.Pid)
	in.Close()
	io.Copy(io.Discard, out)
	err = cmd.Wait()
	s.exit = time.Since(start)
	if err != nil {
		return s, fmt.Errorf("%v\n%s", err, errOut.Bytes())
	}
	if rerr != nil || strings.TrimSuffix(line, "\n") != want {
		return s, fmt.Errorf("first line %q (%v), want %q\n%s", line, rerr, want, errOut.Bytes())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return s, nil
}

// peakRSS is the peak resident set size of process pid so far, in KiB
// (VmHWM), 0 if it cannot be read.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// inProcess restores the checkpoint in one runtime, its module compiled
// once: what a platform serving many requests from one process does.
type inProcess struct {
	rt  *ferry.Runtime
	cm  *ferry.CompiledModule
	ck  *ferry.Checkpoint
	ctx context.Context
}

func newInProcess(wasm []byte, ckpt string) (*inProcess, error) {
	ctx := context.Background()
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	cm, err := rt.Compile(ctx, wasm)
	if err != nil {
		rt.Close(ctx)
		return nil, err
	}
	ck, err := ferry.OpenCheckpoint(ckpt)
	if err != nil {
		rt.Close(ctx)
		return nil, err
	}
	return &inProcess{rt: rt, cm: cm, ck: ck, ctx: ctx}, nil
}

func (p *inProcess) close() {
	p.ck.Close()
	p.rt.Close(p.ctx)
}

// firstLine is a stdout that notes when its first line is complete.
type firstLine struct {
	buf  bytes.Buffer
	at   time.Time
	done bool
}

func (w *firstLine) Write(b []byte) (int, error) {
	w.buf.Write(b)
	if !w.done && bytes.IndexByte(w.buf.Bytes(), '\n') >= 0 {
		w.at, w.done = time.Now(), true
	}
	return len(b), nil
}

func (p *inProcess) restore(input, want string) (sample, error) {
	var s sample
	out := &firstLine{}
	start := time.Now()
	cfg := wasi.NewConfig().WithStdin(strings.NewReader(input + "\n")).WithStdout(out).WithStderr(io.Discard)
	w, err := wasi.Restore(p.ctx, p.rt, p.ck, cfg, wasi.RestoreOptions{})
	if err != nil {
		return s, err
	}
	defer w.Close(p.ctx)
	paused, err := p.rt.Restore(p.ctx, p.ck, ferry.NewRestoreConfig().WithCompiledModule(p.cm))
	if err != nil {
		return s, err
	}
	defer paused.Instance().Close(p.ctx)
	_, err = paused.Resume(p.ctx, ferry.CallOptions{})
	if code, err := wasi.ExitCode(err); code != 0 {
		return s, fmt.Errorf("resume: exit %d: %v", code, err)
	}
	line, _, _ := strings.Cut(out.buf.String(), "\n")
	if !out.done || line != want {
		return s, fmt.Errorf("first line %q, want %q", line, want)
	}
	s.first = out.at.Sub(start)
	return s, nil
}

func median(ss []sample) sample {
	pick := func(f func(sample) int64) int64 {
		v := make([]int64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return sample{
		first: time.Duration(pick(func(s sample) int64 { return int64(s.first) })),
		exit:  time.Duration(pick(func(s sample) int64 { return int64(s.exit) })),
		cpu:   time.Duration(pick(func(s sample) int64 { return int64(s.cpu) })),
		rssKB: pick(func(s sample) int64 { return s.rssKB }),
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

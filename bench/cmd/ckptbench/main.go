// Command ckptbench measures what checkpointing costs and buys (issue 5),
// in four sections printed in one run:
//
//  1. poll: the cost of pause-point polling. Ferry with polling on (the
//     default: armed pause points, docs/interpreter.md) against code
//     lowered without any poll (RuntimeConfig.WithPausePolling(false)) on
//     every kernel, in one binary, calls alternating between the two
//     instances; the median ratio per kernel and their geometric mean
//     (target <= 2 %).
//
//  2. write: checkpoint time and file size against touched memory. The
//     guest ckpt/touch.wasm grows its memory to each size and writes every
//     4 KiB page; a call of its probe function is paused at its first pause
//     point (CallOptions.PauseAfter = 1) and written with
//     Paused.WriteCheckpointFile (temporary file, fsync, rename), plain and
//     zstd-compressed.
//
//  3. restore: time to the first executed instruction for the same
//     checkpoints: OpenCheckpoint + Runtime.Restore in a fresh runtime
//     ("restore": the guest can run from then on), then Paused.Resume,
//     which runs probe's one load and returns ("+result" is the whole
//     span, up to the resumed call's result). For each memory
//     verification setting of the mapped file (RestoreConfig.
//     WithMemoryVerification: concurrent, the default, whose result is
//     held back until the check passed; before-run; off), and for the
//     compressed file (copied, not mapped, checked as it is read), and for
//     the file signed and opened trusting its key (concurrent, before-run).
//
//  4. boot: a booted app. ckpt/bootapp.wasm spends a couple of seconds
//     building tables, prints "ready" on stderr and serves requests from
//     stdin. Time from process start to the first response line, through
//     the ferry command in separate processes: a cold `ferry run`, against
//     `ferry restore` of a checkpoint that `ferry run --checkpoint-to CK
//     --checkpoint-on signal:USR1` wrote when sent SIGUSR1 after "ready"
//     (the app then blocks in fd_read on stdin; the pause interrupts the
//     read, which has consumed nothing, and the restore issues it again).
//
//     cd bench && go run ./cmd/ckptbench [-n 5] [-sections poll,write,restore,boot] [-sizes 16,64,256,1024] [-dense]
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/bench"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

type options struct {
	reps, pollReps int
	sections       map[string]bool
	kernels        string
	sizes          []int // MiB
	dense          bool
	dir            string
	ferryBin       string
	records        int
	request        string
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ckptbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.reps, "n", 5, "timed `repetitions` per cell of the write, restore and boot sections (the median is reported)")
	fs.IntVar(&o.pollReps, "poll-n", 11, "timed calls per kernel and configuration in the poll section")
	sections := fs.String("sections", "poll,write,restore,boot", "comma-separated sections to run")
	fs.StringVar(&o.kernels, "kernels", "", "comma-separated kernels for the poll section (default every scalar and SIMD kernel)")
	sizes := fs.String("sizes", "16,64,256,1024", "comma-separated memory sizes in MiB for the write and restore sections")
	fs.BoolVar(&o.dense, "dense", false, "fill every byte of the touched memory (default: one non-zero byte per 4 KiB page)")
	fs.StringVar(&o.dir, "dir", "", "directory for checkpoint files (default a new temporary directory, removed afterwards)")
	fs.StringVar(&o.ferryBin, "ferry", "", "ferry command for the boot section (default: go build ../cmd/ferry into the directory)")
	fs.IntVar(&o.records, "records", 100000, "records bootapp builds at start-up (about 2 s under ferry on a loaded 2-core machine)")
	fs.StringVar(&o.request, "request", "rank 0", "the first request sent to bootapp")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.reps < 1 || o.pollReps < 1 {
		fmt.Fprintln(stderr, "ckptbench: -n and -poll-n must be at least 1")
		return 2
	}
	o.sections = map[string]bool{}
	for _, s := range strings.Split(*sections, ",") {
		switch s = strings.TrimSpace(s); s {
		case "poll", "write", "restore", "boot":
			o.sections[s] = true
		case "":
		default:
			fmt.Fprintf(stderr, "ckptbench: unknown section %q (poll, write, restore, boot)\n", s)
			return 2
		}
	}
	for _, s := range strings.Split(*sizes, ",") {
		mib, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || mib < 1 || mib > 4095 {
			fmt.Fprintf(stderr, "ckptbench: bad size %q (MiB, 1 to 4095)\n", s)
			return 2
		}
		o.sizes = append(o.sizes, mib)
	}
	if o.dir == "" {
		d, err := os.MkdirTemp("", "ckptbench")
		if err != nil {
			fmt.Fprintln(stderr, "ckptbench:", err)
			return 1
		}
		defer os.RemoveAll(d)
		o.dir = d
	}

	ctx := context.Background()
	printed := false
	section := func(name string, f func() error) bool {
		if !o.sections[name] {
			return true
		}
		if printed {
			fmt.Fprintln(stdout)
		}
		printed = true
		if err := f(); err != nil {
			fmt.Fprintf(stderr, "ckptbench: %s: %v\n", name, err)
			return false
		}
		return true
	}
	ok := section("poll", func() error { return pollSection(ctx, o, stdout) })
	// One pass measures both write and restore; it runs for either.
	for _, name := range []string{"write", "restore"} {
		if o.sections[name] {
			ok = section(name, func() error { return memorySections(ctx, o, stdout) }) && ok
			break
		}
	}
	ok = section("boot", func() error { return bootSection(o, stdout, stderr) }) && ok
	if !ok {
		fmt.Fprintln(stderr, "ckptbench: FAILED (see above)")
		return 1
	}
	return 0
}

// ---- 1. pause-polling overhead ----

func pollSection(ctx context.Context, o options, w io.Writer) error {
	scalar, err := bench.Kernels()
	if err != nil {
		return err
	}
	simd, err := bench.SIMDKernels()
	if err != nil {
		return err
	}
	kernels := append(scalar, simd...)
	if o.kernels != "" {
		want := map[string]bool{}
		for _, n := range strings.Split(o.kernels, ",") {
			want[strings.TrimSpace(n)] = true
		}
		var keep []bench.Kernel
		for _, k := range kernels {
			if want[k.Name] {
				keep = append(keep, k)
			}
		}
		kernels = keep
	}
	var on, off *bench.Runtime
	for _, rt := range bench.AllRuntimes() {
		switch rt.Name {
		case bench.NameFerry:
			on = &rt
		case bench.NameFerryNoPoll:
			off = &rt
		}
	}
	if on == nil || off == nil {
		return errors.New("Ferry is not in this build")
	}
	fmt.Fprintf(w, "== poll: pause polling on (default) vs off, %d alternating calls each ==\n", o.pollReps)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "kernel\tsimd\tpolling on\tpolling off\ton/off\toverhead\tmin on/off\t\n")
	var logAll, logScalar float64
	var nAll, nScalar int
	for _, k := range kernels {
		on, off, err := alternate(ctx, *on, *off, k, o.pollReps)
		if err != nil {
			return fmt.Errorf("%s: %w", k.Name, err)
		}
		tOn, tOff := median(on), median(off)
		r := float64(tOn) / float64(tOff)
		logAll += math.Log(r)
		nAll++
		if !k.SIMD {
			logScalar += math.Log(r)
			nScalar++
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\t%s\t%.3f\t%+.1f%%\t%.3f\t\n", k.Name, yes(k.SIMD), fmtDur(tOn), fmtDur(tOff), r, (r-1)*100,
			float64(minimum(on))/float64(minimum(off)))
	}
	tw.Flush()
	fmt.Fprintf(w, "(median per cell; on/off > 1 means polling costs time; min on/off: ratio of the fastest calls, less sensitive to load)\n")
	fmt.Fprintf(w, "(polling off: code lowered without any poll instruction, which can be neither paused nor cancelled between host calls)\n")
	if nScalar > 0 {
		g := math.Exp(logScalar / float64(nScalar))
		fmt.Fprintf(w, "geometric mean on/off, %d scalar kernels: %.3f (%+.1f%%; target <= +2%%)\n", nScalar, g, (g-1)*100)
	}
	if nAll > nScalar {
		g := math.Exp(logAll / float64(nAll))
		fmt.Fprintf(w, "geometric mean on/off, all %d kernels: %.3f (%+.1f%%)\n", nAll, g, (g-1)*100)
	}
	return nil
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "-"
}

// alternate loads k in both runtimes and calls them in turn (the order
// swapped every round, so drifting machine load hits both alike); it
// returns the two series of times, after one untimed warm-up call each.
func alternate(ctx context.Context, a, b bench.Runtime, k bench.Kernel, reps int) ([]time.Duration, []time.Duration, error) {
	callA, relA, err := a.Load(ctx, k.Wasm, "run")
	if err != nil {
		return nil, nil, err
	}
	defer relA()
	callB, relB, err := b.Load(ctx, k.Wasm, "run")
	if err != nil {
		return nil, nil, err
	}
	defer relB()
	one := func(call bench.Entry) (time.Duration, error) {
		start := time.Now()
		out, err := call(ctx, k.Arg)
		d := time.Since(start)
		if err != nil {
			return 0, err
		}
		if len(out) != 1 || uint32(out[0]) != k.Want {
			return 0, fmt.Errorf("checksum %v, want %#x", out, k.Want)
		}
		return d, nil
	}
	if _, err := one(callA); err != nil {
		return nil, nil, err
	}
	if _, err := one(callB); err != nil {
		return nil, nil, err
	}
	var ta, tb []time.Duration
	for i := 0; i < reps; i++ {
		first, second := callA, callB
		if i%2 == 1 {
			first, second = callB, callA
		}
		d1, err := one(first)
		if err != nil {
			return nil, nil, err
		}
		d2, err := one(second)
		if err != nil {
			return nil, nil, err
		}
		if i%2 == 1 {
			d1, d2 = d2, d1
		}
		ta, tb = append(ta, d1), append(tb, d2)
	}
	return ta, tb, nil
}

// ---- 2 and 3. checkpoint write and restore against memory size ----

type sizeRow struct {
	mib           int
	touch         time.Duration
	write, writeZ time.Duration
	capture       time.Duration // reusing the previous capture's buffers
	captureFirst  time.Duration // into fresh memory
	size, sizeZ   int64
	restores      [len(restoreKinds)]restoreTimes
}

// restoreTimes are the medians of one restore kind.
type restoreTimes struct {
	restore time.Duration // OpenCheckpoint + Restore
	result  time.Duration // ... + Resume returning
}

// restoreKinds are the columns of the restore table: the mapped file
// under each memory verification setting, the compressed file, then the
// signed file (what `ferry run --checkpoint-to` writes by default) opened
// trusting its key, as `ferry restore` does.
var restoreKinds = [...]struct {
	name   string
	zstd   bool
	signed bool
	verify ferry.MemoryVerification
}{
	{"concurrent", false, false, ferry.VerifyConcurrent},
	{"before-run", false, false, ferry.VerifyBeforeRun},
	{"off", false, false, ferry.VerifyOff},
	{"zstd", true, false, ferry.VerifyConcurrent},
	{"signed", false, true, ferry.VerifyConcurrent},
	{"signed before-run", false, true, ferry.VerifyBeforeRun},
}

func memorySections(ctx context.Context, o options, w io.Writer) error {
	var rows []sizeRow
	for _, mib := range o.sizes {
		row, err := measureSize(ctx, o, mib)
		if err != nil {
			return fmt.Errorf("%d MiB: %w", mib, err)
		}
		rows = append(rows, row)
	}
	fill := "one non-zero byte per 4 KiB page"
	if o.dense {
		fill = "every byte written (incompressible)"
	}
	if o.sections["write"] {
		fmt.Fprintf(w, "== write: checkpoint time and size against touched memory (%s), %d writes each ==\n", fill, o.reps)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "memory\ttouch (once)\twrite plain\tsize plain\twrite zstd\tsize zstd\tplain MB/s\tcapture first\tcapture next\t\n")
		for _, r := range rows {
			fmt.Fprintf(tw, "%d MiB\t%s\t%s\t%s\t%s\t%s\t%.0f\t%s\t%s\t\n", r.mib, fmtDur(r.touch), fmtDur(r.write), fmtSize(r.size),
				fmtDur(r.writeZ), fmtSize(r.sizeZ), float64(r.size)/1e6/r.write.Seconds(), fmtDur(r.captureFirst), fmtDur(r.capture))
		}
		tw.Flush()
		fmt.Fprintln(w, "(median per cell; Paused.WriteCheckpointFile: temporary file, fsync, rename; the paused call is probe at its entry;")
		fmt.Fprintln(w, " capture = Paused.Capture, the pause of a --leave-running --checkpoint-copy-memory checkpoint, whose file is then written while the program runs:")
		fmt.Fprintln(w, " the first into fresh memory, the next ones reusing the previous capture's buffers, as periodic checkpoints do)")
	}
	if o.sections["restore"] {
		if o.sections["write"] {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "== restore: fresh runtime, OpenCheckpoint + Restore, then Resume to the first result, %d restores each ==\n", o.reps)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "memory\t")
		for _, k := range restoreKinds {
			fmt.Fprintf(tw, "%s restore\t+result\t", k.name)
		}
		fmt.Fprintln(tw)
		for _, r := range rows {
			fmt.Fprintf(tw, "%d MiB\t", r.mib)
			for _, t := range r.restores {
				fmt.Fprintf(tw, "%s\t%s\t", fmtDur(t.restore), fmtDur(t.result))
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
		fmt.Fprintln(w, "(median per cell; restore = OpenCheckpoint + Runtime.Restore (module decode/validate, instantiate, state checked and")
		fmt.Fprintln(w, " applied, memory mapped copy-on-write from the plain file, or decompressed and copied from the zstd one), after which")
		fmt.Fprintln(w, " the guest runs; +result = the same plus Paused.Resume running probe's one load (a page fault) until the call's")
		fmt.Fprintln(w, " result is returned; concurrent/before-run/off = RestoreConfig.WithMemoryVerification of the stored memory data,")
		fmt.Fprintln(w, " concurrent (the default) holding the result back until its background check passed; signed = the plain file signed")
		fmt.Fprintln(w, " (CheckpointConfig.WithSigningKey) and opened trusting the key (OpenCheckpointWith), concurrent or before-run;")
		fmt.Fprintln(w, " the file is in the page cache)")
	}
	return nil
}

func measureSize(ctx context.Context, o options, mib int) (sizeRow, error) {
	row := sizeRow{mib: mib}
	pages := uint64(mib) * 16 // 64 KiB WebAssembly pages
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt.Close(ctx)
	cm, err := rt.Compile(ctx, bench.TouchWasm())
	if err != nil {
		return row, err
	}
	inst, err := rt.Instantiate(ctx, cm, "")
	if err != nil {
		return row, err
	}
	dense := uint64(0)
	if o.dense {
		dense = 1
	}
	start := time.Now()
	out, err := inst.Function("touch").Call(ctx, pages, dense)
	row.touch = time.Since(start)
	if err != nil {
		return row, err
	}
	if int32(out[0]) != int32(pages) {
		return row, fmt.Errorf("touch returned %d, want %d pages", int32(out[0]), pages)
	}
	// Probe the last touched 4 KiB page: the restored instance must see it.
	addr := uint32(uint64(mib)<<20 - 4096)
	want := bench.TouchByte(addr, o.dense)
	_, err = inst.Function("probe").CallWithOptions(ctx, ferry.CallOptions{PauseAfter: 1}, uint64(addr))
	var p *ferry.Paused
	if !errors.As(err, &p) {
		return row, fmt.Errorf("probe did not pause: %v", err)
	}
	plain := filepath.Join(o.dir, fmt.Sprintf("touch-%d.ck", mib))
	zst := filepath.Join(o.dir, fmt.Sprintf("touch-%d.ck.zst", mib))
	signed := filepath.Join(o.dir, fmt.Sprintf("touch-%d.signed.ck", mib))
	defer os.Remove(plain)
	defer os.Remove(zst)
	defer os.Remove(signed)
	write := func(path string, cfg ferry.CheckpointConfig) (time.Duration, int64, error) {
		var ts []time.Duration
		for i := 0; i < o.reps; i++ {
			start := time.Now()
			if err := p.WriteCheckpointFile(path, cfg); err != nil {
				return 0, 0, err
			}
			ts = append(ts, time.Since(start))
		}
		st, err := os.Stat(path)
		if err != nil {
			return 0, 0, err
		}
		return median(ts), st.Size(), nil
	}
	if row.write, row.size, err = write(plain, ferry.NewCheckpointConfig()); err != nil {
		return row, err
	}
	if row.writeZ, row.sizeZ, err = write(zst, ferry.NewCheckpointConfig().WithCompression(true)); err != nil {
		return row, err
	}
	// The pause of a --leave-running --checkpoint-copy-memory checkpoint:
	// the capture (present pages copied), after which the program runs
	// while the file is written. (The default stages the file from the
	// paused memory instead: BenchmarkPeriodicCheckpointPause.)
	var tc []time.Duration
	var last *ferry.Capture
	for i := 0; i <= o.reps; i++ {
		start := time.Now()
		c, err := p.Capture(ferry.NewCheckpointConfig(), last)
		if err != nil {
			return row, err
		}
		if i == 0 {
			row.captureFirst = time.Since(start)
		} else {
			tc = append(tc, time.Since(start))
		}
		last = c
	}
	row.capture = median(tc)

	key, err := ferry.GenerateSigningKey()
	if err != nil {
		return row, err
	}
	if o.sections["restore"] {
		if err := p.WriteCheckpointFile(signed, ferry.NewCheckpointConfig().WithSigningKey(key)); err != nil {
			return row, err
		}
	}
	// Free the source instance's memory before restoring copies of it.
	rt.Close(ctx)

	restore := func(path string, open ferry.OpenConfig, cfg ferry.RestoreConfig) (time.Duration, time.Duration, error) {
		var tr, tf []time.Duration
		for i := 0; i < o.reps; i++ {
			rt2 := ferry.NewRuntime(ferry.NewRuntimeConfig())
			start := time.Now()
			ck, err := ferry.OpenCheckpointWith(path, open)
			if err != nil {
				rt2.Close(ctx)
				return 0, 0, err
			}
			p2, err := rt2.Restore(ctx, ck, cfg)
			restored := time.Since(start)
			if err != nil {
				ck.Close()
				rt2.Close(ctx)
				return 0, 0, err
			}
			out, err := p2.Resume(ctx, ferry.CallOptions{})
			first := time.Since(start)
			rt2.Close(ctx)
			ck.Close()
			if err != nil {
				return 0, 0, fmt.Errorf("resume: %w", err)
			}
			if len(out) != 1 || uint32(out[0]) != want {
				return 0, 0, fmt.Errorf("restored probe(%#x) = %v, want %d", addr, out, want)
			}
			tr, tf = append(tr, restored), append(tf, first)
		}
		return median(tr), median(tf), nil
	}
	if !o.sections["restore"] {
		return row, nil
	}
	for i, k := range restoreKinds {
		path, open := plain, ferry.NewOpenConfig()
		switch {
		case k.zstd:
			path = zst
		case k.signed:
			path, open = signed, open.WithTrustedKey(key.Trusted())
		}
		t := &row.restores[i]
		if t.restore, t.result, err = restore(path, open, ferry.NewRestoreConfig().WithMemoryVerification(k.verify)); err != nil {
			return row, fmt.Errorf("%s: %w", k.name, err)
		}
	}
	return row, nil
}

// ---- 4. booted app: cold start vs restore, through the ferry command ----

func bootSection(o options, w, stderr io.Writer) error {
	bin := o.ferryBin
	if bin == "" {
		var err error
		if bin, err = buildFerry(o.dir, stderr); err != nil {
			return err
		}
	}
	wasm := filepath.Join(o.dir, "bootapp.wasm")
	if err := os.WriteFile(wasm, bench.BootAppWasm(), 0o644); err != nil {
		return err
	}
	args := []string{wasm, strconv.Itoa(o.records)}
	ck := filepath.Join(o.dir, "bootapp.ck")
	defer os.Remove(ck)

	// The checkpoint: ferry run, SIGUSR1 once "ready" is on stderr.
	ckTime, ready, err := takeCheckpoint(bin, args, ck)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	st, err := os.Stat(ck)
	if err != nil {
		return err
	}
	var cold, warm []time.Duration
	var want string
	for i := 0; i < o.reps; i++ {
		// Alternate the order so machine-load drift hits both alike.
		for _, restored := range []bool{i%2 == 1, i%2 == 0} {
			var cmd *exec.Cmd
			if restored {
				cmd = exec.Command(bin, "restore", ck)
			} else {
				cmd = exec.Command(bin, append([]string{"run"}, args...)...)
			}
			d, line, err := firstResponse(cmd, o.request)
			if err != nil {
				return fmt.Errorf("restored=%v: %w", restored, err)
			}
			if want == "" {
				want = line
			} else if line != want {
				return fmt.Errorf("restored=%v: first response %q, another run gave %q", restored, line, want)
			}
			if restored {
				warm = append(warm, d)
			} else {
				cold = append(cold, d)
			}
		}
	}
	fmt.Fprintf(w, "== boot: time to first response, bootapp %d records, ferry command in a fresh process, %d runs each ==\n", o.records, o.reps)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "start\tmedian\tmin\tspeedup\t\n")
	mc, mw := median(cold), median(warm)
	fmt.Fprintf(tw, "ferry run (cold boot)\t%s\t%s\t%.2fx\t\n", fmtDur(mc), fmtDur(minimum(cold)), 1.0)
	fmt.Fprintf(tw, "ferry restore CK\t%s\t%s\t%.2fx\t\n", fmtDur(mw), fmtDur(minimum(warm)), float64(mc)/float64(mw))
	tw.Flush()
	fmt.Fprintf(w, "(fork to the first stdout line answering %q (%q); the app printed %q at boot)\n", o.request, want, ready)
	fmt.Fprintf(w, "checkpoint: %s, taken by `ferry run --checkpoint-to CK --checkpoint-on signal:USR1` on SIGUSR1 after \"ready\"; SIGUSR1 to exit %s\n",
		fmtSize(st.Size()), fmtDur(ckTime))
	return nil
}

// buildFerry builds the ferry command of the Ferry module this bench
// module replaces into dir.
func buildFerry(dir string, stderr io.Writer) (string, error) {
	ferryDir, err := goOutput("", "list", "-m", "-f", "{{.Dir}}", "github.com/ferryvm/ferry")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "ferry")
	fmt.Fprintf(stderr, "building ferry (./cmd/ferry in %s)\n", ferryDir)
	if _, err := goOutput(ferryDir, "build", "-o", bin, "./cmd/ferry"); err != nil {
		return "", err
	}
	return bin, nil
}

func goOutput(dir string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String()), nil
}

// takeCheckpoint runs `ferry run --checkpoint-to ck --checkpoint-on
// signal:USR1 args`, with a stdin pipe it never writes to, sends SIGUSR1
// once the app says "ready" on stderr and waits for ferry to exit (it does
// after writing the checkpoint). It returns the time from the signal to
// the exit and the ready line.
func takeCheckpoint(bin string, args []string, ck string) (time.Duration, string, error) {
	cmd := exec.Command(bin, append([]string{"run", "--checkpoint-to", ck, "--checkpoint-on", "signal:USR1"}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 0, "", err
	}
	defer stdin.Close()
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return 0, "", err
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		return 0, "", err
	}
	sc := bufio.NewScanner(errPipe)
	var ready string
	var rest []string
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "ready") {
			ready = sc.Text()
			break
		}
		rest = append(rest, sc.Text())
	}
	if ready == "" {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, "", fmt.Errorf("no ready line; stderr: %s", strings.Join(rest, "\n"))
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		return 0, "", err
	}
	tail, _ := io.ReadAll(errPipe)
	err = cmd.Wait()
	d := time.Since(start)
	if err != nil {
		return 0, "", fmt.Errorf("ferry run: %v; stderr: %s", err, tail)
	}
	if out.Len() != 0 {
		return 0, "", fmt.Errorf("the app printed %q before any request", out.String())
	}
	return d, ready, nil
}

// firstResponse starts cmd, writes request to its stdin at once and
// returns the time from start to the first line on its stdout, then sends
// "quit" and waits for it to exit 0.
func firstResponse(cmd *exec.Cmd, request string) (time.Duration, string, error) {
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 0, "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, "", err
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, "", err
	}
	if _, err := io.WriteString(stdin, request+"\n"); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, "", err
	}
	br := bufio.NewReader(stdout)
	line, err := br.ReadString('\n')
	d := time.Since(start)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, "", fmt.Errorf("no response (%v); stderr: %s", err, errb.String())
	}
	io.WriteString(stdin, "quit\n")
	stdin.Close()
	io.Copy(io.Discard, br)
	if err := cmd.Wait(); err != nil {
		return 0, "", fmt.Errorf("%v; stderr: %s", err, errb.String())
	}
	return d, strings.TrimSuffix(line, "\n"), nil
}

// ---- helpers ----

func median(t []time.Duration) time.Duration {
	s := append([]time.Duration(nil), t...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minimum(t []time.Duration) time.Duration {
	m := t[0]
	for _, d := range t[1:] {
		m = min(m, d)
	}
	return m
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
	}
}

func fmtSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
}

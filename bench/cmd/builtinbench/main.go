// Command builtinbench measures Ferry's multiversioned builtins
// (internal/builtins, docs/cpu-features.md) in two ways:
//
//  1. Side by side: every implementation of every builtin that this CPU can
//     run, called directly — ns/op for the v128 (and relaxed-SIMD) ops, GB/s
//     for memory.fill and memory.copy (64 B, 4 KiB, 1 MiB), page.iszero
//     (one 4 KiB page) and crc32c (64 B, 4 KiB, 1 MiB). The implementation
//     the host's features select is marked "*", the one the baseline level
//     (x86-64-v1, armv8.0) selects "b".
//  2. End to end: the SIMD kernels (bench.SIMDKernels) and a memory-heavy
//     guest (memory.fill + memory.copy of 4 KiB, 64 KiB and 1 MiB blocks in
//     a loop, written in WebAssembly text below and compiled at run time
//     with wat2wasm) run under Ferry's interpreter with
//     RuntimeConfig.WithCPUFeatures("native") and with the baseline level
//     (one runtime each), alternating the two settings run by run; medians
//     of -n runs and their ratio.
//
// Usage:
//
//	cd bench && go run ./cmd/builtinbench [-benchtime 50ms] [-reps 5] [-n 5] [-simd simd_dot,...|none] [-mem 4k,64k,1m|none] [-builtins=false]
//
// Timings on a shared machine are noisy: compare the ratios, not the
// absolute numbers, and re-run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/bench"
	"github.com/ferryvm/ferry/internal/builtins"
	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/v128"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

type options struct {
	benchtime time.Duration // target duration of one micro measurement
	reps      int           // micro measurements per implementation (median)
	n         int           // timed end-to-end runs per setting
	warmup    int
	simd      string
	mem       string
	kernelArg uint64 // overrides every SIMD kernel's n (0: the kernel's own); checksums then are only compared between settings
	memScale  int    // divides the memory workload's iteration counts
	builtins  bool
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("builtinbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.DurationVar(&o.benchtime, "benchtime", 50*time.Millisecond, "target duration of one micro measurement")
	fs.IntVar(&o.reps, "reps", 5, "micro measurements per implementation (median reported)")
	fs.IntVar(&o.n, "n", 5, "timed end-to-end runs per CPU setting (median reported)")
	fs.IntVar(&o.warmup, "warmup", 1, "untimed end-to-end runs per setting")
	fs.StringVar(&o.simd, "simd", "", "comma-separated SIMD kernels, or none (default all)")
	fs.StringVar(&o.mem, "mem", "4k,64k,1m", "memory workload block sizes (4k, 64k, 1m), or none")
	fs.Uint64Var(&o.kernelArg, "kernelarg", 0, "override every SIMD kernel's argument (tests; checksums are then only compared between settings)")
	fs.IntVar(&o.memScale, "memscale", 1, "divide the memory workload's iteration counts by this (tests)")
	fs.BoolVar(&o.builtins, "builtins", true, "print the side-by-side builtin table")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.reps < 1 || o.n < 1 || o.memScale < 1 {
		fmt.Fprintln(stderr, "builtinbench: -reps, -n and -memscale must be >= 1")
		return 2
	}

	host := cpu.Host()
	base, err := host.Mask("baseline")
	if err != nil {
		fmt.Fprintln(stderr, "builtinbench:", err)
		return 1
	}
	fmt.Fprintf(stdout, "builtinbench: %s/%s, %d CPUs (GOMAXPROCS %d), %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Fprintf(stdout, "host features (level %s): %s\n", host.Level(), strings.Join(host.Names(), " "))
	fmt.Fprintf(stdout, "baseline level %s: %s\n", base.Level(), strings.Join(base.Names(), " "))
	fmt.Fprintln(stdout, "note: timings are from whatever machine this runs on; a shared, loaded machine makes them noisy (compare ratios, re-run)")
	fmt.Fprintln(stdout)

	if o.builtins {
		printBuiltins(stdout, o, host, base)
	}
	if !e2e(stdout, stderr, o, base) {
		return 1
	}
	return 0
}

// ---------------------------------------------------------------------
// Side-by-side micro measurements.

// row is one implementation of one builtin at one size.
type row struct {
	builtin, impl, needs, size, mark string
	nsop, gbs                        float64 // gbs = 0: not a byte-throughput builtin
	vsPortable                       float64 // portable ns/op / this ns/op
}

// measure times f(iters) (which must run the operation iters times),
// growing iters until one call takes about target, then returns the
// median ns/op of reps calls.
func measure(target time.Duration, reps int, f func(iters int)) float64 {
	iters := 1
	for {
		start := time.Now()
		f(iters)
		el := time.Since(start)
		if el >= target/2 || iters >= 1<<30 {
			break
		}
		switch {
		case el <= 0:
			iters *= 100
		default:
			next := int(float64(iters) * float64(target) / float64(el) * 1.1)
			iters = max(iters*2, min(next, iters*100))
		}
	}
	ns := make([]float64, reps)
	for i := range ns {
		start := time.Now()
		f(iters)
		ns[i] = float64(time.Since(start).Nanoseconds()) / float64(iters)
	}
	sort.Float64s(ns)
	return ns[len(ns)/2]
}

// implsOf returns the implementations of b that host can run, the names
// of the ones host and base select, as rows without timings.
func benchBuiltin[F any](o options, b *builtins.Builtin[F], host, base cpu.Features, size string, bytes int, mk func(F) func(int)) []row {
	sel, bsel := b.Select(host).Name, b.Select(base).Name
	var rows []row
	var portable float64
	for _, im := range b.Runnable(host) {
		mark := ""
		if im.Name == sel {
			mark += "*"
		}
		if im.Name == bsel {
			mark += "b"
		}
		needs := strings.Join(im.Needs.Names(), ",")
		if needs == "" {
			needs = "-"
		}
		if im.Semantics != "" {
			needs += " (" + im.Semantics + ")"
		}
		ns := measure(o.benchtime, o.reps, mk(im.Fn))
		r := row{builtin: b.Name, impl: im.Name, needs: needs, size: size, mark: mark, nsop: ns}
		if bytes > 0 {
			r.gbs = float64(bytes) / ns // bytes per ns = GB/s
		}
		if im.Name == "portable" {
			portable = ns
		}
		rows = append(rows, r)
	}
	for i := range rows {
		if portable > 0 {
			rows[i].vsPortable = portable / rows[i].nsop
		}
	}
	return rows
}

var (
	sinkV   v128.V128
	sinkU32 uint32
	sinkB   bool
)

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

func printBuiltins(w io.Writer, o options, host, base cpu.Features) {
	var rows []row
	memSizes := []int{64, 4 << 10, 1 << 20}
	for _, n := range memSizes {
		buf := make([]byte, n)
		rows = append(rows, benchBuiltin(o, builtins.MemoryFill, host, base, sizeName(n), n, func(fn builtins.FillFunc) func(int) {
			return func(it int) {
				for i := 0; i < it; i++ {
					fn(buf, byte(i))
				}
			}
		})...)
	}
	for _, n := range memSizes {
		src, dst := make([]byte, n), make([]byte, n)
		rows = append(rows, benchBuiltin(o, builtins.MemoryCopy, host, base, sizeName(n), n, func(fn builtins.CopyFunc) func(int) {
			return func(it int) {
				for i := 0; i < it; i++ {
					fn(dst, src)
				}
			}
		})...)
	}
	page := make([]byte, builtins.PageSize)
	rows = append(rows, benchBuiltin(o, builtins.PageIsZero, host, base, sizeName(builtins.PageSize), builtins.PageSize, func(fn builtins.IsZeroFunc) func(int) {
		return func(it int) {
			for i := 0; i < it; i++ {
				sinkB = fn(page)
			}
		}
	})...)
	for _, n := range memSizes {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(i * 31)
		}
		rows = append(rows, benchBuiltin(o, builtins.CRC32C, host, base, sizeName(n), n, func(fn builtins.CRC32CFunc) func(int) {
			return func(it int) {
				for i := 0; i < it; i++ {
					sinkU32 = fn(sinkU32, p)
				}
			}
		})...)
	}
	// hash/crc32 for reference (it picks its own instructions, outside the mask).
	tab := crc32.MakeTable(crc32.Castagnoli)
	for _, n := range memSizes {
		p := make([]byte, n)
		ns := measure(o.benchtime, o.reps, func(it int) {
			for i := 0; i < it; i++ {
				sinkU32 = crc32.Update(sinkU32, tab, p)
			}
		})
		rows = append(rows, row{builtin: "crc32c", impl: "(hash/crc32)", needs: "not a builtin impl", size: sizeName(n), nsop: ns, gbs: float64(n) / ns})
	}
	printRows(w, "memory and checksum builtins (GB/s = bytes per ns)", rows, true)

	x := v128.V128{Lo: 0x3fc000004b000001, Hi: 0xbf8ccccd40200000}
	y := v128.V128{Lo: 0x0706050403020100, Hi: 0x1f1e1d1c1b1a1918}
	m := v128.V128{Lo: 0x1f0e1d0c1b0a1908, Hi: 0x0011021303150417} // every byte < 32 (shuffle's precondition)
	var vrows []row
	for _, ops := range [][]builtins.V128Op{builtins.V128, builtins.Relaxed} {
		for _, op := range ops {
			switch {
			case op.Unary != nil:
				vrows = append(vrows, benchBuiltin(o, op.Unary, host, base, "", 0, func(fn v128.UnaryFunc) func(int) {
					return func(it int) {
						for i := 0; i < it; i++ {
							sinkV = fn(x)
						}
					}
				})...)
			case op.Binary != nil:
				vrows = append(vrows, benchBuiltin(o, op.Binary, host, base, "", 0, func(fn v128.BinaryFunc) func(int) {
					return func(it int) {
						for i := 0; i < it; i++ {
							sinkV = fn(x, y)
						}
					}
				})...)
			case op.Ternary != nil:
				vrows = append(vrows, benchBuiltin(o, op.Ternary, host, base, "", 0, func(fn v128.TernaryFunc) func(int) {
					return func(it int) {
						for i := 0; i < it; i++ {
							sinkV = fn(x, y, m)
						}
					}
				})...)
			case op.Test != nil:
				vrows = append(vrows, benchBuiltin(o, op.Test, host, base, "", 0, func(fn v128.TestFunc) func(int) {
					return func(it int) {
						for i := 0; i < it; i++ {
							sinkU32 = fn(x)
						}
					}
				})...)
			}
		}
	}
	printRows(w, "v128 builtins, one call of one implementation (relaxed-SIMD ones are semantic: their implementations differ in results, shown in parentheses)", vrows, false)
	fmt.Fprintln(w, `"*" = selected for the host's features (WithCPUFeatures("native")), "b" = selected at the baseline level; "x portable" = portable ns/op / this ns/op`)
	fmt.Fprintln(w)
}

func printRows(w io.Writer, title string, rows []row, bytes bool) {
	fmt.Fprintln(w, title+":")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	if bytes {
		fmt.Fprintln(tw, "builtin\timpl\tneeds\tsize\tsel\tns/op\tGB/s\tx portable\t")
	} else {
		fmt.Fprintln(tw, "builtin\timpl\tneeds\tsel\tns/op\tx portable\t")
	}
	for _, r := range rows {
		vs := "-"
		if r.vsPortable > 0 {
			vs = fmt.Sprintf("%.2f", r.vsPortable)
		}
		if bytes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t\n", r.builtin, r.impl, r.needs, r.size, r.mark, fmtNs(r.nsop), r.gbs, vs)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", r.builtin, r.impl, r.needs, r.mark, fmtNs(r.nsop), vs)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func fmtNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.0f", ns)
	case ns >= 100:
		return fmt.Sprintf("%.0f", ns)
	case ns >= 10:
		return fmt.Sprintf("%.1f", ns)
	}
	return fmt.Sprintf("%.2f", ns)
}

// ---------------------------------------------------------------------
// End to end: guests under Ferry, native vs baseline features.

// memWat is the memory-heavy guest: $work(n, size) does n rounds of
// memory.fill of a size-byte block at 0 with a round-dependent byte, then
// memory.copy of it to 2 MiB, and sums one byte of the copy per round.
// Each run_* export moves the same 1 GiB per call (fill + copy, 512 MiB
// each) in blocks of its size; n is the number of rounds.
const memWat = `(module
  (memory (export "memory") 64) ;; 4 MiB: blocks at 0 and 2 MiB
  (func $work (param $n i32) (param $size i32) (result i32)
    (local $i i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (memory.fill (i32.const 0) (i32.add (local.get $i) (i32.const 1)) (local.get $size))
        (memory.copy (i32.const 0x200000) (i32.const 0) (local.get $size))
        (local.set $sum (i32.add (i32.mul (local.get $sum) (i32.const 31))
          (i32.load8_u (i32.add (i32.const 0x200000)
            (i32.rem_u (i32.mul (local.get $i) (i32.const 7919)) (local.get $size))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum))
  (func (export "run_4k") (param $n i32) (result i32) (call $work (local.get $n) (i32.const 4096)))
  (func (export "run_64k") (param $n i32) (result i32) (call $work (local.get $n) (i32.const 65536)))
  (func (export "run_1m") (param $n i32) (result i32) (call $work (local.get $n) (i32.const 1048576)))
)
`

// memBlocks: the run_* exports and their block sizes (512 MiB filled and copied per call).
var memBlocks = []struct {
	key, export string
	size        int
}{
	{"4k", "run_4k", 4 << 10},
	{"64k", "run_64k", 64 << 10},
	{"1m", "run_1m", 1 << 20},
}

// workload is one guest entry point measured end to end.
type workload struct {
	name   string
	wasm   []byte
	export string
	arg    uint64
	want   uint32 // 0: unchecked (only the two settings must agree)
	check  bool
	bytes  float64 // bytes filled + copied per call, 0 if not a memory workload
}

func compileWat(src string) ([]byte, error) {
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		return nil, fmt.Errorf("wat2wasm not found (apt-get install wabt): %w", err)
	}
	dir, err := os.MkdirTemp("", "builtinbench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "mem.wat"), filepath.Join(dir, "mem.wasm")
	if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
		return nil, err
	}
	if b, err := exec.Command(tool, in, "-o", out).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("wat2wasm: %v: %s", err, b)
	}
	return os.ReadFile(out)
}

func pick(list string, name string) bool {
	if list == "" {
		return true
	}
	if list == "none" {
		return false
	}
	return slices.Contains(strings.Split(list, ","), name)
}

func workloads(o options) ([]workload, error) {
	var ws []workload
	ks, err := bench.SIMDKernels()
	if err != nil {
		return nil, err
	}
	for _, k := range ks {
		if !pick(o.simd, k.Name) {
			continue
		}
		w := workload{name: k.Name, wasm: k.Wasm, export: "run", arg: k.Arg, want: k.Want, check: true}
		if o.kernelArg != 0 {
			w.arg, w.check = o.kernelArg, false
		}
		ws = append(ws, w)
	}
	var mems []workload
	for _, b := range memBlocks {
		if o.mem == "none" || !slices.Contains(strings.Split(o.mem, ","), b.key) {
			continue
		}
		rounds := max(1, (512<<20)/b.size/o.memScale)
		mems = append(mems, workload{name: "mem fill+copy " + sizeName(b.size), export: b.export,
			arg: uint64(rounds), bytes: 2 * float64(rounds) * float64(b.size)})
	}
	if len(mems) > 0 {
		wasm, err := compileWat(memWat)
		if err != nil {
			return nil, err
		}
		for i := range mems {
			mems[i].wasm = wasm
		}
		ws = append(ws, mems...)
	}
	return ws, nil
}

type e2eResult struct {
	w              workload
	native, baseln []time.Duration
	err            error
}

func median(ts []time.Duration) time.Duration {
	t := slices.Clone(ts)
	slices.Sort(t)
	if len(t) == 0 {
		return 0
	}
	if len(t)%2 == 1 {
		return t[len(t)/2]
	}
	return (t[len(t)/2-1] + t[len(t)/2]) / 2
}

// e2e measures every workload under both settings; false on any error.
func e2e(w, stderr io.Writer, o options, base cpu.Features) bool {
	ws, err := workloads(o)
	if err != nil {
		fmt.Fprintln(stderr, "builtinbench:", err)
		return false
	}
	if len(ws) == 0 {
		return true
	}
	// The builtins whose choice differs between the two settings.
	host := cpu.Host()
	var diffs []string
	for _, d := range builtins.All() {
		a, b := d.Decide(host), d.Decide(base)
		if !a.Same(b) {
			diffs = append(diffs, fmt.Sprintf("%s %s->%s", d.BuiltinName(), b.Impl, a.Impl))
		}
	}
	fmt.Fprintf(w, "builtin choices that differ, baseline -> native: %s\n", strings.Join(diffs, ", "))
	fmt.Fprintln(w, "(Ferry's interpreter calls memory.fill and the v128 builtins through slots; memory.copy is Go's copy either way)")

	ctx := context.Background()
	settings := []string{"native", base.Level()}
	ok := true
	var results []e2eResult
	for _, wl := range ws {
		r := e2eResult{w: wl}
		r.err = measureE2E(ctx, o, settings, &r)
		if r.err != nil {
			fmt.Fprintf(stderr, "builtinbench: %s: %v\n", wl.name, r.err)
			ok = false
		}
		results = append(results, r)
	}
	fmt.Fprintf(w, "end to end under Ferry (interpreter, default config), medians of %d runs per setting, settings alternating run by run:\n", o.n)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "workload\targ\tnative\t%s\tbaseline/native\tnative GB/s\tbaseline GB/s\t\n", settings[1])
	for _, r := range results {
		if r.err != nil {
			fmt.Fprintf(tw, "%s\t%d\terror\terror\t-\t-\t-\t\n", r.w.name, r.w.arg)
			continue
		}
		mn, mb := median(r.native), median(r.baseln)
		gn, gb := "-", "-"
		if r.w.bytes > 0 {
			gn = fmt.Sprintf("%.2f", r.w.bytes/float64(mn.Nanoseconds()))
			gb = fmt.Sprintf("%.2f", r.w.bytes/float64(mb.Nanoseconds()))
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.2f\t%s\t%s\t\n", r.w.name, r.w.arg, fmtDur(mn), fmtDur(mb), float64(mb)/float64(mn), gn, gb)
	}
	tw.Flush()
	fmt.Fprintln(w, "baseline/native > 1: the native features are faster; GB/s counts bytes filled + bytes copied")
	return ok
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
}

func measureE2E(ctx context.Context, o options, settings []string, r *e2eResult) error {
	// One runtime per setting: the CPU mask is a runtime's.
	fns := map[string]*ferry.Function{}
	for _, setting := range settings {
		cfg, err := ferry.NewRuntimeConfig().WithTier(ferry.TierInterp).WithCPUFeatures(setting)
		if err != nil {
			return err
		}
		rt := ferry.NewRuntime(cfg)
		defer rt.Close(ctx)
		m, err := rt.Compile(ctx, r.w.wasm)
		if err != nil {
			return fmt.Errorf("compile: %w", err)
		}
		inst, err := rt.Instantiate(ctx, m, "")
		if err != nil {
			return fmt.Errorf("instantiate: %w", err)
		}
		f := inst.Function(r.w.export)
		if f == nil {
			return fmt.Errorf("no export %q", r.w.export)
		}
		fns[setting] = f
	}
	var first uint32
	have := false
	call := func(setting string) (time.Duration, error) {
		start := time.Now()
		out, err := fns[setting].Call(ctx, r.w.arg)
		el := time.Since(start)
		if err != nil {
			return 0, err
		}
		if len(out) != 1 {
			return 0, fmt.Errorf("%d results, want 1", len(out))
		}
		sum := uint32(out[0])
		switch {
		case !have:
			first, have = sum, true
			if r.w.check && sum != r.w.want {
				return 0, fmt.Errorf("checksum %#x, want %#x", sum, r.w.want)
			}
		case sum != first:
			return 0, fmt.Errorf("%s: checksum %#x, first run gave %#x", setting, sum, first)
		}
		return el, nil
	}
	for i := 0; i < o.warmup; i++ {
		for _, s := range settings {
			if _, err := call(s); err != nil {
				return err
			}
		}
	}
	for i := 0; i < o.n; i++ {
		order := settings
		if i%2 == 1 {
			order = []string{settings[1], settings[0]}
		}
		for _, s := range order {
			el, err := call(s)
			if err != nil {
				return err
			}
			if s == settings[0] {
				r.native = append(r.native, el)
			} else {
				r.baseln = append(r.baseln, el)
			}
		}
	}
	if len(r.native) == 0 {
		return errors.New("no runs")
	}
	return nil
}

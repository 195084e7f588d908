// Command ferrybench times Ferry's interpreter against wazero's interpreter
// and compiler and wasmtime, in two sections:
//
//   - kernels (bench/kernels): one exported function called repeatedly;
//     every runtime must compute the recorded checksum. The table gives the
//     median per runtime, Ferry's speedup over wazero's interpreter and
//     their geometric mean.
//
//   - SIMD kernels (bench/kernels/simd_*.c, clang -msimd128): the same
//     table for the kernels whose inner loops are v128 instructions
//     (issue 4: Ferry's interpreter should be at least 1.5x faster than
//     wazero's there).
//
//   - WASI programs (bench/programs): whole commands run through _start
//     with each runtime's own WASI, every run a fresh instance; every
//     runtime must print exactly the recorded stdout. The tables give the
//     median run, every runtime's speedup over wazero's interpreter, and
//     the one-off compile time.
//
//     cd bench && go run ./cmd/ferrybench [-n 5] [-warmup 1] [-kernels fib,sort|none] [-simd simd_dot|none] [-programs gojson|none] [-runtimes ferry,wazero-interp]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ferryvm/ferry/bench"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ferrybench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reps := fs.Int("n", 5, "timed `repetitions` per kernel and runtime (the median is reported)")
	warmup := fs.Int("warmup", 1, "untimed `calls` before the timed ones")
	kernelList := fs.String("kernels", "", "comma-separated kernels to run (default all)")
	simdList := fs.String("simd", "", "comma-separated SIMD kernels to run, or none (default all)")
	programList := fs.String("programs", "", "comma-separated WASI programs to run, or none (default all)")
	runtimeList := fs.String("runtimes", "", "comma-separated runtimes to run: ferry, ferry-nopoll, ferry-compiled, ferry-auto, wazero-interp, wazero-compiler, wasmtime (default all but ferry-nopoll and ferry-auto)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *reps < 1 {
		fmt.Fprintln(stderr, "ferrybench: -n must be at least 1")
		return 2
	}
	kernels, err := bench.Kernels()
	if err != nil {
		fmt.Fprintln(stderr, "ferrybench:", err)
		return 1
	}
	kernels = filter(kernels, *kernelList, func(k bench.Kernel) string { return k.Name })
	simdKernels, err := bench.SIMDKernels()
	if err != nil {
		fmt.Fprintln(stderr, "ferrybench:", err)
		return 1
	}
	simdKernels = filter(simdKernels, *simdList, func(k bench.Kernel) string { return k.Name })
	programs, err := bench.Programs()
	if err != nil {
		fmt.Fprintln(stderr, "ferrybench:", err)
		return 1
	}
	programs = filter(programs, *programList, func(p bench.Program) string { return p.Name })
	// Ferry's compiled tier is a column of its own, right after its
	// interpreter; the auto tier only when asked for.
	tiers, wasiTiers := bench.FerryTierRuntimes(), bench.FerryTierWASIRuntimes()
	runtimes := withAfterFirst(bench.Runtimes(), tiers[:1])
	wasiRuntimes := withAfterFirst(bench.WASIRuntimes(), wasiTiers[:1])
	if *runtimeList != "" {
		runtimes = filter(withAfterFirst(bench.AllRuntimes(), tiers), *runtimeList, func(r bench.Runtime) string { return r.Name })
		wasiRuntimes = filter(withAfterFirst(bench.AllWASIRuntimes(), wasiTiers), *runtimeList, func(r bench.WASIRuntime) string { return r.Name })
	}
	if len(kernels)+len(simdKernels)+len(programs) == 0 || len(runtimes) == 0 {
		fmt.Fprintln(stderr, "ferrybench: nothing selected")
		return 2
	}

	ctx := context.Background()
	failed := false
	if len(kernels) > 0 {
		failed = !runKernels(ctx, "kernels: one exported call, module loaded once", kernels, runtimes, *warmup, *reps, stdout, stderr)
	}
	if len(simdKernels) > 0 {
		if len(kernels) > 0 {
			fmt.Fprintln(stdout)
		}
		if !runKernels(ctx, "SIMD kernels (clang -msimd128, v128 inner loops): one exported call, module loaded once", simdKernels, runtimes, *warmup, *reps, stdout, stderr) {
			failed = true
		}
	}
	if len(programs) > 0 {
		if len(kernels)+len(simdKernels) > 0 {
			fmt.Fprintln(stdout)
		}
		if !runPrograms(ctx, programs, wasiRuntimes, *warmup, *reps, stdout, stderr) {
			failed = true
		}
	}
	if failed {
		fmt.Fprintln(stderr, "ferrybench: FAILED (see above)")
		return 1
	}
	return 0
}

// runKernels measures and prints the kernel section; false if a runtime
// failed or disagreed.
func runKernels(ctx context.Context, title string, kernels []bench.Kernel, runtimes []bench.Runtime, warmup, reps int, stdout, stderr io.Writer) bool {
	failed := false
	table := make([][]bench.Result, len(kernels))
	for i, k := range kernels {
		for _, rt := range runtimes {
			res := bench.Measure(ctx, rt, k, warmup, reps)
			switch {
			case res.Err != nil:
				fmt.Fprintf(stderr, "%s on %s: %v\n", k.Name, rt.Name, res.Err)
				failed = true
			case k.Want != 0 && res.Checksum != k.Want:
				fmt.Fprintf(stderr, "%s on %s: checksum %#x, want %#x\n", k.Name, rt.Name, res.Checksum, k.Want)
				failed = true
			}
			table[i] = append(table[i], res)
		}
		// All runtimes must agree, whatever the recorded checksum says.
		for _, res := range table[i][1:] {
			if res.Err == nil && table[i][0].Err == nil && res.Checksum != table[i][0].Checksum {
				fmt.Fprintf(stderr, "%s: %s gives %#x but %s gives %#x\n", k.Name,
					res.Runtime, res.Checksum, table[i][0].Runtime, table[i][0].Checksum)
				failed = true
			}
		}
	}
	printTable(stdout, title, kernels, runtimes, table, reps)
	return !failed
}

// printTable prints one row per kernel: the checksum, the median time per
// runtime, and Ferry's speedup over wazero's interpreter (> 1 means Ferry is
// faster), then the geometric mean of those speedups.
func printTable(w io.Writer, title string, kernels []bench.Kernel, runtimes []bench.Runtime, table [][]bench.Result, reps int) {
	ferryCol, interpCol, compiledCol, wazeroCompCol := -1, -1, -1, -1
	for j, rt := range runtimes {
		switch rt.Name {
		case bench.NameFerry:
			ferryCol = j
		case bench.NameWazeroInterp:
			interpCol = j
		case bench.NameFerryCompiled:
			compiledCol = j
		case bench.NameWazeroCompiler:
			wazeroCompCol = j
		}
	}
	// Ratios of the compiled tier: over Ferry's interpreter, and over
	// wazero's compiler (> 1: the compiled tier is faster).
	ratios := []ratio{{name: "ferry-compiled/ferry", num: ferryCol, den: compiledCol},
		{name: "ferry-compiled/wazero-compiler", num: wazeroCompCol, den: compiledCol}}
	fmt.Fprintf(w, "== %s ==\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "kernel\targ\tchecksum\t")
	for _, rt := range runtimes {
		fmt.Fprintf(tw, "%s\t", rt.Name)
	}
	speedupHeader := ferryCol >= 0 && interpCol >= 0
	if speedupHeader {
		fmt.Fprintf(tw, "ferry/wazero-interp speedup\t")
	}
	for _, r := range ratios {
		if r.num >= 0 && r.den >= 0 {
			fmt.Fprintf(tw, "%s\t", r.name)
		}
	}
	fmt.Fprintln(tw)
	var logSum float64
	var nSpeedups int
	for i, k := range kernels {
		row := table[i]
		fmt.Fprintf(tw, "%s\t%d\t%#08x\t", k.Name, k.Arg, firstChecksum(row))
		for _, res := range row {
			if res.Err != nil {
				fmt.Fprintf(tw, "error\t")
			} else {
				fmt.Fprintf(tw, "%s\t", fmtDuration(res.Median()))
			}
		}
		if speedupHeader {
			f, wi := row[ferryCol], row[interpCol]
			if f.Err == nil && wi.Err == nil && f.Median() > 0 {
				s := float64(wi.Median()) / float64(f.Median())
				logSum += math.Log(s)
				nSpeedups++
				fmt.Fprintf(tw, "%.2fx\t", s)
			} else {
				fmt.Fprintf(tw, "-\t")
			}
		}
		for k := range ratios {
			ratios[k].cell(tw, row)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	fmt.Fprintf(w, "(median of %d calls per cell)\n", reps)
	for _, r := range ratios {
		if r.n > 0 {
			fmt.Fprintf(w, "geometric mean %s: %.2fx over %d kernels\n", r.name, math.Exp(r.logSum/float64(r.n)), r.n)
		}
	}
	if nSpeedups > 0 {
		fmt.Fprintf(w, "geometric mean ferry/wazero-interp speedup: %.2fx over %d kernels\n",
			math.Exp(logSum/float64(nSpeedups)), nSpeedups)
	}
}

// ratio is a column of speedups: column num's median over column den's.
type ratio struct {
	name     string
	num, den int
	logSum   float64
	n        int
}

func (r *ratio) cell(tw io.Writer, row []bench.Result) {
	if r.num < 0 || r.den < 0 {
		return
	}
	a, b := row[r.num], row[r.den]
	if a.Err != nil || b.Err != nil || b.Median() <= 0 {
		fmt.Fprintf(tw, "-\t")
		return
	}
	s := float64(a.Median()) / float64(b.Median())
	r.logSum += math.Log(s)
	r.n++
	fmt.Fprintf(tw, "%.2fx\t", s)
}

func firstChecksum(row []bench.Result) uint32 {
	for _, r := range row {
		if r.Err == nil {
			return r.Checksum
		}
	}
	return 0
}

func fmtDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
	}
}

// withAfterFirst inserts extra after the first item (Ferry's interpreter).
func withAfterFirst[T any](items, extra []T) []T {
	out := append([]T(nil), items[:1]...)
	out = append(out, extra...)
	return append(out, items[1:]...)
}

// filter keeps the items whose name is in the comma-separated list (all
// items when the list is empty).
func filter[T any](items []T, list string, name func(T) string) []T {
	if list == "" {
		return items
	}
	want := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		want[strings.TrimSpace(n)] = true
	}
	var out []T
	for _, it := range items {
		if want[name(it)] {
			out = append(out, it)
		}
	}
	return out
}

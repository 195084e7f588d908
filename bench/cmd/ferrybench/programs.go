package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/ferryvm/ferry/bench"
)

// runPrograms measures every WASI program under every runtime and prints
// the section; false if a run failed or printed something else than the
// recorded output.
func runPrograms(ctx context.Context, programs []bench.Program, runtimes []bench.WASIRuntime, warmup, reps int, stdout, stderr io.Writer) bool {
	ok := true
	table := make([][]bench.ProgramResult, len(programs))
	for i, p := range programs {
		for _, rt := range runtimes {
			res := bench.MeasureProgram(ctx, rt, p, warmup, reps)
			switch {
			case res.Err != nil:
				fmt.Fprintf(stderr, "%s on %s: %v\n", p.Name, rt.Name, res.Err)
				ok = false
			case res.Stdout != p.Want:
				fmt.Fprintf(stderr, "%s on %s: stdout differs from the recorded one\ngot:\n%swant:\n%s", p.Name, rt.Name, res.Stdout, p.Want)
				res.Err = fmt.Errorf("wrong stdout")
				ok = false
			}
			table[i] = append(table[i], res)
		}
	}
	printPrograms(stdout, programs, runtimes, table, reps)
	return ok
}

// printPrograms prints the median run per program and runtime with every
// runtime's speedup over wazero's interpreter (> 1 means faster), their
// geometric means, and the one-off compile times.
func printPrograms(w io.Writer, programs []bench.Program, runtimes []bench.WASIRuntime, table [][]bench.ProgramResult, reps int) {
	interpCol := -1
	for j, rt := range runtimes {
		if rt.Name == bench.NameWazeroInterp {
			interpCol = j
		}
	}
	fmt.Fprintln(w, "== WASI programs: instantiate + _start + close per run, module compiled once ==")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "program\targs\tstdout\t")
	for _, rt := range runtimes {
		fmt.Fprintf(tw, "%s\t", rt.Name)
	}
	fmt.Fprintln(tw)
	for i, p := range programs {
		same := "same"
		for _, res := range table[i] {
			if res.Err != nil {
				same = "DIFFERS"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t", p.Name, strings.Join(p.Args[1:], " "), same)
		for _, res := range table[i] {
			if res.Err != nil {
				fmt.Fprintf(tw, "error\t")
			} else {
				fmt.Fprintf(tw, "%s\t", fmtDuration(res.Median()))
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	fmt.Fprintf(w, "(median of %d runs per cell; stdout: every runtime printed the recorded output)\n", reps)

	if interpCol >= 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "speedup over wazero-interp (> 1 is faster):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "program\t")
		for _, rt := range runtimes {
			fmt.Fprintf(tw, "%s\t", rt.Name)
		}
		fmt.Fprintln(tw)
		logSum := make([]float64, len(runtimes))
		count := make([]int, len(runtimes))
		for i, p := range programs {
			fmt.Fprintf(tw, "%s\t", p.Name)
			base := table[i][interpCol]
			for j, res := range table[i] {
				if res.Err != nil || base.Err != nil || res.Median() <= 0 {
					fmt.Fprintf(tw, "-\t")
					continue
				}
				s := float64(base.Median()) / float64(res.Median())
				logSum[j] += math.Log(s)
				count[j]++
				fmt.Fprintf(tw, "%.2fx\t", s)
			}
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "geomean\t")
		for j := range runtimes {
			if count[j] == 0 {
				fmt.Fprintf(tw, "-\t")
			} else {
				fmt.Fprintf(tw, "%.2fx\t", math.Exp(logSum[j]/float64(count[j])))
			}
		}
		fmt.Fprintln(tw)
		tw.Flush()
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "compile (decode, validate, lower or compile to machine code; once, not a median):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "program\twasm size\t")
	for _, rt := range runtimes {
		fmt.Fprintf(tw, "%s\t", rt.Name)
	}
	fmt.Fprintln(tw)
	for i, p := range programs {
		fmt.Fprintf(tw, "%s\t%d KiB\t", p.Name, len(p.Wasm)/1024)
		for _, res := range table[i] {
			if res.Compile == 0 && res.Err != nil {
				fmt.Fprintf(tw, "error\t")
			} else {
				fmt.Fprintf(tw, "%s\t", fmtDuration(res.Compile))
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

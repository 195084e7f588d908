package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/ferryvm/ferry/internal/builtins"
	"github.com/ferryvm/ferry/internal/cpu"
)

const cpuUsage = `usage: ferry cpu [--cpu-features SPEC]

Prints the CPU features Ferry detected on this machine, the levels they
satisfy, the effective features after the mask SPEC (what Ferry's
builtins may use, and what a checkpoint records), and the implementation
each builtin gets with them.

  --cpu-features SPEC   "native" (default), a level (x86-64-v1 … x86-64-v4,
                        armv8.0 … armv8.3, baseline), or a list such as
                        "x86-64-v3,-avx2,+popcnt" (see docs/cpu-features.md)

Exit codes: 0 ok; 1 the mask asks for features this CPU lacks; 2 usage
error or malformed SPEC.
`

func runCPU(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("cpu", stderr)
	spec := fs.String("cpu-features", "native", "feature mask")
	if code, done := parseFlagsAnywhere(fs, args, cpuUsage, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, cpuUsage, "cpu: takes no arguments")
	}
	if strings.TrimSpace(*spec) == "" {
		return usageError(stderr, cpuUsage, "cpu: %s", emptySpecMessage)
	}
	host := cpu.Host()
	eff, err := host.Mask(*spec)
	var se *cpu.SpecError
	if errors.As(err, &se) {
		return usageError(stderr, cpuUsage, "cpu: %s", specMessage(se, host.Arch()))
	}
	printCPU(stdout, "detected", host)
	if err != nil {
		fmt.Fprintf(stderr, "ferry: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "mask       %s\n", *spec)
	printCPU(stdout, "effective", eff)
	if removed := host.Set().Subtract(eff.Set()); !removed.IsEmpty() {
		fmt.Fprintf(stdout, "masked     %s\n", strings.Join(removed.Names(), " "))
	}
	fmt.Fprintln(stdout, "\nbuiltins (implementation selected for the effective features; relied-on features):")
	// Builtin names run to 32 characters (i32x4.relaxed_trunc_f64x2_u_zero):
	// fixed widths misaligned the columns.
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, b := range builtins.All() {
		d := b.Decide(eff)
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", d.Builtin, d.Impl, strings.Join(d.Features, ","))
	}
	tw.Flush()
	return exitOK
}

// printCPU prints a feature set and the levels it satisfies.
func printCPU(w io.Writer, label string, f cpu.Features) {
	fmt.Fprintf(w, "%-10s %s\n", label, f)
	var names []string
	for _, l := range f.Levels() {
		names = append(names, l.Name)
	}
	if len(names) == 0 {
		names = []string{"(none)"}
	}
	fmt.Fprintf(w, "%-10s %s\n", "  levels", strings.Join(names, " "))
}

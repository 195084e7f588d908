package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/internal/cpu"
)

// cpuFeaturesUsage documents --cpu-features for ferry run and ferry restore.
const cpuFeaturesUsage = `  --cpu-features SPEC
                  the CPU features Ferry's builtins (SIMD kernels, memory
                  fill …) may use: "native" (default: all detected), a level
                  (x86-64-v1 … x86-64-v4, armv8.0 … armv8.3, baseline) or a
                  list such as "x86-64-v3,-avx2,+popcnt" (docs/cpu-features.md;
                  "ferry cpu --cpu-features SPEC" shows the result). The
                  runtime is built with them before any guest code runs;
                  checkpoints record these effective features and the
                  builtins chosen for them.
                  A malformed SPEC exits 2, one asking for features this
                  CPU lacks exits 1.
`

// cpuRuntimeConfig returns the default runtime configuration with spec as
// its CPU feature mask. done is set with the exit code when the command
// must stop: a malformed spec is a usage error, missing features a
// failure.
func cpuRuntimeConfig(spec, cmd, help string, stderr io.Writer) (cfg ferry.RuntimeConfig, code int, done bool) {
	cfg, err := ferry.NewRuntimeConfig().WithCPUFeatures(spec)
	if err == nil {
		return cfg, exitOK, false
	}
	var se *cpu.SpecError
	if errors.As(err, &se) {
		return cfg, usageError(stderr, help, "%s: --cpu-features: %v", cmd, err), true
	}
	fmt.Fprintf(stderr, "ferry: %s: %v\n", cmd, err)
	return cfg, exitFail, true
}

// printDecisions lists a checkpoint's builtin decisions (ferry inspect).
func printDecisions(w io.Writer, info *ferry.CheckpointInfo) {
	if !info.CallsitesRecorded {
		fmt.Fprintf(w, "\nbuiltins     not recorded (format %s)\n", info.FormatVersion)
		return
	}
	fmt.Fprintf(w, "\nbuiltin decisions (%d, for the source CPU's effective features):\n", len(info.Callsites))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  builtin\timplementation\tfeatures\tsemantic")
	for _, d := range info.Callsites {
		sem := "no"
		if d.Semantic {
			sem = "yes (" + d.Semantics + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", d.Builtin, d.Impl, dash(strings.Join(d.Features, ",")), sem)
	}
	tw.Flush()
}

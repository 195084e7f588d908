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
	if strings.TrimSpace(spec) == "" {
		return cfg, usageError(stderr, help, "%s: %s", cmd, emptySpecMessage), true
	}
	cfg, err := ferry.NewRuntimeConfig().WithCPUFeatures(spec)
	if err == nil {
		return cfg, exitOK, false
	}
	var se *cpu.SpecError
	if errors.As(err, &se) {
		return cfg, usageError(stderr, help, "%s: %s", cmd, specMessage(se, cpu.Host().Arch())), true
	}
	fmt.Fprintf(stderr, "ferry: %s: %v\n", cmd, err)
	return cfg, exitFail, true
}

// emptySpecMessage refuses an empty --cpu-features: the library reads ""
// as native, but on a command line it is more likely an unset variable
// than a wish for every feature.
const emptySpecMessage = `--cpu-features "": give native, a level or a feature list`

// specMessage says what was wrong with a --cpu-features SPEC once (the
// library's error repeats the spec and the item) and, for a name it does
// not know, which names it does.
func specMessage(se *cpu.SpecError, arch string) string {
	msg := fmt.Sprintf("--cpu-features %q: %s", se.Spec, se.Reason)
	switch {
	case se.Item == "":
	case strings.HasPrefix(se.Reason, "unknown"):
		msg = fmt.Sprintf("--cpu-features %q: %q is an %s", se.Spec, se.Item, se.Reason)
	case strings.HasPrefix(se.Reason, "a feature of"), strings.HasPrefix(se.Reason, "a level of"), strings.HasPrefix(se.Reason, "part of"):
		msg = fmt.Sprintf("--cpu-features %q: %q is %s", se.Spec, se.Item, se.Reason)
	default:
		msg = fmt.Sprintf("--cpu-features %q: %q: %s", se.Spec, se.Item, se.Reason)
	}
	if !strings.HasPrefix(se.Reason, "unknown") {
		return msg
	}
	names := []string{"native", "baseline"}
	for _, l := range cpu.Levels(arch) {
		names = append(names, l.Name)
	}
	var feats []string
	for _, f := range cpu.All(arch) {
		feats = append(feats, f.String())
	}
	return fmt.Sprintf("%s (levels: %s; %s features: %s)", msg, strings.Join(names, " "), arch, strings.Join(feats, " "))
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

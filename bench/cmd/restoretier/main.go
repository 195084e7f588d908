// Command restoretier times `ferry restore` of a checkpoint taken in the
// hot loop of a compute kernel, on another CPU mask than the one it was
// written under, from the outside (whole processes, wall time):
//
//  1. `ferry run --invoke run KERNEL ARG --checkpoint-on pause:AT` under the
//     native mask and the default tier (auto): the checkpoint carries the
//     run's hot set (its profile section);
//  2. round-robin, -n times each, `ferry restore --cpu-features MASK`
//     under --tier=auto (the hot set is compiled for MASK before the
//     program resumes) and --tier=interp:
//     - "restore": stop again at pause AT+1, the resumed frame's first
//     poll, before any of its code ran: restore (and under auto the
//     compile of the hot set) plus writing a checkpoint;
//     - "first code": stop at pause AT+2: the frame ran one iteration of its
//     loop, in compiled code under auto;
//     - "to the end": the whole rest of the run.
//
// Writing the stop checkpoint is taken out of the first two (ferry prints
// how long it took). Every auto restore must report, through the
// FERRY_TIER_STATS hook, that it compiled functions (the hot set), and
// every restore must print the uninterrupted run's result.
//
//	cd bench && go run ./cmd/restoretier [-n 5] [-mask x86-64-v1] [-kernel kernels/sha256.wasm -arg 2000000 -at 2500000]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

type step struct {
	name string
	stop uint64 // pauses after AT to stop at; 0 runs to the end
}

var steps = []step{{"restore", 1}, {"first code", 2}, {"to the end", 0}}

var tiers = []string{"auto", "interp"}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("restoretier", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 5, "timed `runs` per measurement (the median is reported)")
	mask := fs.String("mask", "x86-64-v1", "the restoring runtime's --cpu-features")
	kernel := fs.String("kernel", "kernels/sha256.wasm", "the kernel module (exports run)")
	arg := fs.String("arg", "2000000", "run's argument")
	at := fs.Uint64("at", 2_500_000, "the pause point the checkpoint is taken at (in the hot loop)")
	ferryBin := fs.String("ferry", "", "the ferry binary (default: built from the Ferry module)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *n < 1 {
		fmt.Fprintln(stderr, "restoretier: -n must be at least 1")
		return 2
	}
	if abs, err := filepath.Abs(*kernel); err == nil {
		*kernel = abs // the processes run in the temporary directory
	}
	tmp, err := os.MkdirTemp("", "ferry-restoretier-")
	if err != nil {
		fmt.Fprintln(stderr, "restoretier:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	bin := *ferryBin
	if bin == "" {
		bin = filepath.Join(tmp, "ferry")
		if err := buildFerry(bin); err != nil {
			fmt.Fprintln(stderr, "restoretier:", err)
			return 1
		}
	}

	want, err := ferry(bin, tmp, "", "run", "--tier=interp", "--invoke", "run", *kernel, *arg)
	if err != nil {
		fmt.Fprintln(stderr, "restoretier: uninterrupted run:", err)
		return 1
	}
	ck := filepath.Join(tmp, "hot.ckpt")
	if _, err := ferry(bin, tmp, "", "run", "--checkpoint-to", ck, "--checkpoint-on", fmt.Sprintf("pause:%d", *at),
		"--invoke", "run", *kernel, *arg); err != nil {
		fmt.Fprintln(stderr, "restoretier: checkpoint:", err)
		return 1
	}
	insp, err := ferry(bin, tmp, "", "inspect", ck)
	if err != nil {
		fmt.Fprintln(stderr, "restoretier: inspect:", err)
		return 1
	}
	hot := regexp.MustCompile(`(?m)^profile\s+(.*)$`).FindStringSubmatch(insp.stdout)
	if hot == nil || strings.HasPrefix(hot[1], "0 ") {
		fmt.Fprintf(stderr, "restoretier: the checkpoint has no hot set:\n%s", insp.stdout)
		return 1
	}

	times := map[string][]time.Duration{}
	compiled := map[string]string{}
	for round := -1; round < *n; round++ { // round -1 is the untimed warm-up
		for _, s := range steps {
			for _, tier := range tiers {
				a := []string{"restore", "--tier=" + tier, "--cpu-features", *mask}
				if s.stop > 0 {
					a = append(a, "--checkpoint-to", filepath.Join(tmp, "stop.ckpt"),
						"--checkpoint-on", fmt.Sprintf("pause:%d", *at+s.stop))
				}
				stats := filepath.Join(tmp, "stats")
				os.Remove(stats)
				r, err := ferry(bin, tmp, stats, append(a, ck)...)
				if err != nil {
					fmt.Fprintf(stderr, "restoretier: %s, %s: %v\n", tier, s.name, err)
					return 1
				}
				if s.stop == 0 && r.stdout != want.stdout {
					fmt.Fprintf(stderr, "restoretier: %s: printed %q, the uninterrupted run %q\n", tier, r.stdout, want.stdout)
					return 1
				}
				st, _ := os.ReadFile(stats)
				c := regexp.MustCompile(`compiled=(\d+)`).FindSubmatch(st)
				if c == nil {
					fmt.Fprintf(stderr, "restoretier: no FERRY_TIER_STATS line from %s (%q)\n", tier, st)
					return 1
				}
				if tier == "auto" && string(c[1]) == "0" {
					fmt.Fprintf(stderr, "restoretier: the auto restore compiled nothing: %s", st)
					return 1
				}
				compiled[tier] = string(c[1])
				d := r.wall
				if s.stop > 0 {
					w, ok := writeTime(r.stderr)
					if !ok {
						fmt.Fprintf(stderr, "restoretier: %s, %s: no checkpoint written: %s\n", tier, s.name, r.stderr)
						return 1
					}
					d -= w
				}
				if round >= 0 {
					k := tier + "\x00" + s.name
					times[k] = append(times[k], d)
				}
			}
		}
	}

	fmt.Fprintf(stdout, "== ferry restore of %s (checkpoint at pause %d, native mask, hot set: %s) under --cpu-features %s, %d runs ==\n",
		filepath.Base(*kernel), *at, hot[1], *mask, *n)
	fmt.Fprintf(stdout, "functions compiled by the restore: auto %s, interp %s\n", compiled["auto"], compiled["interp"])
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "until\tauto median\tauto min\tinterp median\tinterp min\tauto - interp\t\n")
	for _, s := range steps {
		a, i := times["auto\x00"+s.name], times["interp\x00"+s.name]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", s.name, ms(median(a)), ms(minimum(a)), ms(median(i)), ms(minimum(i)),
			ms(median(a)-median(i)))
	}
	tw.Flush()
	fmt.Fprintln(stdout, `("restore" and "first code" exclude writing the stop checkpoint; wall time of whole processes)`)
	return 0
}

type result struct {
	stdout, stderr string
	wall           time.Duration
}

// ferry runs the ferry binary in dir and fails on a non-zero exit. stats,
// when set, is the FERRY_TIER_STATS file.
func ferry(bin, dir, stats string, args ...string) (result, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	// The test hooks of the caller's environment would change what is
	// measured.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FERRY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if stats != "" {
		cmd.Env = append(cmd.Env, "FERRY_TIER_STATS="+stats)
	}
	start := time.Now()
	err := cmd.Run()
	r := result{out.String(), errb.String(), time.Since(start)}
	if err != nil {
		return r, fmt.Errorf("ferry %s: %v: %s", strings.Join(args, " "), err, r.stderr)
	}
	return r, nil
}

// writeTime is how long writing the checkpoint took, as ferry reports it
// ("checkpoint written to F at pause point N (#1, 1.9 MiB in 13.84ms)").
func writeTime(stderr string) (time.Duration, bool) {
	m := regexp.MustCompile(`checkpoint written to .* in ([0-9.]+[µmn]?s)\)`).FindStringSubmatch(stderr)
	if m == nil {
		return 0, false
	}
	d, err := time.ParseDuration(m[1])
	return d, err == nil
}

func buildFerry(out string) error {
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/ferryvm/ferry").Output()
	if err != nil {
		return fmt.Errorf("run restoretier inside the bench module: %w", err)
	}
	cmd := exec.Command("go", "build", "-o", out, "./cmd/ferry")
	cmd.Dir = strings.TrimSpace(string(dir))
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building ferry: %v\n%s", err, msg)
	}
	return nil
}

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

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }

// Command startup times process start-up: the wall time of running a C
// hello-world (programs/hello.wasm, wasi-libc) as a fresh process under
//
//	ferry run hello.wasm                  (../cmd/ferry, built with go build: the default tier, auto)
//	ferry run --tier=interp hello.wasm    (the interpreter alone)
//	wazero run hello.wasm                 (wazero's CLI at the go.mod version: compiler)
//	wazero run -interpreter hello.wasm
//	wasmtime-run hello.wasm               (./cmd/wasmtime-run: `wasmtime run` on wasmtime-go)
//
// Each command is built once into a temporary directory (or taken from
// -bindir), run once untimed, then -n times round-robin; every run must
// exit 0 and print "hello, world". It prints the median and minimum wall
// time per command and the speedup over `wazero run -interpreter`
// (> 1 is faster). None of the runners caches compiled code on disk. With
// gcc installed (and no -wasm), a native build of programs/hello.c is timed
// too, as the floor: process creation and libc start-up alone.
//
//	cd bench && go run ./cmd/startup [-n 20] [-wasm FILE.wasm -wantfile FILE.stdout] [-bindir DIR]
//
// With -wasm the module runs with no arguments, so for programs/*.wasm the
// defaults built into the programs apply, which are the arguments their
// .stdout files were recorded with.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ferryvm/ferry/bench"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

type runner struct {
	name   string   // as printed
	bin    string   // binary file name in the bin directory
	args   []string // before the module path
	native bool     // takes no module: the floor, programs/hello.c built by gcc
}

var runners = []runner{
	{name: "ferry run", bin: "ferry", args: []string{"run"}},
	{name: "ferry run --tier=interp", bin: "ferry", args: []string{"run", "--tier=interp"}},
	{name: "wazero run -interpreter", bin: "wazero", args: []string{"run", "-interpreter"}},
	{name: "wazero run", bin: "wazero", args: []string{"run"}},
	{name: "wasmtime-run", bin: "wasmtime-run"},
}

// nativeRunner is appended, with the default module only, when gcc is
// installed: process creation and libc start-up with no WebAssembly at all.
var nativeRunner = runner{name: "native hello (gcc -O2)", bin: "hello-native", native: true}

const baseline = "wazero run -interpreter"

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("startup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 20, "timed `runs` per command (the median is reported)")
	wasmPath := fs.String("wasm", "", "module to run (default: the embedded programs/hello.wasm)")
	want := fs.String("want", "hello, world\n", "expected standard output (with -wasm)")
	wantFile := fs.String("wantfile", "", "read the expected standard output from `FILE` (e.g. programs/gojson.stdout)")
	bindir := fs.String("bindir", "", "take ferry, wazero and wasmtime-run from `DIR` instead of building them")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *n < 1 {
		fmt.Fprintln(stderr, "startup: -n must be at least 1")
		return 2
	}
	if *wantFile != "" {
		b, err := os.ReadFile(*wantFile)
		if err != nil {
			fmt.Fprintln(stderr, "startup:", err)
			return 2
		}
		*want = string(b)
	}
	tmp, err := os.MkdirTemp("", "ferry-startup-")
	if err != nil {
		fmt.Fprintln(stderr, "startup:", err)
		return 1
	}
	defer os.RemoveAll(tmp)

	module := *wasmPath
	if module == "" {
		hello, err := bench.Hello()
		if err != nil {
			fmt.Fprintln(stderr, "startup:", err)
			return 1
		}
		module = filepath.Join(tmp, "hello.wasm")
		if err := os.WriteFile(module, hello, 0o644); err != nil {
			fmt.Fprintln(stderr, "startup:", err)
			return 1
		}
	}
	if cgo, _ := goOutput("", "env", "CGO_ENABLED"); cgo != "1" && *bindir == "" {
		fmt.Fprintln(stderr, "startup: cgo is off, leaving wasmtime-run out")
		runners = runners[:len(runners)-1]
	}
	dir := *bindir
	if dir == "" {
		dir = tmp
		if err := build(dir, stderr); err != nil {
			fmt.Fprintln(stderr, "startup:", err)
			return 1
		}
	}
	if *wasmPath == "" {
		if err := buildNative(tmp); err != nil {
			fmt.Fprintln(stderr, "startup: no native floor:", err)
		} else {
			runners = append(runners, nativeRunner)
		}
	}

	times := make([][]time.Duration, len(runners))
	for round := -1; round < *n; round++ { // round -1 is the untimed warm-up
		for i, r := range runners {
			bin, args := filepath.Join(dir, r.bin), append(append([]string(nil), r.args...), module)
			if r.native {
				bin, args = filepath.Join(tmp, r.bin), nil
			}
			d, err := once(bin, args, *want)
			if err != nil {
				fmt.Fprintf(stderr, "startup: %s: %v\n", r.name, err)
				return 1
			}
			if round >= 0 {
				times[i] = append(times[i], d)
			}
		}
	}

	var base time.Duration
	for i, r := range runners {
		if r.name == baseline {
			base = median(times[i])
		}
	}
	fmt.Fprintf(stdout, "== process start-up: %s, %d runs each ==\n", filepath.Base(module), *n)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "command\tmedian\tmin\tspeedup over %s\t\n", baseline)
	for i, r := range runners {
		m := median(times[i])
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2fx\t\n", r.name, fmtMS(m), fmtMS(minimum(times[i])), float64(base)/float64(m))
	}
	tw.Flush()
	return 0
}

// build compiles the three runners into dir: ferry from the Ferry module
// this bench module replaces, wazero's CLI from the module cache at the
// version in go.mod, and ./cmd/wasmtime-run.
func build(dir string, stderr io.Writer) error {
	ferryDir, err := goOutput("", "list", "-m", "-f", "{{.Dir}}", "github.com/ferryvm/ferry")
	if err != nil {
		return err
	}
	benchDir, err := goOutput("", "list", "-m", "-f", "{{.Dir}}", "github.com/ferryvm/ferry/bench")
	if err != nil {
		return fmt.Errorf("run startup inside the bench module: %w", err)
	}
	for _, b := range []struct{ dir, out, pkg string }{
		{ferryDir, "ferry", "./cmd/ferry"},
		{benchDir, "wazero", "github.com/tetratelabs/wazero/cmd/wazero"},
		{benchDir, "wasmtime-run", "./cmd/wasmtime-run"},
	} {
		if !hasRunner(b.out) {
			continue
		}
		fmt.Fprintf(stderr, "building %s (%s in %s)\n", b.out, b.pkg, b.dir)
		if _, err := goOutput(b.dir, "build", "-o", filepath.Join(dir, b.out), b.pkg); err != nil {
			return err
		}
	}
	return nil
}

// buildNative compiles programs/hello.c with gcc into dir/hello-native.
func buildNative(dir string) error {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return err
	}
	benchDir, err := goOutput("", "list", "-m", "-f", "{{.Dir}}", "github.com/ferryvm/ferry/bench")
	if err != nil {
		return err
	}
	out, err := exec.Command(gcc, "-O2", "-o", filepath.Join(dir, nativeRunner.bin), filepath.Join(benchDir, "programs", "hello.c")).CombinedOutput()
	if err != nil {
		return fmt.Errorf("gcc: %v\n%s", err, out)
	}
	return nil
}

func hasRunner(bin string) bool {
	for _, r := range runners {
		if r.bin == bin {
			return true
		}
	}
	return false
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

// once runs bin args as a fresh process and returns its wall time, from
// just before the fork to its exit.
func once(bin string, args []string, want string) (time.Duration, error) {
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = []string{}
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%v (stderr: %s)", err, errb.String())
	}
	if out.String() != want {
		return 0, fmt.Errorf("printed %q, want %q", out.String(), want)
	}
	return d, nil
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

func fmtMS(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

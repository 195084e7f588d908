package main

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The checkpoint-anywhere differential test through the ferry binary, each
// leg in its own process: a program run uninterrupted, then stopped at a
// pause point with "ferry run --checkpoint-to X --checkpoint-on pause:N"
// and continued with "ferry restore X" (itself checkpointed again for the
// chains), must leave the same standard output, standard error, exit
// status and files. FERRY_CKPT_POINTS sets how many evenly spread pause
// points each program is stopped at (default 10; random ones and chains
// come on top, in proportion).

// ckptSubject is a program of the differential test and the working
// directory it starts in.
type ckptSubject struct {
	name  string
	wasm  string
	args  []string
	files map[string]string // the working directory's files at the start
}

// buildFerry builds the ferry command for goarch into a temporary
// directory (statically linked: no cgo) and returns its path.
func buildFerry(t *testing.T, goarch string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ferry-"+goarch)
	cmd := exec.Command(goTool(), "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building ferry for %s: %v\n%s", goarch, err, out)
	}
	return bin
}

func goTool() string {
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return "go"
}

// buildGoProgram builds testdata/goprog for GOOS=wasip1.
func buildGoProgram(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "goprog.wasm")
	cmd := exec.Command(goTool(), "build", "-o", out, "./testdata/goprog")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=-buildvcs=false")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building testdata/goprog for wasip1: %v\n%s", err, msg)
	}
	return out
}

// ckptSubjects are the programs: C with wasi-libc (ckptprog: files, heap,
// recursion, function pointers, clocks), Go wasip1 (goroutines, channels,
// WaitGroup, maps) and C holding files open that it reads and appends to.
func ckptSubjects(t *testing.T) []ckptSubject {
	var data strings.Builder
	r := rand.New(rand.NewPCG(1, 2))
	for range 12 {
		for j := range 6 {
			if j > 0 {
				data.WriteByte(' ')
			}
			data.WriteString([]string{"ferry", "wasm", "pause", "point", "frame", "stack", "memory", "restore"}[r.IntN(8)])
		}
		data.WriteByte('\n')
	}
	return []ckptSubject{
		{name: "c-wasi-libc", wasm: ckptProg, args: []string{"in.txt", "out.txt"},
			files: map[string]string{"in.txt": ckptInput}},
		{name: "go-wasip1", wasm: buildGoProgram(t)},
		{name: "c-open-files", wasm: "testdata/fileprog.wasm",
			files: map[string]string{"data.txt": data.String(), "log.txt": "log header\n", "tally.txt": "tally start\n"}},
	}
}

// outcome is what a run, or a run and its chain of restores, leaves.
type outcome struct {
	stdout, stderr string
	code           int
	files          map[string]string
	// stops are the pause counts of the checkpoints written on the way.
	stops []int64
}

func (o outcome) diff(want outcome) string {
	var d []string
	if o.stdout != want.stdout {
		d = append(d, fmt.Sprintf("stdout:\n%s\n--- want\n%s", o.stdout, want.stdout))
	}
	if o.stderr != want.stderr {
		d = append(d, fmt.Sprintf("stderr:\n%s\n--- want\n%s", o.stderr, want.stderr))
	}
	if o.code != want.code {
		d = append(d, fmt.Sprintf("exit status %d, want %d", o.code, want.code))
	}
	for name, w := range want.files {
		if g, ok := o.files[name]; !ok || g != w {
			d = append(d, fmt.Sprintf("file %s: %q, want %q", name, g, w))
		}
	}
	for name := range o.files {
		if _, ok := want.files[name]; !ok {
			d = append(d, fmt.Sprintf("unexpected file %s", name))
		}
	}
	return strings.Join(d, "\n")
}

// ferryProc runs one ferry process (through a prefix such as qemu-aarch64
// when bin has one) and returns its output and exit status; a process
// that cannot run, or dies by a signal, fails the test.
func ferryProc(t *testing.T, bin []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin[0], append(slices.Clone(bin[1:]), args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Dir = t.TempDir()
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && (!errors.As(err, &ee) || ee.ExitCode() < 0) {
		t.Fatalf("%s %q: %v\n%s", bin, args, err, errb.String())
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

var stoppedRE = regexp.MustCompile(`ferry: checkpoint written to (\S+) at pause point (\d+) \([^)]*\); the program stopped \(continue with: ferry restore (\S+)\)\n`)

// chain runs s in a fresh copy of its working directory: with no stops,
// uninterrupted; otherwise stopped at pause point stops[0], restored and
// stopped at stops[1] and so on, the last checkpoint restored to the end.
// The legs run the binaries of legs in turn (legs[i % len(legs)]). A stop
// the program does not reach (it ended first) ends the chain; the outcome
// lists the stops that were reached.
func chain(t *testing.T, legs [][]string, s ckptSubject, stops ...int64) outcome {
	t.Helper()
	dir := t.TempDir()
	for name, content := range s.files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wasm, err := filepath.Abs(s.wasm)
	if err != nil {
		t.Fatal(err)
	}
	ckDir := t.TempDir()
	var o outcome
	prev := ""
	for i := 0; ; i++ {
		var args []string
		if prev == "" {
			args = []string{"run", "--dir", dir + "::."}
		} else {
			args = []string{"restore"}
		}
		ck := ""
		if i < len(stops) {
			ck = filepath.Join(ckDir, "ck"+strconv.Itoa(i))
			args = append(args, "--checkpoint-to", ck, "--checkpoint-on", "pause:"+strconv.FormatInt(stops[i], 10))
		}
		if prev == "" {
			args = append(append(args, wasm), s.args...)
		} else {
			args = append(args, prev)
		}
		stdout, stderr, code := ferryProc(t, legs[i%len(legs)], args...)
		o.stdout += stdout
		if ck != "" {
			if m := stoppedRE.FindStringSubmatch(stderr); m != nil {
				if m[1] != ck || m[2] != strconv.FormatInt(stops[i], 10) || code != exitOK {
					t.Fatalf("%s %v: leg %d: exit %d, %s", s.name, stops, i, code, m[0])
				}
				o.stderr += strings.Replace(stderr, m[0], "", 1)
				o.stops = append(o.stops, stops[i])
				prev = ck
				continue
			}
		}
		o.stderr += stderr
		o.code = code
		break
	}
	o.files = map[string]string{}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		o.files[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// lastPausePoint finds (to within 1/64 of it) the number of pause points
// an uninterrupted run of s polls, with two runs that write a checkpoint
// at many pause points and leave the program running: the last one
// written is the last of those points the run reached.
func lastPausePoint(t *testing.T, bin []string, s ckptSubject) int64 {
	t.Helper()
	probe := func(points []int64) int64 {
		dir := t.TempDir()
		for name, content := range s.files {
			os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
		}
		ck := filepath.Join(t.TempDir(), "probe")
		args := []string{"run", "--dir", dir + "::.", "--checkpoint-to", ck, "--leave-running"}
		for _, n := range points {
			args = append(args, "--checkpoint-on", "pause:"+strconv.FormatInt(n, 10))
		}
		wasm, _ := filepath.Abs(s.wasm)
		if _, stderr, code := ferryProc(t, bin, append(append(args, wasm), s.args...)...); code < 0 || !strings.Contains(stderr, "checkpoint written") {
			t.Fatalf("%s: probing pause points: exit %d: %s", s.name, code, stderr)
		}
		out, stderr, code := ferryProc(t, bin, "inspect", "--json", ck)
		var info struct {
			PauseCount int64 `json:"pause_count"`
		}
		if err := json.Unmarshal([]byte(out), &info); code != exitOK || err != nil {
			t.Fatalf("%s: inspect: exit %d, %v: %s", s.name, code, err, stderr)
		}
		return info.PauseCount
	}
	var pow []int64
	for n := int64(1); n < 1<<40; n *= 2 {
		pow = append(pow, n)
	}
	lo := probe(pow)
	var fine []int64
	for i := range int64(64) {
		fine = append(fine, lo+i*lo/64)
	}
	return probe(fine)
}

func ckptPointsWanted() int {
	if n, err := strconv.Atoi(os.Getenv("FERRY_CKPT_POINTS")); err == nil && n > 0 {
		return n
	}
	return 10
}

func TestCheckpointAnywhereProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ferry and a Go program and runs hundreds of processes")
	}
	bin := []string{buildFerry(t, runtime.GOARCH)}
	legs := [][]string{bin}
	subjects := ckptSubjects(t)
	evenly := ckptPointsWanted()
	for _, s := range subjects {
		t.Run(s.name, func(t *testing.T) {
			start := time.Now()
			want := chain(t, legs, s)
			if again := chain(t, legs, s); again.diff(want) != "" {
				t.Fatalf("two uninterrupted runs differ, the test cannot compare:\n%s", again.diff(want))
			}
			last := lastPausePoint(t, bin, s)
			if last < int64(evenly) {
				t.Fatalf("only %d pause points", last)
			}
			// Every k-th pause point up to the end (the first and the last
			// polled included), a few at random (fixed seed), and chains
			// of three checkpoints (four processes).
			k := max(last/int64(evenly), 1)
			points := []int64{1}
			for n := k; n < last; n += k {
				points = append(points, n)
			}
			points = append(points, last)
			r := rand.New(rand.NewPCG(5, uint64(len(s.name))))
			for range max(evenly/3, 3) {
				points = append(points, 1+r.Int64N(last))
			}
			var chains [][]int64
			for range max(evenly/4, 2) {
				a := 1 + r.Int64N(last-2)
				b := a + 1 + r.Int64N(last-a-1)
				chains = append(chains, []int64{a, b, b + 1 + r.Int64N(last-b)})
			}
			chains = append(chains, []int64{1, 2, 3}, []int64{last - 2, last - 1, last})
			checkpoints := 0
			for _, n := range points {
				got := chain(t, legs, s, n)
				if d := got.diff(want); d != "" {
					t.Fatalf("stopped at pause point %d and restored: %s", n, d)
				}
				if len(got.stops) != 1 {
					t.Fatalf("no checkpoint at pause point %d (the program polls %d)", n, last)
				}
				checkpoints++
			}
			for _, c := range chains {
				got := chain(t, legs, s, c...)
				if d := got.diff(want); d != "" {
					t.Fatalf("chain through pause points %v: %s", c, d)
				}
				if len(got.stops) != len(c) {
					t.Fatalf("chain through pause points %v stopped only at %v (the program polls %d)", c, got.stops, last)
				}
				checkpoints += len(got.stops)
			}
			t.Logf("%s: %d pause points polled; %d single stops, %d chains of 3, %d checkpoints restored in %v",
				s.name, last, len(points), len(chains), checkpoints, time.Since(start).Round(time.Millisecond))
		})
	}
}

// qemuFerry returns the arm64 build of ferry run through qemu-aarch64,
// or skips the test when qemu-aarch64 is missing.
func qemuFerry(t *testing.T) []string {
	qemu, err := exec.LookPath("qemu-aarch64")
	if err != nil {
		t.Skip("qemu-aarch64 not found: install qemu-user (scripts/deps.sh does) to run the arm64 build of ferry")
	}
	bin := buildFerry(t, "arm64")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 {
		t.Fatalf("%s is for %v, not arm64", bin, f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatalf("%s is dynamically linked: qemu-aarch64 would need an arm64 sysroot", bin)
		}
	}
	return []string{qemu, bin}
}

// A checkpoint written by the native build restores under the arm64 build
// (in qemu-aarch64) and the reverse, each finishing exactly as an
// uninterrupted native run; a chain crosses over twice.
func TestCheckpointOtherArchitecture(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ferry for arm64")
	}
	if runtime.GOARCH != "amd64" {
		t.Skip("the other architecture is arm64 under qemu-aarch64, from an amd64 host")
	}
	arm := qemuFerry(t)
	native := []string{buildFerry(t, runtime.GOARCH)}
	if out, _, code := ferryProc(t, arm, "version"); code != exitOK || !strings.Contains(out, "arm64") {
		t.Fatalf("the arm64 build under qemu: exit %d: %q", code, out)
	}
	for _, s := range ckptSubjects(t) {
		t.Run(s.name, func(t *testing.T) {
			want := chain(t, [][]string{native}, s)
			last := lastPausePoint(t, native, s)
			for _, c := range []struct {
				name  string
				legs  [][]string
				stops []int64
			}{
				{"amd64 to arm64", [][]string{native, arm}, []int64{last / 2}},
				{"arm64 to amd64", [][]string{arm, native}, []int64{last / 3}},
				{"amd64 to arm64 to amd64", [][]string{native, arm}, []int64{last / 4, last * 3 / 4}},
			} {
				start := time.Now()
				got := chain(t, c.legs, s, c.stops...)
				if d := got.diff(want); d != "" {
					t.Fatalf("%s at pause points %v: %s", c.name, c.stops, d)
				}
				if len(got.stops) != len(c.stops) {
					t.Fatalf("%s: stopped only at %v of %v", c.name, got.stops, c.stops)
				}
				t.Logf("%s at pause points %v: identical (%v)", c.name, c.stops, time.Since(start).Round(time.Millisecond))
			}
			// The checkpoint written under qemu says so.
			ckDir := t.TempDir()
			ck := filepath.Join(ckDir, "ck")
			dir := t.TempDir()
			for name, content := range s.files {
				os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
			}
			wasm, _ := filepath.Abs(s.wasm)
			if _, stderr, code := ferryProc(t, arm, append([]string{"run", "--dir", dir + "::.", "--checkpoint-to", ck, "--checkpoint-on", "pause:2", wasm}, s.args...)...); code != exitOK {
				t.Fatalf("arm64 run: exit %d: %s", code, stderr)
			}
			if out, _, _ := ferryProc(t, native, "inspect", ck); !strings.Contains(out, "source CPU   arm64:") {
				t.Fatalf("inspect of the arm64 checkpoint:\n%s", out)
			}
		})
	}
}

// With --leave-running the checkpoint is staged from the paused memory
// and committed while the program runs on, and what the program does
// after resuming must not leak into the file: a Go program (whose collector rewrites its heap right away) is
// checkpointed in the background at pause point k; restoring that
// checkpoint prints what a run stopped at k would have printed next.
func TestLeaveRunningCaptureIsolated(t *testing.T) {
	wasm := buildGoProgram(t)
	const k = "20000"
	want, whole, stderr := runCLI(t, "run", wasm)
	stopped := filepath.Join(t.TempDir(), "stopped")
	code, head, stderr := runCLI(t, "run", "--checkpoint-to", stopped, "--checkpoint-on", "pause:"+k, wasm)
	if code != exitOK || !strings.Contains(stderr, "the program stopped") {
		t.Fatalf("stopped run: exit %d: %s", code, stderr)
	}
	background := filepath.Join(t.TempDir(), "background")
	code, out, stderr := runCLI(t, "run", "--checkpoint-to", background, "--checkpoint-on", "pause:"+k, "--leave-running", wasm)
	if code != want || out != whole || !strings.Contains(stderr, "checkpoint written to "+background+" at pause point "+k) {
		t.Fatalf("leave-running run: exit %d (want %d), stdout as uninterrupted %v: %s", code, want, out == whole, stderr)
	}
	code, tail, stderr := runCLI(t, "restore", background)
	if code != want || head+tail != whole {
		t.Fatalf("restoring the background checkpoint: exit %d (want %d), %s\nhead+tail:\n%s\n--- want\n%s", code, want, stderr, head+tail, whole)
	}
}

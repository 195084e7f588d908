package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferryvm/ferry/internal/snapshot"
)

// Checkpoint-anywhere from compiled code (issue 11), through the built
// binary with each leg its own process. Real programs (the C and Go WASI
// programs of bench/programs) are stopped at the same --checkpoint-on
// pause:N once with --tier=interp and once with --tier=compiled. The two
// checkpoints must decode to the same snapshot once the creation time is
// zeroed, which is the one field allowed to differ: the format has no
// profile section yet, so nothing else may. The compiled tier's checkpoint
// is then restored with --tier=compiled under CPU masks, under qemu-x86_64
// CPU models (whose CPUID the runtime must see, so the restore compiles
// for the emulated CPU) and under qemu-aarch64, where the tier falls back
// to the interpreter; every restore must finish the program exactly as
// the uninterrupted interpreter run does.
//
// The default run is short: two pause points, masks x86-64-v1 and native,
// qemu's Nehalem at the second point only; FERRY_TIER_POINTS=N,N... picks
// the points. FERRY_QEMU_MATRIX=1 runs the full matrix (more pause
// points, every mask, qemu64, Nehalem, Haswell and arm64), which is what
// scripts/qemu-matrix.sh does.

// tierSubject is a program of bench/programs with the arguments the
// benchmarks give it (argv[0] first).
type tierSubject struct {
	name string
	wasm string
	args []string
}

func tierSubjects() []tierSubject {
	return []tierSubject{
		{"c-datapipe", "../../bench/programs/datapipe.wasm", []string{"datapipe", "64"}},
		{"go-gojson", "../../bench/programs/gojson.wasm", []string{"gojson", "400"}},
	}
}

func qemuMatrix() bool { return os.Getenv("FERRY_QEMU_MATRIX") == "1" }

// tierRestoreLeg is a CPU a checkpoint is restored on: a ferry binary,
// behind a qemu prefix for an emulated CPU, and its --cpu-features mask.
type tierRestoreLeg struct {
	name string
	bin  []string
	mask string
	// interp is set where the compiled tier cannot run (arm64): the
	// restore's note saying so is expected on stderr.
	interp bool
}

// qemuNoise matches the warnings qemu-x86_64 prints about CPUID bits TCG
// does not emulate (Haswell's pcid, hle...): qemu's, not ferry's, output.
var qemuNoise = regexp.MustCompile(`(?m)^qemu-x86_64: warning: .*\n`)

// tierNote matches the note a compiled-tier run prints where native code
// cannot run.
var tierNote = regexp.MustCompile(`(?m)^ferry: note: .*\n`)

// normalisedCheckpoint decodes the checkpoint at path and re-encodes it
// with its creation time zeroed, so two checkpoints of the same state
// compare byte for byte; it also returns the decoded snapshot, for
// saying what differs.
func normalisedCheckpoint(t *testing.T, path string) (norm []byte, s snapshot.Snapshot) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := snapshot.ReadBytes(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	s = f.Snapshot
	if s.Frames, err = f.Frames(); err != nil {
		t.Fatalf("%s: frames: %v", path, err)
	}
	for i := range s.Memories {
		s.Memories[i].Data = make([]byte, s.Memories[i].Size)
		if err := f.ReadMemory(i, s.Memories[i].Data); err != nil {
			t.Fatalf("%s: memory %d: %v", path, i, err)
		}
	}
	// Run-dependent readings, not state the tier computes: the creation
	// time and the WASI clocks' readings (monotonic and CPU time elapsed,
	// which a restore continues from).
	s.Meta.Created = 0
	if s.WASI != nil {
		s.WASI.Monotonic, s.WASI.CPUTime = 0, 0
	}
	var buf bytes.Buffer
	if _, err := snapshot.Write(&buf, &s, snapshot.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), s
}

// snapshotDiff names the parts of two decoded checkpoints that differ
// (the creation time aside): the frame, global, table or memory, and for
// a memory the first differing byte.
func snapshotDiff(a, b snapshot.Snapshot) string {
	var d []string
	a.Meta.Created, b.Meta.Created = 0, 0
	if !reflect.DeepEqual(a.Meta, b.Meta) {
		d = append(d, fmt.Sprintf("meta %+v vs %+v", a.Meta, b.Meta))
	}
	if len(a.Frames) != len(b.Frames) {
		d = append(d, fmt.Sprintf("%d frames vs %d", len(a.Frames), len(b.Frames)))
	} else {
		for i := range a.Frames {
			if !reflect.DeepEqual(a.Frames[i], b.Frames[i]) {
				d = append(d, fmt.Sprintf("frame %d: %+v vs %+v", i, a.Frames[i], b.Frames[i]))
			}
		}
	}
	if !reflect.DeepEqual(a.Globals, b.Globals) {
		d = append(d, fmt.Sprintf("globals %v vs %v", a.Globals, b.Globals))
	}
	if !reflect.DeepEqual(a.Tables, b.Tables) {
		d = append(d, "tables")
	}
	for i := range min(len(a.Memories), len(b.Memories)) {
		ma, mb := a.Memories[i].Data, b.Memories[i].Data
		for j := range min(len(ma), len(mb)) {
			if ma[j] != mb[j] {
				n := 0
				for k := j; k < min(len(ma), len(mb)); k++ {
					if ma[k] != mb[k] {
						n++
					}
				}
				d = append(d, fmt.Sprintf("memory %d: %d bytes differ, the first at %#x (%#x vs %#x)", i, n, j, ma[j], mb[j]))
				break
			}
		}
		if len(ma) != len(mb) {
			d = append(d, fmt.Sprintf("memory %d: %d bytes vs %d", i, len(ma), len(mb)))
		}
	}
	if !reflect.DeepEqual(a.Segments, b.Segments) {
		d = append(d, "segments")
	}
	if !reflect.DeepEqual(a.WASI, b.WASI) {
		d = append(d, "wasi state")
	}
	if !reflect.DeepEqual(a.Callsites, b.Callsites) {
		d = append(d, fmt.Sprintf("callsites %v vs %v", a.Callsites, b.Callsites))
	}
	if len(d) == 0 {
		return "the decoded sections are equal: only their encoding differs"
	}
	return strings.Join(d, "; ")
}

// tierPauseCount runs s to the end with --count-pauses and returns how many
// pause points it polled.
func tierPauseCount(t *testing.T, bin []string, s tierSubject, tier string) int64 {
	t.Helper()
	wasm, _ := filepath.Abs(s.wasm)
	_, stderr, code := ferryProc(t, bin, append([]string{"run", "--tier", tier, "--count-pauses", "--argv0", s.args[0], wasm}, s.args[1:]...)...)
	m := regexp.MustCompile(`the run polled (\d+) pause points`).FindStringSubmatch(stderr)
	if code != exitOK || m == nil {
		t.Fatalf("%s: --count-pauses (%s): exit %d: %s", s.name, tier, code, stderr)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// stopAt runs s with the given tier until pause point n and returns what
// it printed before stopping and the checkpoint's path.
func stopAt(t *testing.T, bin []string, s tierSubject, tier string, n int64) (head, ck string) {
	t.Helper()
	wasm, _ := filepath.Abs(s.wasm)
	ck = filepath.Join(t.TempDir(), "ck-"+tier)
	args := []string{"run", "--tier", tier, "--checkpoint-to", ck, "--checkpoint-on", "pause:" + strconv.FormatInt(n, 10), "--argv0", s.args[0], wasm}
	stdout, stderr, code := ferryProc(t, bin, append(args, s.args[1:]...)...)
	m := stoppedRE.FindStringSubmatch(stderr)
	if code != exitOK || m == nil || m[2] != strconv.FormatInt(n, 10) {
		t.Fatalf("%s: --tier=%s stopped at pause:%d: exit %d: %s", s.name, tier, n, code, stderr)
	}
	if rest := strings.Replace(stderr, m[0], "", 1); rest != "" {
		t.Fatalf("%s: --tier=%s stopped at pause:%d: unexpected stderr %q", s.name, tier, n, rest)
	}
	return stdout, ck
}

// tierPoints are the pause points s is stopped at: early, in the middle
// of its work (the programs spend it in hot loops and nested calls) and
// near the end; the matrix adds more.
func tierPoints(last int64) []int64 {
	if env := os.Getenv("FERRY_TIER_POINTS"); env != "" {
		var pts []int64
		for _, f := range strings.Split(env, ",") {
			if n, err := strconv.ParseInt(f, 10, 64); err == nil && n > 0 && n <= last {
				pts = append(pts, n)
			}
		}
		return pts
	}
	if !qemuMatrix() {
		return []int64{last / 3, last * 5 / 6}
	}
	return []int64{1, 2, last / 7, last / 3, last / 2, last * 2 / 3, last * 5 / 6, last - 1, last}
}

func TestCompiledCheckpointMatchesInterpreterAcrossCPUs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ferry and runs real programs in many processes, some under qemu")
	}
	if runtime.GOARCH != "amd64" {
		t.Skip("the compiled tier is amd64's")
	}
	native := []string{buildFerry(t, runtime.GOARCH)}
	legs := []tierRestoreLeg{
		{"host x86-64-v1", native, "x86-64-v1", false},
		{"host native", native, "native", false},
	}
	models := []string{"Nehalem"}
	if qemuMatrix() {
		legs = []tierRestoreLeg{}
		for _, m := range []string{"x86-64-v1", "x86-64-v2", "x86-64-v3", "x86-64-v4", "native"} {
			if m == "x86-64-v4" && !hostHasLevel(t, native, m) {
				t.Logf("the host is not %s: that mask is not tried", m)
				continue
			}
			legs = append(legs, tierRestoreLeg{"host " + m, native, m, false})
		}
		models = []string{"qemu64", "Nehalem", "Haswell"}
	}
	if qemu, err := exec.LookPath("qemu-x86_64"); err == nil {
		for _, m := range models {
			leg := tierRestoreLeg{"qemu " + m, []string{qemu, "-cpu", m, native[0]}, "native", false}
			checkQemuFeatures(t, leg, m)
			legs = append(legs, leg)
		}
	} else {
		t.Log("qemu-x86_64 not found: the emulated CPU models are not tried")
	}
	if qemuMatrix() {
		legs = append(legs, tierRestoreLeg{"qemu arm64", qemuFerry(t), "native", true})
	}

	for _, s := range tierSubjects() {
		t.Run(s.name, func(t *testing.T) {
			wasm, _ := filepath.Abs(s.wasm)
			run := append([]string{"run", "--argv0", s.args[0], wasm}, s.args[1:]...)
			want, wantErr, wantCode := ferryProc(t, native, append([]string{run[0], "--tier", "interp"}, run[1:]...)...)
			got, gotErr, gotCode := ferryProc(t, native, append([]string{run[0], "--tier", "compiled"}, run[1:]...)...)
			if got != want || gotErr != wantErr || gotCode != wantCode {
				t.Fatalf("uninterrupted: compiled tier exit %d %q, interpreter exit %d %q; stdout equal %v", gotCode, gotErr, wantCode, wantErr, got == want)
			}
			last := tierPauseCount(t, native, s, "interp")
			if c := tierPauseCount(t, native, s, "compiled"); c != last {
				// Go's runtime takes another path when its clock reads
				// differ; the interpreter run twice says whether that is it.
				if again := tierPauseCount(t, native, s, "interp"); again == last {
					t.Fatalf("the compiled tier polls %d pause points, the interpreter %d (twice)", c, last)
				}
				t.Logf("the pause count varies from run to run (clock-dependent): interpreter %d, compiled %d", last, c)
				// A run may poll fewer than either count: stay 1% short
				// so that the last points are reached in every run.
				last = min(last, c) * 99 / 100
			}
			for _, n := range tierPoints(last) {
				start := time.Now()
				headI, ckI := stopAt(t, native, s, "interp", n)
				headC, ckC := stopAt(t, native, s, "compiled", n)
				if headI != headC {
					t.Fatalf("pause:%d: output before the stop differs between the tiers", n)
				}
				normI, snapI := normalisedCheckpoint(t, ckI)
				normC, snapC := normalisedCheckpoint(t, ckC)
				frames := len(snapI.Frames)
				compared := "checkpoints equal"
				if !bytes.Equal(normI, normC) {
					// A program whose path depends on the clock's readings
					// (Go's runtime: timers, GC pacing) reaches pause:N in
					// another state on each run, whatever the tier. Two
					// interpreter runs tell: if they differ too, the tiers
					// cannot be compared at N, only the restores can.
					_, ckI2 := stopAt(t, native, s, "interp", n)
					normI2, snapI2 := normalisedCheckpoint(t, ckI2)
					if bytes.Equal(normI, normI2) {
						t.Fatalf("pause:%d: the compiled tier's checkpoint differs from the interpreter's beyond the run-dependent readings (interpreter vs compiled): %s", n, snapshotDiff(snapI, snapC))
					}
					compared = "not comparable (two interpreter runs differ: " + snapshotDiff(snapI, snapI2) + ")"
				}
				var done []string
				for _, l := range legs {
					// Emulated CPUs run 10-50 times slower: the short run
					// restores there at its last pause point only.
					if len(l.bin) > 1 && !qemuMatrix() && n != tierPoints(last)[len(tierPoints(last))-1] {
						continue
					}
					lstart := time.Now()
					tail, stderr, code := ferryProc(t, l.bin, "restore", "--tier", "compiled", "--cpu-features", l.mask, ckC)
					stderr = qemuNoise.ReplaceAllString(stderr, "")
					if l.interp {
						if !tierNote.MatchString(stderr) {
							t.Errorf("pause:%d on %s: no note that the compiled tier falls back: %q", n, l.name, stderr)
						}
						stderr = tierNote.ReplaceAllString(stderr, "")
					}
					if d := (outcome{stdout: headC + tail, stderr: stderr, code: code}).diff(outcome{stdout: want, stderr: wantErr, code: wantCode}); d != "" {
						t.Fatalf("pause:%d restored on %s (--tier compiled --cpu-features %s): %s", n, l.name, l.mask, d)
					}
					done = append(done, fmt.Sprintf("%s %v", l.name, time.Since(lstart).Round(time.Millisecond)))
				}
				t.Logf("pause:%d of %d (%d frames): %s; restored identically on %s (%v in all)",
					n, last, frames, compared, strings.Join(done, ", "), time.Since(start).Round(time.Millisecond))
			}
		})
	}
}

// hostHasLevel tells whether the host CPU reaches a level, by "ferry cpu".
func hostHasLevel(t *testing.T, bin []string, level string) bool {
	out, _, code := ferryProc(t, bin, "cpu")
	if code != exitOK {
		t.Fatal("ferry cpu failed")
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "levels") {
			return slices.Contains(strings.Fields(line), level)
		}
	}
	return false
}

// checkQemuFeatures makes sure the runtime under a qemu CPU model detects
// that model's features and not the host's: otherwise a restore there
// would compile for the host and the test would prove nothing (or die of
// SIGILL).
func checkQemuFeatures(t *testing.T, l tierRestoreLeg, model string) {
	t.Helper()
	out, stderr, code := ferryProc(t, l.bin, "cpu")
	if code != exitOK {
		t.Fatalf("%s: ferry cpu: exit %d: %s", l.name, code, stderr)
	}
	var eff []string
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "effective  amd64: "); ok {
			eff = strings.Fields(rest)
		}
	}
	// What each model has and lacks, from qemu's CPU definitions.
	has := map[string][]string{
		"qemu64":  {"sse2", "sse3"},
		"Nehalem": {"sse2", "ssse3", "sse41", "sse42", "popcnt"},
		"Haswell": {"sse41", "popcnt", "avx", "avx2", "bmi1", "bmi2", "lzcnt", "movbe"},
	}[model]
	lacks := map[string][]string{
		"qemu64":  {"ssse3", "sse41", "popcnt", "avx", "bmi1", "lzcnt"},
		"Nehalem": {"avx", "avx2", "bmi1", "bmi2", "lzcnt", "movbe"},
		"Haswell": {"avx512f", "avx512bw"},
	}[model]
	for _, f := range has {
		if !slices.Contains(eff, f) {
			t.Fatalf("%s: effective features %v lack %s", l.name, eff, f)
		}
	}
	for _, f := range lacks {
		if slices.Contains(eff, f) {
			t.Fatalf("%s: effective features %v have %s, which the model lacks: the host's CPUID leaks through", l.name, eff, f)
		}
	}
}

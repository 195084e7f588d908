package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferryvm/ferry/internal/builtins"
)

// The checkpoint-anywhere differential test across CPU masks (issue 6): a
// WASI program using the SIMD builtins and memory.fill/memory.copy is
// checkpointed under one CPU (the host with --cpu-features native, the
// host masked to x86-64-v1, qemu-x86_64 -cpu Nehalem, qemu-aarch64 -cpu
// cortex-a53) and restored under another, each leg a separate ferry
// process, and must finish exactly as an uninterrupted native run. Every
// "ferry restore -v" must report exactly the changed builtin decisions:
// the checkpoint's recorded decisions (ferry inspect --json) that the
// destination, asked with "ferry cpu" under the same CPU and mask,
// decides differently.

// simdFillProg prints a running i64 digest, in hex, every 100 of its 2000
// iterations (each a pause point) and at the end. Each iteration runs
// i8x16.swizzle and .shuffle, the narrowings, q15mulr, dot, popcnt,
// bitmask, f32x4 and f64x2 ceil/floor/trunc/nearest, and a memory.fill
// and memory.copy of 1 to 4000 bytes at a varying offset.
const simdFillProg = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $emit (param $x i64)
    (local $k i32) (local $d i32)
    (loop $l
      (local.set $d (i32.wrap_i64 (i64.and (i64.shr_u (local.get $x)
        (i64.extend_i32_u (i32.sub (i32.const 60) (i32.shl (local.get $k) (i32.const 2))))) (i64.const 15))))
      (i32.store8 offset=32 (local.get $k)
        (i32.add (local.get $d) (select (i32.const 48) (i32.const 87) (i32.lt_u (local.get $d) (i32.const 10)))))
      (br_if $l (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (i32.const 16))))
    (i32.store8 (i32.const 48) (i32.const 10))
    (i32.store (i32.const 0) (i32.const 32))
    (i32.store (i32.const 4) (i32.const 17))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20))))
  (func (export "_start")
    (local $i i32) (local $n i32) (local $acc i64)
    (local $v v128) (local $w v128) (local $f v128) (local $d v128) (local $fi v128)
    (local.set $v (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15))
    (local.set $w (v128.const i16x8 -32768 32767 -1 1 1000 -1000 12345 -300))
    (loop $l
      (local.set $v (i8x16.swizzle (i8x16.add (local.get $v) (i8x16.splat (local.get $i)))
        (v128.const i8x16 3 0 17 1 5 4 7 6 9 8 11 10 13 12 15 200)))
      (local.set $v (i8x16.shuffle 16 1 18 3 20 5 22 7 24 9 26 11 28 13 30 31 (local.get $v) (local.get $w)))
      (local.set $w (i16x8.q15mulr_sat_s (i16x8.add (local.get $w) (i16x8.splat (i32.mul (local.get $i) (i32.const 97))))
                                         (i8x16.narrow_i16x8_s (local.get $w) (local.get $v))))
      (local.set $w (i8x16.add (i8x16.popcnt (local.get $v))
        (i16x8.narrow_i32x4_u (i32x4.dot_i16x8_s (local.get $w) (local.get $v))
                              (i16x8.narrow_i32x4_s (local.get $v) (local.get $w)))))
      (local.set $w (v128.xor (local.get $w) (i8x16.narrow_i16x8_u (local.get $v) (local.get $w))))
      (local.set $f (f32x4.add
        (f32x4.add (f32x4.floor (f32x4.mul (f32x4.splat (f32.convert_i32_u (local.get $i)))
                                           (v128.const f32x4 0.37 -1.21 2.5 -0.7)))
                   (f32x4.ceil (f32x4.mul (f32x4.splat (f32.convert_i32_u (local.get $i)))
                                          (v128.const f32x4 -0.11 0.93 1.01 -2.5))))
        (f32x4.add (f32x4.trunc (f32x4.mul (f32x4.splat (f32.convert_i32_u (local.get $i)))
                                           (v128.const f32x4 0.5 -0.5 1.75 -3.3)))
                   (f32x4.nearest (f32x4.mul (f32x4.splat (f32.convert_i32_u (local.get $i)))
                                             (v128.const f32x4 0.5 -0.5 0.25 -1.5))))))
      (local.set $d (f64x2.add
        (f64x2.add (f64x2.floor (f64x2.mul (f64x2.splat (f64.convert_i32_u (local.get $i))) (v128.const f64x2 0.37 -1.21)))
                   (f64x2.ceil (f64x2.mul (f64x2.splat (f64.convert_i32_u (local.get $i))) (v128.const f64x2 -0.11 0.93))))
        (f64x2.add (f64x2.trunc (f64x2.mul (f64x2.splat (f64.convert_i32_u (local.get $i))) (v128.const f64x2 1.75 -3.3)))
                   (f64x2.nearest (f64x2.mul (f64x2.splat (f64.convert_i32_u (local.get $i))) (v128.const f64x2 0.5 -1.5))))))
      (local.set $fi (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $f)) (i32x4.trunc_sat_f64x2_s_zero (local.get $d))))
      (local.set $n (i32.add (i32.rem_u (i32.mul (local.get $i) (i32.const 37)) (i32.const 4000)) (i32.const 1)))
      (memory.fill (i32.add (i32.const 1024) (i32.rem_u (i32.mul (local.get $i) (i32.const 13)) (i32.const 64)))
                   (local.get $i) (local.get $n))
      (memory.copy (i32.const 8192) (i32.const 1040) (local.get $n))
      (local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 31))
        (i64.add
          (i64.add (i64x2.extract_lane 0 (local.get $v)) (i64x2.extract_lane 1 (local.get $w)))
          (i64.add
            (i64.add (i64x2.extract_lane 0 (local.get $fi)) (i64x2.extract_lane 1 (local.get $fi)))
            (i64.add
              (i64.extend_i32_u (i8x16.bitmask (local.get $w)))
              (i64.add (i64.load (i32.add (i32.const 1024) (i32.rem_u (local.get $i) (i32.const 97))))
                       (i64.load (i32.add (i32.const 8192) (i32.rem_u (local.get $i) (i32.const 89))))))))))
      (if (i32.eq (i32.rem_u (local.get $i) (i32.const 100)) (i32.const 99))
        (then (call $emit (local.get $acc))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 2000))))
    (call $emit (local.get $acc))))`

// cpuLeg is a CPU a leg runs on: a ferry binary (behind a qemu prefix for
// another CPU model) and the --cpu-features mask it is given.
type cpuLeg struct {
	name string
	bin  []string
	spec string
}

// cpuChoice is what "ferry cpu" says a leg selects: its effective
// features and, for each builtin, the implementation and the features it
// relies on.
type cpuChoice struct {
	arch      string
	effective []string
	impl      map[string]string
	needs     map[string][]string
}

// cpuChoiceOf runs "ferry cpu --cpu-features SPEC" on the leg's CPU.
func cpuChoiceOf(t *testing.T, l cpuLeg) cpuChoice {
	t.Helper()
	out, stderr, code := ferryProc(t, l.bin, "cpu", "--cpu-features", l.spec)
	if code != exitOK {
		t.Fatalf("%s: ferry cpu --cpu-features %s: exit %d: %s", l.name, l.spec, code, stderr)
	}
	c := cpuChoice{impl: map[string]string{}, needs: map[string][]string{}}
	inBuiltins := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "effective "):
			arch, names, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "effective ")), ": ")
			c.arch, c.effective = arch, strings.Fields(names)
		case strings.HasPrefix(line, "builtins ("):
			inBuiltins = true
		case inBuiltins && strings.TrimSpace(line) != "":
			f := strings.Fields(line)
			if len(f) < 2 || len(f) > 3 {
				t.Fatalf("%s: ferry cpu: unexpected builtin line %q", l.name, line)
			}
			c.impl[f[0]] = f[1]
			c.needs[f[0]] = nil
			if len(f) == 3 {
				c.needs[f[0]] = strings.Split(f[2], ",")
			}
		}
	}
	if c.arch == "" || len(c.impl) == 0 {
		t.Fatalf("%s: cannot read ferry cpu's output:\n%s", l.name, out)
	}
	for b, needs := range c.needs {
		for _, n := range needs {
			if !slices.Contains(c.effective, n) {
				t.Fatalf("%s: ferry cpu selects %s %s, relying on %s, outside the effective features %v",
					l.name, b, c.impl[b], n, c.effective)
			}
		}
	}
	return c
}

// cpuHops runs s (no files, no arguments) on legs[0], checkpointed at
// stops[0], restored with -v on legs[1] and checkpointed at stops[1], and
// so on, the last leg running to the end. Each restore's reported
// decision changes are checked against the ones expected from the
// checkpoint's recorded decisions and the destination's "ferry cpu"; they
// are taken out of the standard error of the returned outcome. It
// returns the outcome and the changes reported at each restore.
func cpuHops(t *testing.T, legs []cpuLeg, s ckptSubject, choices map[string]cpuChoice, stops ...int64) (outcome, [][]string) {
	t.Helper()
	if len(legs) != len(stops)+1 {
		t.Fatalf("%d legs for %d stops", len(legs), len(stops))
	}
	wasm, err := filepath.Abs(s.wasm)
	if err != nil {
		t.Fatal(err)
	}
	semantic := map[string]bool{}
	for _, b := range builtins.All() {
		semantic[b.BuiltinName()] = b.IsSemantic()
	}
	ckDir := t.TempDir()
	var o outcome
	var reported [][]string
	prev := ""
	for i, l := range legs {
		args := []string{"run", "--cpu-features", l.spec}
		var want []string
		if prev != "" {
			args = []string{"restore", "-v", "--cpu-features", l.spec}
			want = expectedChanges(t, legs[i-1], l, prev, stops[i-1], choices)
		}
		ck := ""
		if i < len(stops) {
			ck = filepath.Join(ckDir, "ck"+strconv.Itoa(i))
			args = append(args, "--checkpoint-to", ck, "--checkpoint-on", "pause:"+strconv.FormatInt(stops[i], 10))
		}
		if prev == "" {
			args = append(args, wasm)
		} else {
			args = append(args, prev)
		}
		stdout, stderr, code := ferryProc(t, l.bin, args...)
		o.stdout += stdout
		// The -v lines: "BUILTIN: OLD -> NEW" for a builtin this Ferry has.
		var got, rest []string
		for _, line := range strings.SplitAfter(stderr, "\n") {
			b, _, ok := strings.Cut(strings.TrimSuffix(line, "\n"), ": ")
			if _, known := semantic[b]; ok && known && strings.Contains(line, " -> ") && prev != "" {
				if !semantic[b] {
					got = append(got, strings.TrimSuffix(line, "\n"))
				}
				continue
			}
			rest = append(rest, line)
		}
		stderr = strings.Join(rest, "")
		if prev != "" {
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("%s -> %s (restore of %s): restore -v reported\n  %s\nwant\n  %s\n(stderr %q)", legs[i-1].name, l.name,
					filepath.Base(prev), strings.Join(got, "\n  "), strings.Join(want, "\n  "), stderr)
			}
			reported = append(reported, got)
		}
		if ck != "" {
			if m := stoppedRE.FindStringSubmatch(stderr); m != nil {
				if m[1] != ck || m[2] != strconv.FormatInt(stops[i], 10) || code != exitOK {
					t.Fatalf("%s: leg %d (%s): exit %d, %s", s.name, i, l.name, code, m[0])
				}
				o.stderr += strings.Replace(stderr, m[0], "", 1)
				o.stops = append(o.stops, stops[i])
				prev = ck
				continue
			}
			t.Fatalf("%s: leg %d (%s) did not stop at pause point %d: exit %d: %s", s.name, i, l.name, stops[i], code, stderr)
		}
		o.stderr += stderr
		o.code = code
		break
	}
	o.files = map[string]string{}
	return o, reported
}

// expectedChanges checks that checkpoint ck records the effective features
// and decisions of its source leg from, and returns the changes ("BUILTIN:
// OLD -> NEW", sorted) that restoring it on leg to must report: its
// non-semantic recorded decisions that to's CPU and mask decide
// differently. Independently of "ferry cpu", a recorded decision relying
// on a feature the destination lacks (or on the other architecture's
// features) must be among them.
func expectedChanges(t *testing.T, from, to cpuLeg, ck string, stop int64, choices map[string]cpuChoice) []string {
	t.Helper()
	src, dst := choices[from.name], choices[to.name]
	feats, ds := checkpointDecisions(t, ck)
	if !slices.Equal(feats, src.effective) {
		t.Fatalf("checkpoint written on %s records features %v, its effective ones are %v", from.name, feats, src.effective)
	}
	seen := map[string]bool{}
	var want []string
	for _, d := range ds {
		seen[d.Builtin] = true
		if d.Semantic {
			continue
		}
		if impl, ok := src.impl[d.Builtin]; !ok || impl != d.Impl || !slices.Equal(src.needs[d.Builtin], d.Features) {
			t.Fatalf("checkpoint written on %s records %+v; ferry cpu there selects %s (%v)", from.name, d, impl, src.needs[d.Builtin])
		}
		impl, ok := dst.impl[d.Builtin]
		if !ok {
			t.Fatalf("%s has no builtin %s", to.name, d.Builtin)
		}
		if impl != d.Impl {
			want = append(want, d.Builtin+": "+d.Impl+" -> "+impl)
		}
		lost := false
		for _, f := range d.Features {
			lost = lost || src.arch != dst.arch || !slices.Contains(dst.effective, f)
		}
		if lost && impl == d.Impl {
			t.Fatalf("%s -> %s: %s %s relies on %v, which %s lacks, yet it would be kept", from.name, to.name,
				d.Builtin, d.Impl, d.Features, to.name)
		}
	}
	// Decisions are made on first use: from the third pause point on, the
	// loop has run once and used every builtin below.
	for _, b := range []string{"memory.fill", "i8x16.swizzle", "i8x16.shuffle", "f32x4.floor", "f64x2.nearest", "i8x16.popcnt", "i32x4.dot_i16x8_s"} {
		if stop >= 3 && !seen[b] {
			t.Fatalf("checkpoint written on %s records no decision for %s: %+v", from.name, b, ds)
		}
	}
	slices.Sort(want)
	return want
}

func TestCheckpointAcrossCPUMasks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ferry for amd64 and arm64 and runs it under qemu-user")
	}
	if runtime.GOARCH != "amd64" {
		t.Skip("the other CPUs are qemu-x86_64 models and arm64 under qemu-aarch64, from an amd64 host")
	}
	qemuX86, err := exec.LookPath("qemu-x86_64")
	if err != nil {
		t.Skip("qemu-x86_64 not found: install qemu-user (scripts/deps.sh does) to run ferry on a Nehalem")
	}
	arm := qemuFerry(t) // skips without qemu-aarch64
	amd := buildFerry(t, "amd64")
	native := cpuLeg{"native", []string{amd}, "native"}
	v1 := cpuLeg{"x86-64-v1", []string{amd}, "x86-64-v1"}
	nehalem := cpuLeg{"Nehalem", []string{qemuX86, "-cpu", "Nehalem", amd}, "native"}
	a53 := cpuLeg{"arm64", []string{arm[0], "-cpu", "cortex-a53", arm[1]}, "native"}
	choices := map[string]cpuChoice{}
	for _, l := range []cpuLeg{native, v1, nehalem, a53} {
		choices[l.name] = cpuChoiceOf(t, l)
	}
	// The CPUs are what this test means them to be.
	if c := choices[v1.name]; !slices.Equal(c.effective, []string{"sse2"}) {
		t.Fatalf("x86-64-v1 leaves %v effective", c.effective)
	}
	for _, f := range []string{"avx", "avx2", "fma", "bmi1", "erms", "avx512f"} {
		if slices.Contains(choices[nehalem.name].effective, f) {
			t.Fatalf("qemu's Nehalem has %s: %v", f, choices[nehalem.name].effective)
		}
	}
	if c := choices[a53.name]; c.arch != "arm64" || !slices.Contains(c.effective, "asimd") || slices.Contains(c.effective, "atomics") {
		t.Fatalf("cortex-a53 under qemu: %s %v", c.arch, c.effective)
	}

	s := ckptSubject{name: "simd-fill", wasm: wat2wasm(t, simdFillProg)}
	want, _ := cpuHops(t, []cpuLeg{native}, s, choices)
	if want.code != exitOK || strings.Count(want.stdout, "\n") != 21 || want.stderr != "" {
		t.Fatalf("uninterrupted native run: exit %d, stdout %q, stderr %q", want.code, want.stdout, want.stderr)
	}
	for _, l := range []cpuLeg{v1, nehalem, a53} {
		if got, _ := cpuHops(t, []cpuLeg{l}, s, choices); got.diff(want) != "" {
			t.Fatalf("uninterrupted run on %s: %s", l.name, got.diff(want))
		}
	}
	last := lastPausePoint(t, native.bin, s)
	points := []int64{1, last / 2, last - 1}
	check := func(legs []cpuLeg, stops ...int64) [][]string {
		t.Helper()
		start := time.Now()
		got, reported := cpuHops(t, legs, s, choices, stops...)
		var names []string
		for _, l := range legs {
			names = append(names, l.name)
		}
		path := strings.Join(names, " -> ")
		if d := got.diff(want); d != "" {
			t.Fatalf("%s at pause points %v: %s", path, stops, d)
		}
		if len(got.stops) != len(stops) {
			t.Fatalf("%s: stopped only at %v of %v", path, got.stops, stops)
		}
		t.Logf("%s at pause points %v: identical output; changed decisions %q (%v)", path, stops, reported,
			time.Since(start).Round(time.Millisecond))
		return reported
	}
	hostHasAVX2 := slices.Contains(choices[native.name].effective, "avx2")
	for _, n := range points {
		for _, other := range []cpuLeg{v1, nehalem, a53} {
			to := check([]cpuLeg{native, other}, n)[0]
			back := check([]cpuLeg{other, native}, n)[0]
			// The memory.fill decision the issue names: AVX2 on this host,
			// something without AVX2 elsewhere, and back (once made: at
			// pause point 1 no builtin has been used yet).
			if n >= 3 && hostHasAVX2 && choices[native.name].impl["memory.fill"] == "avx2" {
				fill := "memory.fill: avx2 -> " + choices[other.name].impl["memory.fill"]
				if !slices.Contains(to, fill) || !slices.Contains(back, "memory.fill: "+choices[other.name].impl["memory.fill"]+" -> avx2") {
					t.Fatalf("native <-> %s: memory.fill not reported as %q and back: %q, %q", other.name, fill, to, back)
				}
			}
		}
	}
	check([]cpuLeg{native, nehalem, a53, native}, last/4, last/2, last*3/4)
}

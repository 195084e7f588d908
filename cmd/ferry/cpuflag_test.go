package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/internal/builtins"
	"github.com/ferryvm/ferry/internal/cpu"
)

// simdLoop exercises SIMD builtins (swizzle, floor, ceil) and memory.fill
// in a loop whose every iteration is a pause point, folding everything
// into one i64 result.
const simdLoop = `(module
  (memory 1)
  (func (export "run") (result i64)
    (local $i i32) (local $v v128) (local $f v128) (local $acc i64)
    (local.set $v (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15))
    (loop $l
      (local.set $v (i8x16.swizzle
        (i8x16.add (local.get $v) (i8x16.splat (local.get $i)))
        (v128.const i8x16 3 0 17 1 5 4 7 6 9 8 11 10 13 12 15 200)))
      (local.set $f (f32x4.add
        (f32x4.floor (f32x4.mul (f32x4.splat (f32.convert_i32_u (local.get $i)))
                                (v128.const f32x4 0.37 -1.21 2.5 -0.7)))
        (f32x4.ceil (f32x4.mul (f32x4.splat (f32.convert_i32_u (local.get $i)))
                               (v128.const f32x4 -0.11 0.93 1.01 -2.5)))))
      (memory.fill (i32.const 96) (local.get $i) (i32.const 4096))
      (local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 31))
        (i64.add (i64x2.extract_lane 0 (local.get $v))
          (i64.add (i64x2.extract_lane 1 (local.get $f)) (i64.load (i32.const 100))))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 3000))))
    (local.get $acc)))`

// checkpointDecisions reads a checkpoint's effective CPU features and
// builtin decisions through ferry inspect --json.
func checkpointDecisions(t *testing.T, ck string) (features []string, ds []ferry.DecisionInfo) {
	t.Helper()
	code, out, stderr := runCLI(t, "inspect", "--json", ck)
	var info ferry.CheckpointInfo
	if err := json.Unmarshal([]byte(out), &info); code != exitOK || err != nil {
		t.Fatalf("inspect --json: exit %d, %v: %s", code, err, stderr)
	}
	if !info.CallsitesRecorded || info.FormatVersion != "1.3" {
		t.Fatalf("inspect --json: format %s, callsites recorded %v", info.FormatVersion, info.CallsitesRecorded)
	}
	return info.CPUFeatures, info.Callsites
}

// A checkpoint written under one --cpu-features mask and restored under
// another finishes with the output of an uninterrupted run; the checkpoint
// records the effective features and the decisions made for them, and
// restore -v reports exactly the decisions the destination mask changes.
func TestCLICPUFeaturesCheckpointRestore(t *testing.T) {
	wasm := wat2wasm(t, simdLoop)
	code, want, stderr := runCLI(t, "run", "--invoke", "run", wasm)
	if code != exitOK || want == "" {
		t.Fatalf("uninterrupted run: exit %d: %s", code, stderr)
	}
	byName := map[string]builtins.Descriptor{}
	for _, b := range builtins.All() {
		byName[b.BuiltinName()] = b
	}
	host := cpu.Host()
	masks := []string{"native", "baseline"}
	if host.Arch() == "amd64" {
		masks = []string{"native", "x86-64-v1", "x86-64-v2"}
	}
	changed := 0
	for _, from := range masks {
		for _, to := range masks {
			if from == to && from != "native" {
				continue
			}
			effFrom, err := host.Mask(from)
			if err != nil {
				t.Fatal(err)
			}
			effTo, _ := host.Mask(to)
			for _, n := range []int{5, 1700} {
				name := fmt.Sprintf("%s->%s/pause:%d", from, to, n)
				ck := filepath.Join(t.TempDir(), "ck")
				code, out, stderr := runCLI(t, "run", "--cpu-features", from, "--checkpoint-to", ck,
					"--checkpoint-on", "pause:"+strconv.Itoa(n), "--invoke", "run", wasm)
				if code != exitOK || out != "" || !strings.Contains(stderr, "checkpoint written") {
					t.Fatalf("%s: run: exit %d, out %q: %s", name, code, out, stderr)
				}
				feats, ds := checkpointDecisions(t, ck)
				if !slices.Equal(feats, effFrom.Names()) {
					t.Fatalf("%s: checkpoint records features %v, effective %v", name, feats, effFrom.Names())
				}
				var wantLines []string
				seen := map[string]bool{}
				for _, d := range ds {
					seen[d.Builtin] = true
					b, ok := byName[d.Builtin]
					if !ok || d.Semantic {
						continue
					}
					if dec := b.Decide(effFrom); d.Impl != dec.Impl || !slices.Equal(d.Features, dec.Features) {
						t.Fatalf("%s: recorded %+v, %s gives %+v", name, d, from, dec)
					}
					if dec := b.Decide(effTo); dec.Impl != d.Impl {
						wantLines = append(wantLines, d.Builtin+": "+d.Impl+" -> "+dec.Impl)
					}
				}
				for _, b := range []string{"i8x16.swizzle", "f32x4.floor", "f32x4.ceil", "memory.fill"} {
					if !seen[b] {
						t.Fatalf("%s: no decision recorded for %s: %+v", name, b, ds)
					}
				}
				code, out, stderr = runCLI(t, "restore", "-v", "--cpu-features", to, ck)
				if code != exitOK || out != want {
					t.Fatalf("%s: restore: exit %d, output %q, want %q: %s", name, code, out, want, stderr)
				}
				var gotLines []string
				for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
					if b, _, ok := strings.Cut(l, ": "); ok && strings.Contains(l, " -> ") && byName[b] != nil && !byName[b].IsSemantic() {
						gotLines = append(gotLines, l)
					}
				}
				if !slices.Equal(gotLines, wantLines) {
					t.Fatalf("%s: restore -v reported %q, want %q (stderr %q)", name, gotLines, wantLines, stderr)
				}
				changed += len(gotLines)
			}
		}
	}
	// On a CPU with SSSE3 (or NEON), native and the baseline choose
	// differently for the swizzle at least.
	base, _ := host.Mask("baseline")
	if byName["i8x16.swizzle"].Decide(host).Impl != byName["i8x16.swizzle"].Decide(base).Impl && changed == 0 {
		t.Fatal("no restore reported a changed decision")
	}
}

func TestCLICPUFeaturesInspect(t *testing.T) {
	wasm := wat2wasm(t, simdLoop)
	ck := filepath.Join(t.TempDir(), "ck")
	if code, _, stderr := runCLI(t, "run", "--checkpoint-to", ck, "--checkpoint-on", "pause:50", "--invoke", "run", wasm); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	code, out, stderr := runCLI(t, "inspect", ck)
	if code != exitOK {
		t.Fatalf("inspect: exit %d: %s", code, stderr)
	}
	swizzle := builtins.All()[0]
	for _, b := range builtins.All() {
		if b.BuiltinName() == "i8x16.swizzle" {
			swizzle = b
		}
	}
	d := swizzle.Decide(cpu.Host())
	for _, want := range []string{"format       1.3", "builtin decisions (", "implementation", "memory.fill", "f32x4.floor", "callsites"} {
		if !strings.Contains(out, want) {
			t.Fatalf("inspect: no %q in:\n%s", want, out)
		}
	}
	found := false
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		found = found || len(f) >= 4 && f[0] == "i8x16.swizzle" && f[1] == d.Impl && f[len(f)-1] == "no"
	}
	if !found {
		t.Fatalf("inspect: no line for i8x16.swizzle %s in:\n%s", d.Impl, out)
	}
}

// --cpu-features: a malformed spec is a usage error (exit 2), features
// this CPU lacks a failure (exit 1) naming them; help documents the flag.
func TestCLICPUFeaturesErrors(t *testing.T) {
	wasm := wat2wasm(t, simdLoop)
	ck := filepath.Join(t.TempDir(), "ck")
	if code, _, stderr := runCLI(t, "run", "--checkpoint-to", ck, "--checkpoint-on", "pause:50", "--invoke", "run", wasm); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	host := cpu.Host()
	var missing string
	for _, f := range cpu.All(host.Arch()) {
		if !host.Has(f) {
			missing = f.String()
			break
		}
	}
	for _, cmd := range [][]string{{"run", "--invoke", "run", wasm}, {"restore", ck}} {
		args := append([]string{cmd[0], "--cpu-features", "no-such-feature"}, cmd[1:]...)
		if code, _, stderr := runCLI(t, args...); code != exitUsage || !strings.Contains(stderr, "no-such-feature") {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		if missing != "" {
			args := append([]string{cmd[0], "--cpu-features", "+" + missing}, cmd[1:]...)
			if code, _, stderr := runCLI(t, args...); code != exitFail || !strings.Contains(stderr, "lacks "+missing) {
				t.Fatalf("%v: exit %d: %s", args, code, stderr)
			}
		}
		if code, out, _ := runCLI(t, cmd[0], "-h"); code != exitOK || !strings.Contains(out, "--cpu-features SPEC") {
			t.Fatalf("%s -h: exit %d: %s", cmd[0], code, out)
		}
	}
	if _, out, _ := runCLI(t, "restore", "-h"); !strings.Contains(out, "OLD-IMPL -> NEW-IMPL") {
		t.Fatalf("restore -h does not document -v: %s", out)
	}
}

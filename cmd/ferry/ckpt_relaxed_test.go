package main

import (
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Relaxed SIMD across a checkpoint (issue 6): a relaxed result computed
// before a checkpoint equals the one computed after a restore under a
// different CPU mask, because the relaxed instructions are semantic
// builtins whose behaviour (fused/unfused, x86/Arm) is pinned by the
// checkpoint and only its implementation changes.

// relaxedProg prints, in each of its 200 iterations, one line of hex
// fields: the iteration, f32x4.relaxed_madd and f64x2.relaxed_madd on
// inputs where fused and unfused differ (scaled by 2^(i&7): fused gives
// 2^(k-37) resp. 2^(k-53) in every lane, unfused 0), i8x16.relaxed_swizzle
// with indices 16..127 (x86: x[i&15], Arm: 0) and
// i32x4.relaxed_trunc_f32x4_u/_s on NaN, -1.5, 5e9 and i (x86: NaN and
// out of range -> 0xffffffff, Arm: saturating, NaN -> 0).
const relaxedProg = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $hex (param $x i64) (param $p i32)
    (local $k i32) (local $d i32)
    (loop $l
      (local.set $d (i32.wrap_i64 (i64.and (i64.shr_u (local.get $x)
        (i64.extend_i32_u (i32.sub (i32.const 60) (i32.shl (local.get $k) (i32.const 2))))) (i64.const 15))))
      (i32.store8 (i32.add (local.get $p) (local.get $k))
        (i32.add (local.get $d) (select (i32.const 48) (i32.const 87) (i32.lt_u (local.get $d) (i32.const 10)))))
      (br_if $l (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (i32.const 16))))
    (i32.store8 (i32.add (local.get $p) (i32.const 16)) (i32.const 32)))
  (func $field (param $n i32) (param $x i64)
    (call $hex (local.get $x) (i32.add (i32.const 64) (i32.mul (local.get $n) (i32.const 17)))))
  (func $field2 (param $n i32) (param $v v128)
    (call $field (local.get $n) (i64x2.extract_lane 0 (local.get $v)))
    (call $field (i32.add (local.get $n) (i32.const 1)) (i64x2.extract_lane 1 (local.get $v))))
  (func (export "_start")
    (local $i i32) (local $s v128) (local $sd v128)
    (loop $l
      (local.set $s (f32x4.splat (f32.convert_i32_u (i32.shl (i32.const 1) (i32.and (local.get $i) (i32.const 7))))))
      (local.set $sd (f64x2.splat (f64.convert_i32_u (i32.shl (i32.const 1) (i32.and (local.get $i) (i32.const 7))))))
      (call $field (i32.const 0) (i64.extend_i32_u (local.get $i)))
      (call $field2 (i32.const 1) (f32x4.relaxed_madd
        (f32x4.mul (v128.const f32x4 0x1.000004p+0 0x1.000004p+0 0x1.000004p+0 0x1.000004p+0) (local.get $s))
        (v128.const f32x4 0x1.0002p+0 0x1.0002p+0 0x1.0002p+0 0x1.0002p+0)
        (f32x4.mul (v128.const f32x4 -0x1.000204p+0 -0x1.000204p+0 -0x1.000204p+0 -0x1.000204p+0) (local.get $s))))
      (call $field2 (i32.const 3) (f64x2.relaxed_madd
        (f64x2.mul (v128.const f64x2 0x1.0000004p+0 0x1.0000004p+0) (local.get $sd))
        (v128.const f64x2 0x1.0000002p+0 0x1.0000002p+0)
        (f64x2.mul (v128.const f64x2 -0x1.0000006p+0 -0x1.0000006p+0) (local.get $sd))))
      (call $field2 (i32.const 5) (i8x16.relaxed_swizzle
        (i8x16.add (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15) (i8x16.splat (local.get $i)))
        (v128.const i8x16 0x11 0x1f 0x40 0x7f 0x80 0x90 0xff 3 0x23 0x35 0x47 0x59 0x6b 0x7d 0x10 9)))
      (call $field2 (i32.const 7) (i32x4.relaxed_trunc_f32x4_u
        (f32x4.replace_lane 3 (v128.const f32x4 nan -1.5 5e9 0) (f32.convert_i32_u (local.get $i)))))
      (call $field2 (i32.const 9) (i32x4.relaxed_trunc_f32x4_s
        (f32x4.replace_lane 3 (v128.const f32x4 nan -1.5 5e9 0) (f32.convert_i32_u (local.get $i)))))
      (i32.store8 (i32.const 250) (i32.const 10))
      (i32.store (i32.const 0) (i32.const 64))
      (i32.store (i32.const 4) (i32.const 187))
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 200))))))`

// relaxedUsed are the relaxed builtins relaxedProg uses.
var relaxedUsed = []string{"f32x4.relaxed_madd", "f64x2.relaxed_madd", "i8x16.relaxed_swizzle",
	"i32x4.relaxed_trunc_f32x4_u", "i32x4.relaxed_trunc_f32x4_s"}

func TestCheckpointRelaxedSIMDAcrossMasks(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the masks are x86-64 levels")
	}
	bin := []string{buildFerry(t, "amd64")}
	native := cpuLeg{"native", bin, "native"}
	v1 := cpuLeg{"x86-64-v1", bin, "x86-64-v1"}
	nc := cpuChoiceOf(t, native)
	for b, impl := range map[string]string{"f32x4.relaxed_madd": "fma", "i8x16.relaxed_swizzle": "ssse3",
		"i32x4.relaxed_trunc_f32x4_u": "avx512f"} {
		if nc.impl[b] != impl {
			t.Skipf("this CPU decides %s %s, not %s: the masks would not differ as this test needs", b, nc.impl[b], impl)
		}
	}
	wasm := wat2wasm(t, relaxedProg, "--enable-relaxed-simd")

	// Uninterrupted runs: the two masks decide differently, visibly.
	full := map[string]string{}
	for _, l := range []cpuLeg{native, v1} {
		out, stderr, code := ferryProc(t, l.bin, "run", "--cpu-features", l.spec, wasm)
		if code != exitOK || stderr != "" || strings.Count(out, "\n") != 200 {
			t.Fatalf("uninterrupted run under %s: exit %d, %d lines, stderr %q", l.spec, code, strings.Count(out, "\n"), stderr)
		}
		full[l.spec] = out
	}
	// Line 1 (k = 1): fused f32 gives 2^-36 (0x2d800000), f64 2^-52
	// (0x3cb0000000000000); unfused 0. Swizzle of x = 1..16: x86 picks
	// x[1], x[15], x[0], x[15], 0, 0, 0, x[3] | x[3], x[5], ... ; Arm
	// zeroes every index >= 16. trunc_u: x86 all-ones for NaN, -1.5, 5e9.
	wantLine1 := map[string]string{
		"native": "0000000000000001 2d8000002d800000 2d8000002d800000 3cb0000000000000 3cb0000000000000 " +
			"0400000010011002 0a010e0c0a080604 ffffffffffffffff 00000001ffffffff ffffffff80000000 0000000180000000\n",
		"x86-64-v1": "0000000000000001 0000000000000000 0000000000000000 0000000000000000 0000000000000000 " +
			"0400000000000000 0a00000000000000 0000000000000000 00000001ffffffff ffffffff80000000 0000000180000000\n",
	}
	for spec, want := range wantLine1 {
		if got := strings.SplitAfter(full[spec], "\n")[1]; got != want {
			t.Fatalf("uninterrupted run under %s, line 1:\n  %q\nwant\n  %q", spec, got, want)
		}
	}

	// Pause points: the middle of the run.
	stop := lastPausePoint(t, bin, ckptSubject{name: "relaxed", wasm: wasm}) / 2

	// semantics each mask decides for the builtins used.
	decided := map[string]map[string]string{
		"native":    {"f32x4.relaxed_madd": "fused", "f64x2.relaxed_madd": "fused", "i8x16.relaxed_swizzle": "x86", "i32x4.relaxed_trunc_f32x4_u": "x86", "i32x4.relaxed_trunc_f32x4_s": "x86"},
		"x86-64-v1": {"f32x4.relaxed_madd": "unfused", "f64x2.relaxed_madd": "unfused", "i8x16.relaxed_swizzle": "arm", "i32x4.relaxed_trunc_f32x4_u": "arm", "i32x4.relaxed_trunc_f32x4_s": "x86"},
	}
	// What restore -v reports: the implementation of the kept behaviour
	// on the destination. From v1 to native, the Arm/unfused behaviours'
	// implementations need nothing and stay. The checkpoint writer's
	// zero-page scan (not semantic) is re-decided like any builtin.
	wantChanges := map[string][]string{
		"native": {
			"f32x4.relaxed_madd: fma -> soft-fma",
			"f64x2.relaxed_madd: fma -> soft-fma",
			"i32x4.relaxed_trunc_f32x4_u: avx512f -> x86-emulated",
			"i8x16.relaxed_swizzle: ssse3 -> x86-emulated",
			"page.iszero: avx2 -> sse2",
		},
		"x86-64-v1": {"page.iszero: sse2 -> avx2"},
	}
	for _, legs := range [][2]cpuLeg{{native, v1}, {v1, native}} {
		from, to := legs[0], legs[1]
		name := from.name + " -> " + to.name
		ck := filepath.Join(t.TempDir(), "ck")
		out1, stderr, code := ferryProc(t, bin, "run", "--cpu-features", from.spec,
			"--checkpoint-to", ck, "--checkpoint-on", "pause:"+strconv.FormatInt(stop, 10), wasm)
		m := stoppedRE.FindStringSubmatch(stderr)
		if code != exitOK || m == nil || m[1] != ck {
			t.Fatalf("%s: run did not stop at pause point %d: exit %d: %s", name, stop, code, stderr)
		}
		if n := strings.Count(out1, "\n"); n < 10 || n > 190 {
			t.Fatalf("%s: %d lines printed before the checkpoint, want a mid-run stop", name, n)
		}

		// The checkpoint records the relaxed decisions as semantic.
		_, ds := checkpointDecisions(t, ck)
		got := map[string]string{}
		for _, d := range ds {
			if !slices.Contains(relaxedUsed, d.Builtin) {
				continue
			}
			if !d.Semantic || d.Semantics == "" {
				t.Fatalf("%s: checkpoint records %+v, not as semantic", name, d)
			}
			got[d.Builtin] = d.Semantics
			if d.Impl != nc.impl[d.Builtin] && from.spec == "native" {
				t.Fatalf("%s: checkpoint records %+v; ferry cpu selects %s", name, d, nc.impl[d.Builtin])
			}
		}
		for b, sem := range decided[from.spec] {
			if got[b] != sem {
				t.Fatalf("%s: checkpoint records %s as %q, want %q (decisions %+v)", name, b, got[b], sem, ds)
			}
		}

		out2, stderr, code := ferryProc(t, bin, "restore", "-v", "--cpu-features", to.spec, ck)
		if code != exitOK {
			t.Fatalf("%s: restore: exit %d: %s", name, code, stderr)
		}
		var changes, rest []string
		for _, l := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
			if b, _, ok := strings.Cut(l, ": "); ok && strings.Contains(l, " -> ") && nc.impl[b] != "" {
				changes = append(changes, l)
			} else if l != "" {
				rest = append(rest, l)
			}
		}
		slices.Sort(changes)
		if !slices.Equal(changes, wantChanges[from.spec]) || len(rest) != 0 {
			t.Fatalf("%s: restore -v reported\n  %s\nwant\n  %s\n(other stderr %q)", name,
				strings.Join(changes, "\n  "), strings.Join(wantChanges[from.spec], "\n  "), rest)
		}
		// The results after the restore are those of the source mask:
		// the whole output is the uninterrupted run's under it.
		if out1+out2 != full[from.spec] {
			t.Fatalf("%s: checkpointed and restored output differs from the uninterrupted %s run:\n%s\n--- want\n%s",
				name, from.spec, out1+out2, full[from.spec])
		}
		if out1+out2 == full[to.spec] {
			t.Fatalf("%s: output equals the %s run's: the masks decided nothing differently", name, to.spec)
		}
		t.Logf("%s at pause point %d: %d + %d lines, identical to the uninterrupted %s run; reported %q",
			name, stop, strings.Count(out1, "\n"), strings.Count(out2, "\n"), from.spec, changes)
	}
}

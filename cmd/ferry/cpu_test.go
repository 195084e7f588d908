package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/builtins"
	"github.com/ferryvm/ferry/internal/cpu"
)

func runCPUArgs(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(append([]string{"cpu"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// field returns the value after label on the first line starting with it.
func field(out, label string) string {
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, label); ok && (rest == "" || rest[0] == ' ') {
			return strings.TrimSpace(rest)
		}
	}
	return "<missing>"
}

func TestCPUNative(t *testing.T) {
	code, out, errs := runCPUArgs()
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	host := cpu.Host()
	if got := field(out, "detected"); got != host.String() {
		t.Errorf("detected %q, want %q", got, host.String())
	}
	if got := field(out, "effective"); got != host.String() {
		t.Errorf("effective %q, want %q", got, host.String())
	}
	if lv := host.Level(); lv != "" && !strings.Contains(field(out, "  levels"), lv) {
		t.Errorf("levels line %q lacks %s", field(out, "  levels"), lv)
	}
}

func TestCPUBaselineMask(t *testing.T) {
	code, out, errs := runCPUArgs("--cpu-features", "baseline")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	host := cpu.Host()
	want := cpu.New(host.Arch(), cpu.Baseline(host.Arch()))
	if got := field(out, "effective"); got != want.String() {
		t.Errorf("effective %q, want %q", got, want.String())
	}
	// Every builtin is listed, with an implementation the mask allows.
	for _, b := range builtins.All() {
		d := b.Decide(want)
		if got := field(out, "  "+d.Builtin); !strings.HasPrefix(got, d.Impl) {
			t.Errorf("builtin %s: %q, want %s", d.Builtin, got, d.Impl)
		}
		for _, name := range d.Features {
			if f, ok := cpu.Lookup(host.Arch(), name); !ok || !want.Has(f) {
				t.Errorf("builtin %s relies on %s outside the baseline mask", d.Builtin, name)
			}
		}
	}
	if masked := host.Set().Subtract(want.Set()); !masked.IsEmpty() {
		if got := field(out, "masked"); got != strings.Join(masked.Names(), " ") {
			t.Errorf("masked %q, want %v", got, masked.Names())
		}
	}
}

func TestCPUMaskErrors(t *testing.T) {
	host := cpu.Host()
	other := "x86-64-v2"
	if host.Arch() == "amd64" {
		other = "armv8.1"
	}
	code, _, errs := runCPUArgs("--cpu-features", other)
	if code != exitUsage || !strings.Contains(errs, "is a level of") {
		t.Errorf("other arch level: exit %d, %q", code, errs)
	}
	code, _, errs = runCPUArgs("--cpu-features", "baseline,+nosuchfeature")
	if code != exitUsage || !strings.Contains(errs, "nosuchfeature") {
		t.Errorf("unknown feature: exit %d, %q", code, errs)
	}
	code, _, _ = runCPUArgs("extra")
	if code != exitUsage {
		t.Errorf("extra argument: exit %d", code)
	}
	// A feature the CPU lacks: the highest level above what it satisfies.
	var missing string
	for _, l := range cpu.Levels(host.Arch()) {
		if !l.Set.SubsetOf(host.Set()) {
			missing = l.Name
			break
		}
	}
	if missing == "" {
		t.Skipf("this CPU satisfies every %s level", host.Arch())
	}
	code, _, errs = runCPUArgs("--cpu-features", missing)
	if code != exitFail || !strings.Contains(errs, "lacks") {
		t.Errorf("%s on %v: exit %d, %q", missing, host, code, errs)
	}
}

// The builtins table used fixed widths that names up to 32 characters
// overran, so its columns did not line up.
func TestCPUColumnsMisaligned(t *testing.T) {
	_, out, _ := runCPUArgs()
	_, table, ok := strings.Cut(out, "relied-on features):\n")
	if !ok {
		t.Fatalf("no builtins table in:\n%s", out)
	}
	col := -1
	for _, line := range strings.Split(strings.TrimSuffix(table, "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 && len(f) != 3 {
			t.Fatalf("builtin line %q: want builtin, implementation, features", line)
		}
		at := strings.Index(line[len("  "+f[0]):], f[1]) + len("  "+f[0])
		if col >= 0 && at != col {
			t.Errorf("implementation column at %d in %q, %d above", at, line, col)
		}
		col = at
	}
}

// A bad --cpu-features said the spec and the item twice ("cpu: bad feature
// spec "bogus": "bogus": unknown ...") and not which names exist; an empty
// one was taken as native.
func TestCPUFeaturesErrorRepeatsItself(t *testing.T) {
	host := cpu.Host()
	code, _, errs := runCPUArgs("--cpu-features", "bogus")
	if code != exitUsage || strings.Count(errs, "bogus") != 2 || !strings.Contains(errs, "is an unknown "+host.Arch()+" feature or level") {
		t.Errorf("--cpu-features bogus: exit %d, stderr %q", code, errs)
	}
	for _, name := range append([]string{"native", "baseline", cpu.Levels(host.Arch())[0].Name}, cpu.All(host.Arch())[0].String()) {
		if !strings.Contains(errs, " "+name+" ") {
			t.Errorf("--cpu-features bogus: the message does not list %q: %s", name, errs)
		}
	}
	for _, args := range [][]string{{"cpu", "--cpu-features", ""}, {"run", "--cpu-features", " ", "x.wasm"}} {
		code, _, errs := runCLI(t, args...)
		if code != exitUsage || !strings.Contains(errs, `--cpu-features "": give native, a level or a feature list`) {
			t.Errorf("ferry %q: exit %d, stderr %q; want the empty spec refused", args, code, errs)
		}
	}
}

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
	if code != exitUsage || !strings.Contains(errs, "bad feature spec") {
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

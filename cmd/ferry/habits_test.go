package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// Every usage error printed the whole help text (91 lines for run),
// burying the one line that said what was wrong, and unknown flags came
// in the flag package's words ("flag provided but not defined: -bogus").
func TestUsageErrorBuriedInHelp(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--bogus", "x.wasm"}, "ferry: unknown flag --bogus; see 'ferry help run'\n"},
		{[]string{"run", "--max-call-depth"}, "ferry: flag needs a value: --max-call-depth; see 'ferry help run'\n"},
		{[]string{"run", "--max-call-depth", "deep", "x.wasm"}, "ferry: invalid value \"deep\" for --max-call-depth: parse error; see 'ferry help run'\n"},
		{[]string{"run"}, "ferry: run: missing FILE.wasm; see 'ferry help run'\n"},
		{[]string{"inspect", "-bogus"}, "ferry: unknown flag --bogus; see 'ferry help inspect'\n"},
		{[]string{"frobnicate"}, "ferry: unknown command \"frobnicate\"; see 'ferry help'\n"},
	} {
		code, stdout, stderr := runCLI(t, c.args...)
		if code != exitUsage || stderr != c.want || stdout != "" {
			t.Errorf("ferry %s: exit %d, stderr %q, stdout %q; want exit %d, stderr %q",
				strings.Join(c.args, " "), code, stderr, stdout, exitUsage, c.want)
		}
	}
}

// "ferry --version" and "-V" were unknown commands.
func TestVersionFlagUnknown(t *testing.T) {
	_, want, _ := runCLI(t, "version")
	for _, flag := range []string{"--version", "-V"} {
		if code, out, stderr := runCLI(t, flag); code != exitOK || out != want || !strings.HasPrefix(out, "ferry ") {
			t.Errorf("ferry %s: exit %d, stdout %q, stderr %q; want %q", flag, code, out, stderr, want)
		}
	}
}

// "ferry FILE.wasm ARGS" (wasmtime's habit) was an unknown command; it is
// "ferry run FILE.wasm ARGS", run flags before the file included, and what
// follows the file stays the guest's.
func TestModuleFileAsCommandUnknown(t *testing.T) {
	wasm := wat2wasm(t, echoWat)
	runIt := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := runStdio(args, strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	wantCode, want, _ := runIt("run", "--env", "A=1", wasm, "x", "--env")
	code, out, stderr := runIt(wasm, "x", "--env")
	if code != 3 || !strings.Contains(out, "--env\n") {
		t.Fatalf("ferry FILE.wasm x --env: exit %d, stdout %q, stderr %q; want exit 3 and --env passed to the guest", code, out, stderr)
	}
	code, out, stderr = runIt("--env", "A=1", wasm, "x", "--env")
	if code != wantCode || out != want {
		t.Errorf("ferry --env A=1 FILE.wasm x --env: exit %d, stdout %q, stderr %q; want exit %d, stdout %q", code, out, stderr, wantCode, want)
	}
}

// There was no way to give the guest an argv[0] other than the file name.
func TestArgv0Missing(t *testing.T) {
	wasm := wat2wasm(t, echoWat)
	var out, errb bytes.Buffer
	code := runStdio([]string{"run", "--argv0", "prog", wasm, "one"}, strings.NewReader(""), &out, &errb)
	if code != 2 || !strings.HasPrefix(out.String(), "prog\none\n") {
		t.Errorf("--argv0 prog: exit %d, stdout %q, stderr %q; want argv prog one", code, out.String(), errb.String())
	}
}

// Flags after a checkpoint file were refused ("ferry inspect x.ckpt
// --json"): for commands whose arguments are no program, flags may come
// anywhere, and "--" still ends them.
func TestFlagsAfterFileRefused(t *testing.T) {
	dir := ckptData(t)
	ck := filepath.Join(t.TempDir(), "ck")
	if code, _, stderr := runCLI(t, "run", "--dir", dir+"::.", "--checkpoint-to", ck, "--checkpoint-on", "pause:50",
		ckptProg, "in.txt", "out.txt"); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	_, want, _ := runCLI(t, "inspect", "--json", ck)
	if code, out, stderr := runCLI(t, "inspect", ck, "--json"); code != exitOK || out != want || !strings.HasPrefix(out, "{") {
		t.Errorf("inspect CK --json: exit %d, stderr %q; stdout differs from inspect --json CK", code, stderr)
	}
	if code, _, stderr := runCLI(t, "inspect", "--", "--json"); code == exitOK || !strings.Contains(stderr, "--json") {
		t.Errorf("inspect -- --json: exit %d, stderr %q; want --json taken as the file", code, stderr)
	}
}

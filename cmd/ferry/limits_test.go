package main

import (
	"strings"
	"testing"
)

const limitsWat = `(module
  (memory (export "mem") 2)
  (table $t 0 funcref)
  (func (export "grow_table") (param i32) (result i32)
    (table.grow $t (ref.null func) (local.get 0)))
  (func (export "grow_memory") (param i32) (result i32)
    (memory.grow (local.get 0))))`

// --max-memory and --max-table-elements reach the runtime of ferry run:
// growth past them returns -1, a memory declared larger fails to
// instantiate, and bad values are usage errors.
func TestRunLimitFlags(t *testing.T) {
	wasm := wat2wasm(t, limitsWat)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-table-elements", "10", "--invoke", "grow_table", wasm, "11"}, "-1\n"},
		{[]string{"--max-table-elements", "10", "--invoke", "grow_table", wasm, "10"}, "0\n"},
		{[]string{"--invoke", "grow_table", wasm, "10000001"}, "-1\n"},
		{[]string{"--max-memory", "256KiB", "--invoke", "grow_memory", wasm, "3"}, "-1\n"},
		{[]string{"--max-memory", "256K", "--invoke", "grow_memory", wasm, "2"}, "2\n"},
		{[]string{"--max-memory", "262144", "--invoke", "grow_memory", wasm, "2"}, "2\n"},
	} {
		code, stdout, stderr := runCLI(t, append([]string{"run"}, tt.args...)...)
		if code != exitOK || stdout != tt.want {
			t.Errorf("ferry run %s: exit %d, stdout %q, want %q; stderr:\n%s", strings.Join(tt.args, " "), code, stdout, tt.want, stderr)
		}
	}
	if code, _, stderr := runCLI(t, "run", "--max-memory", "64KiB", "--invoke", "grow_memory", wasm, "0"); code != exitFail || !strings.Contains(stderr, "memory size exceeds limit") {
		t.Errorf("memory declared past --max-memory: exit %d, stderr:\n%s", code, stderr)
	}
	for _, tt := range []struct{ flag, value, want string }{
		{"--max-memory", "5GiB", "more than 4GiB"},
		{"--max-memory", "12TB", "unknown unit"},
		{"--max-memory", "lots", "unknown unit"},
		{"--max-memory", "", "want a whole number"},
		{"--max-table-elements", "0", "must be at least 1"},
	} {
		code, _, stderr := runCLI(t, "run", tt.flag, tt.value, wasm)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s %q: exit %d, stderr lacks %q:\n%s", tt.flag, tt.value, code, tt.want, stderr)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "65536": 65536, "64K": 64 << 10, "1kib": 1 << 10, "512MiB": 512 << 20, "4GiB": 4 << 30, "3B": 3} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "-1", "1.5G", "1T", "99999999999999999999", "17179869184G"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}

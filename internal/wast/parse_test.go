package wast

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/spectest"
)

// Script errors name the line and column; a module that does not encode
// fails its own command only.
func TestParseWastErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`(assert_return (invoke "f" (i32.const 0x1_0000_0000)))`, "1:39: i32 literal \"0x1_0000_0000\": constant out of range"},
		{`(assert_return (invoke "f") (f32.const nan:canonical) (i32.const nan:canonical))`, "1:66: i32 literal \"nan:canonical\""},
		{"(module)\n(bogus)", "2:2: unknown script command \"bogus\""},
		{`(assert_trap (module) 42)`, "1:1: malformed assert_trap"},
		{`(register $m "x")`, "1:1: malformed register"},
		{`(invoke "f" (ref.extern))`, "1:13: malformed ref.extern: an argument needs a value"},
		{`(assert_return (invoke "f") (v128.const i32x4 1 2 3))`, "wrong number of lane literals"},
		{`(module (func)`, "1:15: unexpected end of text: the list opened at 1:1 is not closed"},
	} {
		_, err := parseWast([]byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.src, err, c.want)
		}
	}
	s, err := parseWast([]byte("(module (func (i32.bogus)))\n(module quote \"(func\")"))
	if err != nil || len(s.Commands) != 2 || s.Commands[0].moduleErr == nil || s.Commands[1].source == nil {
		t.Errorf("a bad module is the command's failure, not the script's: %+v, %v", s, err)
	}
}

// FuzzParseWast: no script text makes the reader panic. Seeds: pieces of
// spec scripts.
func FuzzParseWast(f *testing.F) {
	f.Add([]byte(`(module $m (func (export "f") (param i32) (result i32) local.get 0)) (register "m" $m)
(assert_return (invoke $m "f" (i32.const 1)) (either (i32.const 1) (i32.const 2)))
(assert_return (invoke "g") (v128.const f32x4 nan:canonical 1 -inf nan:arithmetic) (ref.extern) (ref.null func))
(assert_malformed (module quote "(func") "x") (assert_invalid (module binary "\00asm") "y")
(assert_trap (module (start 0) (func unreachable)) "unreachable") (get "g")`))
	if files, err := filepath.Glob(filepath.Join(spectest.SuiteDir(f), "*.wast")); err == nil {
		for i, path := range files {
			if i%16 != 0 {
				continue
			}
			if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
				f.Add(b[:min(len(b), 1500)])
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		parseWast(src)
	})
}

// BenchmarkReadWastSpecSuite reads (and encodes the modules of) every
// core spec script: the cost of "ferry wast" before anything runs.
func BenchmarkReadWastSpecSuite(b *testing.B) {
	var srcs [][]byte
	total := 0
	for _, path := range spectest.WastFiles(b) {
		src, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		srcs = append(srcs, src)
		total += len(src)
	}
	b.SetBytes(int64(total))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, src := range srcs {
			if _, err := parseWast(src); err != nil {
				b.Fatal(err)
			}
		}
	}
}

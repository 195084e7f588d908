package wat

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/spectest"
)

// FuzzParse feeds arbitrary text to the reader: it must return bytes or
// an error, never panic (the encoder's own recover turns a panic into an
// internalError, which counts as a failure here), and whatever it returns
// must go through the binary decoder without a panic either. Seeds: a few
// modules and pieces of the spec suite's scripts (the shapes real text
// takes).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`(module (func (export "f") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1))))`,
		`(module (memory (data "a\00b")) (table funcref (elem $f)) (func $f block $l br $l end))`,
		`(module (func (v128.const f32x4 nan:0x1 inf -0x1p-3 1_0.5e+2) drop))`,
		`(module (type $t (func)) (func (call_indirect (type $t) (i32.const 0))) (table 1 funcref))`,
		`(module (global $g (mut i32) (i32.const 0)) (elem declare func 0) (func (ref.func 0) drop))`,
	} {
		f.Add([]byte(s))
	}
	// Module-sized pieces of a sample of the spec scripts: whole scripts
	// (up to 100 KB) make every minimisation take minutes.
	if files, err := filepath.Glob(filepath.Join(spectest.SuiteDir(f), "*.wast")); err == nil {
		for i, path := range files {
			if i%8 != 0 {
				continue
			}
			b, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			for _, piece := range bytes.SplitAfter(b, []byte("\n(module")) {
				if len(piece) < 2048 {
					f.Add(append([]byte("(module"), piece...))
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		out, err := Parse(src)
		var ie *internalError
		if errors.As(err, &ie) {
			t.Fatalf("encoder panicked: %v", err)
		}
		if err == nil {
			binary.Decode(out)
		}
		// Script files go through the same reader, node by node.
		if nodes, err := ReadAll(src); err == nil {
			for _, n := range nodes {
				if isList(n, "module") {
					if _, err := EncodeModule(n); errors.As(err, &ie) {
						t.Fatalf("encoder panicked: %v", err)
					}
				}
			}
		}
	})
}

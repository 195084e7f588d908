package interp

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/binary"
)

// dump renders a lowered function for debugging.
func dump(f *funcCode) string {
	var b strings.Builder
	for i, in := range f.Code {
		fmt.Fprintf(&b, "%3d @%#x op=%#x a=%d b=%d c=%d imm=%#x\n", i, f.Offsets[i], uint16(in.Op), in.A, in.B, in.C, in.Imm)
	}
	return b.String()
}

// TestDump prints the IR of a module file (FERRY_DUMP=path.wasm) or, with
// FERRY_DUMP=bench, of the benchmark module.
func TestDump(t *testing.T) {
	p := os.Getenv("FERRY_DUMP")
	if p == "" {
		t.Skip("set FERRY_DUMP to a .wasm file, or to bench")
	}
	var c *Compiled
	if p == "bench" {
		c = load(t, benchWat).comp
	} else {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m, err := binary.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if c, err = Compile(m); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range c.funcs {
		t.Logf("func %d (locals %d, frame %d):\n%s", f.Index, f.LocalSlots, f.FrameSlots, dump(f))
	}
}

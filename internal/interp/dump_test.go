package interp

import (
	"fmt"
	"strings"
	"testing"
)

// dump renders a lowered function for debugging.
func dump(f *funcCode) string {
	var b strings.Builder
	for i, in := range f.code {
		fmt.Fprintf(&b, "%3d @%#x op=%#x a=%d b=%d c=%d imm=%#x\n", i, f.offsets[i], uint16(in.op), in.a, in.b, in.c, in.imm)
	}
	return b.String()
}

func TestDumpBench(t *testing.T) {
	tm := load(t, benchWat)
	for _, f := range tm.comp.funcs {
		t.Logf("func %d (locals %d, frame %d):\n%s", f.index, f.localSlots, f.frameSlots, dump(f))
	}
}

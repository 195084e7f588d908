package interp

import (
	"os"
	"testing"

	"github.com/ferryvm/ferry/internal/binary"
)

func TestDumpKernel(t *testing.T) {
	p := os.Getenv("FERRY_DUMP")
	if p == "" {
		t.Skip()
	}
	b, _ := os.ReadFile(p)
	m, err := binary.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range c.funcs {
		t.Logf("func %d (locals %d, frame %d):\n%s", f.index, f.localSlots, f.frameSlots, dump(f))
	}
}

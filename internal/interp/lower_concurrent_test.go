package interp

import (
	"fmt"
	"os"
	"reflect"
	"testing"

	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/spectest"
)

// Lowering spread over goroutines gives, function for function, the code,
// side tables and pause points of lowering in one pass: on every spec
// module and on a 3.5 MB Go program (which Compile itself lowers
// concurrently).
func TestConcurrentLoweringMatches(t *testing.T) {
	mods := spectest.Modules(t)
	gojson, err := os.ReadFile("../../bench/programs/gojson.wasm")
	if err != nil {
		t.Fatal(err)
	}
	mods = append(mods, gojson)
	compared := 0
	for i, b := range mods {
		m, err := binary.Decode(b)
		if err != nil {
			continue
		}
		seq, errSeq := lower(m, false, 1)
		con, errCon := lower(m, false, 3)
		if fmt.Sprint(errSeq) != fmt.Sprint(errCon) {
			t.Fatalf("module %d: errors differ: %v / %v", i, errSeq, errCon)
		}
		if errSeq != nil {
			continue
		}
		for k := range seq.funcs {
			a, b := seq.funcs[k], con.funcs[k]
			a.owner, b.owner = nil, nil
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("module %d, function %d: concurrent lowering differs:\n%s\n--- sequential:\n%s", i, a.Index, dump(b), dump(a))
			}
		}
		compared++
	}
	t.Logf("%d modules compared", compared)
}

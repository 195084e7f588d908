package difftest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
)

// skewed wraps an engine so that every i32 result of an export named
// "target" is off by one: the harness must notice.
func skewed(e engine) engine {
	return engine{name: e.name + "+skew", load: func(ctx context.Context, wasm []byte, shape *moduleShape, log *hostLog) (instance, stage, error) {
		inst, st, err := e.load(ctx, wasm, shape, log)
		if err != nil {
			return nil, st, err
		}
		return skewInstance{inst}, st, nil
	}}
}

type skewInstance struct{ instance }

func (s skewInstance) call(ctx context.Context, name string, params []uint64) ([]uint64, error) {
	out, err := s.instance.call(ctx, name, params)
	if name == "target" && len(out) > 0 {
		out[0]++
	}
	return out, err
}

// A module exporting "other" () -> i32 and "target" () -> i32, which logs
// 7 through fuzzing-support.log-i32 and returns 42.
var harnessModule = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	// type: 0 = (i32) -> (), 1 = () -> i32
	0x01, 0x09, 0x02, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x00, 0x01, 0x7f,
	// import fuzzing-support.log-i32 (type 0)
	0x02, 0x1b, 0x01, 0x0f, 'f', 'u', 'z', 'z', 'i', 'n', 'g', '-', 's', 'u', 'p', 'p', 'o', 'r', 't',
	0x07, 'l', 'o', 'g', '-', 'i', '3', '2', 0x00, 0x00,
	// functions 1 and 2 have type 1
	0x03, 0x03, 0x02, 0x01, 0x01,
	// exports: "other" = func 1, "target" = func 2
	0x07, 0x12, 0x02, 0x05, 'o', 't', 'h', 'e', 'r', 0x00, 0x01, 0x06, 't', 'a', 'r', 'g', 'e', 't', 0x00, 0x02,
	// code: other = i32.const 1; target = i32.const 7, call 0, i32.const 42
	0x0a, 0x0f, 0x02,
	0x04, 0x00, 0x41, 0x01, 0x0b,
	0x08, 0x00, 0x41, 0x07, 0x10, 0x00, 0x41, 0x2a, 0x0b,
}

func TestHarnessAgreesWithItself(t *testing.T) {
	ref := wazeroEngine("wazero-interp", wazero.NewRuntimeConfigInterpreter)
	rep := compareModule(context.Background(), harnessModule, ref, ref, time.Second, nil)
	if rep.verdict != verdictCompared || rep.funcs != 2 || len(rep.disagreements) != 0 {
		t.Fatalf("report %+v", rep)
	}
}

func TestHarnessDetectsDifference(t *testing.T) {
	ref := wazeroEngine("wazero-interp", wazero.NewRuntimeConfigInterpreter)
	rep := compareModule(context.Background(), harnessModule, ref, skewed(ref), time.Second, nil)
	if len(rep.disagreements) != 1 {
		t.Fatalf("want one disagreement, report %+v", rep)
	}
	d := rep.disagreements[0]
	if d.export != "target" || !strings.Contains(d.what, "i32:42") || !strings.Contains(d.what, "i32:43") {
		t.Fatalf("disagreement %+v", d)
	}
}

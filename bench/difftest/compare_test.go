package difftest

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/ferryvm/ferry/api"
)

func TestSameValueNaN(t *testing.T) {
	qnan := uint64(math.Float32bits(float32(math.NaN())))
	other := uint64(0xffc00001)
	if !sameValue(api.ValueTypeF32, qnan, other) {
		t.Error("two f32 NaNs with different payloads must compare equal")
	}
	if sameValue(api.ValueTypeF32, qnan, uint64(math.Float32bits(1))) {
		t.Error("NaN must differ from 1")
	}
	if sameValue(api.ValueTypeF64, math.Float64bits(0), math.Float64bits(math.Copysign(0, -1))) {
		t.Error("+0 and -0 must differ")
	}
	if !sameValue(api.ValueTypeI32, 0xffffffff_00000001, 1) {
		t.Error("i32 compares the low 32 bits only")
	}
	if !sameValue(api.ValueTypeFuncref, 7, 9) || sameValue(api.ValueTypeFuncref, 0, 9) {
		t.Error("references compare by null-ness")
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&api.TrapError{Kind: api.ErrUndefinedElement}, trapTable},
		{fmt.Errorf("wasm error: invalid table access\nwasm stack trace: ..."), trapTable},
		{&api.TrapError{Kind: api.ErrCallStackExhausted}, trapStack},
		{errors.New("wasm error: stack overflow"), trapStack},
		{errors.New("wasm error: integer divide by zero"), trapDivByZero},
	} {
		if got := classify(c.err); got != c.want {
			t.Errorf("classify(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

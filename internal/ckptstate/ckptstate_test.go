package ckptstate

import (
	"errors"
	"testing"

	"github.com/ferryvm/ferry/api"
)

// What a checkpoint cannot carry is refused as not checkpointable, and
// values that need no translation pass unchanged.
func TestToIndexRefusesWhatCannotBeCarried(t *testing.T) {
	idx := Refs{0xabc: 3}
	cases := []struct {
		name string
		t    api.ValueType
		v    uint64
		want uint64
		err  error
	}{
		{"funcref of the instance", api.ValueTypeFuncref, 0xabc, 3, nil},
		{"null funcref", api.ValueTypeFuncref, 0, 0, nil},
		{"null externref", api.ValueTypeExternref, 0, 0, nil},
		{"i64 untouched", api.ValueTypeI64, 0xabc, 0xabc, nil},
		{"foreign funcref", api.ValueTypeFuncref, 0xdef, 0, ErrNotCheckpointable},
		{"non-null externref", api.ValueTypeExternref, 1, 0, ErrNotCheckpointable},
	}
	for _, c := range cases {
		got, err := idx.ToIndex(c.t, c.v)
		if !errors.Is(err, c.err) || (c.err == nil && err != nil) || got != c.want {
			t.Errorf("%s: got %d, %v; want %d, %v", c.name, got, err, c.want, c.err)
		}
	}
}

func TestMismatchWrapsErrMismatch(t *testing.T) {
	err := Mismatch("table %d", 2)
	if !errors.Is(err, ErrMismatch) || err.Error() != "ferry: checkpoint does not fit the module: table 2" {
		t.Fatalf("Mismatch = %v", err)
	}
}

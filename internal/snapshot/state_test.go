package snapshot

import (
	"testing"

	"github.com/ferryvm/ferry/api"
)

// The value-type and pause-kind constants are api's; the file stores their
// numbers, as docs/snapshot-format.md lists them. Renumbering api must not
// change what a checkpoint means.
func TestFormatNumbers(t *testing.T) {
	types := map[string][2]uint8{
		"i32": {api.ValueTypeI32, 0x7F}, "i64": {api.ValueTypeI64, 0x7E}, "f32": {api.ValueTypeF32, 0x7D}, "f64": {api.ValueTypeF64, 0x7C},
		"v128": {api.ValueTypeV128, 0x7B}, "funcref": {api.ValueTypeFuncref, 0x70}, "externref": {api.ValueTypeExternref, 0x6F},
		"function entry": {uint8(api.PauseFuncEntry), 1}, "loop header": {uint8(api.PauseLoop), 2},
		"call": {uint8(api.PauseCall), 3}, "host call": {uint8(api.PauseHostCall), 4},
	}
	for name, c := range types {
		if c[0] != c[1] {
			t.Errorf("%s is %#x, the format numbers it %#x", name, c[0], c[1])
		}
	}
}

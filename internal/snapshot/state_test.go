package snapshot

import "testing"

// The value-type and pause-kind constants are api's; the file stores their
// numbers, as docs/snapshot-format.md lists them. Renumbering api must not
// change what a checkpoint means.
func TestFormatNumbers(t *testing.T) {
	types := map[string][2]uint8{
		"i32": {TypeI32, 0x7F}, "i64": {TypeI64, 0x7E}, "f32": {TypeF32, 0x7D}, "f64": {TypeF64, 0x7C},
		"v128": {TypeV128, 0x7B}, "funcref": {TypeFuncref, 0x70}, "externref": {TypeExternref, 0x6F},
		"function entry": {uint8(PauseFuncEntry), 1}, "loop header": {uint8(PauseLoop), 2},
		"call": {uint8(PauseCall), 3}, "host call": {uint8(PauseHostCall), 4},
	}
	for name, c := range types {
		if c[0] != c[1] {
			t.Errorf("%s is %#x, the format numbers it %#x", name, c[0], c[1])
		}
	}
}

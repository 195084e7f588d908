package codecache

import (
	"bytes"
	"os"
	"testing"

	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/interp"
)

// FuzzEntry feeds the entry reader arbitrary bytes, seeded with real
// entries. Decode must never panic, and must refuse every input but the
// entries written with the key (a forged entry is never accepted). The
// body decoder and interp.FromParts, which only authenticated bytes
// reach, are run on the input as well (re-authenticated with the key,
// as if our own writer had produced it), so that they are proved not to
// crash on anything either.
func FuzzEntry(f *testing.F) {
	mod, err := os.ReadFile("../../cmd/ferry/testdata/fileprog.wasm")
	if err != nil {
		f.Fatal(err)
	}
	m, err := binary.Decode(mod)
	if err != nil {
		f.Fatal(err)
	}
	real := map[string]bool{}
	var key Key
	for i, noPoll := range []bool{false, true} {
		_, c, ok := compiled(f, mod, noPoll)
		if !ok {
			f.Fatal("fileprog.wasm does not compile")
		}
		k := keyFor(mod, []string{"interp", "interp-nopoll"}[i])
		if i == 0 {
			key = k
		}
		enc := Encode(&Entry{Key: k, Funcs: c.Parts()}, testMAC)
		real[string(enc)] = true
		f.Add(enc)
	}
	if b, err := os.ReadFile("../../testdata/loop.wasm"); err == nil {
		if _, c, ok := compiled(f, b, false); ok {
			f.Add(Encode(&Entry{Key: keyFor(b, "interp"), Funcs: c.Parts()}, testMAC))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := Decode(b, testMAC, key); err == nil && !real[string(b)] {
			t.Fatalf("forged entry accepted: %x", b)
		}
		// The parser behind the MAC, on the same bytes re-authenticated.
		if len(b) < macSize {
			return
		}
		body := b[:len(b)-macSize]
		if !bytes.HasPrefix(body, magic[:]) {
			return
		}
		e, err := decodeBody(body)
		if err != nil || e.Funcs == nil {
			return
		}
		for _, noPoll := range []bool{false, true} {
			if c, err := interp.FromParts(m, e.Funcs, noPoll); err == nil {
				c.Parts()
			}
		}
	})
}

package codecache

import (
	"bytes"
	"os"
	"testing"

	"github.com/ferryvm/ferry/internal/interp"
	"github.com/ferryvm/ferry/internal/wasm"
)

// FuzzEntry feeds the entry reader arbitrary bytes, seeded with real
// entries. Decode must never panic, and must refuse every input but the
// entries written with the key (a forged entry is never accepted). The
// body decoder and interp.FromParts, which only authenticated bytes
// reach, are run on the input as well (re-authenticated with the key,
// as if our own writer had produced it), so that they are proved not to
// crash on anything either.
func FuzzEntry(f *testing.F) {
	// Small modules first: the fuzzer mutates small entries much faster.
	mods := map[[32]byte]*wasm.Module{}
	real := map[string]bool{}
	for _, name := range []string{"../../testdata/add.wasm", "../../testdata/loop.wasm", "../../testdata/funcrefs.wasm", "../../cmd/ferry/testdata/fileprog.wasm"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for i, noPoll := range []bool{false, true} {
			m, c, ok := compiled(f, b, noPoll)
			if !ok {
				f.Fatalf("%s does not compile", name)
			}
			k := keyFor(b, []string{"interp", "interp-nopoll"}[i])
			mods[k.Module] = m
			enc := Encode(&Entry{Key: k, Funcs: c.Parts()}, testMAC)
			real[string(enc)] = true
			f.Add(enc)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < macSize || !bytes.HasPrefix(b, magic[:]) {
			if _, err := Decode(b, testMAC, Key{}); err == nil {
				t.Fatalf("garbage accepted: %x", b)
			}
			return
		}
		body := b[:len(b)-macSize]
		// The parser behind the MAC, on the bytes as if authenticated.
		e, err := decodeBody(body)
		var key Key
		if err == nil {
			key = e.Key
		}
		if _, err := Decode(b, testMAC, key); err == nil && !real[string(b)] {
			t.Fatalf("forged entry accepted: %x", b)
		}
		if e == nil || e.Funcs == nil || mods[key.Module] == nil {
			return
		}
		for _, noPoll := range []bool{false, true} {
			if c, err := interp.FromParts(mods[key.Module], e.Funcs, noPoll); err == nil {
				c.Parts()
			}
		}
	})
}

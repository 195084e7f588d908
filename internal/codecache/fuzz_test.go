package codecache

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"testing"

	"github.com/ferryvm/ferry/internal/interp"
	"github.com/ferryvm/ferry/internal/wasm"
)

// FuzzEntry feeds the entry reader arbitrary bytes, seeded with real
// entries. Decode (NewReader and Func, the lazy per-function reader) must
// never panic, and must refuse every input but the entries written with
// the key (a forged entry is never accepted). The input is then
// authenticated as our own writer would have (authenticate: the header's
// MAC and every function's digest made to match), so that the parsers
// behind the MAC, interp.FromParts and interp.FromSource with its lazy
// loads are proved not to crash on anything either.
func FuzzEntry(f *testing.F) {
	// Small modules only: the fuzzer mutates small entries much faster,
	// and minimizing a 140 KB entry (fileprog.wasm's) on a loaded machine
	// outlasts the engine's patience with its worker, which it then
	// reports as hung. TestForgedEntryRefused flips and cuts every byte
	// of that one.
	mods := map[[32]byte]*wasm.Module{}
	real := map[string]bool{}
	for _, name := range []string{"../../testdata/add.wasm", "../../testdata/loop.wasm", "../../testdata/funcrefs.wasm", "../../testdata/ckpt.wasm"} {
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
		key, _, _, ok := parseHead(b)
		if _, err := Decode(b, testMAC, key); err == nil && !real[string(b)] {
			t.Fatalf("forged entry accepted: %x", b)
		}
		if !ok {
			return
		}
		authed := authenticate(b, testMAC)
		e, err := Decode(authed, testMAC, key)
		m := mods[key.Module]
		if err == nil && m != nil {
			for _, noPoll := range []bool{false, true} {
				if c, err := interp.FromParts(m, e.Funcs, noPoll); err == nil {
					c.Parts()
				}
			}
		}
		rd, err := NewReader(bytes.NewReader(authed), int64(len(authed)), testMAC, key)
		if err != nil || m == nil {
			return
		}
		for _, noPoll := range []bool{false, true} {
			if c, err := interp.FromSource(m, rd, noPoll, nil); err == nil {
				c.Parts() // loads every function, refused ones from scratch
			}
		}
	})
}

// parseHead parses an entry's header up to its records: the key, where
// the records start and how many there are.
func parseHead(b []byte) (k Key, recs, n int, ok bool) {
	if len(b) < len(magic) || [8]byte(b) != magic {
		return k, 0, 0, false
	}
	r := reader{b: b, p: len(magic)}
	r.u16()
	r.u16()
	copy(k.Module[:], r.bytes(32))
	k.Build, k.Tier, k.CPU = r.str(), r.str(), r.str()
	nf := r.uv()
	if r.err != nil || nf > uint64(len(b)-r.p)/recordSize {
		return k, 0, 0, false
	}
	return k, r.p, int(nf), true
}

// authenticate returns b as our writer would have authenticated it: every
// function's digest made to match its bytes (where they are in b) and the
// header's MAC made to match the header.
func authenticate(b, macKey []byte) []byte {
	_, recs, n, ok := parseHead(b)
	headLen := recs + n*recordSize
	if !ok || headLen+macSize > len(b) {
		return b
	}
	out := bytes.Clone(b)
	at := headLen + macSize
	for i := range n {
		rec := out[recs+i*recordSize:]
		nb := int(binary.LittleEndian.Uint32(rec))
		if nb > len(out)-at {
			break
		}
		sum := sha256.Sum256(out[at : at+nb])
		copy(rec[8:], sum[:])
		at += nb
	}
	m := hmac.New(sha256.New, macKey)
	m.Write(out[:headLen])
	copy(out[headLen:], m.Sum(nil))
	return out
}

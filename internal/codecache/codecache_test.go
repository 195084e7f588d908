package codecache

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/interp"
	"github.com/ferryvm/ferry/internal/wasm"
)

var testMAC = MACKey([]byte("a test key of at least 16 bytes"))

// testModules are real modules of the repository: the facade's test
// modules (loops, calls, tables, SIMD), a C and a Go program.
func testModules(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, pat := range []string{"../../testdata/*.wasm", "../../wasi/testdata/*.wasm", "../../cmd/ferry/testdata/*.wasm", "../../bench/programs/*.wasm"} {
		files, _ := filepath.Glob(pat)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := binary.Decode(b); err != nil {
				continue // the malformed ones
			}
			out[f] = b
		}
	}
	if len(out) < 5 {
		t.Fatalf("only %d test modules found", len(out))
	}
	return out
}

// compiled decodes and lowers b, or returns ok false for a module that
// does not validate (testdata has some on purpose).
func compiled(t testing.TB, b []byte, noPoll bool) (*wasm.Module, *interp.Compiled, bool) {
	m, err := binary.Decode(b)
	if err != nil {
		return nil, nil, false
	}
	var c *interp.Compiled
	if noPoll {
		c, err = interp.CompileWithoutPolls(m)
	} else {
		c, err = interp.Compile(m)
	}
	return m, c, err == nil
}

func keyFor(b []byte, tier string) Key {
	var k Key
	k.Module = [32]byte(sha256Sum(b))
	k.Build, k.Tier = "test build", tier
	return k
}

// TestEntryRoundTrip: an entry decodes to exactly the parts it was
// encoded from, and they rebuild a Compiled whose parts are the same,
// with and without polls.
func TestEntryRoundTrip(t *testing.T) {
	for name, b := range testModules(t) {
		for _, noPoll := range []bool{false, true} {
			m, c, ok := compiled(t, b, noPoll)
			if !ok {
				continue
			}
			k := keyFor(b, "interp")
			want := c.Parts()
			enc := Encode(&Entry{Key: k, Funcs: want}, testMAC)
			e, err := Decode(enc, testMAC, k)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			c2, err := interp.FromParts(m, e.Funcs, noPoll)
			if err != nil {
				t.Fatalf("%s (noPoll %v): FromParts: %v", name, noPoll, err)
			}
			if got := c2.Parts(); !reflect.DeepEqual(got, want) {
				for i := range got {
					if !reflect.DeepEqual(got[i], want[i]) {
						t.Fatalf("%s (noPoll %v): function %d differs after the round trip:\n got %+v\nwant %+v", name, noPoll, i, got[i], want[i])
					}
				}
				t.Fatalf("%s: parts differ", name)
			}
		}
	}
}

// goodEntry is a real entry, of the C program with file operations.
func goodEntry(t testing.TB) ([]byte, Key, *wasm.Module) {
	b, err := os.ReadFile("../../cmd/ferry/testdata/fileprog.wasm")
	if err != nil {
		t.Fatal(err)
	}
	m, c, ok := compiled(t, b, false)
	if !ok {
		t.Fatal("fileprog.wasm does not compile")
	}
	k := keyFor(b, "interp")
	return Encode(&Entry{Key: k, Funcs: c.Parts()}, testMAC), k, m
}

// TestForgedEntryRefused: an entry changed anywhere, cut anywhere, signed
// with another key or presented for another key is refused.
func TestForgedEntryRefused(t *testing.T) {
	enc, k, _ := goodEntry(t)
	step := max(1, len(enc)/4000)
	for i := 0; i < len(enc); i += step {
		bad := bytes.Clone(enc)
		bad[i] ^= 0x10
		if _, err := Decode(bad, testMAC, k); !errors.Is(err, ErrInvalid) {
			t.Fatalf("byte %d flipped: %v, want ErrInvalid", i, err)
		}
		if _, err := Decode(enc[:i], testMAC, k); !errors.Is(err, ErrInvalid) {
			t.Fatalf("cut at %d: %v, want ErrInvalid", i, err)
		}
	}
	other := MACKey([]byte("another key, of another user...."))
	if _, err := Decode(enc, other, k); !errors.Is(err, ErrInvalid) {
		t.Fatalf("verified with another key: %v", err)
	}
	for _, k2 := range []Key{{Module: k.Module, Build: "other build", Tier: k.Tier}, {Module: k.Module, Build: k.Build, Tier: "interp-nopoll"}, {Build: k.Build, Tier: k.Tier}} {
		if _, err := Decode(enc, testMAC, k2); !errors.Is(err, ErrInvalid) {
			t.Fatalf("read for key %+v: %v", k2, err)
		}
	}
}

// TestEntryForAnotherModuleDoesNotFit: parts of one module, validly
// authenticated, do not rebuild another module's code (the key check is
// not the only line of defence).
func TestEntryForAnotherModuleDoesNotFit(t *testing.T) {
	enc, k, _ := goodEntry(t)
	e, err := Decode(enc, testMAC, k)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range testModules(t) {
		m, _, ok := compiled(t, b, false)
		if !ok || len(m.Funcs) == len(e.Funcs) {
			continue
		}
		if _, err := interp.FromParts(m, e.Funcs, false); err == nil {
			t.Fatalf("%s accepted another module's code", name)
		}
	}
}

// TestDirConcurrentWriters: processes sharing a directory write entries
// through temporary files and renames; concurrent stores of one key and
// loads in between always see a whole entry.
func TestDirConcurrentWriters(t *testing.T) {
	enc, k, _ := goodEntry(t)
	e, err := Decode(enc, testMAC, k)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Open(t.TempDir(), testMAC)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Load(k); !errors.Is(err, ErrMiss) {
		t.Fatalf("empty cache: %v, want ErrMiss", err)
	}
	done := make(chan error, 8)
	for range 4 {
		go func() { done <- d.Store(e) }()
		go func() {
			_, err := d.Load(k)
			if errors.Is(err, ErrMiss) {
				err = nil
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Load(k); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(d.path, ".tmp-*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

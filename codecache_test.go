package ferry

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferryvm/ferry/internal/codecache"
)

func testSigningKey(t *testing.T) SigningKey {
	t.Helper()
	k, err := GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// compileAdd compiles testdata/add.wasm in a new runtime of cfg, checks
// that its add still adds, and returns what the cache did.
func compileAdd(t *testing.T, cfg RuntimeConfig) CodeCacheOutcome {
	t.Helper()
	ctx := context.Background()
	rt := newRuntime(t, cfg)
	m, err := rt.Compile(ctx, load(t, "add"))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := rt.Instantiate(ctx, m, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := inst.Function("add").Call(ctx, 40, 2)
	if err != nil || len(res) != 1 || res[0] != 42 {
		t.Fatalf("add(40, 2) = %v, %v", res, err)
	}
	return m.CodeCache()
}

func TestCodeCacheHitAfterMiss(t *testing.T) {
	dir := t.TempDir()
	cfg := NewRuntimeConfig().WithCodeCache(dir, testSigningKey(t))
	if o := compileAdd(t, cfg); !o.Used || o.Hit || o.Refused != nil || o.WriteErr != nil {
		t.Fatalf("first compile: %+v, want a miss that wrote the entry", o)
	}
	if o := compileAdd(t, cfg); !o.Hit {
		t.Fatalf("second compile: %+v, want a hit", o)
	}
	// Pause polling changes the code: another entry.
	if o := compileAdd(t, cfg.WithPausePolling(false)); o.Hit {
		t.Fatalf("without polling: %+v, want a miss", o)
	}
	if o := compileAdd(t, NewRuntimeConfig()); o.Used {
		t.Fatalf("no cache configured: %+v", o)
	}
}

// TestCodeCacheEntryOfAnotherKeyRefused: an entry some other user (key)
// wrote in the directory is refused and replaced, never run.
func TestCodeCacheEntryOfAnotherKeyRefused(t *testing.T) {
	dir := t.TempDir()
	compileAdd(t, NewRuntimeConfig().WithCodeCache(dir, testSigningKey(t)))
	mine := NewRuntimeConfig().WithCodeCache(dir, testSigningKey(t))
	o := compileAdd(t, mine)
	if o.Hit || !errors.Is(o.Refused, codecache.ErrInvalid) || o.WriteErr != nil {
		t.Fatalf("entry of another key: %+v, want refused and rewritten", o)
	}
	if o := compileAdd(t, mine); !o.Hit {
		t.Fatalf("after the rewrite: %+v, want a hit", o)
	}
}

// TestCodeCacheDamagedEntryRefused: every damaged byte of an entry is
// refused, and the module compiled and run as if there were no cache: a
// byte of the header when the module is compiled, a byte of a function
// when the function first runs (its digest no longer matches); either way
// the entry is rewritten.
func TestCodeCacheDamagedEntryRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := NewRuntimeConfig().WithCodeCache(dir, testSigningKey(t))
	compileAdd(t, cfg)
	files, _ := filepath.Glob(filepath.Join(dir, "*.fcc"))
	if len(files) != 1 {
		t.Fatalf("entries %v", files)
	}
	good, _ := os.ReadFile(files[0])
	for i := 0; i < len(good); i += 7 {
		bad := append([]byte(nil), good...)
		bad[i] ^= 0x80
		os.WriteFile(files[0], bad, 0o600)
		if o := compileAdd(t, cfg); o.Refused == nil || o.WriteErr != nil {
			t.Fatalf("byte %d damaged: %+v", i, o)
		}
		if b, _ := os.ReadFile(files[0]); string(b) != string(good) {
			t.Fatalf("byte %d damaged: the entry was not rewritten", i)
		}
	}
}

func TestCodeCacheWithoutKey(t *testing.T) {
	o := compileAdd(t, NewRuntimeConfig().WithCodeCache(t.TempDir(), SigningKey{}))
	if o.Used || o.WriteErr == nil {
		t.Fatalf("zero key: %+v, want the cache unused and why", o)
	}
}

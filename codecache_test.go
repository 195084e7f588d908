package ferry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ferryvm/ferry/api"
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

// TestCodeCacheLazyLoadsConcurrently: the functions of a module loaded
// from an entry are read on first use (interp.FromSource); several
// instances of it calling at once, while another one's pause requests arm
// and disarm the shared code, all answer as a module compiled without a
// cache (run under -race: a load publishes its code to the call fast path
// through one atomic store).
func TestCodeCacheLazyLoadsConcurrently(t *testing.T) {
	const n, workers, rounds = 500, 6, 3
	want := kvAnswers(t, n)
	ctx := context.Background()
	dir, key := t.TempDir(), testSigningKey(t)
	cfg := NewRuntimeConfig().WithCodeCache(dir, key)
	b := load(t, "kv")
	if _, err := newRuntime(t, cfg).Compile(ctx, b); err != nil {
		t.Fatal(err)
	}
	rt := newRuntime(t, cfg)
	cm, err := rt.Compile(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if o := cm.CodeCache(); !o.Hit {
		t.Fatalf("second compile: %+v, want a hit", o)
	}
	env := func() *Instance {
		inst, err := rt.NewHostModule("env").Func("note", []api.ValueType{api.ValueTypeI32}, nil,
			func(context.Context, api.Module, []uint64) {}).Build(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return inst
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	stop := make(chan struct{})
	pauser, err := rt.InstantiateWithImports(ctx, cm, "", Imports{"env": env()})
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			pauser.RequestPause()
			_, err := pauser.Function("scratch").Call(ctx)
			var p *Paused
			if !errors.As(err, &p) {
				errs <- fmt.Errorf("pauser: %v, want a pause", err)
				return
			}
			if _, err := p.Resume(ctx, CallOptions{}); err != nil {
				errs <- fmt.Errorf("pauser: resume: %v", err)
				return
			}
		}
	}()
	var callers sync.WaitGroup
	for w := range workers {
		callers.Add(1)
		go func() {
			defer callers.Done()
			for r := range rounds {
				inst, err := rt.InstantiateWithImports(ctx, cm, "", Imports{"env": env()})
				if err == nil {
					_, err = inst.Function("init").Call(ctx, n)
				}
				k := (w + r) % len(kvRequests)
				var got uint32
				if err == nil {
					got, err = kvHandle(ctx, inst, kvRequests[k])
				}
				if err == nil && got != want[k] {
					err = fmt.Errorf("worker %d: %q answers %#x, want %#x", w, kvRequests[k], got, want[k])
				}
				if err != nil {
					errs <- err
					return
				}
				inst.Close(ctx)
			}
		}()
	}
	callers.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if o := cm.CodeCache(); o.Refused != nil {
		t.Fatalf("a function was refused: %v", o.Refused)
	}
}

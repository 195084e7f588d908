package ferry

import (
	"errors"
	"sync"

	"github.com/ferryvm/ferry/internal/codecache"
	"github.com/ferryvm/ferry/internal/engine"
	"github.com/ferryvm/ferry/internal/interp"
	"github.com/ferryvm/ferry/internal/wasm"
)

// codeCacheConfig is RuntimeConfig's code cache setting.
type codeCacheConfig struct {
	dir string
	// macKey is codecache.MACKey of the signing key's secret, a string
	// so that RuntimeConfig stays comparable and immutable.
	macKey string
}

// codeCacheMACKey derives the cache's authentication key from a signing
// key's secret part: the Ed25519 seed or the HMAC secret. A key with
// neither (the zero SigningKey) gives "", and Compile reports the cache
// as unusable.
func codeCacheMACKey(k SigningKey) string {
	switch {
	case len(k.k.Private) > 0:
		return string(codecache.MACKey(k.k.Private.Seed()))
	case len(k.k.Secret) > 0:
		return string(codecache.MACKey(k.k.Secret))
	}
	return ""
}

// CodeCacheOutcome says what a Compile did with the runtime's code cache
// (RuntimeConfig.WithCodeCache).
type CodeCacheOutcome struct {
	// Used is false when the runtime has no code cache.
	Used bool
	// Hit says the code came from the cache: nothing was validated or
	// lowered.
	Hit bool
	// Refused is why an entry found for the module was not used (damaged,
	// forged, written by another key, not fitting the module), nil if none
	// was refused; the module was then compiled and the entry rewritten.
	Refused error
	// WriteErr is why the entry could not be written after compiling, nil
	// if it was (or was not needed).
	WriteErr error
	// late is where a refusal found after Compile returned is kept: an
	// entry's functions are read and checked when they first run
	// (docs/code-cache.md), so a damaged one can show up then.
	late *lateRefusal
}

// lateRefusal is a refusal of a function's cached code after Compile, and
// what rewriting the entry then gave.
type lateRefusal struct {
	mu       sync.Mutex
	why      error
	writeErr error
}

// CodeCache reports what compiling m did with the runtime's code cache,
// and whether a function of a hit was refused since: its bytes in the
// entry no longer matched the digest the entry authenticates (the file
// changed or was cut after it was opened). Refused is then set, and the
// module's code comes from compiling it from its bytes, which rewrites
// the entry (WriteErr says if that failed); Hit stays true.
func (m *CompiledModule) CodeCache() CodeCacheOutcome {
	o := m.cache
	if l := o.late; l != nil {
		l.mu.Lock()
		if l.why != nil {
			o.Refused, o.WriteErr = l.why, l.writeErr
		}
		l.mu.Unlock()
	}
	o.late = nil
	return o
}

// runtimeCache is a runtime's open code cache directory, opened on first
// use (NewRuntime cannot fail).
type runtimeCache struct {
	once sync.Once
	dir  *codecache.Dir
	err  error
}

// codeCacheDir returns the runtime's cache directory, or nil when it has
// none or it cannot be opened (err says why).
func (r *Runtime) codeCacheDir() (*codecache.Dir, error) {
	cc := r.cfg.codeCache
	if cc.dir == "" {
		return nil, nil
	}
	r.cache.once.Do(func() {
		if cc.macKey == "" {
			r.cache.err = errors.New("ferry: code cache: no key (WithCodeCache needs a signing key)")
			return
		}
		r.cache.dir, r.cache.err = codecache.Open(cc.dir, []byte(cc.macKey))
	})
	return r.cache.dir, r.cache.err
}

// codeCacheKey is the cache key of a module compiled by this runtime, or
// false when its engine's code cannot be cached.
func (r *Runtime) codeCacheKey(hash [32]byte) (codecache.Key, bool) {
	if _, ok := r.engine.(*interp.Engine); !ok {
		return codecache.Key{}, false
	}
	// The entry holds the lowered (interpreter) code only: compiled-tier
	// code is made again from it for this runtime's CPU (CompileFromParts).
	tier := "interp"
	if !r.cfg.pausePolling {
		tier = "interp-nopoll"
	}
	return codecache.Key{Module: hash, Build: codecache.BuildID(), Tier: tier}, true
}

// compileCached compiles m through the code cache: the cached code when
// an entry for it verifies and fits, else a compile whose result is then
// stored. Without a cache it is the engine's Compile.
func (r *Runtime) compileCached(m *wasm.Module, hash [32]byte) (engine.Module, CodeCacheOutcome, error) {
	var out CodeCacheOutcome
	dir, err := r.codeCacheDir()
	key, cacheable := r.codeCacheKey(hash)
	if dir == nil || !cacheable {
		out.WriteErr = err
		c, err := r.engine.Compile(m)
		return c, out, err
	}
	out.Used = true
	rd, err := dir.Open(key)
	if err == nil {
		// Only the entry's header is read and authenticated here; each
		// function is read and checked against its digest the first time
		// it runs (interp.FromSource). One refused then (the file changed
		// since) gets code compiled from the module, which rewrites the
		// entry.
		late := &lateRefusal{}
		refused := func(why error, scratch *interp.Compiled) {
			werr := dir.Store(&codecache.Entry{Key: key, Funcs: scratch.Parts()})
			late.mu.Lock()
			late.why, late.writeErr = why, werr
			late.mu.Unlock()
		}
		c, ferr := r.engine.(*interp.Engine).CompileFromSource(m, rd, refused)
		if ferr == nil {
			out.Hit, out.late = true, late
			return c, out, nil
		}
		err = ferr
	}
	if !errors.Is(err, codecache.ErrMiss) {
		out.Refused = err
	}
	c, err := r.engine.Compile(m)
	if err != nil {
		return nil, out, err
	}
	if ic, ok := c.(*interp.Compiled); ok {
		out.WriteErr = dir.Store(&codecache.Entry{Key: key, Funcs: ic.Parts()})
	}
	return c, out, nil
}

// knownModuleHash sets h to the SHA-256 of the module ck carries when the
// code cache holds a record of it for ck's file, unchanged since
// (codecache.Dir.KnownHash): hashing 30 MB of module costs more than the
// rest of a restore that finds its code in the cache. ck's module bytes
// were read from the file before the file's identity is taken here.
func (r *Runtime) knownModuleHash(ck *Checkpoint, h *[32]byte) bool {
	dir, _ := r.codeCacheDir()
	if dir == nil || ck.file == nil {
		return false
	}
	st, err := ck.file.Stat()
	if err != nil {
		return false
	}
	known, ok := dir.KnownHash(st)
	if ok {
		*h = known
	}
	return ok
}

// rememberModuleHash records h as the hash of the module ck's file holds,
// for knownModuleHash.
func (r *Runtime) rememberModuleHash(ck *Checkpoint, h [32]byte) {
	dir, _ := r.codeCacheDir()
	if dir == nil || ck.file == nil {
		return
	}
	if st, err := ck.file.Stat(); err == nil {
		dir.RememberHash(st, h)
	}
}

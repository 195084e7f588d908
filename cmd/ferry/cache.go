package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ferryvm/ferry"
)

// cacheUsage documents the code cache flag of run, restore and compile.
const cacheUsage = `  --cache-dir DIR keep the compiled code of modules in DIR, and take it from
                  there instead of compiling a module again: a fresh
                  "ferry restore" then starts without the module's compile
                  time. Default $FERRY_CACHE_DIR; no cache when neither is
                  set. Entries are authenticated with this user's signing
                  key (see "ferry keygen"); one that does not verify is
                  recompiled and rewritten, never run. See "ferry compile"
`

// cacheFlags is the code cache flag that run, restore and compile share.
type cacheFlags struct{ dir string }

func (c *cacheFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.dir, "cache-dir", "", "code cache directory")
}

// directory is the cache directory asked for: the flag, else
// FERRY_CACHE_DIR, else "" (none).
func (c *cacheFlags) directory() string {
	if c.dir != "" {
		return c.dir
	}
	return os.Getenv("FERRY_CACHE_DIR")
}

// apply turns the cache on in cfg when a directory is asked for, with
// this user's signing key (made on first use, as checkpoints make it). A
// cache that cannot be used is no reason not to run: it says why on
// stderr and runs without.
func (c *cacheFlags) apply(cfg ferry.RuntimeConfig, stderr io.Writer) ferry.RuntimeConfig {
	dir := c.directory()
	if dir == "" {
		return cfg
	}
	k, _, _, err := ownSigningKey(true)
	if err != nil {
		fmt.Fprintf(stderr, "ferry: code cache off: this user's signing key: %v\n", err)
		return cfg
	}
	return cfg.WithCodeCache(dir, k)
}

// reportCache says on stderr when a cache entry was refused or could not
// be written: the run goes on, but the next one will not start faster.
func reportCache(stderr io.Writer, path string, m *ferry.CompiledModule) {
	o := m.CodeCache()
	if o.Refused != nil {
		fmt.Fprintf(stderr, "ferry: %s: code cache entry refused (%v); compiled again and rewritten\n", path, o.Refused)
	}
	if o.WriteErr != nil {
		fmt.Fprintf(stderr, "ferry: %s: code cache not written: %v\n", path, o.WriteErr)
	}
}

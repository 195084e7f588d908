package ferry

import (
	"fmt"
	"os"

	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/interp"
	"github.com/ferryvm/ferry/internal/profile"
)

// RuntimeConfig configures a Runtime. It is an immutable value: every With
// method returns a modified copy and leaves the receiver unchanged, so one
// base configuration can be shared and specialised freely.
type RuntimeConfig struct {
	maxCallDepth     int
	memoryLimitPages uint32
	pausePolling     bool
	// cpuFeatures are the effective features of the runtime's builtins;
	// cpuSet is false for the default, all the host's.
	cpuFeatures   cpu.Features
	cpuSet        bool
	maxTableElems uint64 // 0: store.DefaultTableElemLimit
	tier          Tier
	// The tier-up profile (tierprofile.go): on, off or as the tier
	// wants, with compileWorkers background compilers (0: one).
	profiling      profilingMode
	compileWorkers int
	// compile stands in for the compiled tier's compiler in tests (a
	// pointer, so that configurations stay comparable).
	compile *profile.CompileFunc
	// codeCache is the code cache directory and the key its entries are
	// authenticated with (WithCodeCache); dir "" means none.
	codeCache codeCacheConfig
}

// Tier picks the code that runs a runtime's functions (docs/compiler.md).
// Its values are the engine's (interp.Tier), which the runtime hands on.
type Tier uint8

const (
	// TierInterp runs every function in the portable interpreter. It is
	// the default.
	TierInterp = Tier(interp.TierInterp)
	// TierCompiled compiles every function the compiler supports to
	// native code specialised for the runtime's CPU features when the
	// module is compiled; the others (today: those using v128) stay
	// interpreted.
	TierCompiled = Tier(interp.TierCompiled)
	// TierAuto starts every function in the interpreter and compiles the
	// functions it finds hot in the background.
	TierAuto = Tier(interp.TierAuto)
)

// String returns the tier's name as the command line spells it.
func (t Tier) String() string { return interp.Tier(t).String() }

// ParseTier returns the tier named s: "interp", "compiled" or "auto".
func ParseTier(s string) (Tier, error) {
	switch s {
	case "interp":
		return TierInterp, nil
	case "compiled":
		return TierCompiled, nil
	case "auto":
		return TierAuto, nil
	}
	return TierInterp, fmt.Errorf("unknown tier %q (interp, compiled or auto)", s)
}

// WithTier picks the tier that runs the runtime's functions (default
// TierInterp, or FERRY_TIER's). Compiled code never changes what a program computes or
// what its checkpoints hold: a checkpoint taken while compiled code runs
// is the one the interpreter writes at the same pause point. Where Ferry
// cannot run generated code (another architecture than amd64, or a system
// that refuses executable memory) a compiled tier falls back to the
// interpreter; Runtime.TierNote says so.
func (c RuntimeConfig) WithTier(t Tier) RuntimeConfig {
	if t > TierAuto {
		t = TierInterp
	}
	c.tier = t
	return c
}

// NewRuntimeConfig returns the defaults: a call depth of 50000 frames, pause
// polling on, memories of up to 65536 pages (4 GiB), and TierInterp (or the
// tier FERRY_TIER names, see WithTier).
func NewRuntimeConfig() RuntimeConfig {
	return RuntimeConfig{maxCallDepth: 50000, memoryLimitPages: 65536, pausePolling: true, tier: envTier()}
}

// envTier reads FERRY_TIER, a test hook that runs any test or program
// under another default tier without changing it: "compiled" or "auto"
// (anything else means TierInterp). WithTier overrides it.
func envTier() Tier {
	t, err := ParseTier(os.Getenv("FERRY_TIER"))
	if err != nil {
		return TierInterp
	}
	return t
}

// WithCPUFeatures masks the CPU features Ferry detected with spec
// ("native", a level such as "x86-64-v2", or a list such as
// "x86-64-v3,-avx2"; docs/cpu-features.md) and makes the result the
// effective features of the runtime's builtins: what its SIMD kernels,
// memory fill and checkpoint writer may use, and what its checkpoints
// record. The default is "native". Other runtimes of the process are not
// affected.
//
// The spec is checked here, against this machine, so that a bad one is
// reported where it is written: a malformed spec returns a *cpu.SpecError
// (errors.As; its message says what is wrong), one asking for features
// this CPU lacks a *cpu.MissingFeaturesError. On error the returned
// configuration is c unchanged.
func (c RuntimeConfig) WithCPUFeatures(spec string) (RuntimeConfig, error) {
	f, err := cpu.Host().Mask(spec)
	if err != nil {
		return c, err
	}
	c.cpuFeatures, c.cpuSet = f, true
	return c, nil
}

// WithMaxCallDepth sets how deep WebAssembly calls may nest before a call
// traps with "call stack exhausted". Values below 1 mean the default.
func (c RuntimeConfig) WithMaxCallDepth(n int) RuntimeConfig {
	c.maxCallDepth = n
	return c
}

// WithMemoryLimitPages caps every memory of the runtime, in 64 KiB pages: a
// module whose memory needs more at instantiation fails, and memory.grow
// beyond it returns -1. Values above 65536 mean 65536.
func (c RuntimeConfig) WithMemoryLimitPages(pages uint32) RuntimeConfig {
	c.memoryLimitPages = pages
	return c
}

// WithPausePolling(false) lowers code without pause-point polls, like
// wazero's WithCloseOnContextDone(false) or wasmtime without epoch
// interruption: running guest code then cannot be paused or checkpointed
// (Instance.RequestPause, CallOptions.PauseAfter and checkpoint triggers
// take effect only at host calls) and a cancelled context stops it only at
// its next host call. The default (on) costs next to nothing: polls are
// armed only while a pause or cancellation is pending (docs/interpreter.md),
// which bench/cmd/ckptbench's poll section measures against this setting.
func (c RuntimeConfig) WithPausePolling(on bool) RuntimeConfig {
	c.pausePolling = on
	return c
}

// normalized applies the defaults to out-of-range values.
func (c RuntimeConfig) normalized() RuntimeConfig {
	if c.maxCallDepth < 1 {
		c.maxCallDepth = 50000
	}
	if c.memoryLimitPages > 65536 {
		c.memoryLimitPages = 65536
	}
	return c
}

// WithMaxTableElements caps the elements of all the runtime's tables
// together (every instance's, host tables included), 10,000,000 (80 MB) by
// default; 0 means the default. A total rather than a per-table cap,
// because each table is already capped at 10,000,000 elements (the JS API's
// limit) and it is their number that let a guest take gigabytes: 100 tables
// grown to the per-table cap held 7.65 GB. Instantiating a module whose
// tables' minimums do not fit fails ("table size exceeds limit", like a
// memory beyond WithMemoryLimitPages); table.grow beyond it returns -1. A
// table's elements count until the instance that created it closes.
func (c RuntimeConfig) WithMaxTableElements(n uint64) RuntimeConfig {
	c.maxTableElems = n
	return c
}

// WithCodeCache makes Compile keep what it computes (the validated and
// lowered code, with its pause-point tables) in directory dir, made if
// missing, and read it back instead of compiling a module it has seen:
// a fresh process restoring a checkpoint then skips the module's compile
// time. Entries are keyed by the module's SHA-256, this build of Ferry,
// the tier and its settings, and authenticated with a key derived from
// key (the signing key that signs this user's checkpoints is the natural
// choice): an entry that is damaged, forged or written with another key
// is refused, recompiled and rewritten, never executed. Any number of
// processes may share dir. An empty dir turns the cache off.
// docs/code-cache.md describes the entries; CompiledModule.CodeCache says
// what one Compile did.
func (c RuntimeConfig) WithCodeCache(dir string, key SigningKey) RuntimeConfig {
	c.codeCache = codeCacheConfig{dir: dir, macKey: codeCacheMACKey(key)}
	return c
}

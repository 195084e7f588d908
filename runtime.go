package ferry

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/engine"
	"github.com/ferryvm/ferry/internal/interp"
	"github.com/ferryvm/ferry/internal/profile"
	"github.com/ferryvm/ferry/internal/store"
)

// Runtime compiles and instantiates modules. Instances of one runtime share a
// store (so funcrefs and tables pass between them) and may import from each
// other by registered name. A Runtime is safe for concurrent use, Close
// included: calls running when it closes stop with an error wrapping
// ErrClosed. Each instance runs one call at a time (see Instance).
type Runtime struct {
	cfg    RuntimeConfig
	engine engine.Engine // the execution tier, behind the seam (internal/engine)
	store  *store.Store
	// builtins is the runtime's callsite table (WithCPUFeatures): every
	// engine of the runtime calls through it, its checkpoints record it,
	// its restores pin decisions in it and in no other runtime's.
	builtins *interp.Builtins
	// sampler is the tier-up profiler (tierprofile.go), nil when off.
	sampler *profile.Sampler
	cache   runtimeCache // WithCodeCache's directory, once opened

	mu        sync.Mutex
	closed    bool
	registry  map[string]*Instance // importable instances by module name
	instances []*Instance          // every open instance, to close with the runtime
}

// NewRuntime returns a runtime configured by cfg.
func NewRuntime(cfg RuntimeConfig) *Runtime {
	cfg = cfg.normalized()
	s := store.NewStore()
	s.MemoryLimitPages = uint64(cfg.memoryLimitPages)
	feats := cfg.cpuFeatures
	if !cfg.cpuSet {
		feats = cpu.Host()
	}
	b := interp.NewBuiltins(feats)
	if cfg.maxTableElems > 0 {
		s.SetTableElemLimit(cfg.maxTableElems)
	}
	// The auto tier's compile queue calls the engine, which takes the
	// sampler in its configuration: compile finds the engine through e.
	var e *interp.Engine
	compile := cfg.compile
	if compile == nil && cfg.tier == TierAuto {
		f := profile.CompileFunc(func(ctx context.Context, fn *store.Function) error { return e.CompileHot(ctx, fn) })
		compile = &f
	}
	sampler := newSampler(cfg, compile)
	e = interp.NewEngine(interp.Config{
		MaxCallDepth: cfg.maxCallDepth, PausePolling: cfg.pausePolling, Builtins: b,
		Tier: interp.Tier(cfg.tier), Compiler: jitCompiler(feats), DeoptStress: deoptStressSeed(),
		Sampler: sampler,
	})
	return &Runtime{
		cfg:      cfg,
		engine:   e,
		store:    s,
		builtins: b,
		sampler:  sampler,
		registry: map[string]*Instance{},
	}
}

// TierNote says why the runtime runs the interpreter although
// RuntimeConfig.WithTier asked for compiled code (this platform cannot run
// it); it is empty when the runtime runs the tier it was asked for.
func (r *Runtime) TierNote() string {
	if e, ok := r.engine.(*interp.Engine); ok {
		return e.Note()
	}
	return ""
}

// CompiledFunctions returns how many functions of the modules this
// runtime compiled run as native code, and how many the compiler left to
// the interpreter (with TierCompiled: those using v128). Both are 0 with
// TierInterp; with TierAuto they grow as functions get hot.
func (r *Runtime) CompiledFunctions() (compiled, interpreted int64) {
	if e, ok := r.engine.(*interp.Engine); ok {
		return e.Counts()
	}
	return 0, 0
}

// deoptStressSeed reads FERRY_DEOPT_STRESS, a test hook: a non-zero
// unsigned integer makes compiled frames fall back to the interpreter at
// random pause points drawn from that seed, and re-enter compiled code
// later (docs/compiler.md, "Deopt stress"). Results must not change.
func deoptStressSeed() uint64 {
	v := os.Getenv("FERRY_DEOPT_STRESS")
	if v == "" {
		return 0
	}
	n, err := strconv.ParseUint(v, 0, 64)
	if err != nil {
		return 0
	}
	return n
}

// Compile decodes, validates and lowers a module. Errors wrap ErrMalformed
// (binary format) or ErrInvalid (validation) and say where (section or
// function, byte offset) and what.
func (r *Runtime) Compile(ctx context.Context, wasm []byte) (*CompiledModule, error) {
	return r.compile(ctx, wasm, nil)
}

// compile is Compile for a module whose SHA-256 the caller may know
// already (a restore checked it against the checkpoint's).
func (r *Runtime) compile(ctx context.Context, wasm []byte, hash *[32]byte) (*CompiledModule, error) {
	if r.isClosed() {
		return nil, errClosed
	}
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	m, err := binary.Decode(wasm)
	if err != nil {
		return nil, decodeError(err)
	}
	cm := &CompiledModule{module: m, source: append([]byte(nil), wasm...), rt: r}
	if hash != nil {
		cm.hashOnce.Do(func() { cm.hash = *hash })
	}
	var c engine.Module
	if r.cfg.codeCache.dir != "" {
		c, cm.cache, err = r.compileCached(m, cm.sha256())
	} else {
		c, err = r.engine.Compile(m)
	}
	if err != nil {
		return nil, loweringError(err)
	}
	code := c.Code()
	if len(code) != len(m.Funcs) {
		return nil, fmt.Errorf("ferry: compile: %d lowered bodies for %d functions", len(code), len(m.Funcs))
	}
	cm.code = code
	return cm, nil
}

// Imports supplies the imports of one instantiation or restore, by import
// module name: the exports of Imports[module] satisfy the imports from
// module. A name not in the map falls back to the runtime's registered
// instances (Register, HostModuleBuilder.Instantiate). An instance of
// host functions made for one instantiation comes from
// HostModuleBuilder.Build, which registers nothing: concurrent
// instantiations and restores in one runtime then never race on
// runtime-wide names, each linking its own.
type Imports map[string]*Instance

// resolver resolves imports from imports first, then the registry.
func (r *Runtime) resolver(imports Imports) func(module, field string) (store.Extern, bool) {
	return func(module, field string) (store.Extern, bool) {
		from := imports[module]
		if from == nil {
			r.mu.Lock()
			from = r.registry[module]
			r.mu.Unlock()
		}
		if from == nil {
			return store.Extern{}, false
		}
		return from.inst.Export(field)
	}
}

// Instantiate links the module's imports against the instances registered in
// this runtime by module name, applies its segments and runs its start
// function. A non-empty name registers the new instance under that name for
// later imports (only once instantiation has succeeded). Link errors wrap
// ErrLink (*LinkError); traps during instantiation are *api.TrapError.
func (r *Runtime) Instantiate(ctx context.Context, m *CompiledModule, name string) (inst *Instance, err error) {
	return r.InstantiateWithImports(ctx, m, name, nil)
}

// InstantiateWithImports is Instantiate with imports of its own (see
// Imports), which come before the registered instances.
func (r *Runtime) InstantiateWithImports(ctx context.Context, m *CompiledModule, name string, imports Imports) (inst *Instance, err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if r.isClosed() {
		return nil, errClosed
	}
	if m == nil || m.closed.Load() {
		return nil, fmt.Errorf("ferry: instantiate: %w: compiled module", errClosed)
	}
	for mod, from := range imports {
		if from == nil || from.rt != r {
			return nil, fmt.Errorf("ferry: instantiate: imports %q: not an instance of this runtime", mod)
		}
	}
	resolve := r.resolver(imports)
	si, err := r.store.Instantiate(m.module, name, m.code, resolve)
	if err != nil {
		// An instance whose segments trapped may be referenced from the
		// imported tables it wrote: closing it leaves it alive exactly as
		// long as instances linked to it are open (store/lifecycle.go).
		if si != nil {
			si.Close()
		}
		return nil, linkError(err)
	}
	inst = &Instance{rt: r, inst: si, module: m}
	// Listed before the start function runs, so that closing the runtime
	// stops it.
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		si.Close()
		return nil, errClosed
	}
	r.instances = append(r.instances, inst)
	r.mu.Unlock()
	if m.module.HasStart {
		if err := r.start(ctx, inst); err != nil {
			// The start function may have stored this instance's functions
			// in imported tables: closed, it stays alive while those live.
			r.forget(inst)
			inst.close()
			return nil, err
		}
	}
	if name != "" {
		r.mu.Lock()
		defer r.mu.Unlock()
		if inst.closed.Load() {
			return nil, errClosed
		}
		r.registry[name] = inst
	}
	return inst, nil
}

// start runs inst's start function.
func (r *Runtime) start(ctx context.Context, inst *Instance) error {
	m, si := inst.module.module, inst.inst
	if int(m.Start) >= len(si.Funcs) {
		return fmt.Errorf("ferry: instantiate: start function %d out of range", m.Start)
	}
	entry, err := si.Enter(ctx)
	if err != nil {
		return fmt.Errorf("ferry: instantiate: start: %w", err)
	}
	defer entry.Leave()
	_, err = r.call(ctx, si.Funcs[m.Start], nil)
	return err
}

// call runs fn on the engine (see run).
func (r *Runtime) call(ctx context.Context, fn *store.Function, args []uint64) ([]uint64, error) {
	return r.run(ctx, CallOptions{}, func(e engine.Engine) ([]uint64, error) { return e.Call(ctx, fn, args) })
}

// run runs f on the runtime's engine, or on one that counts pause points
// when o asks for it. It is the API boundary: whatever happens inside, the
// caller gets an error, never a panic.
func (r *Runtime) run(ctx context.Context, o CallOptions, f func(engine.Engine) ([]uint64, error)) (results []uint64, err error) {
	defer func() {
		if p := recover(); p != nil {
			results, err = nil, engine.PanicTrap(p, nil, nil)
		}
	}()
	e := r.engine
	if o.PauseAfter > 0 {
		e = e.Counting(o.PauseAfter)
	}
	return f(e)
}

// Register makes an existing instance importable under another name, as the
// WebAssembly script command `register` does.
func (r *Runtime) Register(name string, inst *Instance) {
	if inst == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed && !inst.closed.Load() {
		r.registry[name] = inst
	}
}

// NewHostModule starts describing a module made of Go functions, globals,
// memories and tables; its Instantiate registers it under name.
func (r *Runtime) NewHostModule(name string) *HostModuleBuilder {
	return &HostModuleBuilder{rt: r, def: store.HostModule{Name: name}}
}

// Close closes every instance of the runtime (see Instance.Close: running
// calls stop with an error wrapping ErrClosed, and everything is released
// once they have returned). It is idempotent; afterwards Compile and
// Instantiate fail.
func (r *Runtime) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	instances := r.instances
	r.instances, r.registry = nil, map[string]*Instance{}
	r.mu.Unlock()
	for _, inst := range instances {
		inst.close()
	}
	if r.sampler != nil {
		r.sampler.Close() // and its compile workers
	}
	r.writeTierStats()
	return nil
}

func (r *Runtime) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// forget removes inst from the runtime: every name under which it is
// importable, and the list of instances to close.
func (r *Runtime) forget(inst *Instance) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, x := range r.registry {
		if x == inst {
			delete(r.registry, name)
		}
	}
	for k, x := range r.instances {
		if x == inst {
			last := len(r.instances) - 1
			r.instances[k] = r.instances[last]
			r.instances[last] = nil
			r.instances = r.instances[:last]
			break
		}
	}
}

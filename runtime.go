package ferry

import (
	"context"
	"fmt"
	"sync"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/interp"
	"github.com/ferryvm/ferry/internal/store"
)

// Runtime compiles and instantiates modules. Instances of one runtime share a
// store (so funcrefs and tables pass between them) and may import from each
// other by registered name. A Runtime is safe for concurrent use.
type Runtime struct {
	cfg    RuntimeConfig
	engine *interp.Engine
	store  *store.Store

	mu        sync.Mutex
	closed    bool
	registry  map[string]*Instance // importable instances by module name
	instances []*Instance          // every instance created, to close with the runtime
	// orphans are instances whose instantiation trapped: unreachable by name,
	// but imported tables may reference their functions, so they live until
	// the runtime closes.
	orphans []*store.Instance
}

// NewRuntime returns a runtime configured by cfg.
func NewRuntime(cfg RuntimeConfig) *Runtime {
	cfg = cfg.normalized()
	s := store.NewStore()
	s.MemoryLimitPages = uint64(cfg.memoryLimitPages)
	if cfg.maxTableElems > 0 {
		s.SetTableElemLimit(cfg.maxTableElems)
	}
	return &Runtime{
		cfg:      cfg,
		engine:   interp.NewEngine(interp.Config{MaxCallDepth: cfg.maxCallDepth, PausePolling: cfg.pausePolling}),
		store:    s,
		registry: map[string]*Instance{},
	}
}

// Compile decodes, validates and lowers a module. Errors wrap ErrMalformed
// (binary format) or ErrInvalid (validation) and say where (section or
// function, byte offset) and what.
func (r *Runtime) Compile(ctx context.Context, wasm []byte) (*CompiledModule, error) {
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
	compile := interp.Compile
	if !r.cfg.pausePolling {
		compile = interp.CompileWithoutPolls
	}
	c, err := compile(m)
	if err != nil {
		return nil, loweringError(err)
	}
	code := c.Code()
	if len(code) != len(m.Funcs) {
		return nil, fmt.Errorf("ferry: compile: %d lowered bodies for %d functions", len(code), len(m.Funcs))
	}
	return &CompiledModule{module: m, code: code, source: append([]byte(nil), wasm...), rt: r}, nil
}

// Instantiate links the module's imports against the instances registered in
// this runtime by module name, applies its segments and runs its start
// function. A non-empty name registers the new instance under that name for
// later imports (only once instantiation has succeeded). Link errors wrap
// ErrLink (*LinkError); traps during instantiation are *api.TrapError.
func (r *Runtime) Instantiate(ctx context.Context, m *CompiledModule, name string) (inst *Instance, err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if r.isClosed() {
		return nil, errClosed
	}
	if m == nil || m.closed.Load() {
		return nil, fmt.Errorf("ferry: instantiate: %w: compiled module", errClosed)
	}
	resolve := func(module, field string) (store.Extern, bool) {
		r.mu.Lock()
		from := r.registry[module]
		r.mu.Unlock()
		if from == nil {
			return store.Extern{}, false
		}
		return from.inst.Export(field)
	}
	si, err := r.store.Instantiate(m.module, name, m.code, resolve)
	if err != nil {
		if si != nil {
			r.keepOrphan(si)
		}
		return nil, linkError(err)
	}
	if m.module.HasStart {
		if int(m.module.Start) >= len(si.Funcs) {
			r.keepOrphan(si)
			return nil, fmt.Errorf("ferry: instantiate: start function %d out of range", m.module.Start)
		}
		if _, err := r.call(ctx, si.Funcs[m.module.Start], nil); err != nil {
			// The start function may have stored this instance's functions
			// in imported tables: keep it alive, but not importable.
			r.keepOrphan(si)
			return nil, err
		}
	}
	inst = &Instance{rt: r, inst: si, module: m}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		si.Close()
		return nil, errClosed
	}
	r.instances = append(r.instances, inst)
	if name != "" {
		r.registry[name] = inst
	}
	return inst, nil
}

func (r *Runtime) keepOrphan(si *store.Instance) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		si.Close()
		return
	}
	r.orphans = append(r.orphans, si)
}

// call runs fn on the engine. It is the API boundary: whatever happens
// inside, the caller gets an error, never a panic.
func (r *Runtime) call(ctx context.Context, fn *store.Function, args []uint64) (results []uint64, err error) {
	defer func() {
		if p := recover(); p != nil {
			results = nil
			err = &api.TrapError{Kind: api.ErrHostPanic, Cause: fmt.Errorf("ferry: internal error: %v", p)}
		}
	}()
	return r.engine.Call(ctx, fn, args)
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

// Close closes every instance of the runtime. It is idempotent; afterwards
// Compile and Instantiate fail.
func (r *Runtime) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	instances, orphans := r.instances, r.orphans
	r.instances, r.orphans, r.registry = nil, nil, map[string]*Instance{}
	r.mu.Unlock()
	for _, inst := range instances {
		inst.close()
	}
	for _, si := range orphans {
		si.Close()
	}
	return nil
}

func (r *Runtime) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// unregister removes every name under which inst is importable.
func (r *Runtime) unregister(inst *Instance) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, x := range r.registry {
		if x == inst {
			delete(r.registry, name)
		}
	}
}

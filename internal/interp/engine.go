package interp

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/engine"
	"github.com/ferryvm/ferry/internal/native"
	"github.com/ferryvm/ferry/internal/profile"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Config configures an Engine.
type Config struct {
	// MaxCallDepth bounds the number of Wasm frames of one call; deeper
	// calls trap with api.ErrCallStackExhausted. 0 means DefaultMaxCallDepth.
	MaxCallDepth int
	// PausePolling makes the engine honour store.InterruptPause requests.
	// The interrupt word is polled either way (cancellation uses it).
	PausePolling bool
	// PauseAfter, when positive, stops every call at its PauseAfter-th
	// polled pause point, as if a pause had been requested there. It is a
	// deterministic hook for checkpoint tests.
	PauseAfter int64
	// Builtins is the callsite table the engine calls builtins through,
	// the runtime's own; engines of one runtime share it. nil means a
	// table of the engine's own for the host's features.
	Builtins *Builtins
	// Tier picks the code that runs functions (TierInterp, TierCompiled,
	// TierAuto; tier.go). Where generated code cannot run, a compiled
	// tier falls back to the interpreter (Engine.Note says why).
	Tier Tier
	// Compiler generates the compiled tier's code (the runtime gives
	// internal/jit's, specialised for its effective CPU features); nil
	// makes a compiled tier fall back to the interpreter.
	Compiler *Compiler
	// CodeLimit caps the engine's executable memory in bytes; 0 means
	// DefaultCodeLimit. A function that does not fit stays interpreted.
	CodeLimit int
	// DeoptStress, when non-zero, seeds deopt stress (stress.go): compiled
	// frames are forced back to the interpreter at random pause points.
	DeoptStress uint64
	// Sampler, if set, profiles the calls the engine runs (profile.go).
	Sampler *profile.Sampler
}

// DefaultMaxCallDepth is the call-depth limit when Config leaves it 0.
const DefaultMaxCallDepth = 50000

// Engine runs lowered code: the interpreter tier, an engine.Engine. It
// holds no per-call state and is safe for concurrent calls.
type Engine struct {
	cfg  Config
	pool sync.Pool
	// tier is the compiled tier, shared with the engines Counting derives
	// (nil: the interpreter alone).
	tier *tierState
	// machines numbers the machines made, a stream for deopt stress.
	machines atomic.Uint64
}

// NewEngine returns an engine with the given configuration.
func NewEngine(cfg Config) *Engine {
	if cfg.MaxCallDepth <= 0 {
		cfg.MaxCallDepth = DefaultMaxCallDepth
	}
	if cfg.Builtins == nil {
		cfg.Builtins = NewBuiltins(cpu.Host())
	}
	return &Engine{cfg: cfg, tier: newTierState(cfg)}
}

// ErrSuspended is wrapped by the error a call returns when it stopped at a
// pause point (see Suspended).
var ErrSuspended = engine.ErrSuspended

// ErrInternal marks an engine bug caught at run time (a Go runtime panic in
// the execution loop, an inconsistency the engine detected): the call
// fails instead of crashing the host. It is the public api.ErrInternal,
// so that users can name it.
var ErrInternal = api.ErrInternal

var (
	errNotCompiled = fmt.Errorf("%w: function has no interpreter code", ErrInternal)
	errBadOp       = fmt.Errorf("%w: invalid IR operation", ErrInternal)
)

// Suspended is returned (as an error) by Call and Resume when the run stopped
// at a pause point: the tier-neutral engine.Suspended.
type Suspended = engine.Suspended

var _ engine.Engine = (*Engine)(nil)

// Compile validates and lowers m for the interpreter: with pause polling
// off (Config.PausePolling), without poll instructions (CompileWithoutPolls).
func (e *Engine) Compile(m *wasm.Module) (engine.Module, error) {
	compile := Compile
	if !e.cfg.PausePolling {
		compile = CompileWithoutPolls
	}
	c, err := compile(m)
	if err != nil {
		return nil, err
	}
	e.tier.prepare(c)
	return c, nil
}

// CompileFromParts is Compile for code read back from a code cache
// (cached.go): the module's lowered functions, prepared for the engine's
// tier as Compile prepares what it lowers.
func (e *Engine) CompileFromParts(m *wasm.Module, parts []FuncParts) (*Compiled, error) {
	c, err := FromParts(m, parts, !e.cfg.PausePolling)
	if err != nil {
		return nil, err
	}
	e.tier.prepare(c)
	return c, nil
}

// CompileFromSource is CompileFromParts reading each function from src
// the first time it is needed (FromSource), or all of them now under
// TierCompiled, which translates every function it prepares (the auto
// tier loads a function when it compiles it). refused is told when a
// function's parts are refused.
func (e *Engine) CompileFromSource(m *wasm.Module, src PartsSource, refused func(why error, scratch *Compiled)) (*Compiled, error) {
	c, err := FromSource(m, src, !e.cfg.PausePolling, refused)
	if err != nil {
		return nil, err
	}
	if e.tier.on() && e.tier.tier == TierCompiled {
		if err := c.loadAll(); err != nil {
			return nil, err
		}
	}
	e.tier.prepare(c)
	return c, nil
}

// Counting returns an engine like e whose every call stops at its n-th
// polled pause point (Config.PauseAfter).
func (e *Engine) Counting(n int64) engine.Engine {
	cfg := e.cfg
	cfg.PauseAfter = n
	return &Engine{cfg: cfg, tier: e.tier}
}

// machine is the state of one call: the value stack and the frame headers.
type machine struct {
	e   *Engine
	ctx context.Context
	// hostCtx is what host functions get: a child of ctx that a pause
	// request cancels (made at the run's first host call; nil before).
	hostCtx context.Context
	// hostDone ends hostCtx and the pause hook behind it.
	hostDone func()
	stack    []uint64
	frames   []frame
	// floor is one above the innermost compiled frame (0 without one):
	// the interpreter returns to drive when it pops down to it.
	floor     int
	maxDepth  int
	intr      *atomic.Uint32
	root      *store.Instance
	countdown int64
	host      *store.Function // the host function running, if any
	// builtins is the engine's Config.Builtins, held here so that a
	// builtin call is a load from the machine and an index.
	builtins *Builtins

	// The compiled tier's state (native.go): the context its code runs
	// on (nil without a compiled tier), the indices of the compiled
	// frames, innermost last, and the instance whose globals the context
	// holds.
	nctx    *native.Context
	natives []int32
	gInst   *store.Instance
	stress  *stress
}

func (e *Engine) machine(ctx context.Context, inst *store.Instance) *machine {
	m, _ := e.pool.Get().(*machine)
	if m == nil {
		m = &machine{e: e, builtins: e.cfg.Builtins, stack: make([]uint64, 1024)}
	}
	m.ctx, m.root, m.intr = ctx, inst, inst.InterruptWord()
	m.maxDepth, m.countdown, m.host = e.cfg.MaxCallDepth, 0, nil
	m.frames = m.frames[:0]
	if e.tier.on() {
		if m.nctx == nil {
			m.nctx = native.NewContext()
		}
		if seed := e.cfg.DeoptStress; seed != 0 {
			m.stress = newStress(seed, e.machines.Add(1))
		}
	}
	return m
}

func (e *Engine) release(m *machine) {
	m.ctx, m.hostCtx, m.hostDone, m.root, m.intr, m.host = nil, nil, nil, nil, nil, nil
	clear(m.frames)
	m.frames = m.frames[:0]
	m.natives, m.floor, m.gInst, m.stress = m.natives[:0], 0, nil, nil
	if m.nctx != nil {
		// The context keeps no memory or globals of a finished run alive.
		m.nctx.SetMemory(nil)
		m.nctx.SetGlobals(nil)
	}
	e.pool.Put(m)
}

func paramSlots(ts []wasm.ValType) int {
	n := 0
	for _, t := range ts {
		n += t.Slots()
	}
	return n
}

// Call runs fn (a Wasm or host function) with args in slot encoding and
// returns its results in slot encoding. It returns a *api.TrapError for a
// trap or a cancelled context, and a *Suspended when the run stopped at a
// pause point.
func (e *Engine) Call(ctx context.Context, fn *store.Function, args []uint64) ([]uint64, error) {
	np, nr := paramSlots(fn.Type.Params), paramSlots(fn.Type.Results)
	if len(args) != np {
		return nil, fmt.Errorf("interp: function takes %d argument slots, got %d", np, len(args))
	}
	if err := ctx.Err(); err != nil {
		return nil, &api.TrapError{Kind: err}
	}
	if fn.Host != nil {
		return callHostDirect(ctx, fn, args, np, nr)
	}
	m := e.machine(ctx, fn.Instance)
	defer e.release(m)
	return m.execute(fn.Type.Results, func() {
		if len(m.stack) < np {
			m.stack = make([]uint64, np+1024)
		}
		copy(m.stack, args)
		i := 0
		for _, t := range fn.Type.Params { // i32 params: upper bits are ignored
			if t == wasm.I32 {
				m.stack[i] = uint64(uint32(m.stack[i]))
			}
			i += t.Slots()
		}
		m.push(fn, 0)
	})
}

func callHostDirect(ctx context.Context, fn *store.Function, args []uint64, np, nr int) (out []uint64, err error) {
	s := make([]uint64, max(np, nr))
	copy(s, args)
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, engine.PanicTrap(r, fn, nil)
		}
	}()
	var caller api.Module
	if fn.Instance != nil {
		caller = fn.Instance.Caller()
	}
	fn.Host(ctx, caller, s)
	return s[:nr], nil
}

// execute sets up cancellation and the pause hook, runs setup and the loop,
// and turns the outcome into results or an error. Every panic of the run is
// recovered here, exactly once.
func (m *machine) execute(results []wasm.ValType, setup func()) (out []uint64, err error) {
	if m.ctx.Done() != nil {
		inst, fired := m.root, make(chan struct{})
		stop := context.AfterFunc(m.ctx, func() {
			inst.SetInterrupt(store.InterruptCancel)
			close(fired)
		})
		defer func() {
			if !stop() {
				<-fired // clear the bit only after it was set
				inst.ClearInterrupt(store.InterruptCancel)
			}
		}()
	}
	if s := m.e.cfg.Sampler; s != nil {
		defer s.Enter(m.root)()
	}
	if n, counter := m.e.cfg.PauseAfter, engine.PollCounterFrom(m.ctx); n > 0 || counter != nil {
		if n <= 0 {
			n = math.MaxInt64 // counting only: never stops the run
		}
		m.countdown = n
		m.root.SetInterrupt(store.InterruptStep)
		defer m.root.ClearInterrupt(store.InterruptStep)
		if counter != nil {
			defer func() { counter.Add(n - m.countdown) }()
		}
	}
	if m.nctx != nil && m.countdown == 0 && m.stress == nil {
		// A pause or cancellation request then stops compiled code at its
		// next poll. Counted runs keep their exact budgets instead: a
		// request would spoil the count, and they poll often anyway.
		t := m.e.tier
		t.register(m.nctx)
		defer t.unregister(m.nctx)
	}
	defer func() {
		if m.hostDone != nil {
			m.hostDone()
		}
		m.hostCtx, m.hostDone = nil, nil
	}()
	// Memory pages a restore mapped from a checkpoint file fault (SIGBUS)
	// once the file shrinks under them; as a panic the fault becomes a
	// trap (recovered) instead of killing the process.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if m.host != nil && pausedInHost(r) {
				out, err = nil, m.pauseAtHostCall()
				return
			}
			out, err = nil, m.recovered(r)
		}
	}()
	setup()
	if m.drive() {
		return nil, m.suspended()
	}
	n := paramSlots(results)
	out = make([]uint64, n)
	copy(out, m.stack[:n])
	return out, nil
}

// suspended describes the machine's frames after the run stopped at a
// pause point, as the error value execute returns.
func (m *machine) suspended() error {
	s, err := m.export()
	if err != nil {
		return err
	}
	if n := m.e.cfg.PauseAfter; n > 0 {
		s.Polled = n - m.countdown
	}
	return s
}

// initHostCtx makes the context host functions run under for the rest of
// the run: a pause requested while a host function blocks cancels it with
// api.ErrPauseRequested (see api.HostFunc), an abort (the instance closed)
// with the abort's error, so that closing never waits on a blocked host
// call. Made at the first host call, so that calls that make none pay
// nothing for it.
func (m *machine) initHostCtx() {
	hctx, cancel := context.WithCancelCause(store.WithRunning(m.ctx, m.root))
	root, pausing := m.root, m.e.cfg.PausePolling
	restore := root.SetInterruptHook(func(bits uint32) {
		switch {
		case bits&store.InterruptAbort != 0:
			if err := root.AbortErr(); err != nil {
				cancel(err)
			}
		case bits&store.InterruptPause != 0 && pausing:
			cancel(api.ErrPauseRequested)
		}
	})
	m.hostCtx = hctx
	m.hostDone = func() {
		restore()
		cancel(nil)
	}
}

// pausedInHost reports whether a host function's panic value says it gave
// up, having consumed nothing, because a pause was requested.
func pausedInHost(r any) bool {
	err, ok := r.(error)
	return ok && errors.Is(err, api.ErrPauseRequested)
}

// pauseAtHostCall stops the run at the call of the host function that gave
// up for a pause: the innermost frame goes back to its call instruction,
// whose operands are still in place, so that resuming issues the call
// again.
func (m *machine) pauseAtHostCall() error {
	m.host = nil
	m.frames[len(m.frames)-1].pc--
	m.root.ClearInterrupt(store.InterruptPause)
	return m.suspended()
}

// interrupted handles a non-zero interrupt word at a pause point; the
// innermost frame's pc is the pause point's instruction. It reports whether
// the run must stop there, and raises the cancellation and abort traps.
func (m *machine) interrupted() bool {
	bits := m.intr.Load()
	if bits&store.InterruptCancel != 0 {
		if err := m.ctx.Err(); err != nil {
			m.frames[len(m.frames)-1].pc++ // traces point one past the fault
			panic(engine.Trap{Kind: err})
		}
	}
	if bits&store.InterruptAbort != 0 {
		if err := m.root.AbortErr(); err != nil {
			m.frames[len(m.frames)-1].pc++
			panic(engine.Trap{Kind: err})
		}
	}
	if bits&store.InterruptSample != 0 {
		m.sample()
	}
	if bits&store.InterruptStep != 0 && m.countdown > 0 {
		m.countdown--
		if m.countdown == 0 {
			return true
		}
	}
	if bits&store.InterruptPause != 0 {
		// Without PausePolling the request is dropped, not kept pending:
		// a pending bit would keep the code armed for nothing.
		m.root.ClearInterrupt(store.InterruptPause)
		return m.e.cfg.PausePolling
	}
	return false
}

// callHost calls host function f from the frame fr, whose call
// instruction ends just before pc, with the arguments at base. The call
// site is a pause point: a pause request honoured there makes it return
// true without calling, and the frame resumes at the call.
func (m *machine) callHost(fr *frame, pc uint32, f *store.Function, caller *store.Instance, base int) (paused bool) {
	if m.hostCtx == nil {
		m.initHostCtx() // before the poll: a request after it reaches the host function
	}
	if m.intr.Load() != 0 {
		fr.pc = pc - 1
		if m.interrupted() {
			return true
		}
	}
	fr.pc = pc
	if g := caller.HostGate(); g != nil {
		if err := g(m.ctx); err != nil {
			panic(engine.Trap{Kind: err})
		}
	}
	n := max(paramSlots(f.Type.Params), paramSlots(f.Type.Results))
	m.host = f
	f.Host(m.hostCtx, caller.Caller(), m.stack[base:base+n:base+n])
	m.host = nil
	// A call back into the engine from the host may have consumed the
	// cancellation bit of this instance (it clears the bit when its own
	// context fired); restore it if our context is done too.
	if done := m.ctx.Done(); done != nil {
		select {
		case <-done:
			m.root.SetInterrupt(store.InterruptCancel)
		default:
		}
	}
	return false
}

func (m *machine) recovered(r any) error {
	if m.mappedFileFault(r) {
		var stack []api.TraceFrame
		if m.host != nil {
			stack = append(stack, engine.HostTrace(m.host))
		}
		return &api.TrapError{Kind: api.ErrCheckpointFileChanged, Stack: append(stack, m.trace()...)}
	}
	if m.host != nil {
		// A host function that gave up because the instance was aborted
		// (closed) while it blocked: the call stops for that reason.
		if abort := m.root.AbortErr(); abort != nil {
			if err, ok := r.(error); ok && errors.Is(err, abort) {
				return &api.TrapError{Kind: abort, Stack: m.trace()}
			}
		}
	}
	return engine.PanicTrap(r, m.host, m.trace())
}

// mappedFileFault reports whether r is a fault in memory mapped from a
// checkpoint file, of the run's instance or of one its frames called into.
func (m *machine) mappedFileFault(r any) bool {
	insts := []*store.Instance{m.root}
	for i := range m.frames {
		if inst := m.frames[i].fn.Instance; inst != nil && inst != insts[len(insts)-1] {
			insts = append(insts, inst)
		}
	}
	return store.MappedFileFault(r, insts...)
}

// trace renders the frames as a stack trace, innermost first. Every frame's
// pc is one past the instruction it stopped at (the fault, or its call).
func (m *machine) trace() []api.TraceFrame {
	out := make([]api.TraceFrame, 0, len(m.frames))
	for i := len(m.frames) - 1; i >= 0; i-- {
		fr := &m.frames[i]
		t := api.TraceFrame{Func: fr.fn.Index, Name: fr.fn.Name}
		if inst := fr.fn.Instance; inst != nil {
			t.Module = inst.Name
			if t.Name == "" && inst.Module != nil {
				t.Name = inst.Module.FuncName(fr.fn.Index)
			}
		}
		pc := fr.pc
		if pc > 0 {
			pc--
		}
		if int(pc) < len(fr.code.Offsets) {
			t.Offset = fr.code.Offsets[pc]
		}
		t.FileOffset = fr.code.BodyStart + t.Offset
		out = append(out, t)
	}
	return out
}

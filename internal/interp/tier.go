package interp

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"

	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/native"
	"github.com/ferryvm/ferry/internal/store"
)

// Tier says which code runs a function (docs/compiler.md, "Driver").
type Tier uint8

const (
	// TierInterp runs every function in the interpreter.
	TierInterp Tier = iota
	// TierCompiled compiles every function the compiler supports when the
	// module is compiled; the others stay interpreted.
	TierCompiled
	// TierAuto starts every function in the interpreter and compiles the
	// ones the policy finds hot, in the background (policy.go).
	TierAuto
)

func (t Tier) String() string {
	switch t {
	case TierInterp:
		return "interp"
	case TierCompiled:
		return "compiled"
	case TierAuto:
		return "auto"
	}
	return fmt.Sprintf("Tier(%d)", uint8(t))
}

// Compiler is the compiled tier's code generator (internal/jit, which the
// runtime plugs in): the interpreter does not import it, so that the
// compiler's tests may run it against the interpreter.
type Compiler struct {
	// Compile translates f to native code mapped by alloc, or returns an
	// error when f stays interpreted.
	Compile func(f *ir.Func, alloc *native.Allocator) (NativeCode, error)
	// TrapErr is the trap an ExitTrap's second argument names (nil for an
	// unknown code).
	TrapErr func(aux uint32) error
	// NoPause is the argument of a budget exit taken where no pause point
	// is (code lowered without polls).
	NoPause uint32
}

// NativeCode is one function's compiled code (jit.Code), entered on the
// machine's context with the frame's slot index set (docs/compiler.md).
type NativeCode interface {
	// Enter runs the function from its entry.
	Enter(ctx *native.Context) (native.Exit, error)
	// EnterAt runs it from pause point id's continuation: after a call
	// (its callee returned), a poll's (on-stack replacement, resume).
	EnterAt(ctx *native.Context, id uint32) (native.Exit, error)
	// Continue re-enters at the last exit's continuation.
	Continue(ctx *native.Context) (native.Exit, error)
	// CanEnterAt reports whether EnterAt(id) has a continuation.
	CanEnterAt(id uint32) bool
	// Free unmaps the code; it fails while code runs in it.
	Free() error
	// CallEntry is the address native callers call (the dispatch
	// table's word for the function), 0 once the code is freed.
	CallEntry() uintptr
}

// codeSet is the compiled code of one module (Compiled). It is not
// referenced by the code's frames, so a cleanup attached to the Compiled
// can free it once no frame can run the module any more: executable
// memory goes with the module, not with the runtime.
//
// It also holds the module's dispatch table, the one native callers go
// through (docs/compiler.md "Calls"): words 2i and 2i+1 are function i's
// native call entry (0: a call of i exits to Go) and its frame slots.
// Imported functions keep 0, so calls to other instances and host
// functions always exit. byIndex is the code each function was given,
// kept when it turns non-entrant: frames a native call made are running
// it, and Go continues them there after an exit.
type codeSet struct {
	mu       sync.Mutex
	codes    []NativeCode
	dispatch []uint64
	byIndex  []atomic.Pointer[compiledCode]
}

func newCodeSet(funcs int) *codeSet {
	return &codeSet{dispatch: make([]uint64, 2*funcs), byIndex: make([]atomic.Pointer[compiledCode], funcs)}
}

// ran returns the code function f was given, entrant or not (nil: none),
// to continue a frame a native call made: f's entrant code when that is
// the same code, so that the driver's checks for non-entrance (a pointer
// compare with f.native) see it as entrant.
func (s *codeSet) ran(f *funcCode) *compiledCode {
	if int(f.Index) >= len(s.byIndex) {
		return nil
	}
	r := s.byIndex[f.Index].Load()
	if n := f.native.Load(); r != nil && n != nil && n.NativeCode == r.NativeCode {
		return n
	}
	return r
}

// add records f's code c: for freeing, for continuing frames a native call
// made (ran), and in the dispatch table, so that native callers call it.
func (s *codeSet) add(f *funcCode, c NativeCode) {
	s.mu.Lock()
	s.codes = append(s.codes, c)
	s.mu.Unlock()
	s.byIndex[f.Index].Store(&compiledCode{c})
	atomic.StoreUint64(&s.dispatch[2*f.Index+1], uint64(f.FrameSlots))
	atomic.StoreUint64(&s.dispatch[2*f.Index], uint64(c.CallEntry()))
}

func (s *codeSet) free() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.codes {
		_ = c.Free() // nothing runs it: the module is unreachable
	}
	s.codes = nil
}

// compiledCode boxes a NativeCode for funcCode.native's atomic pointer.
type compiledCode struct{ NativeCode }

// DefaultCodeLimit caps the executable memory of one engine's compiled
// code when Config.CodeLimit is 0.
const DefaultCodeLimit = 256 << 20

// compileState values of funcCode.compileState.
const (
	compileNone    uint32 = iota // never tried
	compileQueued                // handed to the compiler, result pending
	compileDone                  // has (or had) native code
	compileRefused               // the compiler does not support it
)

// tierState is the compiled tier of one engine (one runtime): its
// executable memory, the features code is specialised for, the background
// compiler and the counts a user may ask for. Engines derived from one
// (Counting) share it, so code compiled by one is entered by all.
type tierState struct {
	tier  Tier
	comp  *Compiler
	alloc *native.Allocator
	// note explains a fall-back to the interpreter (this platform cannot
	// run generated code), empty otherwise.
	note string

	compiled, refused atomic.Int64
	// stressDeopts counts the deoptimizations deopt stress forced.
	stressDeopts atomic.Int64
	// adopted counts the frames Go made of native calls under way at an
	// exit (adoptNativeCalls): tests read it to know calls were native.
	adopted atomic.Int64
	// sampled says a profile.Sampler picks the functions to compile
	// (policy.go); osr counts the frames it moved into compiled code at a
	// sampled poll (profile.go).
	sampled bool
	osr     atomic.Int64

	// queue feeds the background compiler of the auto tier; workers is
	// how many goroutines may compile at once.
	queue   chan *funcCode
	workers int
	started sync.Once

	// running holds the native contexts of the machines running compiled
	// code, so that arming (a pause or cancellation request) makes their
	// code exit at its next poll instead of after a full budget.
	mu      sync.Mutex
	running map[*native.Context]struct{}

	// globals caches each instance's table of global addresses, weakly
	// keyed so that the cache keeps no instance alive.
	globals sync.Map // weak.Pointer[store.Instance] -> []uintptr
}

// newTierState returns the compiled tier cfg asks for, or nil for the
// interpreter alone. On a platform that cannot run generated code it
// returns a state with tier TierInterp and a note saying why.
func newTierState(cfg Config) *tierState {
	if cfg.Tier == TierInterp {
		return nil
	}
	limit := cfg.CodeLimit
	if limit <= 0 {
		limit = DefaultCodeLimit
	}
	t := &tierState{
		tier:    cfg.Tier,
		comp:    cfg.Compiler,
		alloc:   native.NewAllocator(limit),
		running: map[*native.Context]struct{}{},
		workers: max(1, min(runtime.GOMAXPROCS(0)/2, 4)),
		sampled: cfg.Sampler != nil,
	}
	if cfg.Compiler == nil {
		t.fallBack("no compiler was given")
		return t
	}
	if runtime.GOARCH != "amd64" {
		t.fallBack(fmt.Sprintf("the compiled tier is not built for %s yet", runtime.GOARCH))
		return t
	}
	// One page mapped and freed at once tells whether this process may map
	// executable memory at all (a hardened kernel may refuse), so that the
	// fall-back is decided once, before any module is compiled.
	u, err := t.alloc.Map([]byte{0xC3})
	if err != nil {
		t.fallBack(fmt.Sprintf("executable memory is not available (%v)", err))
		return t
	}
	_ = u.Free()
	return t
}

func (t *tierState) fallBack(why string) {
	t.note = fmt.Sprintf("%s tier requested, but %s: running the interpreter", t.tier, why)
	t.tier = TierInterp
}

// on reports whether t compiles anything.
func (t *tierState) on() bool { return t != nil && t.tier != TierInterp }

// prepare readies a freshly lowered module for the tier: TierCompiled
// compiles every function the compiler supports now; TierAuto makes every
// call leave the fast path so that the policy counts it.
func (t *tierState) prepare(c *Compiled) {
	c.tier = t
	if !t.on() {
		return
	}
	c.codes = newCodeSet(len(c.byIndex))
	runtime.AddCleanup(c, (*codeSet).free, c.codes)
	switch t.tier {
	case TierCompiled:
		t.compileAll(c.funcs)
	case TierAuto:
		t.prepareAuto(c.funcs)
	}
}

// compileAll compiles fs on the engine's workers and waits for them.
func (t *tierState) compileAll(fs []*funcCode) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), len(fs))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(len(fs)); i = next.Add(1) - 1 {
				if fs[i].compileState.CompareAndSwap(compileNone, compileQueued) {
					t.compile(fs[i])
				}
			}
		}()
	}
	wg.Wait()
}

// compile compiles f, whose compileState this goroutine claimed, and
// installs its code; a function the compiler refuses stays interpreted on
// the fast path for good.
func (t *tierState) compile(f *funcCode) error {
	err := f.load() // the auto tier's first look at a lazily cached function
	var code NativeCode
	if err == nil {
		code, err = t.comp.Compile(&f.Func, t.alloc)
	}
	if err != nil {
		// Refused (v128, size), out of executable memory, or a compiler
		// bug caught as an error: in every case the interpreter runs it.
		f.compileState.Store(compileRefused)
		t.refused.Add(1)
		f.setTiered(false)
		return err
	}
	f.owner.codes.add(f, code)
	f.compileState.Store(compileDone)
	t.compiled.Add(1)
	f.native.Store(&compiledCode{code})
	f.setTiered(true)
	return nil
}

// enqueue hands f to the background compiler (auto tier); it never blocks
// the caller: a full queue leaves f to be picked again at a later call.
func (t *tierState) enqueue(f *funcCode) {
	t.started.Do(func() {
		t.queue = make(chan *funcCode, 1024)
		for range t.workers {
			go t.worker()
		}
	})
	if !f.compileState.CompareAndSwap(compileNone, compileQueued) {
		return
	}
	select {
	case t.queue <- f:
	default:
		f.compileState.Store(compileNone)
		f.hot.Store(hotCalls)
	}
}

// worker compiles queued functions. Workers live as long as the process:
// a runtime has at most Config's few, and they block on an empty queue.
func (t *tierState) worker() {
	for f := range t.queue {
		t.compile(f)
	}
}

// register makes c one of the contexts a request to arm code (a pause or
// cancellation) stops at its next poll; unregister undoes it.
func (t *tierState) register(c *native.Context) {
	t.mu.Lock()
	t.running[c] = struct{}{}
	t.mu.Unlock()
}

func (t *tierState) unregister(c *native.Context) {
	t.mu.Lock()
	delete(t.running, c)
	t.mu.Unlock()
}

// requestExits makes every registered context's code exit at its next
// poll (Compiled.Arm calls it).
func (t *tierState) requestExits() {
	t.mu.Lock()
	for c := range t.running {
		c.RequestExit()
	}
	t.mu.Unlock()
}

// globalTable returns inst's table of global addresses, the block's
// globals: entry i is &inst.Globals[i].Lo. Built once per instance; the
// entries are not pointers to the GC, and the instance (which a running
// frame's function keeps alive) keeps the globals alive.
func (t *tierState) globalTable(inst *store.Instance) []uintptr {
	k := weak.Make(inst)
	if v, ok := t.globals.Load(k); ok {
		return v.([]uintptr)
	}
	tab := make([]uintptr, len(inst.Globals))
	for i, g := range inst.Globals {
		tab[i] = uintptr(unsafe.Pointer(&g.Lo))
	}
	if v, loaded := t.globals.LoadOrStore(k, tab); loaded {
		return v.([]uintptr)
	}
	runtime.AddCleanup(inst, func(k weak.Pointer[store.Instance]) { t.globals.Delete(k) }, k)
	return tab
}

// TierStats counts a module's functions by the tier that runs them.
type TierStats struct {
	Compiled    int // have compiled code
	Interpreted int // run in the interpreter (refused, or not compiled yet)
	Refused     int // the compiler does not support them (v128, size)
}

// TierStats returns how many of c's functions have compiled code.
func (c *Compiled) TierStats() TierStats {
	var s TierStats
	for _, f := range c.funcs {
		switch f.compileState.Load() {
		case compileDone:
			if f.native.Load() != nil {
				s.Compiled++
				continue
			}
		case compileRefused:
			s.Refused++
		}
		s.Interpreted++
	}
	return s
}

// SetNonEntrant makes the compiled code of every function of c
// non-entrant: new calls run in the interpreter, and frames running the
// code fall back to it at their next exit. It is two atomic stores per
// function: its dispatch table word, which native callers read (so the
// next native call of it exits to Go), then the code the driver enters.
func (c *Compiled) SetNonEntrant() {
	for _, f := range c.funcs {
		if c.codes != nil {
			atomic.StoreUint64(&c.codes.dispatch[2*f.Index], 0)
		}
		if f.native.Swap(nil) != nil {
			// Calls may take the fast path again; the code stays mapped
			// for the frames still in it.
			f.setTiered(false)
		}
	}
}

// Counts returns how many functions of the modules the engine compiled
// have been compiled to native code, and how many the compiler refused
// (they stay interpreted).
func (e *Engine) Counts() (compiled, refused int64) {
	if e.tier == nil {
		return 0, 0
	}
	return e.tier.compiled.Load(), e.tier.refused.Load()
}

// Note explains why the engine runs the interpreter although a compiled
// tier was asked for (empty when it did not fall back).
func (e *Engine) Note() string {
	if e.tier == nil {
		return ""
	}
	return e.tier.note
}

// EffectiveTier is the tier the engine runs: Config.Tier, or TierInterp
// after a fall-back (Note).
func (e *Engine) EffectiveTier() Tier {
	if e.tier == nil {
		return TierInterp
	}
	return e.tier.tier
}

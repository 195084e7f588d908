package jit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/interp"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/native"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

// The harness runs one compiled function on a native.Context without the
// interpreter's machine: it sets the stack, frame, memory, globals and
// budget, refills the budget on every ExitBudget, and reads the results
// or the trap. Calls and the ops left to Go (ExitCall, ExitInterp) are the
// tier's business; a function that takes one is reported as such.

var errNeedsGo = errors.New("the function needs Go (a call or an ExitInterp op)")

// wat2wasm compiles WebAssembly text; a missing wabt fails the test.
func wat2wasm(tb testing.TB, src string) []byte {
	tb.Helper()
	bin, err := exec.LookPath("wat2wasm")
	if err != nil {
		tb.Fatal("wat2wasm not found on PATH: install wabt")
	}
	dir := tb.TempDir()
	in, out := filepath.Join(dir, "m.wat"), filepath.Join(dir, "m.wasm")
	if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
	if b, err := exec.Command(bin, in, "-o", out).CombinedOutput(); err != nil {
		tb.Fatalf("wat2wasm: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// module is a decoded and lowered module with its functions' IR.
type module struct {
	mod  *wasm.Module
	comp *interp.Compiled
	ir   map[uint32]*ir.Func // by function index
}

func loadBinary(tb testing.TB, bin []byte) *module {
	tb.Helper()
	m, err := lowerBinary(bin)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func lowerBinary(bin []byte) (*module, error) {
	m, err := binary.Decode(bin)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	c, err := interp.Compile(m)
	if err != nil {
		return nil, fmt.Errorf("lower: %w", err)
	}
	mm := &module{mod: m, comp: c, ir: map[uint32]*ir.Func{}}
	for _, f := range c.IRFuncs() {
		mm.ir[f.Index] = f
	}
	return mm, nil
}

func loadWat(tb testing.TB, src string) *module { return loadBinary(tb, wat2wasm(tb, src)) }

// instance instantiates a fresh copy (own store, own memory); imports are
// not provided, so modules with imports fail here.
func (m *module) instance() (*store.Instance, error) {
	return store.NewStore().Instantiate(m.mod, "test", m.comp.Code(), func(string, string) (store.Extern, bool) { return store.Extern{}, false })
}

// exportedFunc returns the function index of export name.
func (m *module) exportedFunc(name string) (uint32, bool) {
	for _, e := range m.mod.Exports {
		if e.Name == name && e.Kind == wasm.ExternFunc {
			return e.Index, true
		}
	}
	return 0, false
}

// runner runs compiled code for one instance. It performs direct calls
// itself (compiling the callee, running it on the callee's frame and
// re-entering the caller at the call's continuation) and memory.grow; the
// other ExitCall and ExitInterp cases are reported as errNeedsGo.
type runner struct {
	ctx     *native.Context
	globals []uintptr
	inst    *store.Instance
	mod     *module
	alloc   *native.Allocator
	codes   map[uint32]*Code
	stack   []uint64
	budget  int64
	budgets int // ExitBudget exits taken
	reenter int // of which re-entered through Cont[id] instead of Continue
	depth   int
}

// maxHarnessDepth bounds the harness's Go recursion for calls; deeper
// runs are left to the tier's own tests.
const maxHarnessDepth = 200

func newRunner(inst *store.Instance, budget int64) *runner {
	r := &runner{ctx: native.NewContext(), inst: inst, budget: budget, stack: make([]uint64, 1<<16)}
	for _, g := range inst.Globals {
		r.globals = append(r.globals, uintptr(unsafe.Pointer(&g.Lo)))
	}
	r.ctx.SetGlobals(r.globals)
	r.ctx.SetStack(r.stack)
	return r
}

// withCalls lets the runner compile and run the callees of direct calls
// from m.
func (r *runner) withCalls(m *module, alloc *native.Allocator) *runner {
	r.mod, r.alloc, r.codes = m, alloc, map[uint32]*Code{}
	return r
}

func (r *runner) free() {
	for _, c := range r.codes {
		if c != nil {
			c.Free()
		}
	}
}

func (r *runner) setMemory() {
	if len(r.inst.Memories) > 0 {
		r.ctx.SetMemory(r.inst.Memories[0].Buf)
	} else {
		r.ctx.SetMemory(nil)
	}
}

// call runs code (compiled from f) with args on a frame at slot frame and
// returns the results or the trap's api error.
func (r *runner) call(code *Code, f *ir.Func, args []uint64, frame int) ([]uint64, error) {
	clear(r.stack[frame : frame+int(f.FrameSlots)])
	copy(r.stack[frame:], args)
	r.ctx.SetBudget(r.budget)
	if err := r.run(code, f, frame); err != nil {
		return nil, err
	}
	n := len(f.Sig.Results)
	return append([]uint64(nil), r.stack[frame:frame+n]...), nil
}

// run runs one activation of f on the frame at slot frame.
func (r *runner) run(code *Code, f *ir.Func, frame int) error {
	if frame+int(f.FrameSlots) > len(r.stack) || r.depth >= maxHarnessDepth {
		return fmt.Errorf("%w: deeper than the harness goes", errNeedsGo)
	}
	r.ctx.SetFrame(uint64(frame))
	r.setMemory()
	e, err := code.Enter(r.ctx)
	for {
		if err != nil {
			return err
		}
		switch e.Kind {
		case native.ExitReturn:
			return nil
		case native.ExitTrap:
			if int(e.Arg) >= len(f.Code) {
				return fmt.Errorf("trap at IR %d, past the function's %d instructions", e.Arg, len(f.Code))
			}
			if err := TrapCode(e.Aux).Err(); err != nil {
				return err
			}
			return fmt.Errorf("bad trap code %d", e.Aux)
		case native.ExitBudget:
			r.budgets++
			r.ctx.SetBudget(r.budget)
			if e.Arg == NoPause {
				e, err = code.Continue(r.ctx)
				break
			}
			if int(e.Arg) >= len(f.PauseIR) || code.Cont[e.Arg] < 0 {
				return fmt.Errorf("budget exit with pause id %d, which has no continuation", e.Arg)
			}
			// Every other exit re-enters through the pause-id table, as
			// a frame deoptimized there and compiled again would.
			if r.budgets%2 == 0 {
				r.reenter++
				e, err = code.EnterAt(r.ctx, e.Arg)
			} else {
				e, err = code.Continue(r.ctx)
			}
		case native.ExitCall:
			in := f.Code[e.Arg]
			if in.Op != ir.Call || r.mod == nil {
				return fmt.Errorf("%w: %v at IR %d", errNeedsGo, e.Kind, e.Arg)
			}
			callee := r.mod.ir[in.A]
			if callee == nil {
				return fmt.Errorf("%w: call of import %d", errNeedsGo, in.A)
			}
			cc, ok := r.codes[in.A]
			if !ok {
				cc, err = Compile(callee, Options{}.WithFeatures(hostFeatures()), r.alloc)
				if err != nil && !errors.Is(err, ErrUnsupported) {
					return err
				}
				r.codes[in.A] = cc
			}
			if cc == nil {
				return fmt.Errorf("%w: callee %d not compiled", errNeedsGo, in.A)
			}
			base := frame + int(in.B)
			if base+int(callee.FrameSlots) > len(r.stack) {
				return fmt.Errorf("%w: deeper than the harness goes", errNeedsGo)
			}
			// The callee's locals past its parameters start at zero.
			clear(r.stack[base+int(callee.ParamSlots) : base+int(callee.LocalSlots)])
			r.depth++
			err := r.run(cc, callee, base)
			r.depth--
			if err != nil {
				return err
			}
			r.ctx.SetFrame(uint64(frame))
			r.setMemory()
			e, err = code.EnterAt(r.ctx, in.C)
		case native.ExitInterp:
			in := f.Code[e.Arg]
			if in.Op != ir.MemoryGrow || len(r.inst.Memories) == 0 {
				return fmt.Errorf("%w: %v at IR %d", errNeedsGo, e.Kind, e.Arg)
			}
			fp := r.stack[frame:]
			old, ok := r.inst.Memories[0].Grow(uint64(uint32(fp[in.B])))
			if !ok {
				old = 0xFFFFFFFF
			}
			fp[in.A] = old
			r.setMemory()
			e, err = code.Continue(r.ctx)
		default:
			return fmt.Errorf("unexpected exit %v", e)
		}
	}
}

func newAlloc() *native.Allocator { return native.NewAllocator(256 << 20) }

// hostFeatures are the features the tests that run code compile for:
// the host's (under qemu, the emulated CPU's), masked by the spec in
// FERRY_JIT_MASK (for example "x86-64-v1") when it is set.
func hostFeatures() cpu.Set {
	f := cpu.Host()
	if spec := os.Getenv("FERRY_JIT_MASK"); spec != "" {
		m, err := f.Mask(spec)
		if err != nil {
			panic(fmt.Sprintf("FERRY_JIT_MASK=%q: %v", spec, err))
		}
		f = m
	}
	return f.Set()
}

// interpCall runs export name in the interpreter on a fresh instance.
func interpCall(m *module, name string, args []uint64) ([]uint64, *store.Instance, error) {
	inst, err := m.instance()
	if err != nil {
		return nil, nil, err
	}
	idx, ok := m.exportedFunc(name)
	if !ok {
		return nil, nil, fmt.Errorf("no export %q", name)
	}
	res, err := interp.NewEngine(interp.Config{}).Call(context.Background(), inst.Funcs[idx], args)
	return res, inst, err
}

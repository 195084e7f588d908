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
	m, err := binary.Decode(bin)
	if err != nil {
		tb.Fatalf("decode: %v", err)
	}
	c, err := interp.Compile(m)
	if err != nil {
		tb.Fatalf("lower: %v", err)
	}
	mm := &module{mod: m, comp: c, ir: map[uint32]*ir.Func{}}
	for _, f := range c.IRFuncs() {
		mm.ir[f.Index] = f
	}
	return mm
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

// runner runs compiled code for one instance.
type runner struct {
	ctx     *native.Context
	globals []uintptr
	inst    *store.Instance
	budget  int64
	budgets int // ExitBudget exits taken
}

func newRunner(inst *store.Instance, budget int64) *runner {
	r := &runner{ctx: native.NewContext(), inst: inst, budget: budget}
	for _, g := range inst.Globals {
		r.globals = append(r.globals, uintptr(unsafe.Pointer(&g.Lo)))
	}
	r.ctx.SetGlobals(r.globals)
	return r
}

// call runs code (compiled from f) with args on a frame at slot frame of
// a fresh stack and returns the results or the trap's api error.
func (r *runner) call(code *Code, f *ir.Func, args []uint64, frame int) ([]uint64, error) {
	stack := make([]uint64, frame+int(f.FrameSlots)+8)
	copy(stack[frame:], args)
	r.ctx.SetStack(stack)
	r.ctx.SetFrame(uint64(frame))
	if len(r.inst.Memories) > 0 {
		r.ctx.SetMemory(r.inst.Memories[0].Buf)
	} else {
		r.ctx.SetMemory(nil)
	}
	r.ctx.SetBudget(r.budget)
	e, err := code.Enter(r.ctx)
	for {
		if err != nil {
			return nil, err
		}
		switch e.Kind {
		case native.ExitReturn:
			n := len(f.Sig.Results)
			return append([]uint64(nil), stack[frame:frame+n]...), nil
		case native.ExitTrap:
			if int(e.Arg) >= len(f.Code) {
				return nil, fmt.Errorf("trap at IR %d, past the function's %d instructions", e.Arg, len(f.Code))
			}
			if err := TrapCode(e.Aux).Err(); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("bad trap code %d", e.Aux)
		case native.ExitBudget:
			r.budgets++
			if e.Arg != NoPause {
				if int(e.Arg) >= len(f.PauseIR) || code.Cont[e.Arg] < 0 {
					return nil, fmt.Errorf("budget exit with pause id %d, which has no continuation", e.Arg)
				}
			}
			r.ctx.SetBudget(r.budget)
			e, err = code.Continue(r.ctx)
		case native.ExitCall, native.ExitInterp:
			return nil, fmt.Errorf("%w: %v at IR %d", errNeedsGo, e.Kind, e.Arg)
		default:
			return nil, fmt.Errorf("unexpected exit %v", e)
		}
	}
}

func newAlloc() *native.Allocator { return native.NewAllocator(256 << 20) }

// allFeatures is every amd64 feature: the compile-time mask used by the
// tests that run code is the host's (cpu.Host), this one is for
// compile-only lints.
func hostFeatures() cpu.Set { return cpu.Host().Set() }

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

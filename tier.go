package ferry

import (
	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/interp"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/jit"
	"github.com/ferryvm/ferry/internal/native"
)

// jitCompiler plugs internal/jit into the engine, specialised for the
// runtime's effective CPU features (the interpreter does not import the
// compiler, whose tests run it against the interpreter).
func jitCompiler(feats cpu.Features) *interp.Compiler {
	opts := jit.Options{}.WithFeatures(feats.Set())
	return &interp.Compiler{
		Compile: func(f *ir.Func, alloc *native.Allocator) (interp.NativeCode, error) {
			c, err := jit.Compile(f, opts, alloc)
			if err != nil {
				return nil, err
			}
			return jitCode{c}, nil
		},
		TrapErr: func(aux uint32) error { return jit.TrapCode(aux).Err() },
		NoPause: jit.NoPause,
	}
}

// jitCode is a jit.Code as the engine enters it.
type jitCode struct{ *jit.Code }

func (c jitCode) CanEnterAt(id uint32) bool { return int(id) < len(c.Cont) && c.Cont[id] >= 0 }

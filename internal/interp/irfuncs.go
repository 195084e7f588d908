package interp

import "github.com/ferryvm/ferry/internal/ir"

// IRFuncs returns the lowered bodies of the module's own functions in
// function-index order (imports excluded), for the compiled tier, which
// translates them. While the module is armed the interpreter rewrites
// back-edges in place; a reader treats those forms as the plain branches
// they stand for (ir.Func).
func (c *Compiled) IRFuncs() []*ir.Func {
	c.loadAll() // a function that cannot load has no code to translate
	out := make([]*ir.Func, len(c.funcs))
	for i, f := range c.funcs {
		out[i] = &f.Func
	}
	return out
}

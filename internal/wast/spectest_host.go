package wast

import (
	"context"
	"math"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/api"
)

// instantiateSpectest defines the "spectest" module that the spec suite's
// scripts import from: print functions that do nothing, four constant
// globals, a table and a memory.
func instantiateSpectest(ctx context.Context, rt *ferry.Runtime) (*ferry.Instance, error) {
	nop := func(context.Context, api.Module, []uint64) {}
	i32, i64, f32, f64 := api.ValueTypeI32, api.ValueTypeI64, api.ValueTypeF32, api.ValueTypeF64
	types := func(ts ...api.ValueType) []api.ValueType { return ts }
	return rt.NewHostModule("spectest").
		Func("print", nil, nil, nop).
		Func("print_i32", types(i32), nil, nop).
		Func("print_i64", types(i64), nil, nop).
		Func("print_f32", types(f32), nil, nop).
		Func("print_f64", types(f64), nil, nop).
		Func("print_i32_f32", types(i32, f32), nil, nop).
		Func("print_f64_f64", types(f64, f64), nil, nop).
		Global("global_i32", i32, false, 666).
		Global("global_i64", i64, false, 666).
		Global("global_f32", f32, false, uint64(math.Float32bits(666.6))).
		Global("global_f64", f64, false, math.Float64bits(666.6)).
		Table("table", api.ValueTypeFuncref, 10, 20, true).
		Memory("memory", 1, 2, true).
		Instantiate(ctx)
}

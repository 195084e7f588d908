package ferry

import (
	"context"
	"math"
	"reflect"
	"testing"

	"github.com/ferryvm/ferry/api"
)

func TestImportTypes(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, NewRuntimeConfig())
	m, err := rt.Compile(ctx, load(t, "import_types"))
	if err != nil {
		t.Fatal(err)
	}
	want := []ImportType{
		{Module: "host", Name: "log", Kind: "func", Params: []api.ValueType{api.ValueTypeI32, api.ValueTypeI64}, Results: []api.ValueType{api.ValueTypeF32}},
		{Module: "host", Name: "nothing", Kind: "func", Params: []api.ValueType{}, Results: []api.ValueType{}},
		{Module: "host", Name: "tab", Kind: "table", Elem: api.ValueTypeFuncref, Min: 2, Max: 10, HasMax: true},
		{Module: "host", Name: "mem", Kind: "memory", Min: 1},
		{Module: "host", Name: "g", Kind: "global", GlobalType: api.ValueTypeF64, Mutable: true},
		{Module: "host", Name: "c", Kind: "global", GlobalType: api.ValueTypeExternref},
	}
	got := m.ImportTypes()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ImportTypes:\n got %+v\nwant %+v", got, want)
	}
	// The types are enough to build the host module, field for field.
	b := rt.NewHostModule("host")
	for _, im := range got {
		switch im.Kind {
		case "func":
			b.Func(im.Name, im.Params, im.Results, func(_ context.Context, _ api.Module, stack []uint64) {
				stack[0] = uint64(math.Float32bits(float32(stack[0] + stack[1])))
			})
		case "table":
			b.Table(im.Name, im.Elem, uint32(im.Min), uint32(im.Max), im.HasMax)
		case "memory":
			b.Memory(im.Name, uint32(im.Min), uint32(im.Max), im.HasMax)
		case "global":
			b.Global(im.Name, im.GlobalType, im.Mutable, 0)
		}
	}
	if _, err := b.Instantiate(ctx); err != nil {
		t.Fatal(err)
	}
	inst, err := rt.Instantiate(ctx, m, "")
	if err != nil {
		t.Fatalf("instantiate against the host module built from ImportTypes: %v", err)
	}
	res, err := inst.Function("call").Call(ctx)
	if err != nil || math.Float32frombits(uint32(res[0])) != 3 {
		t.Fatalf("call = %v, %v", res, err)
	}
}

package ferry_test

import (
	"context"
	"fmt"
	"log"

	"github.com/ferryvm/ferry"
)

// addWasm is testdata/add.wat compiled by wat2wasm:
//
//	(module
//	  (func (export "add") (param i32 i32) (result i32)
//	    local.get 0
//	    local.get 1
//	    i32.add))
var addWasm = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x01, 0x60,
	0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x07, 0x07, 0x01,
	0x03, 0x61, 0x64, 0x64, 0x00, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x20,
	0x00, 0x20, 0x01, 0x6a, 0x0b,
}

func Example() {
	ctx := context.Background()
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt.Close(ctx)

	mod, err := rt.Compile(ctx, addWasm)
	if err != nil {
		log.Fatal(err)
	}
	inst, err := rt.Instantiate(ctx, mod, "calc")
	if err != nil {
		log.Fatal(err)
	}
	// i32 values travel as the low 32 bits of a uint64 slot.
	res, err := inst.Function("add").Call(ctx, 40, 2)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(int32(res[0]))
	// Output: 42
}

package ferry_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

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

// counterWasm is, compiled by wat2wasm:
//
//	(module
//	  (global $n (mut i32) (i32.const 0))
//	  (func (export "boot") (global.set $n (i32.const 41)))
//	  (func (export "next") (result i32)
//	    (global.set $n (i32.add (global.get $n) (i32.const 1)))
//	    (global.get $n)))
var counterWasm = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x60,
	0x00, 0x00, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x03, 0x02, 0x00, 0x01, 0x06,
	0x06, 0x01, 0x7f, 0x01, 0x41, 0x00, 0x0b, 0x07, 0x0f, 0x02, 0x04, 0x62,
	0x6f, 0x6f, 0x74, 0x00, 0x00, 0x04, 0x6e, 0x65, 0x78, 0x74, 0x00, 0x01,
	0x0a, 0x14, 0x02, 0x06, 0x00, 0x41, 0x29, 0x24, 0x00, 0x0b, 0x0b, 0x00,
	0x23, 0x00, 0x41, 0x01, 0x6a, 0x24, 0x00, 0x23, 0x00, 0x0b,
}

// Boot an instance once, checkpoint it between calls, and restore it as
// many times as needed: each restore starts from the booted state.
func ExampleInstance_WriteCheckpoint() {
	ctx := context.Background()
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt.Close(ctx)
	mod, err := rt.Compile(ctx, counterWasm)
	if err != nil {
		log.Fatal(err)
	}
	booted, err := rt.Instantiate(ctx, mod, "")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := booted.Function("boot").Call(ctx); err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "ferry-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app.ckpt")
	if err := booted.WriteCheckpointFile(path, ferry.NewCheckpointConfig()); err != nil {
		log.Fatal(err)
	}

	ck, err := ferry.OpenCheckpoint(path)
	if err != nil {
		log.Fatal(err)
	}
	defer ck.Close()
	fmt.Println("idle:", ck.Idle())
	for range 2 {
		app, err := rt.RestoreInstance(ctx, ck, ferry.NewRestoreConfig().WithCompiledModule(mod))
		if err != nil {
			log.Fatal(err)
		}
		res, err := app.Function("next").Call(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(int32(res[0]))
		app.Close(ctx)
	}
	// Output:
	// idle: true
	// 42
	// 42
}

package ferry

//go:generate sh -c "cd testdata && for f in *.wat; do case $f in invalid.wat) wat2wasm --no-check $f -o invalid.wasm;; relaxed_*.wat) wat2wasm --enable-relaxed-simd $f -o ${f%.wat}.wasm;; *) wat2wasm $f -o ${f%.wat}.wasm;; esac; done"

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ferryvm/ferry/api"
)

func load(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + ".wasm")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newRuntime(t *testing.T, cfg RuntimeConfig) *Runtime {
	t.Helper()
	rt := NewRuntime(cfg)
	t.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

func instantiate(t *testing.T, rt *Runtime, file, name string) *Instance {
	t.Helper()
	ctx := context.Background()
	m, err := rt.Compile(ctx, load(t, file))
	if err != nil {
		t.Fatalf("compile %s: %v", file, err)
	}
	inst, err := rt.Instantiate(ctx, m, name)
	if err != nil {
		t.Fatalf("instantiate %s: %v", file, err)
	}
	return inst
}

func TestHostFunctionsReadGuestMemory(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, NewRuntimeConfig())
	var printed string
	var callerName string
	i32 := []api.ValueType{api.ValueTypeI32}
	_, err := rt.NewHostModule("env").
		Func("print", []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, nil,
			func(ctx context.Context, caller api.Module, stack []uint64) {
				callerName = caller.Name()
				b, ok := caller.Memory().Read(uint64(uint32(stack[0])), uint64(uint32(stack[1])))
				if !ok {
					t.Error("host read out of bounds")
				}
				printed = string(b)
			}).
		Func("double", i32, i32, func(ctx context.Context, caller api.Module, stack []uint64) {
			stack[0] = uint64(uint32(stack[0]) * 2)
		}).
		Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inst := instantiate(t, rt, "greet", "greeter")
	if _, err := inst.Function("greet").Call(ctx); err != nil {
		t.Fatal(err)
	}
	if printed != "hello, ferry" || callerName != "greeter" {
		t.Errorf("host saw %q from %q", printed, callerName)
	}
	res, err := inst.Function("quadruple").Call(ctx, 5)
	if err != nil || len(res) != 1 || res[0] != 20 {
		t.Errorf("quadruple(5) = %v, %v", res, err)
	}
	mem := inst.Memory("memory")
	if mem == nil || mem.Size() != 65536 {
		t.Fatalf("exported memory = %v", mem)
	}
	if !mem.Write(16, []byte("HELLO")) {
		t.Fatal("write failed")
	}
	inst.Function("greet").Call(ctx)
	if printed != "HELLO, ferry" {
		t.Errorf("host saw %q after a host write", printed)
	}
	if inst.Memory("nope") != nil || inst.Function("memory") != nil || inst.Global("greet") != nil {
		t.Error("lookup of a missing or wrong-kind export is not nil")
	}
}

func TestImportsBetweenInstances(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, NewRuntimeConfig())
	provider := instantiate(t, rt, "provider", "provider")
	consumer := instantiate(t, rt, "consumer", "")
	res, err := consumer.Function("inc_twice").Call(ctx)
	if err != nil || res[0] != 2 {
		t.Fatalf("inc_twice = %v, %v", res, err)
	}
	counter := provider.Global("counter")
	if counter.Get() != 2 || !counter.Mutable() || counter.Type() != api.ValueTypeI32 {
		t.Errorf("counter = %d mutable %v type %#x", counter.Get(), counter.Mutable(), counter.Type())
	}
	if err := counter.Set(10); err != nil {
		t.Fatal(err)
	}
	if res, _ := consumer.Function("counter").Call(ctx); res[0] != 10 {
		t.Errorf("consumer sees counter %d after Set(10)", res[0])
	}
	answer := provider.Global("answer")
	if answer.Get() != 42 || answer.Mutable() || answer.Set(1) == nil {
		t.Error("immutable global: wrong value or Set succeeded")
	}
	if _, err := consumer.Function("store").Call(ctx, 100, 0xCAFE); err != nil {
		t.Fatal(err)
	}
	if b, ok := provider.Memory("mem").Read(100, 2); !ok || b[0] != 0xFE || b[1] != 0xCA {
		t.Errorf("provider memory after consumer store: %x", b)
	}
	// Register makes the provider importable under a second name.
	rt.Register("alias", provider)
	if rt.registry["alias"] != provider {
		t.Error("Register did not register")
	}
}

func TestLinkErrors(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, NewRuntimeConfig())
	consumer, err := rt.Compile(ctx, load(t, "consumer"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = rt.Instantiate(ctx, consumer, "")
	var le *LinkError
	if !errors.Is(err, ErrLink) || !errors.As(err, &le) || le.Reason != "unknown import" || le.Module != "provider" || le.Name != "inc" {
		t.Fatalf("missing provider: %v (%+v)", err, le)
	}
	instantiate(t, rt, "provider", "provider")
	bad, err := rt.Compile(ctx, load(t, "bad_import"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = rt.Instantiate(ctx, bad, "")
	if !errors.Is(err, ErrLink) || !errors.As(err, &le) || !strings.HasPrefix(le.Reason, "incompatible import type") {
		t.Fatalf("wrong signature: %v", err)
	}
	if got := bad.Imports(); len(got) != 1 || got[0] != (ImportDesc{Module: "provider", Name: "inc", Kind: "func"}) {
		t.Errorf("Imports() = %+v", got)
	}
	if got := consumer.Exports(); len(got) != 3 || got[0] != (ExportDesc{Name: "inc_twice", Kind: "func"}) {
		t.Errorf("Exports() = %+v", got)
	}
}

func TestInstantiationTraps(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, NewRuntimeConfig())
	provider := instantiate(t, rt, "provider", "provider")
	mem := provider.Memory("mem")
	for _, c := range []struct {
		file, written string
		at            uint64
		kind          error
	}{
		{"oob_data", "first", 8, api.ErrOutOfBoundsMemory},
		{"start_trap", "written", 0, api.ErrUnreachable},
	} {
		m, err := rt.Compile(ctx, load(t, c.file))
		if err != nil {
			t.Fatal(err)
		}
		inst, err := rt.Instantiate(ctx, m, c.file)
		var trap *api.TrapError
		if inst != nil || !errors.As(err, &trap) || !errors.Is(err, c.kind) {
			t.Errorf("%s: instance %v, error %v; want trap %v", c.file, inst, err, c.kind)
		}
		if b, _ := mem.Read(c.at, uint64(len(c.written))); string(b) != c.written {
			t.Errorf("%s: earlier write not visible: %q", c.file, b)
		}
		if rt.registry[c.file] != nil {
			t.Errorf("%s: failed instance registered", c.file)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, NewRuntimeConfig())
	_, err := rt.Compile(ctx, []byte("\x00asm\x02\x00\x00\x00"))
	if !errors.Is(err, ErrMalformed) || errors.Is(err, ErrInvalid) {
		t.Errorf("bad version: %v", err)
	}
	_, err = rt.Compile(ctx, load(t, "add")[:30])
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("truncated: %v", err)
	}
	_, err = rt.Compile(ctx, load(t, "invalid"))
	if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "type mismatch") {
		t.Errorf("invalid: %v", err)
	}
}

func TestCallErrors(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, NewRuntimeConfig())
	inst := instantiate(t, rt, "add", "")
	add := inst.Function("add")
	if got := add.ParamTypes(); len(got) != 2 || got[0] != api.ValueTypeI32 {
		t.Errorf("ParamTypes = %v", got)
	}
	if got := add.ResultTypes(); len(got) != 1 || got[0] != api.ValueTypeI32 {
		t.Errorf("ResultTypes = %v", got)
	}
	if _, err := add.Call(ctx, 1); err == nil {
		t.Error("call with one param of two succeeded")
	}
	if _, err := add.Call(ctx, 1, 2, 3); err == nil {
		t.Error("call with three params of two succeeded")
	}
	spin := instantiate(t, rt, "loop", "").Function("spin")
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := spin.Call(tctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled spin: %v", err)
	}
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	rt := NewRuntime(NewRuntimeConfig())
	provider := instantiate(t, rt, "provider", "provider")
	add := instantiate(t, rt, "add", "")
	mem := provider.Memory("mem")
	if err := add.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := add.Close(ctx); err != nil {
		t.Error("second Instance.Close:", err)
	}
	if _, err := add.Function("add").Call(ctx, 1, 2); err == nil {
		t.Error("call on a closed instance succeeded")
	}
	m, err := rt.Compile(ctx, load(t, "add"))
	if err != nil {
		t.Fatal(err)
	}
	m.Close(ctx)
	m.Close(ctx)
	if _, err := rt.Instantiate(ctx, m, ""); err == nil {
		t.Error("instantiating a closed module succeeded")
	}
	if err := rt.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rt.Close(ctx); err != nil {
		t.Error("second Runtime.Close:", err)
	}
	if mem.Size() != 0 {
		t.Error("memory still mapped after Runtime.Close")
	}
	if _, err := rt.Compile(ctx, load(t, "add")); err == nil {
		t.Error("Compile after Close succeeded")
	}
	if _, err := rt.NewHostModule("env").Instantiate(ctx); err == nil {
		t.Error("host module after Close succeeded")
	}
}

func TestClosedInstanceIsNotImportable(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, NewRuntimeConfig())
	provider := instantiate(t, rt, "provider", "provider")
	provider.Close(ctx)
	m, err := rt.Compile(ctx, load(t, "consumer"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Instantiate(ctx, m, ""); !errors.Is(err, ErrLink) {
		t.Errorf("import from a closed instance: %v", err)
	}
}

func TestConfigImmutable(t *testing.T) {
	base := NewRuntimeConfig()
	small := base.WithMemoryLimitPages(2).WithMaxCallDepth(10).WithPausePolling(false)
	if base != NewRuntimeConfig() {
		t.Errorf("With* changed the receiver: %+v", base)
	}
	if small.memoryLimitPages != 2 || small.maxCallDepth != 10 || small.pausePolling {
		t.Errorf("With* lost a setting: %+v", small)
	}
	if base.maxCallDepth != 50000 || base.memoryLimitPages != 65536 || !base.pausePolling {
		t.Errorf("defaults: %+v", base)
	}
	ctx := context.Background()
	m, err := newRuntime(t, small).Compile(ctx, load(t, "bigmem"))
	if err != nil {
		t.Fatal(err)
	}
	rtSmall := newRuntime(t, small)
	if _, err := rtSmall.Instantiate(ctx, m, ""); err == nil {
		t.Error("3-page memory instantiated under a 2-page limit")
	}
	instantiate(t, newRuntime(t, base), "bigmem", "")
}

func TestHostModuleExports(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, NewRuntimeConfig())
	host, err := rt.NewHostModule("host").
		Global("g", api.ValueTypeI32, true, 0xFFFFFFFF_00000007).
		Memory("mem", 1, 4, true).
		Table("tab", api.ValueTypeFuncref, 2, 0, false).
		Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g := host.Global("g"); g == nil || g.Get() != 7 {
		t.Errorf("host i32 global = %v", g)
	}
	mem := host.Memory("mem")
	if old, ok := mem.Grow(3); !ok || old != 1 {
		t.Errorf("host memory Grow(3) = %d %v", old, ok)
	}
	if _, ok := mem.Grow(1); ok {
		t.Error("host memory grew past its maximum")
	}
	if host.Name() != "host" {
		t.Errorf("Name() = %q", host.Name())
	}
	_, err = rt.NewHostModule("dup").Global("a", api.ValueTypeI32, false, 0).Global("a", api.ValueTypeI64, false, 0).Instantiate(ctx)
	if err == nil {
		t.Error("duplicate host export accepted")
	}
}

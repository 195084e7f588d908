package wasi_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/wasi"
)

// Tiny hand-assembled guests, so the facade tests need no toolchain.

func section(id byte, body ...byte) []byte {
	return append([]byte{id, byte(len(body))}, body...)
}

func name(s string) []byte { return append([]byte{byte(len(s))}, s...) }

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// guestModule imports one WASI function of type (i32...)->results, and
// exports memory and a "_start" (or other named) function whose body is code.
func guestModule(importName string, nparams int, nresults int, exportName string, code []byte, data []byte) []byte {
	imp := []byte{0x60, byte(nparams)}
	for range nparams {
		imp = append(imp, 0x7f)
	}
	imp = append(imp, byte(nresults))
	for range nresults {
		imp = append(imp, 0x7f)
	}
	types := section(1, cat([]byte{2}, imp, []byte{0x60, 0, 0})...)
	imports := section(2, cat([]byte{1}, name("wasi_snapshot_preview1"), name(importName), []byte{0, 0})...)
	funcs := section(3, 1, 1)
	mem := section(5, 1, 0, 1)
	exports := section(7, cat([]byte{2}, name(exportName), []byte{0, 1}, name("memory"), []byte{2, 0})...)
	body := cat([]byte{0}, code, []byte{0x0b})
	codeSec := section(10, cat([]byte{1, byte(len(body))}, body)...)
	out := cat([]byte("\x00asm\x01\x00\x00\x00"), types, imports, funcs, mem, exports, codeSec)
	if data != nil {
		// one active segment at offset 0 of memory 0
		seg := cat([]byte{1, 0, 0x41, 0, 0x0b, byte(len(data))}, data)
		out = append(out, section(11, seg...)...)
	}
	return out
}

// exitWith calls proc_exit(code).
func exitWith(code byte) []byte {
	return guestModule("proc_exit", 1, 0, "_start", []byte{0x41, code, 0x10, 0}, nil)
}

// hello writes "hi\n" to stdout with fd_write: iovec at 0 -> {8, 3}.
var hello = guestModule("fd_write", 4, 1, "_start",
	[]byte{0x41, 1, 0x41, 0, 0x41, 1, 0x41, 16, 0x10, 0, 0x1a},
	[]byte{8, 0, 0, 0, 3, 0, 0, 0, 'h', 'i', '\n'})

func newRuntime(t *testing.T) *ferry.Runtime {
	r := ferry.NewRuntime(ferry.NewRuntimeConfig())
	t.Cleanup(func() { r.Close(context.Background()) })
	return r
}

func TestRunExitCodes(t *testing.T) {
	ctx := context.Background()
	for _, code := range []byte{0, 3, 42} {
		got, err := wasi.Run(ctx, newRuntime(t), exitWith(code), wasi.NewConfig())
		if err != nil || got != int(code) {
			t.Errorf("proc_exit(%d): Run = %d, %v", code, got, err)
		}
	}
	var out bytes.Buffer
	got, err := wasi.Run(ctx, newRuntime(t), hello, wasi.NewConfig().WithStdout(&out))
	if err != nil || got != 0 || out.String() != "hi\n" {
		t.Errorf("hello: %d %v %q", got, err, out.String())
	}
	noStart := guestModule("proc_exit", 1, 0, "main", []byte{0x41, 1, 0x10, 0}, nil)
	if _, err := wasi.Run(ctx, newRuntime(t), noStart, wasi.NewConfig()); err == nil || !strings.Contains(err.Error(), "_start") {
		t.Errorf("module without _start: %v", err)
	}
}

// TestExitErrorThroughTrap checks that proc_exit reaches the caller as a
// trap whose chain exposes *wasi.ExitError.
func TestExitErrorThroughTrap(t *testing.T) {
	ctx := context.Background()
	r := newRuntime(t)
	m, err := wasi.Instantiate(ctx, r, wasi.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(ctx)
	cm, err := r.Compile(ctx, exitWith(9))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := r.Instantiate(ctx, cm, "guest")
	if err != nil {
		t.Fatal(err)
	}
	_, err = inst.Function("_start").Call(ctx)
	var trap *api.TrapError
	var exit *wasi.ExitError
	if !errors.As(err, &trap) || !errors.Is(err, api.ErrHostPanic) || !errors.As(err, &exit) || exit.Code != 9 {
		t.Fatalf("err = %v", err)
	}
}

// TestConfigPreopensAreCopied checks that deriving a Config leaves the
// base's pre-opens alone: one base, two modules, two tables.
func TestConfigPreopensAreCopied(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg1 := wasi.NewConfig().WithPreopen(dir, "/one")
	cfg2 := cfg1.WithPreopen(dir, "/two")
	_ = cfg1.WithPreopen(dir, "/three")
	m1, err := wasi.Instantiate(ctx, newRuntime(t), cfg1)
	if err != nil {
		t.Fatal(err)
	}
	defer m1.Close(ctx)
	m2, err := wasi.Instantiate(ctx, newRuntime(t), cfg2)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close(ctx)
	d1, d2 := m1.Descriptors(), m2.Descriptors()
	if len(d1) != 4 || len(d2) != 5 || d2[4].Preopen != "/two" {
		t.Errorf("descriptors %+v and %+v", d1, d2)
	}
}

func TestModuleCloseIsIdempotent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), nil, 0o644)
	m, err := wasi.Instantiate(ctx, newRuntime(t), wasi.NewConfig().WithPreopen(dir, "/").WithTCPListen("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	d := m.Descriptors()
	if len(d) != 5 || d[4].Addr == "" {
		t.Fatalf("descriptors %+v", d)
	}
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if len(m.Descriptors()) != 0 {
		t.Errorf("descriptors left after Close")
	}
}

func TestInstantiateRejectsMissingPreopen(t *testing.T) {
	_, err := wasi.Instantiate(context.Background(), newRuntime(t), wasi.NewConfig().WithPreopen("/nonexistent/dir", "/"))
	if err == nil {
		t.Fatal("pre-open of a missing directory succeeded")
	}
}

// TestBlockingCallInterrupted: a guest sleeping in poll_oneoff stops when
// the context is cancelled, with an error that carries the context's.
func TestBlockingCallInterrupted(t *testing.T) {
	sub := make([]byte, 32)
	sub[16] = 1                                                      // monotonic clock
	copy(sub[24:], []byte{0x00, 0xa0, 0xb8, 0x30, 0x46, 0x03, 0, 0}) // one hour, relative
	sleeper := guestModule("poll_oneoff", 4, 1, "_start",
		[]byte{0x41, 0, 0x41, 0xc0, 0x00, 0x41, 1, 0x41, 0x80, 0x01, 0x10, 0, 0x1a}, sub)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	code, err := wasi.Run(ctx, newRuntime(t), sleeper, wasi.NewConfig())
	if code != 1 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %d, %v", code, err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %v", el)
	}
}

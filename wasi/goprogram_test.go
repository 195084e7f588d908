package wasi_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/wasi"
)

// TestGoProgram builds testdata/gohello with GOOS=wasip1 and runs it: Go's
// own WASI port exercises args, environ, path_open, fd_readdir, fd_write,
// poll_oneoff and proc_exit.
func TestGoProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		t.Skip("no go tool")
	}
	wasmPath := filepath.Join(t.TempDir(), "hello.wasm")
	cmd := exec.Command(goTool, "build", "-o", wasmPath, "./testdata/gohello")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	wasmBytes, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "in.txt"), []byte("from the host"), 0o644)
	var stdout, stderr bytes.Buffer
	cfg := wasi.NewConfig().WithArgs("hello", "/data/in.txt").WithEnv("WHO", "ferry").
		WithPreopen(dir, "/data").WithStdout(&stdout).WithStderr(&stderr)
	code, err := wasi.Run(context.Background(), ferry.NewRuntime(ferry.NewRuntimeConfig()), wasmBytes, cfg)
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
	}
	want := "hello ferry, file says \"from the host\"\ndir: [in.txt]\n"
	if code != 7 || stdout.String() != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 7, stdout %q", code, stdout.String(), stderr.String(), want)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "out.txt")); string(b) != "written by wasip1" {
		t.Errorf("out.txt = %q", b)
	}
}

// TestCProgram builds testdata/chello with clang --target=wasm32-wasi
// (wasi-libc) when the toolchain is installed and runs it.
func TestCProgram(t *testing.T) {
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Fatal("clang not found: install clang lld wasi-libc libclang-rt-14-dev-wasm32 (scripts/deps.sh does)")
	}
	wasmPath := filepath.Join(t.TempDir(), "chello.wasm")
	if out, err := exec.Command(clang, "--target=wasm32-wasi", "-O1", "-o", wasmPath, "testdata/chello/main.c").CombinedOutput(); err != nil {
		t.Skipf("clang cannot build for wasm32-wasi here: %v\n%s", err, out)
	}
	wasmBytes, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "in.txt"), []byte("from the host"), 0o644)
	var stdout, stderr bytes.Buffer
	cfg := wasi.NewConfig().WithArgs("chello", "/data/in.txt").WithEnv("WHO", "ferry").
		WithPreopen(dir, "/data").WithStdout(&stdout).WithStderr(&stderr)
	code, err := wasi.Run(context.Background(), ferry.NewRuntime(ferry.NewRuntimeConfig()), wasmBytes, cfg)
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
	}
	want := "read: from the host|env=ferry\nentries: 3\nescape: -1 errno=Operation not permitted\n"
	if code != 5 || stdout.String() != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 5, stdout %q", code, stdout.String(), stderr.String(), want)
	}
}

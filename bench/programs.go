package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// A Program is a whole WASI preview-1 command (programs/*.wasm, built by
// programs/build.sh) run through _start, with the standard output it must
// print (programs/*.stdout, recorded from a native build of the same source).
type Program struct {
	Name string
	// Lang says how it was built ("C (clang -O2, wasi-libc)", "Go (wasip1)").
	Lang string
	// Args is the guest's argv, program name first.
	Args []string
	Wasm []byte
	// Want is the exact standard output every runtime must produce.
	Want string
}

// programTable lists the WASI programs in report order. Arguments are sized
// so that one run takes ~0.2-1 s in an interpreter on a slow machine.
var programTable = []struct {
	name, lang string
	args       []string
}{
	{"datapipe", "C (clang -O2, wasi-libc)", []string{"datapipe", "64"}},
	{"gojson", "Go (GOOS=wasip1)", []string{"gojson", "400"}},
}

// Programs returns the WASI programs with their embedded modules and
// expected output.
func Programs() ([]Program, error) {
	out := make([]Program, 0, len(programTable))
	for _, p := range programTable {
		wasm, err := programFS.ReadFile("programs/" + p.name + ".wasm")
		if err != nil {
			return nil, fmt.Errorf("program %s: %w (run programs/build.sh)", p.name, err)
		}
		want, err := programFS.ReadFile("programs/" + p.name + ".stdout")
		if err != nil {
			return nil, fmt.Errorf("program %s: %w (run programs/build.sh)", p.name, err)
		}
		out = append(out, Program{Name: p.name, Lang: p.lang, Args: p.args, Wasm: wasm, Want: string(want)})
	}
	return out, nil
}

// Hello returns programs/hello.wasm, the C hello-world used for start-up.
func Hello() ([]byte, error) { return programFS.ReadFile("programs/hello.wasm") }

// WASIRuntime is one engine running whole WASI commands. Prepare compiles
// a module once; the returned Runner then instantiates it with a fresh WASI
// environment and runs _start, as many times as asked.
type WASIRuntime struct {
	Name    string
	Prepare func(ctx context.Context, wasm []byte) (Runner, func(), error)
}

// Runner runs a prepared command once with argv args, writing its standard
// output and error to stdout and stderr (stdin is empty). exitCode is the
// guest's proc_exit code, 0 when _start returns; err reports anything else
// (a trap, a link error).
type Runner func(ctx context.Context, args []string, stdout, stderr io.Writer) (exitCode int, err error)

// WASIRuntimes returns every WASI runtime this build knows, in the order
// of Runtimes: ferry, wazero-interp, wazero-compiler, wasmtime.
func WASIRuntimes() []WASIRuntime {
	rts := []WASIRuntime{ferryWASI,
		wazeroWASI(NameWazeroInterp, wazero.NewRuntimeConfigInterpreter),
		wazeroWASI(NameWazeroCompiler, wazero.NewRuntimeConfigCompiler),
	}
	if wasmtimeWASI != nil {
		rts = append(rts, *wasmtimeWASI)
	}
	return rts
}

// AllWASIRuntimes is WASIRuntimes plus ferry-nopoll.
func AllWASIRuntimes() []WASIRuntime {
	rts := WASIRuntimes()
	return append(rts[:1:1], append([]WASIRuntime{ferryNoPollWASI}, rts[1:]...)...)
}

// wazeroWASI runs commands as `wazero run` does: wazero's own
// wasi_snapshot_preview1, real clocks and sleep, crypto/rand.
func wazeroWASI(name string, config func() wazero.RuntimeConfig) WASIRuntime {
	return WASIRuntime{Name: name, Prepare: func(ctx context.Context, wasm []byte) (Runner, func(), error) {
		r := wazero.NewRuntimeWithConfig(ctx, config())
		release := func() { _ = r.Close(context.Background()) }
		if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
			release()
			return nil, nil, err
		}
		cm, err := r.CompileModule(ctx, wasm)
		if err != nil {
			release()
			return nil, nil, err
		}
		return func(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
			cfg := wazero.NewModuleConfig().WithName("").WithArgs(args...).
				WithStdin(bytes.NewReader(nil)).WithStdout(stdout).WithStderr(stderr).
				WithSysWalltime().WithSysNanotime().WithSysNanosleep().WithRandSource(rand.Reader)
			mod, err := r.InstantiateModule(ctx, cm, cfg)
			if mod != nil {
				defer mod.Close(ctx)
			}
			var exit *sys.ExitError
			if errors.As(err, &exit) {
				return int(exit.ExitCode()), nil
			}
			if err != nil {
				return 1, err
			}
			return 0, nil
		}, release, nil
	}}
}

// ProgramResult is what one runtime did with one program.
type ProgramResult struct {
	Runtime string
	Compile time.Duration // Prepare, once
	Times   []time.Duration
	Stdout  string // of the first run
	Err     error
}

// Median is the median of the timed runs (0 if none).
func (r ProgramResult) Median() time.Duration { return Result{Times: r.Times}.Median() }

// MeasureProgram prepares p once in rt (timing that as Compile), then runs
// it warmup untimed times and reps timed times, each a fresh instance. Every
// run must exit 0 and print the same output as the first; whether that is
// p.Want is for the caller to check.
func MeasureProgram(ctx context.Context, rt WASIRuntime, p Program, warmup, reps int) ProgramResult {
	res := ProgramResult{Runtime: rt.Name}
	start := time.Now()
	run, release, err := rt.Prepare(ctx, p.Wasm)
	res.Compile = time.Since(start)
	if err != nil {
		res.Err = fmt.Errorf("prepare: %w", err)
		return res
	}
	defer release()
	var stdout, stderr bytes.Buffer
	for i := 0; i < warmup+reps; i++ {
		stdout.Reset()
		stderr.Reset()
		start := time.Now()
		code, err := run(ctx, p.Args, &stdout, &stderr)
		elapsed := time.Since(start)
		if err == nil && code != 0 {
			err = fmt.Errorf("exit code %d", code)
		}
		if err != nil {
			if stderr.Len() > 0 {
				err = fmt.Errorf("run %d: %w (stderr: %q)", i, err, tail(stderr.String(), 500))
			} else {
				err = fmt.Errorf("run %d: %w", i, err)
			}
			res.Err = err
			return res
		}
		if i == 0 {
			res.Stdout = stdout.String()
		} else if stdout.String() != res.Stdout {
			res.Err = fmt.Errorf("run %d printed %q, run 0 printed %q", i, stdout.String(), res.Stdout)
			return res
		}
		if i >= warmup {
			res.Times = append(res.Times, elapsed)
		}
	}
	return res
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

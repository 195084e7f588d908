package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/engine"
	"github.com/ferryvm/ferry/wasi"
)

const runUsage = `usage: ferry run [FLAGS] FILE.wasm [ARGS...]

Runs a WebAssembly module, binary or text (a .wat file is read by Ferry's
own text-format reader; see docs/wat.md). A module that imports WASI
preview 1 (wasi_snapshot_preview1) runs as a command: its export _start is
called with argv = FILE.wasm (as given, or --argv0) followed by ARGS, the
standard streams of this process, the environment and directories the
flags grant, and nothing else of the host. With --invoke, the exported
function NAME is called instead, with ARGS parsed as its parameters (argv
is then FILE.wasm or --argv0 alone), and each result is printed on its
own line. A module that imports nothing runs the same way; imports from
any other module fail to link.
Flags come before FILE.wasm (what follows it is the guest's); "--" ends
them. "ferry [FLAGS] FILE.wasm [ARGS...]" is the same command.

Flags:
  --dir HOST[::GUEST]
                  pre-open the host directory HOST as GUEST (default: HOST
                  itself, e.g. --dir . or --dir /data::/ or --dir /::/);
                  the guest can reach nothing outside its pre-opens.
                  Repeatable.
  --env NAME=VAL  set the guest environment variable NAME; --env NAME
                  copies NAME from ferry's own environment (nothing if it is
                  unset). The guest sees no other variables. Repeatable.
  --tcplisten ADDR
                  listen on the TCP address ADDR (host:port) and pre-open the
                  socket for the guest, after the directories. Repeatable.
  --invoke NAME   call the exported function NAME instead of _start
  --argv0 NAME    the guest's argv[0] (default: FILE.wasm as given)
  --max-call-depth N
                  nested calls allowed before "call stack exhausted" (default 50000)
  --count-pauses  at exit, print on stderr how many pause points the run
                  polled: the range --checkpoint-on pause:N can take (every
                  poll is counted, which slows loops down)
` + limitsUsage + cpuFeaturesUsage + tierUsage + cacheUsage + `
` + checkpointFlagsUsage + `
Arguments with --invoke, one per parameter:
  i32, i64        decimal integers, signed or unsigned (-1, 4294967295)
  f32, f64        decimal floats (1.5, -0, 1e10), nan, -nan, inf, -inf
  v128            0x followed by 32 hex digits, most significant first
  funcref, externref
                  null

Results: integers as signed decimals, floats in shortest form, v128 in hex.

Exit codes:
  0    _start (or NAME) returned
  N    the guest called proc_exit(N), 0 <= N <= 255
  1    the module failed to compile, link or instantiate, lacks the export,
       or called proc_exit with a status above 255
  2    bad flags or arguments, a --dir that is not a directory, or FILE
       cannot be read
  130  interrupted (SIGINT)
  143  terminated (SIGTERM): the program stopped at its next pause point,
       after a checkpoint being written was finished (with --checkpoint-on
       signal:TERM, SIGTERM checkpoints instead)
  134  the guest trapped; the trap and its WebAssembly stack trace go to
       stderr (as wasmtime: 128 + SIGABRT)
`

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func runRun(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", stderr)
	invoke := fs.String("invoke", "", "exported function to call instead of _start")
	argv0 := fs.String("argv0", "", "the guest's argv[0] (default FILE.wasm as given)")
	maxDepth := fs.Int("max-call-depth", 50000, "nested calls allowed")
	countPauses := fs.Bool("count-pauses", false, "print how many pause points the run polled")
	cpuSpec := fs.String("cpu-features", "native", "CPU feature mask")
	var dirs, envs, listens listFlag
	fs.Var(&dirs, "dir", "pre-open HOST[::GUEST]")
	fs.Var(&envs, "env", "guest environment NAME=VAL or NAME")
	fs.Var(&listens, "tcplisten", "pre-open a TCP listener on ADDR")
	var cf checkpointFlags
	cf.register(fs)
	var lf limitFlags
	lf.register(fs)
	var tf tierFlag
	tf.register(fs)
	var cache cacheFlags
	cache.register(fs)
	if code, done := parseFlags(fs, args, runUsage, stdout, stderr); done {
		return code
	}
	trig, err := cf.parse()
	if err != nil {
		return usageError(stderr, runUsage, "run: %v", err)
	}
	ctx, stopTerm := trig.onTerm(ctx)
	defer stopTerm()
	if fs.NArg() < 1 {
		return usageError(stderr, runUsage, "run: missing FILE.wasm")
	}
	if *maxDepth < 1 {
		return usageError(stderr, runUsage, "run: --max-call-depth must be at least 1")
	}
	rtCfg, code, stop := cpuRuntimeConfig(*cpuSpec, "run", runUsage, stderr)
	if stop {
		return code
	}
	rtCfg, err = lf.apply(tf.apply(rtCfg.WithMaxCallDepth(*maxDepth)))
	if err != nil {
		return usageError(stderr, runUsage, "run: %v", err)
	}
	rtCfg = cache.apply(rtCfg, stderr)
	path, rest := fs.Arg(0), fs.Args()[1:]
	cfg, err := wasiConfig(path, dirs, envs, listens)
	if err != nil {
		return usageError(stderr, runUsage, "run: %v", err)
	}
	cfg = trig.withStdinWait(cfg.WithCloseConnectionsOnCheckpoint(cf.closeConns))
	arg0 := path
	if *argv0 != "" {
		arg0 = *argv0
	}
	name := *invoke
	if name == "" {
		name = "_start"
		cfg = cfg.WithArgs(append([]string{arg0}, rest...)...)
		rest = nil
	} else {
		cfg = cfg.WithArgs(arg0)
	}
	wasm, err := readModule(ctx, path)
	if err != nil {
		fmt.Fprintf(stderr, "ferry: %v\n", err)
		return moduleReadFailure(err)
	}

	rt := ferry.NewRuntime(rtCfg)
	defer rt.Close(context.WithoutCancel(ctx))
	tf.note(rt, stderr)
	m, err := rt.Compile(ctx, wasm)
	if err != nil {
		fmt.Fprintf(stderr, "ferry: %s: %v\n", path, err)
		return exitFail
	}
	reportCache(stderr, path, m)
	if unknown := foreignImports(m); len(unknown) > 0 {
		// Worded as the runtime's own link errors (link error: import
		// "M" "N": unknown import), whichever of the two finds it.
		also := ""
		if len(unknown) > 1 {
			also = " (also " + strings.Join(unknown[1:], ", ") + ")"
		}
		fmt.Fprintf(stderr, "ferry: %s: link error: import %s: unknown import%s: ferry run provides only %s\n",
			path, unknown[0], also, wasi.ModuleName)
		return exitFail
	}
	// The WASI module is instantiated for every guest, even one that
	// imports none of it, so --dir and --tcplisten mistakes always show.
	tty := isTTY(stderr)
	stderr = &lockedWriter{w: stderr} // shared with checkpoints written in the background
	w, err := wasi.Instantiate(ctx, rt, cfg.WithStdin(stdin).WithStdout(stdout).WithStderr(stderr))
	if err != nil {
		fmt.Fprintf(stderr, "ferry: %v\n", err)
		return exitFail
	}
	defer w.Close(context.WithoutCancel(ctx))
	inst, err := rt.Instantiate(ctx, m, "")
	if err != nil {
		return reportCallError(stderr, path, err)
	}
	f := inst.Function(name)
	if f == nil {
		fmt.Fprintf(stderr, "ferry: %s: no exported function %q%s\n", path, name, exportedFunctions(m))
		return exitFail
	}
	params := f.ParamTypes()
	if len(rest) != len(params) {
		return usageError(stderr, runUsage, "run: %s takes %d arguments (%s), got %d", name, len(params), typeNames(params), len(rest))
	}
	var slots []uint64
	for i, t := range params {
		s, err := parseArg(t, rest[i])
		if err != nil {
			return usageError(stderr, runUsage, "run: argument %d of %s: %v", i+1, name, err)
		}
		slots = append(slots, s...)
	}
	sup := &supervisor{flags: cf, trig: trig, inst: inst, w: w, stderr: stderr, known: true, tty: tty}
	var polls *engine.PollCounter
	if *countPauses {
		polls = &engine.PollCounter{}
		ctx = engine.WithPollCounter(ctx, polls)
	}
	results, err := sup.run(ctx, func(o ferry.CallOptions) ([]uint64, error) {
		return f.CallWithOptions(ctx, o, slots...)
	})
	if polls != nil {
		reportPolls(stderr, polls.Count())
	}
	if err = terminated(ctx, notLost(ctx, err)); err != nil {
		return reportCallError(stderr, path, withSourceLines(err, wasm))
	}
	if sup.stopped {
		return exitOK
	}
	return printResults(stdout, stderr, path, f.ResultTypes(), results)
}

// reportPolls says how many pause points a run polled (--count-pauses).
func reportPolls(stderr io.Writer, n int64) {
	switch n {
	case 0:
		fmt.Fprintln(stderr, "ferry: the run polled no pause point: --checkpoint-on pause:N cannot fire in it")
		return
	case 1:
		fmt.Fprintln(stderr, "ferry: the run polled 1 pause point: --checkpoint-on pause:1 fires at it")
		return
	}
	fmt.Fprintf(stderr, "ferry: the run polled %d pause points: --checkpoint-on pause:N fires for N from 1 to %d\n", n, n)
}

// printResults prints an invoked function's results, one per line, and
// returns the exit code.
func printResults(stdout, stderr io.Writer, path string, types []api.ValueType, results []uint64) int {
	for _, t := range types {
		if len(results) < api.ValueTypeSlots(t) {
			fmt.Fprintf(stderr, "ferry: %s: engine returned too few result slots\n", path)
			return exitFail
		}
		fmt.Fprintln(stdout, formatResult(t, results))
		results = results[api.ValueTypeSlots(t):]
	}
	return exitOK
}

// wasiConfig builds the guest's WASI configuration from the --dir, --env
// and --tcplisten flags. Host directories are checked here so that a typo
// is a usage error rather than a failure inside the guest.
func wasiConfig(path string, dirs, envs, listens []string) (wasi.Config, error) {
	cfg := wasi.NewConfig()
	for _, d := range dirs {
		host, guest, ok := strings.Cut(d, "::")
		if !ok {
			guest = host
		}
		if host == "" || guest == "" {
			return cfg, fmt.Errorf("--dir %q: want HOST or HOST::GUEST", d)
		}
		if fi, err := os.Stat(host); err != nil {
			return cfg, fmt.Errorf("--dir %q: %w", d, err)
		} else if !fi.IsDir() {
			return cfg, fmt.Errorf("--dir %q: %s is not a directory", d, host)
		}
		cfg = cfg.WithPreopen(host, guest)
	}
	for _, e := range envs {
		key, value, ok := strings.Cut(e, "=")
		if key == "" {
			return cfg, fmt.Errorf("--env %q: want NAME=VAL or NAME", e)
		}
		if !ok {
			if value, ok = os.LookupEnv(key); !ok {
				continue
			}
		}
		cfg = cfg.WithEnv(key, value)
	}
	for _, addr := range listens {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return cfg, fmt.Errorf("--tcplisten %q: %w", addr, err)
		}
		cfg = cfg.WithTCPListen(addr)
	}
	return cfg, nil
}

// foreignImports lists the module's imports that ferry run cannot satisfy:
// everything not from WASI preview 1.
func foreignImports(m *ferry.CompiledModule) []string {
	var names []string
	for _, im := range m.Imports() {
		if im.Module != wasi.ModuleName {
			names = append(names, fmt.Sprintf("%q %q", im.Module, im.Name))
		}
	}
	return names
}

// notLost keeps a SIGINT that arrived while the guest ran from being lost:
// a host call interrupted by it returns a short count or gives up, and a
// guest that then returns or exits without reaching a pause point would
// otherwise end as if nothing had happened.
func notLost(ctx context.Context, err error) error {
	var exit *wasi.ExitError
	if ctx.Err() != nil && (err == nil || errors.As(err, &exit)) {
		return ctx.Err()
	}
	return err
}

// reportCallError prints an instantiation or call failure and picks the exit
// code: the guest's own for proc_exit, 134 for traps (with their stack
// trace), 130 for interruption, 1 for the rest.
func reportCallError(stderr io.Writer, path string, err error) int {
	var trap *api.TrapError
	var exit *wasi.ExitError
	switch {
	case errors.As(err, &exit):
		if exit.Code > 255 {
			fmt.Fprintf(stderr, "ferry: %s: proc_exit(%d): a process exit status is at most 255\n", path, exit.Code)
			return exitFail
		}
		return int(exit.Code)
	case errors.Is(err, errTerminated):
		fmt.Fprintf(stderr, "ferry: %s: %v\n", path, err)
		return exitTerminated
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "ferry: %s: interrupted\n", path)
		return exitInterrupted
	case errors.As(err, &trap):
		fmt.Fprintf(stderr, "ferry: %s: %v\n", path, err)
		return exitTrap
	}
	fmt.Fprintf(stderr, "ferry: %s: %v\n", path, err)
	return exitFail
}

func exportedFunctions(m *ferry.CompiledModule) string {
	var names []string
	for _, e := range m.Exports() {
		if e.Kind == "func" || e.Kind == "function" {
			names = append(names, strconv.Quote(e.Name))
		}
	}
	if len(names) == 0 {
		return " (it exports no functions)"
	}
	return " (exported functions: " + strings.Join(names, ", ") + ")"
}

func typeNames(ts []api.ValueType) string {
	if len(ts) == 0 {
		return "none"
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = api.ValueTypeName(t)
	}
	return strings.Join(names, " ")
}

// parseArg parses a command-line argument as a value of type t, in slots.
func parseArg(t api.ValueType, s string) ([]uint64, error) {
	switch t {
	case api.ValueTypeI32, api.ValueTypeI64:
		bits := 32
		if t == api.ValueTypeI64 {
			bits = 64
		}
		if n, err := strconv.ParseInt(s, 10, bits); err == nil {
			return []uint64{uint64(n) & (math.MaxUint64 >> (64 - bits))}, nil
		}
		if n, err := strconv.ParseUint(s, 10, bits); err == nil {
			return []uint64{n}, nil
		}
		return nil, fmt.Errorf("%q is not an %s (a decimal integer)", s, api.ValueTypeName(t))
	case api.ValueTypeF32, api.ValueTypeF64:
		bits := 32
		if t == api.ValueTypeF64 {
			bits = 64
		}
		f, err := parseFloat(s, bits)
		if err != nil {
			return nil, fmt.Errorf("%q is not an %s (1.5, -0, nan, inf)", s, api.ValueTypeName(t))
		}
		if bits == 32 {
			return []uint64{uint64(f32bits(f))}, nil
		}
		return []uint64{f64bits(f)}, nil
	case api.ValueTypeV128:
		h, ok := strings.CutPrefix(strings.ToLower(s), "0x")
		if !ok || len(h) != 32 {
			return nil, fmt.Errorf("%q is not a v128 (0x and 32 hex digits)", s)
		}
		hi, err1 := strconv.ParseUint(h[:16], 16, 64)
		lo, err2 := strconv.ParseUint(h[16:], 16, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%q is not a v128 (0x and 32 hex digits)", s)
		}
		return []uint64{lo, hi}, nil
	case api.ValueTypeFuncref, api.ValueTypeExternref:
		if s == "null" {
			return []uint64{0}, nil
		}
		return nil, fmt.Errorf("%q: a %s argument can only be null", s, api.ValueTypeName(t))
	}
	return nil, fmt.Errorf("parameters of %s are not supported", api.ValueTypeName(t))
}

// parseFloat parses a float, with nan and -nan giving the canonical quiet
// NaN of either sign (Go's own NaN has a payload bit set).
func parseFloat(s string, bits int) (float64, error) {
	switch strings.ToLower(s) {
	case "nan", "+nan":
		return math.Float64frombits(0x7ff8000000000000), nil
	case "-nan":
		return math.Float64frombits(0xfff8000000000000), nil
	}
	return strconv.ParseFloat(s, bits)
}

func f32bits(f float64) uint32 {
	if math.IsNaN(f) {
		if math.Signbit(f) {
			return 0xffc00000
		}
		return 0x7fc00000
	}
	return math.Float32bits(float32(f))
}

func f64bits(f float64) uint64 {
	if math.IsNaN(f) {
		if math.Signbit(f) {
			return 0xfff8000000000000
		}
		return 0x7ff8000000000000
	}
	return math.Float64bits(f)
}

// formatResult formats the value of type t at the start of slots.
func formatResult(t api.ValueType, slots []uint64) string {
	v := slots[0]
	switch t {
	case api.ValueTypeI32:
		return strconv.FormatInt(int64(int32(v)), 10)
	case api.ValueTypeI64:
		return strconv.FormatInt(int64(v), 10)
	case api.ValueTypeF32:
		return formatFloat(float64(math.Float32frombits(uint32(v))), 32)
	case api.ValueTypeF64:
		return formatFloat(math.Float64frombits(v), 64)
	case api.ValueTypeV128:
		return fmt.Sprintf("0x%016x%016x", slots[1], v)
	case api.ValueTypeFuncref:
		if v == 0 {
			return "null"
		}
		return "funcref"
	case api.ValueTypeExternref:
		if v == 0 {
			return "null"
		}
		return "externref:" + strconv.FormatUint(v-1, 10)
	}
	return fmt.Sprintf("0x%x", v)
}

// formatFloat is Go's shortest form, with lower-case nan and inf.
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		if math.Signbit(f) {
			return "-nan"
		}
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

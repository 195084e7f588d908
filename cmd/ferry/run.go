package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/api"
)

const runUsage = `usage: ferry run [--invoke NAME] FILE.wasm [ARGS...]

Runs a WebAssembly module: its export _start, or with --invoke the exported
function NAME called with ARGS, printing each result on its own line.

WASI is not supported yet: a module that imports anything fails to link.

Flags:
  --invoke NAME   call the exported function NAME instead of _start
  --max-call-depth N
                  nested calls allowed before "call stack exhausted" (default 50000)

Arguments (--invoke only), one per parameter:
  i32, i64        decimal integers, signed or unsigned (-1, 4294967295)
  f32, f64        decimal floats (1.5, -0, 1e10), nan, -nan, inf, -inf
  v128            0x followed by 32 hex digits, most significant first
  funcref, externref
                  null

Results: integers as signed decimals, floats in shortest form, v128 in hex.

Exit codes:
  0    the function returned
  1    the module failed to compile, link or instantiate, or lacks the export
  2    bad flags or arguments, or FILE cannot be read
  130  interrupted (SIGINT)
  134  the guest trapped; the trap and its WebAssembly stack trace go to stderr
`

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", stderr)
	invoke := fs.String("invoke", "", "exported function to call instead of _start")
	maxDepth := fs.Int("max-call-depth", 50000, "nested calls allowed")
	if code, done := parseFlags(fs, args, runUsage, stdout, stderr); done {
		return code
	}
	if fs.NArg() < 1 {
		return usageError(stderr, runUsage, "run: missing FILE.wasm")
	}
	if *maxDepth < 1 {
		return usageError(stderr, runUsage, "run: --max-call-depth must be at least 1")
	}
	path, rest := fs.Arg(0), fs.Args()[1:]
	name := *invoke
	if name == "" {
		if len(rest) > 0 {
			return usageError(stderr, runUsage, "run: arguments need --invoke (_start takes none, and WASI is not supported yet)")
		}
		name = "_start"
	}
	wasm, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "ferry: %v\n", err)
		return exitUsage
	}

	rt := ferry.NewRuntime(ferry.NewRuntimeConfig().WithMaxCallDepth(*maxDepth))
	defer rt.Close(context.WithoutCancel(ctx))
	m, err := rt.Compile(ctx, wasm)
	if err != nil {
		fmt.Fprintf(stderr, "ferry: %s: %v\n", path, err)
		return exitFail
	}
	if imports := m.Imports(); len(imports) > 0 {
		names := make([]string, len(imports))
		for i, im := range imports {
			names[i] = fmt.Sprintf("%s.%s (%s)", im.Module, im.Name, im.Kind)
		}
		fmt.Fprintf(stderr, "ferry: %s: link error: unknown import %s: ferry run provides no imports yet (no WASI)\n",
			path, strings.Join(names, ", "))
		return exitFail
	}
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
	results, err := f.Call(ctx, slots...)
	if err != nil {
		return reportCallError(stderr, path, err)
	}
	for _, t := range f.ResultTypes() {
		if len(results) < slotCount(t) {
			fmt.Fprintf(stderr, "ferry: %s: engine returned too few result slots\n", path)
			return exitFail
		}
		fmt.Fprintln(stdout, formatResult(t, results))
		results = results[slotCount(t):]
	}
	return exitOK
}

// reportCallError prints an instantiation or call failure and picks the exit
// code: traps (with their stack trace) 134, interruption 130, the rest 1.
func reportCallError(stderr io.Writer, path string, err error) int {
	var trap *api.TrapError
	switch {
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

func slotCount(t api.ValueType) int {
	if t == api.ValueTypeV128 {
		return 2
	}
	return 1
}

func typeName(t api.ValueType) string {
	switch t {
	case api.ValueTypeI32:
		return "i32"
	case api.ValueTypeI64:
		return "i64"
	case api.ValueTypeF32:
		return "f32"
	case api.ValueTypeF64:
		return "f64"
	case api.ValueTypeV128:
		return "v128"
	case api.ValueTypeFuncref:
		return "funcref"
	case api.ValueTypeExternref:
		return "externref"
	}
	return fmt.Sprintf("type 0x%02x", t)
}

func typeNames(ts []api.ValueType) string {
	if len(ts) == 0 {
		return "none"
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = typeName(t)
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
		return nil, fmt.Errorf("%q is not a %s (a decimal integer)", s, typeName(t))
	case api.ValueTypeF32, api.ValueTypeF64:
		bits := 32
		if t == api.ValueTypeF64 {
			bits = 64
		}
		f, err := parseFloat(s, bits)
		if err != nil {
			return nil, fmt.Errorf("%q is not a %s (1.5, -0, nan, inf)", s, typeName(t))
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
		return nil, fmt.Errorf("%q: a %s argument can only be null", s, typeName(t))
	}
	return nil, fmt.Errorf("parameters of %s are not supported", typeName(t))
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

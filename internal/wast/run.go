package wast

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/wat"
)

// DefaultCommandTimeout bounds each instantiation and action, so that a
// runaway guest fails its command instead of hanging the suite.
const DefaultCommandTimeout = 10 * time.Second

// Result counts a script's commands by outcome. Every command counts:
// modules, registrations and actions as well as assertions.
type Result struct {
	Passed, Failed, Skipped int
}

// Add accumulates o into r.
func (r *Result) Add(o Result) {
	r.Passed += o.Passed
	r.Failed += o.Failed
	r.Skipped += o.Skipped
}

// Options tune a run. The zero value is the default.
type Options struct {
	// CommandTimeout bounds each instantiation and action;
	// 0 means DefaultCommandTimeout.
	CommandTimeout time.Duration
	// NewRuntime makes the runtime a script runs in; nil means
	// ferry.NewRuntime(ferry.NewRuntimeConfig()).
	NewRuntime func() *ferry.Runtime
}

// Run runs the script at path, a .wast read directly or the .json
// wast2json wrote, writing one line per failed command and a summary line
// to out. The error reports only a script that cannot be read or a
// cancelled ctx; failing commands are counted in Result.
func Run(ctx context.Context, path string, out io.Writer) (Result, error) {
	return RunWithOptions(ctx, path, out, Options{})
}

// RunWithOptions is Run with options.
func RunWithOptions(ctx context.Context, jsonPath string, out io.Writer, opts Options) (Result, error) {
	var s *script
	var err error
	if strings.HasSuffix(jsonPath, ".wast") {
		s, err = readWast(jsonPath)
	} else {
		s, err = readScript(jsonPath)
	}
	if err != nil {
		return Result{}, err
	}
	if opts.CommandTimeout <= 0 {
		opts.CommandTimeout = DefaultCommandTimeout
	}
	var rt *ferry.Runtime
	if opts.NewRuntime != nil {
		rt = opts.NewRuntime()
	} else {
		rt = ferry.NewRuntime(ferry.NewRuntimeConfig())
	}
	defer rt.Close(context.WithoutCancel(ctx))

	r := &runner{
		ctx:   ctx,
		opts:  opts,
		dir:   filepath.Dir(jsonPath),
		name:  filepath.Base(jsonPath),
		out:   out,
		rt:    rt,
		named: map[string]*ferry.Instance{},
	}
	if s.SourceFilename != "" {
		r.name = filepath.Base(s.SourceFilename)
	}
	if err := r.defineSpectest(); err != nil {
		fmt.Fprintf(out, "%s: spectest module: %v\n", r.name, err)
		// Scripts that do not import spectest can still run.
	}
	for _, c := range s.Commands {
		if err := ctx.Err(); err != nil {
			r.summary(jsonPath)
			return r.res, err
		}
		r.step(c)
	}
	r.summary(jsonPath)
	return r.res, nil
}

type runner struct {
	ctx  context.Context
	opts Options
	dir  string // where the script's module files are
	name string // the script's name in failure lines
	out  io.Writer
	rt   *ferry.Runtime

	current      *ferry.Instance            // the last module defined, nil if it failed
	currentLine  int                        // its line
	named        map[string]*ferry.Instance // modules defined with a $name
	panicPrinted bool                       // an engine panic's stack was shown once
	res          Result
}

func (r *runner) defineSpectest() (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("engine panicked: %v", p)
		}
	}()
	ctx, cancel := context.WithTimeout(r.ctx, r.opts.CommandTimeout)
	defer cancel()
	inst, err := instantiateSpectest(ctx, r.rt)
	if err != nil {
		return err
	}
	r.rt.Register("spectest", inst)
	return nil
}

func (r *runner) summary(jsonPath string) {
	fmt.Fprintf(r.out, "%s: %d passed, %d failed, %d skipped\n",
		filepath.Base(jsonPath), r.res.Passed, r.res.Failed, r.res.Skipped)
}

// outcome is a command's result. A note is printed even when it passed.
type outcome struct {
	kind int // passed, failed or skipped
	msg  string
	note string
}

const (
	passed = iota
	failed
	skipped
)

func pass() outcome           { return outcome{kind: passed} }
func skip(why string) outcome { return outcome{kind: skipped, msg: why} }
func fail(format string, args ...any) outcome {
	return outcome{kind: failed, msg: fmt.Sprintf(format, args...)}
}
func passNote(format string, args ...any) outcome {
	return outcome{kind: passed, note: fmt.Sprintf(format, args...)}
}

// step runs one command, counts it and reports a failure. An engine panic
// fails the command instead of ending the run.
func (r *runner) step(c command) {
	o := r.safeExec(c)
	where := fmt.Sprintf("%s:%d: %s", r.name, c.Line, describe(c))
	switch o.kind {
	case passed:
		r.res.Passed++
	case failed:
		r.res.Failed++
		fmt.Fprintf(r.out, "%s: %s\n", where, o.msg)
	case skipped:
		r.res.Skipped++
	}
	if o.note != "" {
		fmt.Fprintf(r.out, "%s: note: %s\n", where, o.note)
	}
}

func (r *runner) safeExec(c command) (o outcome) {
	defer func() {
		if p := recover(); p != nil {
			o = fail("engine panicked: %v", p)
			if !r.panicPrinted {
				r.panicPrinted = true
				o.msg += "\n" + string(debug.Stack())
			}
		}
	}()
	return r.exec(c)
}

func (r *runner) exec(c command) outcome {
	switch c.Type {
	case "module":
		return r.module(c)
	case "register":
		inst := r.current
		if c.Name != "" {
			inst = r.named[c.Name]
		}
		if inst == nil {
			return fail("no module %s to register", moduleRef(c.Name))
		}
		r.rt.Register(c.As, inst)
		return pass()
	case "action":
		if _, err := r.act(c.Action); err != nil {
			return fail("%v", err)
		}
		return pass()
	case "assert_return":
		return r.assertReturn(c)
	case "assert_trap", "assert_exhaustion":
		if c.Action == nil {
			return r.assertUninstantiable(c)
		}
		_, err := r.act(c.Action)
		if err := checkTrap(err, c.Text); err != nil {
			return fail("%v", err)
		}
		return pass()
	case "assert_invalid", "assert_malformed":
		return r.assertRejected(c)
	case "assert_unlinkable":
		m, o, ok := r.compileFor(c)
		if !ok {
			return o
		}
		inst, err := r.instantiate(m)
		if err == nil {
			inst.Close(context.WithoutCancel(r.ctx))
			return fail("expected link error %q, instantiated fine", c.Text)
		}
		if !errors.Is(err, ferry.ErrLink) {
			return fail("expected link error %q, got %v", c.Text, oneLine(err))
		}
		return pass()
	case "assert_uninstantiable":
		return r.assertUninstantiable(c)
	}
	return fail("unsupported command type %q", c.Type)
}

// module defines a module, which becomes the current one.
func (r *runner) module(c command) outcome {
	r.current, r.currentLine = nil, c.Line
	if c.Name != "" {
		delete(r.named, c.Name)
	}
	m, o, ok := r.compileFor(c)
	if !ok {
		return o
	}
	inst, err := r.instantiate(m)
	if err != nil {
		return fail("instantiate: %v", oneLine(err))
	}
	r.current = inst
	if c.Name != "" {
		r.named[c.Name] = inst
	}
	return pass()
}

// compileFor compiles a command's module, which must compile.
func (r *runner) compileFor(c command) (*ferry.CompiledModule, outcome, bool) {
	m, err := r.compile(c)
	if err != nil {
		if c.Filename != "" {
			return nil, fail("compile %s: %v", c.Filename, err), false
		}
		return nil, fail("compile: %v", err), false
	}
	return m, outcome{}, true
}

// compile compiles a command's module: inline (a .wast read directly) or
// the file wast2json wrote. Text modules are assembled by internal/wat; a
// text error wraps ferry.ErrMalformed, as the spec counts it.
func (r *runner) compile(c command) (*ferry.CompiledModule, error) {
	bin, src := c.module, c.source
	switch {
	case c.moduleErr != nil:
		return nil, fmt.Errorf("%w: text format: %v", ferry.ErrMalformed, c.moduleErr)
	case bin != nil || src != nil:
	case c.Filename == "":
		return nil, errors.New("command names no module file")
	default:
		b, err := os.ReadFile(filepath.Join(r.dir, c.Filename))
		if err != nil {
			return nil, err
		}
		if c.ModuleType == "text" {
			src = b
		} else {
			bin = b
		}
	}
	if src != nil {
		b, err := wat.Parse(src)
		if err != nil {
			return nil, fmt.Errorf("%w: text format: %v", ferry.ErrMalformed, err)
		}
		bin = b
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.opts.CommandTimeout)
	defer cancel()
	return r.rt.Compile(ctx, bin)
}

func (r *runner) instantiate(m *ferry.CompiledModule) (*ferry.Instance, error) {
	ctx, cancel := context.WithTimeout(r.ctx, r.opts.CommandTimeout)
	defer cancel()
	return r.rt.Instantiate(ctx, m, "")
}

// assertRejected checks assert_invalid and assert_malformed. A binary module
// that is malformed may be caught by validation instead: it still counts as
// rejected, with a note.
func (r *runner) assertRejected(c command) outcome {
	_, err := r.compile(c)
	if err == nil {
		return fail("expected %q, compiled fine", c.Text)
	}
	malformed, invalid := errors.Is(err, ferry.ErrMalformed), errors.Is(err, ferry.ErrInvalid)
	switch {
	case c.Type == "assert_invalid" && invalid:
		return pass()
	case c.Type == "assert_invalid":
		return fail("expected invalid module (%q), got %v", c.Text, err)
	case malformed:
		return pass()
	case invalid:
		return passNote("expected malformed module (%q), rejected as invalid: %v", c.Text, err)
	}
	return passNote("expected malformed module (%q), rejected with an uncategorised error: %v", c.Text, err)
}

// assertUninstantiable checks that a module compiles and links but traps
// while instantiating (segment initialisation or the start function).
func (r *runner) assertUninstantiable(c command) outcome {
	m, o, ok := r.compileFor(c)
	if !ok {
		return o
	}
	inst, err := r.instantiate(m)
	if err == nil {
		inst.Close(context.WithoutCancel(r.ctx))
	}
	if err := checkTrap(err, c.Text); err != nil {
		return fail("%v", err)
	}
	return pass()
}

func (r *runner) assertReturn(c command) outcome {
	if c.Action == nil {
		return fail("assert_return without an action")
	}
	if len(c.Either) > 0 {
		return r.assertReturnEither(c)
	}
	want := make([]expectation, len(c.Expected))
	for i, v := range c.Expected {
		e, err := parseValue(v, true)
		if err != nil {
			return fail("expected result %d: %v", i, err)
		}
		want[i] = e
	}
	got, err := r.act(c.Action)
	if err != nil {
		return fail("expected %s, got error: %v", formatExpectations(want), oneLine(err))
	}
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = want[i].matches(got[i])
	}
	if !ok {
		return fail("expected %s, got %s", formatExpectations(want), formatResults(got, want))
	}
	return pass()
}

// act performs an invoke or a get on the current or a named module.
func (r *runner) act(a *action) ([]api.Value, error) {
	if a == nil {
		return nil, errors.New("command has no action")
	}
	inst := r.current
	if a.Module != "" {
		inst = r.named[a.Module]
	}
	if inst == nil {
		if a.Module == "" && r.currentLine > 0 {
			return nil, fmt.Errorf("no module: the module at line %d failed", r.currentLine)
		}
		return nil, fmt.Errorf("no module %s", moduleRef(a.Module))
	}
	switch a.Type {
	case "invoke":
		f := inst.Function(a.Field)
		if f == nil {
			return nil, fmt.Errorf("no exported function %q", a.Field)
		}
		args := make([]api.Value, len(a.Args))
		for i, v := range a.Args {
			arg, err := parseArg(v)
			if err != nil {
				return nil, fmt.Errorf("argument %d: %w", i, err)
			}
			args[i] = arg
		}
		params := f.ParamTypes()
		if len(params) != len(args) {
			return nil, fmt.Errorf("function %q takes %s, script passes %d arguments", a.Field, typeList(params), len(args))
		}
		for i, p := range params {
			if args[i].Type != p {
				return nil, fmt.Errorf("function %q takes %s, argument %d is %s", a.Field, typeList(params), i, api.ValueTypeName(args[i].Type))
			}
		}
		ctx, cancel := context.WithTimeout(r.ctx, r.opts.CommandTimeout)
		defer cancel()
		slots, err := f.Call(ctx, slotsOf(args)...)
		if err != nil {
			return nil, err
		}
		return valuesOf(f.ResultTypes(), slots)
	case "get":
		g := inst.Global(a.Field)
		if g == nil {
			return nil, fmt.Errorf("no exported global %q", a.Field)
		}
		v := api.Value{Type: g.Type()}
		if v.Type == api.ValueTypeV128 {
			v.Lo, v.Hi = g.GetV128()
		} else {
			v.Lo = g.Get()
		}
		return []api.Value{v}, nil
	}
	return nil, fmt.Errorf("unsupported action type %q", a.Type)
}

func moduleRef(name string) string {
	if name == "" {
		return "(current)"
	}
	return name
}

// describe names a command for a failure line: its type and its action or
// module file.
func describe(c command) string {
	var b strings.Builder
	b.WriteString(c.Type)
	if a := c.Action; a != nil {
		b.WriteByte(' ')
		b.WriteString(a.Type)
		if a.Module != "" {
			b.WriteByte(' ')
			b.WriteString(a.Module)
		}
		fmt.Fprintf(&b, " %q", a.Field)
		if a.Type == "invoke" {
			b.WriteByte('(')
			for i, v := range a.Args {
				if i > 0 {
					b.WriteString(", ")
				}
				if arg, err := parseArg(v); err == nil {
					b.WriteString(formatValue(arg, v.LaneType))
				} else {
					fmt.Fprintf(&b, "%s:%s", v.Type, v.Value)
				}
			}
			b.WriteByte(')')
		}
	} else if c.Filename != "" {
		b.WriteByte(' ')
		b.WriteString(c.Filename)
	}
	return b.String()
}

func formatExpectations(want []expectation) string {
	parts := make([]string, len(want))
	for i, e := range want {
		parts[i] = e.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// formatResults shows results, each v128 in the lanes its expectation uses.
func formatResults(got []api.Value, want []expectation) string {
	parts := make([]string, len(got))
	for i, v := range got {
		lt := ""
		if i < len(want) {
			lt = want[i].laneType
		}
		parts[i] = formatValue(v, lt)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

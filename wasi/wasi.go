// Package wasi runs WebAssembly programs written for WASI preview 1
// (wasm32-wasi, wasip1) on a Ferry runtime, inside a capability sandbox: a
// guest sees only the directories and sockets its Config pre-opens.
//
//	code, err := wasi.Run(ctx, ferry.NewRuntime(ferry.NewRuntimeConfig()), wasmBytes,
//		wasi.NewConfig().WithArgs("prog", "in.txt").WithPreopen("/srv/data", "/").WithStdout(os.Stdout))
//
// The descriptor model and the sandbox rules are described in docs/wasi.md.
package wasi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/ferryvm/ferry"
	iwasi "github.com/ferryvm/ferry/internal/wasi"
)

// ModuleName is the import module name of WASI preview 1.
const ModuleName = iwasi.ModuleName

// ExitError is the error a guest's proc_exit raises. Inside the engine it
// travels as the cause of an *api.TrapError, so errors.As finds it.
type ExitError = iwasi.ExitError

// InterruptedError is the error a blocking call (poll_oneoff, fd_read on a
// pipe, sock_accept, sock_recv) raises when its context is cancelled; it
// unwraps to the context's error. The guest sees nothing: the call is
// abandoned and is issued again after a restore.
type InterruptedError = iwasi.InterruptedError

// Descriptor is the portable state of one guest file descriptor, as a
// checkpoint records it.
type Descriptor = iwasi.FDEntry

// State is the portable host state of a guest: arguments, environment,
// every descriptor and the clock readings a restore rebases onto.
type State = iwasi.State

// Module is an instantiated wasi_snapshot_preview1 host module.
type Module struct {
	sys  *iwasi.System
	inst *ferry.Instance

	once sync.Once
	err  error
}

// Instantiate builds the WASI host module for cfg and registers it in r
// under "wasi_snapshot_preview1", so guests instantiated afterwards import
// from it. Close the Module to release its host descriptors.
func Instantiate(ctx context.Context, r *ferry.Runtime, cfg Config) (*Module, error) {
	listeners := append([]net.Listener(nil), cfg.listeners...)
	for _, addr := range cfg.tcpListen {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range listeners[len(cfg.listeners):] {
				l.Close()
			}
			return nil, fmt.Errorf("wasi: listen %s: %w", addr, err)
		}
		listeners = append(listeners, l)
	}
	sys, err := iwasi.NewSystem(iwasi.Options{
		Args:      cfg.args,
		Env:       cfg.env,
		Preopens:  cfg.preopens,
		Stdin:     cfg.stdin,
		Stdout:    cfg.stdout,
		Stderr:    cfg.stderr,
		Listeners: listeners,
		Resolve:   cfg.resolve,

		CloseConnections: cfg.closeConns,
		StdinWait:        cfg.stdinWait,
	})
	if err != nil {
		for _, l := range listeners {
			l.Close()
		}
		return nil, err
	}
	b := r.NewHostModule(ModuleName)
	for _, f := range sys.Functions() {
		b.Func(f.Name, f.Params, f.Results, f.Fn)
	}
	inst, err := b.Instantiate(ctx)
	if err != nil {
		sys.Close()
		return nil, err
	}
	return &Module{sys: sys, inst: inst}, nil
}

// Descriptors returns the portable state of every open guest descriptor,
// ordered by number, with current file offsets.
func (m *Module) Descriptors() []Descriptor { return m.sys.Table().Snapshot() }

// State captures the guest's host state for a checkpoint.
func (m *Module) State() State { return m.sys.State() }

// Close unregisters the host module and closes every host descriptor the
// guest still holds (files, directories, sockets). It is idempotent.
func (m *Module) Close(ctx context.Context) error {
	m.once.Do(func() {
		m.err = m.sys.Close()
		if err := m.inst.Close(ctx); err != nil && m.err == nil {
			m.err = err
		}
	})
	return m.err
}

// Run compiles wasm, instantiates WASI (configured by cfg) and the module
// in r, and calls its "_start" export. A guest that returns from _start
// exits with 0; one that calls proc_exit exits with the code it passed;
// either way err is nil. A trap, a missing _start or any other failure
// returns exit code 1 and the error. The WASI module is closed on return.
func Run(ctx context.Context, r *ferry.Runtime, wasm []byte, cfg Config) (exitCode int, err error) {
	w, err := Instantiate(ctx, r, cfg)
	if err != nil {
		return 1, err
	}
	defer w.Close(ctx)
	cm, err := r.Compile(ctx, wasm)
	if err != nil {
		return 1, err
	}
	inst, err := r.Instantiate(ctx, cm, "")
	if err != nil {
		return exitStatus(err)
	}
	defer inst.Close(ctx)
	start := inst.Function("_start")
	if start == nil {
		return 1, errors.New("wasi: module exports no _start function")
	}
	_, err = start.Call(ctx)
	return exitStatus(err)
}

func exitStatus(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		return int(exit.Code), nil
	}
	return 1, err
}

package wasi

import (
	"io"
	"net"

	iwasi "github.com/ferryvm/ferry/internal/wasi"
)

// Config describes what a guest sees of the host: arguments, environment,
// pre-opened directories and sockets, and standard streams. A Config is
// immutable: every With method returns a modified copy, so one base
// configuration can be shared and specialised safely.
//
// The zero value and NewConfig() are the same: no arguments, an empty
// environment, no directories, stdin at end of file, stdout and stderr
// discarded.
type Config struct {
	args      []string
	env       []string
	preopens  []iwasi.Preopen
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
	listeners []net.Listener
	tcpListen []string
	resolve   iwasi.ResolveMode
	// closeConns: see WithCloseConnectionsOnCheckpoint.
	closeConns bool
	// stdinWait: see WithStdinWait.
	stdinWait func()
}

// NewConfig returns the empty configuration.
func NewConfig() Config { return Config{} }

// WithArgs sets the guest's argv; by convention args[0] is the program name.
func (c Config) WithArgs(args ...string) Config {
	c.args = append([]string(nil), args...)
	return c
}

// WithEnv adds the environment variable key=value, replacing an earlier
// value of the same key.
func (c Config) WithEnv(key, value string) Config {
	env := make([]string, 0, len(c.env)+1)
	for _, kv := range c.env {
		if len(kv) > len(key) && kv[:len(key)] == key && kv[len(key)] == '=' {
			continue
		}
		env = append(env, kv)
	}
	c.env = append(env, key+"="+value)
	return c
}

// WithPreopen makes the host directory hostDir visible to the guest as
// guestPath (e.g. "/", "/data" or "."). The guest can reach nothing outside
// its pre-opens: see docs/wasi.md.
func (c Config) WithPreopen(hostDir, guestPath string) Config {
	c.preopens = append(append([]iwasi.Preopen(nil), c.preopens...), iwasi.Preopen{HostDir: hostDir, GuestPath: guestPath})
	return c
}

// WithStdin sets the guest's standard input (default: empty).
func (c Config) WithStdin(r io.Reader) Config { c.stdin = r; return c }

// WithStdout sets the guest's standard output (default: discarded).
func (c Config) WithStdout(w io.Writer) Config { c.stdout = w; return c }

// WithStderr sets the guest's standard error (default: discarded).
func (c Config) WithStderr(w io.Writer) Config { c.stderr = w; return c }

// WithListener pre-opens a listening socket; the guest accepts connections
// on it with sock_accept. The module owns the listener from Instantiate on
// and closes it in Close.
func (c Config) WithListener(l net.Listener) Config {
	c.listeners = append(append([]net.Listener(nil), c.listeners...), l)
	return c
}

// WithTCPListen makes Instantiate listen on the TCP address addr (as
// net.Listen does) and pre-open the listener for the guest.
func (c Config) WithTCPListen(addr string) Config {
	c.tcpListen = append(append([]string(nil), c.tcpListen...), addr)
	return c
}

// Resolution selects how guest paths are resolved on the host.
type Resolution = iwasi.ResolveMode

const (
	// ResolveAuto uses openat2(RESOLVE_BENEATH) where the kernel has it and
	// a component-by-component walk otherwise. It is the default.
	ResolveAuto = iwasi.ResolveAuto
	// ResolveOpenat2 requires openat2; Instantiate fails without it.
	ResolveOpenat2 = iwasi.ResolveOpenat2
	// ResolveWalk always uses the portable component walk.
	ResolveWalk = iwasi.ResolveWalk
)

// WithPathResolution picks the path-resolution strategy. Both strategies
// confine the guest identically; the choice exists for testing and for
// kernels whose openat2 misbehaves.
func (c Config) WithPathResolution(r Resolution) Config { c.resolve = r; return c }

// WithCloseConnectionsOnCheckpoint sets what a checkpoint does with the
// connections the guest accepted (sock_accept). By default it refuses
// (ErrOpenConnection): a connection's peer and the bytes in flight cannot
// be carried to another process. With on, the checkpoint closes them
// instead, in the running guest and in the restored one alike: their
// descriptors stay, reads see end of file and writes fail with EPIPE, as
// when a peer hangs up, which a server already handles.
func (c Config) WithCloseConnectionsOnCheckpoint(on bool) Config { c.closeConns = on; return c }

// WithStdinWait sets f, called each time the guest is about to block
// reading standard input: an fd_read of it, or a poll_oneoff waiting on
// it (with nothing else ready), while no input is ready. It runs in the
// guest's call, before the wait; an Instance.RequestPause from f pauses
// the call at that host call, which has consumed nothing and is issued
// again on resume or restore: the checkpoint of a booted server waiting
// for its first request (ferry run --checkpoint-on stdin). f sees only a
// standard input that is a host file (a pipe, a terminal, a socket):
// whether an io.Reader's Read would block cannot be told beforehand. A
// standard input at end of file or a regular file never blocks.
func (c Config) WithStdinWait(f func()) Config { c.stdinWait = f; return c }

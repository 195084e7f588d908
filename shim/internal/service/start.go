package service

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/runtime/v2/shim"
)

// StartShim starts the long-lived shim process that serves the task API
// and returns its socket address; it is what the "start" action does, run
// by containerd in the bundle directory.
func (s *Service) StartShim(ctx context.Context, opts shim.StartOpts) (string, error) {
	ns, err := namespaces.NamespaceRequired(ctx)
	if err != nil {
		return "", err
	}
	self, err := shimCommand()
	if err != nil {
		return "", err
	}
	cwd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	address, err := shim.SocketAddress(ctx, opts.Address, opts.ID)
	if err != nil {
		return "", err
	}
	socket, err := shim.NewSocket(address)
	if err != nil {
		// A shim for this task that is already serving (containerd
		// retried the start) is the answer; a stale socket is not.
		if !shim.SocketEaddrinuse(err) {
			return "", fmt.Errorf("ferry shim: socket %s: %w", address, err)
		}
		if shim.CanConnect(address) {
			return address, shim.WriteAddress("address", address)
		}
		if err := shim.RemoveSocket(address); err != nil {
			return "", fmt.Errorf("ferry shim: remove stale socket %s: %w", address, err)
		}
		if socket, err = shim.NewSocket(address); err != nil {
			return "", fmt.Errorf("ferry shim: socket %s: %w", address, err)
		}
	}
	// The server inherits the socket; closing this process's copy must
	// not unlink its path.
	socket.SetUnlinkOnClose(false)
	defer socket.Close()
	f, err := socket.File()
	if err != nil {
		return "", err
	}
	defer f.Close()
	// Not the start action's context: the library cancels it when the
	// action returns, and a command bound to it would be killed then.
	cmd, err := shim.Command(namespaces.WithNamespace(context.Background(), ns), &shim.CommandConfig{
		Runtime:      self,
		Address:      opts.Address,
		TTRPCAddress: opts.TTRPCAddress,
		Path:         cwd,
		Args:         []string{"-id", opts.ID},
	})
	if err != nil {
		return "", err
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, f) // fd 3, where the server looks for its listener
	if err := cmd.Start(); err != nil {
		_ = shim.RemoveSocket(address)
		return "", fmt.Errorf("ferry shim: start the server: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	if err := shim.WriteAddress("address", address); err != nil {
		_ = cmd.Process.Kill()
		_ = shim.RemoveSocket(address)
		return "", err
	}
	return address, nil
}

// shimCommand is the program the server is started as: the one containerd
// ran, by the absolute path it always uses, so that a wrapper it ran (a
// script running the arm64 build under qemu-aarch64, say) stays in the
// chain. The executable file itself is the fallback; under qemu-user it
// is the emulated binary, which the host cannot run directly.
func shimCommand() (string, error) {
	if filepath.IsAbs(os.Args[0]) {
		if fi, err := os.Stat(os.Args[0]); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return os.Args[0], nil
		}
	}
	return os.Executable()
}

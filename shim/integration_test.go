//go:build linux

package shim_test

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

const helloRef = "ferry.test/hello:latest"

// TestRunHello runs an image whose entrypoint is a .wasm with ctr run:
// its stdout and stderr come through containerd's FIFOs and its exit
// status (proc_exit(7)) is ctr's.
func TestRunHello(t *testing.T) {
	requireTools(t, "containerd", "ctr", "unshare", "nsenter")
	d := startDaemon(t, buildShim(t))
	d.importTestImage(helloRef)
	cmd := d.ctrCmd("run", "--rm", "--runtime", runtimeName, helloRef, "hello1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 7 {
		t.Fatalf("ctr run: %v, want exit status 7\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	if got := stdout.String(); got != "hello from ferry\n" {
		t.Errorf("stdout = %q, want %q", got, "hello from ferry\n")
	}
	if got := stderr.String(); !strings.Contains(got, "a line on stderr\n") {
		t.Errorf("stderr = %q, want it to hold %q", got, "a line on stderr\n")
	}
	d.waitNoShims("after ctr run --rm")
}

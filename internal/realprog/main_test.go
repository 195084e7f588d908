package realprog

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
)

// ferryBin is the ferry command built for this test process. The tests run
// the binary, not cmd/ferry's run function, so that every program gets real
// standard streams and its own process, and CPU time can be measured per
// program.
var ferryBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ferry-realprog-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ferryBin = filepath.Join(dir, "ferry")
	build := exec.Command(goTool(), "build", "-o", ferryBin, "github.com/ferryvm/ferry/cmd/ferry")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building ferry: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// goTool is the go command of the toolchain running the tests.
func goTool() string {
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return "go"
}

// exitCode is a finished command's exit status as a shell reports it:
// 128+N for a process killed by signal N.
func exitCode(err error, ps *os.ProcessState) (int, error) {
	if ps == nil {
		return -1, err
	}
	if code := ps.ExitCode(); code >= 0 {
		return code, nil
	}
	if sig, ok := signalOf(ps); ok {
		return 128 + sig, nil
	}
	return -1, err
}

func signalOf(ps *os.ProcessState) (int, bool) {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return 0, false
	}
	return int(ws.Signal()), true
}

package realprog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// goStdlibAll is the list of standard-library packages whose own
// tests must pass under Ferry.
var goStdlibAll = []string{
	"strconv", "sort", "strings", "bytes", "unicode/utf8", "encoding/json",
	"compress/flate", "regexp", "bufio", "hash/crc32", "encoding/base64",
	"math/big", "text/template", "os", "path/filepath", "io", "archive/tar",
	"net/url",
}

// goStdlibDefault is the representative subset run by default: number and
// text processing, reflection-heavy encoding, regular expressions, buffered
// I/O, templates, and the file system through WASI (os: directories,
// symlinks, os.Root, permissions, temp files; path/filepath: walking). It
// leaves out the slowest packages (math/big about 300 s of CPU, archive/tar
// and compress/flate 15-40 s) and near-duplicates; docs/realprog.md has the
// measurements.
var goStdlibDefault = []string{
	"strconv", "strings", "encoding/json", "regexp", "bufio", "text/template",
	"os", "path/filepath", "io", "net/url",
}

// TestGoStdlib builds the tests of standard-library packages with
// GOOS=wasip1 GOARCH=wasm go test -c and runs each binary under the ferry
// command the way Go's misc/wasm/go_wasip1_wasm_exec runs it under
// wasmtime: the host root pre-opened as the guest root (--dir /::/), PWD
// (the package's source directory) and PATH passed in, and -test.short.
//
// FERRY_GOSTD selects the packages: unset, the default subset; "all", the
// whole list; otherwise a comma-separated list. FERRY_GOSTD_TIMEOUT (a Go
// duration, default 10m) limits each package. Built binaries are cached in
// os.TempDir() by Go version. Skipped with -short.
func TestGoStdlib(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs standard-library test binaries")
	}
	pkgs := goStdlibDefault
	switch sel := os.Getenv("FERRY_GOSTD"); sel {
	case "":
	case "all":
		pkgs = goStdlibAll
	default:
		pkgs = strings.Split(sel, ",")
	}
	timeout := 10 * time.Minute
	if s := os.Getenv("FERRY_GOSTD_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("FERRY_GOSTD_TIMEOUT=%q: %v", s, err)
		}
		timeout = d
	}
	cache := goTestCache(t)
	goroot := runtime.GOROOT()

	var table strings.Builder
	fmt.Fprintf(&table, "%-16s %-6s %10s %10s  %s\n", "package", "result", "wall", "cpu", "tier (FERRY_TIER_STATS)")
	for _, pkg := range pkgs {
		var result, tier string
		var wall, cpu time.Duration
		t.Run(strings.ReplaceAll(pkg, "/", "_"), func(t *testing.T) {
			result = "FAIL"
			wasm := buildGoTest(t, cache, pkg)
			dir := filepath.Join(goroot, "src", pkg)
			ctx, cancel := context.WithTimeout(context.Background(), timeout+time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, ferryBin, "run",
				"--dir=/::/", "--env", "PWD="+dir, "--env", "PATH",
				wasm, "-test.short", "-test.paniconexit0", "-test.timeout="+timeout.String())
			cmd.Dir = dir
			// FERRY_TIER and FERRY_DEOPT_STRESS reach the command through
			// the inherited environment; its FERRY_TIER_STATS line says
			// which tier ran and what it did.
			stats := filepath.Join(t.TempDir(), "tierstats")
			cmd.Env = append(os.Environ(), "FERRY_TIER_STATS="+stats)
			defer func() { tier = tierStats(stats) }()
			cmd.WaitDelay = 5 * time.Second
			start := time.Now()
			out, err := cmd.CombinedOutput()
			wall = time.Since(start)
			if cmd.ProcessState != nil {
				cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			}
			t.Logf("%s: wall %v, cpu %v", pkg, wall.Round(time.Millisecond), cpu.Round(time.Millisecond))
			if ctx.Err() != nil {
				result = "TIME"
				t.Fatalf("%s: killed after %v\n%s", pkg, timeout+time.Minute, tail(out, 40))
			}
			if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), "PASS") {
				t.Fatalf("%s: %v\n%s", pkg, err, tail(out, 60))
			}
			result = "ok"
		})
		fmt.Fprintf(&table, "%-16s %-6s %10v %10v  %s\n", pkg, result, wall.Round(100*time.Millisecond), cpu.Round(100*time.Millisecond), tier)
	}
	t.Logf("Go standard-library tests under ferry run:\n%s", table.String())
}

// tierStats is the line a ferry process wrote to its FERRY_TIER_STATS
// file (the runtime of ferry run; "-" if none).
func tierStats(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "-"
	}
	return strings.Join(strings.Fields(string(b)), " ")
}

// goTestCache is the directory caching built test binaries, keyed by the
// toolchain's version and location.
func goTestCache(t *testing.T) string {
	sum := sha256.Sum256([]byte(runtime.Version() + "\x00" + runtime.GOROOT()))
	dir := filepath.Join(os.TempDir(), "ferry-gostd", runtime.Version()+"-"+hex.EncodeToString(sum[:4]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// buildGoTest builds pkg's test binary for wasip1 into the cache, unless
// it is there already, and returns its path.
func buildGoTest(t *testing.T, cache, pkg string) string {
	out := filepath.Join(cache, strings.ReplaceAll(pkg, "/", "_")+".test.wasm")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	tmp := fmt.Sprintf("%s.%d.tmp", out, os.Getpid())
	cmd := exec.Command(goTool(), "test", "-c", "-o", tmp, pkg)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=")
	start := time.Now()
	if msg, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		t.Fatalf("go test -c %s: %v\n%s", pkg, err, msg)
	}
	if err := os.Rename(tmp, out); err != nil {
		t.Fatal(err)
	}
	t.Logf("built %s in %v", filepath.Base(out), time.Since(start).Round(time.Millisecond))
	return out
}

// tail returns the last n lines of out.
func tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// TestAutoTierGoStdlibStall pins an open bug of the auto tier (the
// default): under it, standard-library test binaries sometimes stop making
// progress. TestGoStdlib killed regexp after 11 minutes and 64 s of CPU
// and os after 78 s of CPU (a passing run of regexp takes 8 s of CPU under
// auto, 21 s in the interpreter; os 41 s in the interpreter), and half of
// the runs of regexp's binary on a loaded machine printed nothing, not
// even its first test, within 150 s, while --tier=compiled (with and
// without deopt stress) and --tier=interp always passed. It runs regexp's
// tests FERRY_AUTO_STALL times (opt-in: unset skips, since TestGoStdlib
// covers the same packages) under --tier=auto, each limited to
// FERRY_GOSTD_TIMEOUT (default 5m), and fails on the first run that does
// not pass.
func TestAutoTierGoStdlibStall(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("FERRY_AUTO_STALL"))
	if runs < 1 {
		t.Skip("set FERRY_AUTO_STALL=N to run regexp's tests N times under the auto tier")
	}
	timeout := 5 * time.Minute
	if s := os.Getenv("FERRY_GOSTD_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("FERRY_GOSTD_TIMEOUT=%q: %v", s, err)
		}
		timeout = d
	}
	wasm := buildGoTest(t, goTestCache(t), "regexp")
	dir := filepath.Join(runtime.GOROOT(), "src", "regexp")
	for i := 1; i <= runs; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		stats := filepath.Join(t.TempDir(), "tierstats")
		cmd := exec.CommandContext(ctx, ferryBin, "run", "--tier=auto",
			"--dir=/::/", "--env", "PWD="+dir, "--env", "PATH",
			wasm, "-test.short", "-test.v", "-test.paniconexit0")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "FERRY_TIER_STATS="+stats)
		cmd.WaitDelay = 5 * time.Second
		start := time.Now()
		out, err := cmd.CombinedOutput()
		timedOut := ctx.Err() != nil
		cancel()
		var cpu time.Duration
		if cmd.ProcessState != nil {
			cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		t.Logf("run %d: wall %v, cpu %v, %s", i, time.Since(start).Round(time.Millisecond), cpu.Round(time.Millisecond), tierStats(stats))
		if timedOut || err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), "PASS") {
			t.Fatalf("run %d under --tier=auto: %v (killed after %v: %v)\n%s", i, err, timeout, timedOut, tail(out, 20))
		}
	}
}

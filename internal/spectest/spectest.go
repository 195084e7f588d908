// Package spectest gives tests access to the official WebAssembly spec test
// suite: where it lives, its .wast scripts converted to JSON by wabt's
// wast2json, and the binary modules those scripts reference.
//
// Conversions are cached under os.TempDir(), keyed by the script's content,
// so repeated and parallel test runs convert each script once.
package spectest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// ModulePath is the runtime module's path, which RepoRoot looks for.
const ModulePath = "github.com/ferryvm/ferry"

// SuiteDir returns the absolute path of the spec test suite: $FERRY_SPECTEST
// if set, else ../shared/spec-testsuite next to the repository root.
func SuiteDir(tb testing.TB) string {
	tb.Helper()
	if dir := os.Getenv("FERRY_SPECTEST"); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			tb.Fatalf("FERRY_SPECTEST=%q: %v", dir, err)
		}
		if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
			tb.Fatalf("FERRY_SPECTEST=%q is not a directory", dir)
		}
		return abs
	}
	cwd, err := os.Getwd()
	if err != nil {
		tb.Fatalf("spec test suite: %v", err)
	}
	root := RepoRoot(cwd)
	if root == "" {
		tb.Fatalf("spec test suite not found: no go.mod of module %s above %s; set FERRY_SPECTEST to the suite's directory", ModulePath, cwd)
	}
	dir := filepath.Join(filepath.Dir(root), "shared", "spec-testsuite")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		tb.Fatalf("spec test suite not found at %s (../shared/spec-testsuite from the repository root %s); set FERRY_SPECTEST to the suite's directory", dir, root)
	}
	return dir
}

// RepoRoot walks up from dir to the directory whose go.mod declares Ferry's
// module (the runtime module, not bench/), or returns "". The test suites
// Ferry uses in place live in ../shared next to it.
func RepoRoot(dir string) string {
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && declaresModule(b) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func declaresModule(gomod []byte) bool {
	for _, line := range strings.Split(string(gomod), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "module" && strings.Trim(f[1], `"`) == ModulePath {
			return true
		}
	}
	return false
}

// WastFiles returns the .wast scripts directly in SuiteDir, sorted.
func WastFiles(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(SuiteDir(tb), "*.wast"))
	if err != nil {
		tb.Fatalf("spec test suite: %v", err)
	}
	sort.Strings(files)
	return files
}

// Convert runs wast2json (default features) on a .wast script and returns
// the path of the resulting .json; the .wasm and .wat files it references sit
// beside it. Results are cached by the script's content.
func Convert(tb testing.TB, wastPath string) string {
	tb.Helper()
	src, err := os.ReadFile(wastPath)
	if err != nil {
		tb.Fatalf("spec test script: %v", err)
	}
	tool, err := exec.LookPath("wast2json")
	if err != nil {
		tb.Fatalf("wast2json not found: install Debian package wabt")
	}
	sum := sha256.Sum256(src)
	base := strings.TrimSuffix(filepath.Base(wastPath), ".wast")
	cacheRoot := filepath.Join(os.TempDir(), "ferry-spectest")
	final := filepath.Join(cacheRoot, base+"-"+hex.EncodeToString(sum[:12]))
	jsonPath := filepath.Join(final, base+".json")
	if _, err := os.Stat(jsonPath); err == nil {
		return jsonPath
	}
	if err := os.MkdirAll(cacheRoot, 0o755); err != nil {
		tb.Fatalf("spec test cache: %v", err)
	}
	// Convert into a private directory and rename it into place: a reader
	// never sees a half-written conversion, and of two processes racing,
	// the loser's rename fails and it uses the winner's result.
	tmp, err := os.MkdirTemp(cacheRoot, base+".tmp-")
	if err != nil {
		tb.Fatalf("spec test cache: %v", err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command(tool, wastPath, "-o", filepath.Join(tmp, base+".json"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		tb.Fatalf("wast2json %s: %v\n%s", wastPath, err, out.Bytes())
	}
	if err := os.Rename(tmp, final); err != nil {
		if _, statErr := os.Stat(jsonPath); statErr != nil {
			tb.Fatalf("spec test cache: %v", err)
		}
	}
	return jsonPath
}

// script is the part of wast2json's output that Modules needs.
type script struct {
	Commands []struct {
		Type       string `json:"type"`
		Filename   string `json:"filename"`
		ModuleType string `json:"module_type"`
	} `json:"commands"`
}

// Modules returns the bytes of every binary module referenced by the
// converted scripts of the suite, valid or not (fuzz seeds).
func Modules(tb testing.TB) [][]byte {
	tb.Helper()
	var mods [][]byte
	for _, wast := range WastFiles(tb) {
		jsonPath := Convert(tb, wast)
		b, err := os.ReadFile(jsonPath)
		if err != nil {
			tb.Fatalf("spec test script: %v", err)
		}
		var s script
		if err := json.Unmarshal(b, &s); err != nil {
			tb.Fatalf("%s: %v", jsonPath, err)
		}
		for _, c := range s.Commands {
			if !strings.HasSuffix(c.Filename, ".wasm") {
				continue
			}
			mod, err := os.ReadFile(filepath.Join(filepath.Dir(jsonPath), c.Filename))
			if err != nil {
				tb.Fatalf("spec test module: %v", err)
			}
			mods = append(mods, mod)
		}
	}
	return mods
}

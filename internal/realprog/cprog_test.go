package realprog

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// cCase is one run of a C program in testdata/c, natively and under ferry.
type cCase struct {
	name  string
	prog  string            // testdata/c/PROG.c
	args  []string          // relative to the data directory, the same for both runs
	stdin string            // fed to both runs through a file
	env   map[string]string // the native run's extra environment; ferry gets --env
	files map[string]string // the data directory's initial content; "->x" is a symlink to x
}

var cCases = []cCase{
	{name: "cat-files-and-stdin", prog: "catlines",
		args: []string{"in.txt", "missing.txt", "-", "sub/deeper/f"}, stdin: "pear\napple\nfig\n",
		files: map[string]string{"in.txt": "one\ntwo\nthree", "sub/deeper/f": "x\n"}},
	{name: "cat-stdin-only", prog: "catlines", stdin: strings.Repeat("a line of text\n", 500)},
	{name: "cat-abort", prog: "catlines", args: []string{"in.txt", "--abort", "in.txt"},
		files: map[string]string{"in.txt": "before the abort\n"}},
	{name: "list-trees", prog: "lstree", args: []string{".", "sub"},
		files: map[string]string{"in.txt": "one\ntwo\nthree", "link": "->in.txt", "sub/deeper/f": "x\n", "sub/b": "", "sub/a": "aaaa"}},
	{name: "list-missing", prog: "lstree", args: []string{"nope", "."},
		files: map[string]string{"x": "1"}},
	{name: "file-operations", prog: "fileops", args: []string{"."}, stdin: "pear\napple\nfig\nbanana\n",
		env: map[string]string{"WHO": "ferry"}},
	{name: "file-operations-usage", prog: "fileops"},
}

// TestCPrograms builds each program in testdata/c with gcc and with
// clang --target=wasm32-wasi (Debian's clang, lld, wasi-libc and
// libclang-rt-14-dev-wasm32), runs both on the same input in two copies of
// the same data directory (native: as the working directory; ferry:
// --dir DATA::.), and compares standard output, exit status (a native
// SIGABRT counts as 134, Ferry's trap status) and the data directories
// afterwards.
func TestCPrograms(t *testing.T) {
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Fatal("clang not found: install clang lld wasi-libc libclang-rt-14-dev-wasm32 (scripts/deps.sh does)")
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		if gcc, err = exec.LookPath("cc"); err != nil {
			t.Skip("no native C compiler (gcc or cc)")
		}
	}
	bin := t.TempDir()
	built := map[string]bool{}
	for _, c := range cCases {
		if built[c.prog] {
			continue
		}
		built[c.prog] = true
		src := filepath.Join("testdata", "c", c.prog+".c")
		for _, cmd := range []*exec.Cmd{
			exec.Command(gcc, "-O2", "-Wall", "-o", filepath.Join(bin, c.prog), src),
			exec.Command(clang, "--target=wasm32-wasi", "-O2", "-Wall", "-o", filepath.Join(bin, c.prog+".wasm"), src),
		} {
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
			}
		}
	}
	for _, c := range cCases {
		t.Run(c.name, func(t *testing.T) {
			nativeDir, wasmDir := t.TempDir(), t.TempDir()
			writeTree(t, nativeDir, c.files)
			writeTree(t, wasmDir, c.files)

			native := exec.Command(filepath.Join(bin, c.prog), c.args...)
			native.Dir = nativeDir
			native.Env = []string{}
			for k, v := range c.env {
				native.Env = append(native.Env, k+"="+v)
			}
			nCode, nOut, nErr := runWithStdin(t, native, c.stdin)

			args := []string{"run", "--dir", wasmDir + "::."}
			for k, v := range c.env {
				args = append(args, "--env", k+"="+v)
			}
			args = append(append(args, filepath.Join(bin, c.prog+".wasm")), c.args...)
			ferry := exec.Command(ferryBin, args...)
			fCode, fOut, fErr := runWithStdin(t, ferry, c.stdin)

			if fCode != nCode {
				t.Errorf("exit status: ferry %d, native %d\nferry stderr: %s\nnative stderr: %s", fCode, nCode, fErr, nErr)
			}
			if fOut != nOut {
				t.Errorf("stdout differs\nferry:\n%s\nnative:\n%s", fOut, nOut)
			}
			if f, n := treeListing(t, wasmDir), treeListing(t, nativeDir); f != n {
				t.Errorf("data directory differs afterwards\nferry:\n%s\nnative:\n%s", f, n)
			}
			t.Logf("exit %d, %d bytes of output", nCode, len(nOut))
		})
	}
}

// runWithStdin runs cmd with stdin taken from a file holding input (a real
// descriptor, as a shell redirection gives) and returns its shell exit
// status and output.
func runWithStdin(t *testing.T, cmd *exec.Cmd, input string) (code int, stdout, stderr string) {
	t.Helper()
	in := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(in, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = f, &out, &errb
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	code, err = exitCode(err, cmd.ProcessState)
	if err != nil {
		t.Fatalf("%s: %v", cmd.Path, err)
	}
	return code, out.String(), errb.String()
}

// writeTree creates files (content, or "->target" for a symlink) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			err := os.Symlink(target, p)
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// treeListing describes everything under dir: paths, kinds and contents.
func treeListing(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.IsDir():
			lines = append(lines, rel+"/")
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			lines = append(lines, rel+" -> "+target)
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			lines = append(lines, rel+" = "+string(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

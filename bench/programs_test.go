package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestProgramsStdout runs every WASI program once under every runtime and
// checks that each prints exactly the recorded output (which comes from a
// native build, see programs/build.sh) and exits 0. It times nothing.
func TestProgramsStdout(t *testing.T) {
	progs, err := Programs()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range progs {
		for _, rt := range WASIRuntimes() {
			t.Run(p.Name+"/"+rt.Name, func(t *testing.T) {
				t.Parallel()
				if testing.Short() && rt.Name != NameWazeroCompiler && rt.Name != NameWasmtime {
					t.Skip("interpreters are slow; -short runs the compilers only")
				}
				res := MeasureProgram(context.Background(), rt, p, 0, 1)
				if res.Err != nil {
					t.Fatal(res.Err)
				}
				if res.Stdout != p.Want {
					t.Fatalf("stdout differs from programs/%s.stdout\ngot:\n%s\nwant:\n%s", p.Name, res.Stdout, p.Want)
				}
			})
		}
	}
}

// TestProgramsNative checks that the recorded outputs still match native
// builds of the sources (so a stale .stdout or .wasm shows up here), with
// gcc for the C program when it is installed and the go command for the
// Go one.
func TestProgramsNative(t *testing.T) {
	if testing.Short() {
		t.Skip("builds native binaries")
	}
	progs, err := Programs()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, p := range progs {
		t.Run(p.Name, func(t *testing.T) {
			bin := filepath.Join(dir, p.Name)
			var build *exec.Cmd
			if _, err := os.Stat(filepath.Join("programs", p.Name+".c")); err == nil {
				cc, err := exec.LookPath("gcc")
				if err != nil {
					t.Skip("no gcc")
				}
				build = exec.Command(cc, "-O2", "-o", bin, filepath.Join("programs", p.Name+".c"))
			} else {
				build = exec.Command("go", "build", "-o", bin, "./programs/"+p.Name)
			}
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("%v: %v\n%s", build.Args, err, out)
			}
			var stdout bytes.Buffer
			cmd := exec.Command(bin, p.Args[1:]...)
			cmd.Stdout = &stdout
			if err := cmd.Run(); err != nil {
				t.Fatal(err)
			}
			if stdout.String() != p.Want {
				t.Fatalf("native build prints\n%s\nprograms/%s.stdout says\n%s", stdout.String(), p.Name, p.Want)
			}
		})
	}
}

// BenchmarkPrograms times one run of each WASI program (instantiate, run
// _start, tear down; compiling is outside the timed region) under every
// runtime, as BenchmarkPrograms/<program>/<runtime>.
func BenchmarkPrograms(b *testing.B) {
	progs, err := Programs()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, p := range progs {
		b.Run(p.Name, func(b *testing.B) {
			for _, rt := range AllWASIRuntimes() {
				b.Run(rt.Name, func(b *testing.B) {
					run, release, err := rt.Prepare(ctx, p.Wasm)
					if err != nil {
						b.Fatal(err)
					}
					defer release()
					var stdout, stderr bytes.Buffer
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						stdout.Reset()
						stderr.Reset()
						code, err := run(ctx, p.Args, &stdout, &stderr)
						if err != nil || code != 0 {
							b.Fatalf("exit %d, %v; stderr %s", code, err, stderr.String())
						}
					}
					b.StopTimer()
					if stdout.String() != p.Want {
						b.Fatalf("stdout %q, want %q", stdout.String(), p.Want)
					}
				})
			}
		})
	}
}

package service

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// writeBundle writes an OCI bundle whose process runs args, with files
// (name → content; content "->target" makes a symbolic link) in its rootfs.
func writeBundle(t *testing.T, args []string, files map[string]string) string {
	t.Helper()
	bundle := t.TempDir()
	rootfs := filepath.Join(bundle, "rootfs")
	for name, content := range files {
		p := filepath.Join(rootfs, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(content, "->"); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(rootfs, 0o755)
	b, _ := json.Marshal(specs.Spec{Process: &specs.Process{Args: args, Cwd: "/app"}, Root: &specs.Root{Path: "rootfs"}})
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return bundle
}

func TestLoadProgramFindsTheModule(t *testing.T) {
	bundle := writeBundle(t, []string{"main.wasm", "x"}, map[string]string{
		"app/real.wasm": "\x00asm",
		"app/main.wasm": "->real.wasm", // relative, from the cwd
	})
	p, err := loadProgram(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(bundle, "rootfs", "app", "real.wasm"); p.modulePath != want {
		t.Errorf("module path %s, want %s", p.modulePath, want)
	}
	if len(p.preopens) != 1 || p.preopens[0].guest != "/" {
		t.Errorf("pre-opens %v, want the rootfs as /", p.preopens)
	}
}

// TestLoadProgramSymlinkEscapingRootfs pins that a symbolic link in the
// image pointing at a host path is resolved inside the rootfs: the shim
// runs as root and must never read a host file an image names.
func TestLoadProgramSymlinkEscapingRootfs(t *testing.T) {
	host := filepath.Join(t.TempDir(), "host.wasm")
	if err := os.WriteFile(host, []byte("\x00asm"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{host, "../../../../../../../../" + host} {
		bundle := writeBundle(t, []string{"/evil.wasm"}, map[string]string{"evil.wasm": "->" + target})
		p, err := loadProgram(bundle)
		if err == nil {
			t.Errorf("link to %s: loaded %s", target, p.modulePath)
		} else if !errors.Is(err, ErrNotWasm) {
			t.Errorf("link to %s: %v, want ErrNotWasm", target, err)
		}
	}
}

func TestLoadProgramBadEntrypoints(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		files map[string]string
		want  string
	}{
		{"no args", nil, nil, "no process arguments"},
		{"not wasm", []string{"/bin/sh"}, map[string]string{"bin/sh": "x"}, "does not end in .wasm"},
		{"missing", []string{"/gone.wasm"}, nil, "not found in the image"},
		{"directory", []string{"/dir.wasm"}, map[string]string{"dir.wasm/x": "x"}, "not a regular file"},
		{"link loop", []string{"/a.wasm"}, map[string]string{"a.wasm": "->b.wasm", "b.wasm": "->a.wasm"}, "too many symbolic links"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadProgram(writeBundle(t, tc.args, tc.files))
			if !errors.Is(err, ErrNotWasm) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrNotWasm saying %q", err, tc.want)
			}
		})
	}
}

func TestLoadProgramBadSpec(t *testing.T) {
	bundle := t.TempDir()
	os.WriteFile(filepath.Join(bundle, "config.json"), []byte("{not json"), 0o644)
	if _, err := loadProgram(bundle); err == nil || !strings.Contains(err.Error(), "parse the OCI spec") {
		t.Errorf("err = %v", err)
	}
	if _, err := loadProgram(t.TempDir()); err == nil || !strings.Contains(err.Error(), "read the OCI spec") {
		t.Errorf("err = %v", err)
	}
}

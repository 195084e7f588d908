package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain points ferry's configuration directory at a temporary one, so
// that the per-user signing key the checkpoint tests make (and trust) is
// never the real user's.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ferry-config")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("FERRY_CONFIG_DIR", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// useConfigDir gives the test a fresh configuration directory, hence no
// per-user key until one is made.
func useConfigDir(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "config")
	t.Setenv("FERRY_CONFIG_DIR", dir)
	return dir
}

func TestKeygenOwnKey(t *testing.T) {
	dir := useConfigDir(t)
	code, out, stderr := runCLI(t, "keygen")
	if code != exitOK || !strings.Contains(out, "ed25519 key ") || !strings.Contains(out, ", made: ") {
		t.Fatalf("keygen: exit %d, %q, %s", code, out, stderr)
	}
	for _, name := range []string{"signing.key", "signing.key.pub"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	id := strings.Fields(out)[2]
	id = strings.TrimSuffix(id, ",")
	code, out2, _ := runCLI(t, "keygen")
	if code != exitOK || !strings.Contains(out2, id+", already there") {
		t.Errorf("keygen again: exit %d, %q; want the same key %s, kept", code, out2, id)
	}
}

func TestKeygenOut(t *testing.T) {
	useConfigDir(t)
	path := filepath.Join(t.TempDir(), "k")
	if code, out, stderr := runCLI(t, "keygen", "--out", path); code != exitOK || !strings.Contains(out, path+".pub") {
		t.Fatalf("keygen --out: exit %d, %q, %s", code, out, stderr)
	}
	before, _ := os.ReadFile(path)
	if code, _, stderr := runCLI(t, "keygen", "--out", path); code != exitFail || !strings.Contains(stderr, "exists") {
		t.Errorf("keygen --out over an existing key: exit %d, %s", code, stderr)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Errorf("an existing key was overwritten")
	}
	hpath := filepath.Join(t.TempDir(), "h")
	if code, out, stderr := runCLI(t, "keygen", "--hmac", "--out", hpath); code != exitOK || !strings.Contains(out, "hmac-sha256 key ") {
		t.Fatalf("keygen --hmac: exit %d, %q, %s", code, out, stderr)
	}
	if _, err := os.Stat(hpath + ".pub"); err == nil {
		t.Errorf("an HMAC key has no public half, yet %s.pub was written", hpath)
	}
	if code, _, _ := runCLI(t, "keygen", "--hmac"); code != exitUsage {
		t.Errorf("keygen --hmac without --out: exit %d, want %d", code, exitUsage)
	}
}

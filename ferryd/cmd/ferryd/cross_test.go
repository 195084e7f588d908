package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMigrateCrossArch migrates the counter from this (amd64) daemon to an
// arm64 ferryd run under qemu-aarch64, and back: the output continues with
// no gap and no repeat across the two architectures. It builds the arm64
// binary (a minute on a loaded machine), so it runs only with
// FERRYD_CROSS=1:
//
//	FERRYD_CROSS=1 go test -count=1 -v -run TestMigrateCrossArch ./cmd/ferryd
func TestMigrateCrossArch(t *testing.T) {
	if os.Getenv("FERRYD_CROSS") == "" {
		t.Skip("set FERRYD_CROSS=1 to migrate to an arm64 daemon under qemu-aarch64")
	}
	qemu, err := exec.LookPath("qemu-aarch64")
	if err != nil {
		t.Skip("no qemu-aarch64")
	}
	bin := filepath.Join(t.TempDir(), "ferryd-arm64")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build for arm64: %v\n%s", err, out)
	}
	certs := t.TempDir()
	if code := run(t.Context(), []string{"certs", "--dir", certs, "amd", "arm", "user"}, io.Discard, os.Stderr); code != 0 {
		t.Fatal("certs")
	}
	cmd := exec.Command(qemu, "-cpu", "cortex-a53", bin, "serve", "--listen", "127.0.0.1:0", "--state-dir", t.TempDir(),
		"--tls-cert", filepath.Join(certs, "arm.crt"), "--tls-key", filepath.Join(certs, "arm.key"),
		"--client-ca", filepath.Join(certs, "ca.crt"))
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
	}()
	var arm string
	select {
	case arm = <-addrc:
	case <-time.After(60 * time.Second):
		t.Fatal("the arm64 daemon did not start")
	}
	amd := serve(t, certs, "amd")
	wasm := filepath.Join("..", "..", "testdata", "counter.wasm")
	mustCtl(t, certs, amd, "run", "--name", "c", wasm)
	waitFor := func(addr string, n int) string {
		deadline := time.Now().Add(60 * time.Second)
		for {
			s := mustCtl(t, certs, addr, "logs", "c")
			if strings.Count(s, "\n") >= n {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("the counter on %s printed %q", addr, s)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor(amd, 5)
	var all []string
	hop := func(from, to string) {
		followed := make(chan string, 1)
		go func() {
			out, _, _ := ctl(t, certs, from, "logs", "-f", "c")
			followed <- out
		}()
		res := mustCtl(t, certs, from, "migrate", "--verify-memory", "--to", to, "c")
		t.Logf("%s → %s: %s", from, to, strings.Join(strings.Fields(res), " "))
		all = append(all, strings.Fields(<-followed)...)
	}
	hop(amd, arm)
	waitFor(arm, 5)
	hop(arm, amd)
	all = append(all, strings.Fields(waitFor(amd, 5))...)
	for i, s := range all {
		if v, _ := strconv.Atoi(s); v != i+1 {
			t.Fatalf("line %d of the counter across amd64 → arm64 → amd64 is %q", i+1, s)
		}
	}
	t.Logf("%d lines, no gap, no repeat, across amd64 → arm64 (qemu, cortex-a53) → amd64", len(all))
}

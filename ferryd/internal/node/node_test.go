package node

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
	"github.com/ferryvm/ferry/ferryd/internal/client"
	"github.com/ferryvm/ferry/ferryd/internal/pki"
)

func TestRunPauseResumeDelete(t *testing.T) {
	tn := startNode(t, sharedPKI(t), nil)
	ctx := context.Background()
	runCounter(t, tn, "c1")

	in, err := tn.client.Pause(ctx, "c1")
	if err != nil || in.State != apiv1.StatePaused {
		t.Fatalf("pause: %+v %v", in, err)
	}
	before := tn.stdout(t, "c1")
	time.Sleep(50 * time.Millisecond)
	if after := tn.stdout(t, "c1"); after != before {
		t.Fatalf("a paused instance went on printing: %d then %d lines", lines(before), lines(after))
	}
	if _, err := tn.client.Resume(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "output after the resume", func() bool { return lines(tn.stdout(t, "c1")) > lines(before)+3 })
	checkCounter(t, tn.stdout(t, "c1"), 1)

	all, err := tn.client.List(ctx)
	if err != nil || len(all) != 1 || all[0].Name != "c1" || all[0].State != apiv1.StateRunning {
		t.Fatalf("list: %+v %v", all, err)
	}
	if err := tn.client.Delete(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.client.Get(ctx, "c1"); !isStatus(err, http.StatusNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err := os.Stat(filepath.Join(tn.dir, "instances", "c1")); !os.IsNotExist(err) {
		t.Fatalf("the instance's directory outlived it: %v", err)
	}
}

func isStatus(err error, code int) bool {
	var e *client.APIError
	return errors.As(err, &e) && e.Status == code
}

func TestRunExitsAndLogsFollow(t *testing.T) {
	tn := startNode(t, sharedPKI(t), nil)
	ctx := context.Background()
	if _, err := tn.client.Run(ctx, apiv1.RunRequest{Name: "h", Module: readWasm(t, "hello.wasm")}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	// Follow returns when the program ended, with all it wrote.
	if err := tn.client.Logs(ctx, "h", "stdout", true, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "hello\n" {
		t.Fatalf("stdout %q", out.String())
	}
	in, err := tn.client.Get(ctx, "h")
	if err != nil || in.State != apiv1.StateExited || in.ExitCode == nil || *in.ExitCode != 0 {
		t.Fatalf("%+v %v", in, err)
	}
}

// Requests a daemon must refuse with a clear error and survive.
func TestBadRequests(t *testing.T) {
	tn := startNode(t, sharedPKI(t), nil)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		req  apiv1.RunRequest
		code int
	}{
		{"no module", apiv1.RunRequest{Name: "x"}, 400},
		{"not wasm", apiv1.RunRequest{Name: "x", Module: []byte("hello")}, 400},
		{"bad name", apiv1.RunRequest{Name: "../x", Module: readWasm(t, "hello.wasm")}, 400},
		{"missing dir", apiv1.RunRequest{Name: "x", Module: readWasm(t, "hello.wasm"), Dirs: []apiv1.Dir{{Host: "/nonexistent/dir"}}}, 400},
		{"bad env", apiv1.RunRequest{Name: "x", Module: readWasm(t, "hello.wasm"), Env: []string{"NOEQUALS"}}, 400},
	} {
		if _, err := tn.client.Run(ctx, tc.req); !isStatus(err, tc.code) {
			t.Errorf("%s: got %v, want HTTP %d", tc.name, err, tc.code)
		}
	}
	if _, err := tn.client.Pause(ctx, "nobody"); !isStatus(err, 404) {
		t.Errorf("pause of an unknown instance: %v", err)
	}
	if _, err := tn.client.Restore(ctx, apiv1.RestoreRequest{Name: "r"}, strings.NewReader("not a checkpoint")); !isStatus(err, 400) {
		t.Errorf("restore of garbage: %v", err)
	}
	if _, err := tn.client.Restore(ctx, apiv1.RestoreRequest{Name: "r", From: "../../etc/passwd"}, nil); !isStatus(err, 400) {
		t.Errorf("restore from a path: %v", err)
	}
	if all, _ := tn.client.List(ctx); len(all) != 0 {
		t.Errorf("refused requests left instances: %+v", all)
	}
	if ents, _ := os.ReadDir(filepath.Join(tn.dir, "instances")); len(ents) != 0 {
		t.Errorf("refused requests left directories: %v", ents)
	}
}

// TestUnauthenticatedClientRefused: no certificate, a certificate of
// another authority, or plain HTTP: the API answers none of them.
func TestUnauthenticatedClientRefused(t *testing.T) {
	p := sharedPKI(t)
	tn := startNode(t, p, nil)
	ctx := context.Background()

	good, err := p.client.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	noCert := good.Clone()
	noCert.Certificates = nil
	other, err := makePKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.client.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	foreign.RootCAs = good.RootCAs // it trusts the daemon, the daemon does not trust it
	for name, cfg := range map[string]*tls.Config{"no certificate": noCert, "another CA": foreign} {
		c := client.New(tn.addr, cfg)
		if _, err := c.List(ctx); err == nil {
			t.Errorf("%s: the daemon answered", name)
		}
		c.Close()
	}
	resp, err := http.Get("http://" + tn.addr + "/v1/instances")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("plain HTTP answered 200")
		}
	}
	// And an authenticated one is answered.
	if _, err := tn.client.List(ctx); err != nil {
		t.Fatal(err)
	}
	_ = pki.Files{}
}

func TestCheckpointRestore(t *testing.T) {
	tn := startNode(t, sharedPKI(t), nil)
	ctx := context.Background()
	runCounter(t, tn, "c")

	// Into the state directory, the instance stopped after it.
	r, err := tn.client.Checkpoint(ctx, "c", true)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the checkpointed instance to stop", func() bool {
		in, _ := tn.client.Get(ctx, "c")
		return in.State == apiv1.StateExited
	})
	last := checkCounter(t, tn.stdout(t, "c"), 1)
	if _, err := tn.client.Restore(ctx, apiv1.RestoreRequest{Name: "c2", From: r.Name}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the restored counter", func() bool { return lines(tn.stdout(t, "c2")) >= 3 })
	checkCounter(t, tn.stdout(t, "c2"), last+1)

	// Streamed to the client while it runs, then uploaded.
	var ck bytes.Buffer
	if _, err := tn.client.CheckpointTo(ctx, "c2", false, &ck); err != nil {
		t.Fatal(err)
	}
	if in, _ := tn.client.Get(ctx, "c2"); in.State != apiv1.StateRunning {
		t.Fatalf("the instance did not continue after its checkpoint: %s", in.State)
	}
	if _, err := tn.client.Restore(ctx, apiv1.RestoreRequest{Name: "c3"}, bytes.NewReader(ck.Bytes())); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the uploaded counter", func() bool { return lines(tn.stdout(t, "c3")) >= 3 })
	first := strings.SplitN(tn.stdout(t, "c3"), "\n", 2)[0]
	if first == "1" {
		t.Fatalf("the uploaded checkpoint restarted the program")
	}
	m, err := tn.client.Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ferryd_checkpoints_total 2", `ferryd_instances{state="running"} 2`, "ferryd_restore_seconds_count 2"} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
}

package node

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
	"github.com/ferryvm/ferry/ferryd/internal/client"
	"github.com/ferryvm/ferry/ferryd/internal/pki"
)

// testPKI is one CA with a daemon certificate and a client certificate.
type testPKI struct {
	dir    string
	daemon pki.Files
	client pki.Files
}

var (
	pkiOnce sync.Once
	pkiVal  testPKI
	pkiErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pkiVal.dir != "" {
		os.RemoveAll(pkiVal.dir)
	}
	os.Exit(code)
}

// sharedPKI makes the test certificates once per test binary.
func sharedPKI(t *testing.T) testPKI {
	t.Helper()
	pkiOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ferryd-pki-")
		if err != nil {
			pkiErr = err
			return
		}
		pkiVal, pkiErr = makePKI(dir)
	})
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pkiVal
}

func makePKI(dir string) (testPKI, error) {
	ca, err := pki.MakeCA("test CA")
	if err != nil {
		return testPKI{}, err
	}
	if err := ca.WriteFiles(dir); err != nil {
		return testPKI{}, err
	}
	for _, name := range []string{"daemon", "client"} {
		c, err := ca.Issue(name, []string{"127.0.0.1", "localhost"})
		if err != nil {
			return testPKI{}, err
		}
		if err := c.WriteFiles(dir, name); err != nil {
			return testPKI{}, err
		}
	}
	f := func(n string) pki.Files {
		return pki.Files{Cert: filepath.Join(dir, n+".crt"), Key: filepath.Join(dir, n+".key"), CA: filepath.Join(dir, "ca.crt")}
	}
	return testPKI{dir: dir, daemon: f("daemon"), client: f("client")}, nil
}

// testNode is a node served over mutual TLS on a loopback port.
type testNode struct {
	*Node
	addr   string
	client *client.Client
	dir    string
}

func startNode(t *testing.T, p testPKI, tweak func(*Config)) *testNode {
	t.Helper()
	srvTLS, err := p.daemon.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	peerTLS, err := p.daemon.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{StateDir: t.TempDir(), Runtime: ferry.NewRuntimeConfig(), PeerTLS: peerTLS, PendingTimeout: 5 * time.Second}
	if tweak != nil {
		tweak(&cfg)
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: n.Handler(), TLSConfig: srvTLS,
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:     quietLog()}
	go srv.ServeTLS(ln, "", "")
	cliTLS, err := p.client.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	tn := &testNode{Node: n, addr: ln.Addr().String(), client: client.New(ln.Addr().String(), cliTLS), dir: cfg.StateDir}
	t.Cleanup(func() {
		tn.client.Close()
		srv.Close()
		n.Close()
	})
	return tn
}

func readWasm(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// waitFor polls cond until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stdout reads an instance's stdout log.
func (tn *testNode) stdout(t *testing.T, name string) string {
	t.Helper()
	var b bytes.Buffer
	if err := tn.client.Logs(context.Background(), name, "stdout", false, &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// lines counts the complete lines of s.
func lines(s string) int { return strings.Count(s, "\n") }

// checkCounter checks that out is "first\nfirst+1\n..." with no gap and
// no repeat, and returns the last number.
func checkCounter(t *testing.T, out string, first int) int {
	t.Helper()
	want := first
	for i, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		got, err := strconv.Atoi(l)
		if err != nil || got != want {
			t.Fatalf("line %d: %q, want %d (a gap or a repeat)", i+1, l, want)
		}
		want++
	}
	return want - 1
}

func runCounter(t *testing.T, tn *testNode, name string) apiv1.Instance {
	t.Helper()
	in, err := tn.client.Run(context.Background(), apiv1.RunRequest{Name: name, Module: readWasm(t, "counter.wasm")})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the counter's first lines", func() bool { return lines(tn.stdout(t, name)) >= 5 })
	return in
}

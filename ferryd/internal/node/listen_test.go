package node

import (
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
)

// freePort returns a TCP port free on host now.
func freePort(t *testing.T, host string) string {
	t.Helper()
	l, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", host, err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return port
}

// ask connects to addr and returns what the guest answers before it
// closes the connection.
func ask(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read from %s: %v", addr, err)
	}
	return string(b)
}

// TestMigrateListeningSocket: a guest that accepts connections on a
// listening socket ferryd granted it (testdata/acceptor.wat) answers
// over loopback, migrates, and answers on the destination's socket,
// counting on with no gap; the source's socket is closed. Both daemons
// run on this host, so the destination binds the same port on another
// loopback address (MigrateRequest.Listen); between two hosts the
// source's addresses are the default.
func TestMigrateListeningSocket(t *testing.T) {
	p := sharedPKI(t)
	src, dst := startNode(t, p, nil), startNode(t, p, nil)
	ctx := context.Background()
	port := freePort(t, "127.0.0.1")
	from, to := "127.0.0.1:"+port, "127.0.0.2:"+port
	if _, err := src.client.Run(ctx, apiv1.RunRequest{Name: "a", Module: readWasm(t, "acceptor.wasm"), Listen: []string{from}}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		if got := ask(t, from); got != strconv.Itoa(i)+"\n" {
			t.Fatalf("connection %d on the source: %q", i, got)
		}
	}
	res, err := src.client.Migrate(ctx, "a", apiv1.MigrateRequest{To: dst.addr, Listen: []string{to}, VerifyMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("migrated (%s), downtime %v", res.Mode, res.Downtime)
	for i := 3; i <= 4; i++ {
		if got := ask(t, to); got != strconv.Itoa(i)+"\n" {
			t.Fatalf("connection %d on the destination: %q", i, got)
		}
	}
	if c, err := net.DialTimeout("tcp", from, time.Second); err == nil {
		c.Close()
		t.Fatal("the source's socket still accepts connections")
	}
	in, err := dst.client.Get(ctx, "a")
	if err != nil || len(in.Listen) != 1 || in.Listen[0] != to {
		t.Fatalf("destination: %+v %v", in, err)
	}
	if out := dst.stdout(t, "a"); !strings.HasPrefix(out, "3\n4\n") {
		t.Fatalf("destination's stdout %q", out)
	}
}

// A destination that cannot bind the guest's socket refuses the
// migration before the switch: the source's guest goes on answering.
func TestMigrateListenBusyRefused(t *testing.T) {
	p := sharedPKI(t)
	src, dst := startNode(t, p, nil), startNode(t, p, nil)
	ctx := context.Background()
	from := "127.0.0.1:" + freePort(t, "127.0.0.1")
	if _, err := src.client.Run(ctx, apiv1.RunRequest{Name: "a", Module: readWasm(t, "acceptor.wasm"), Listen: []string{from}}); err != nil {
		t.Fatal(err)
	}
	if got := ask(t, from); got != "1\n" {
		t.Fatalf("first connection: %q", got)
	}
	// Same host, same address: the source holds it.
	if _, err := src.client.Migrate(ctx, "a", apiv1.MigrateRequest{To: dst.addr}); err == nil {
		t.Fatal("migrated to a destination that cannot bind the socket")
	}
	if got := ask(t, from); got != "2\n" {
		t.Fatalf("after the refusal: %q", got)
	}
	noInstance(t, dst)
}

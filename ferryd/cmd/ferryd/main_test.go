package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
	"github.com/ferryvm/ferry/ferryd/internal/dirty"
)

// lockedBuffer is a bytes.Buffer safe for a writer and a reader in two
// goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var listenRE = regexp.MustCompile(`listening on (\S+)`)

// serve starts a daemon in this process and returns its address.
func serve(t *testing.T, certs, name string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0", "--state-dir", t.TempDir(),
			"--tls-cert", filepath.Join(certs, name+".crt"), "--tls-key", filepath.Join(certs, name+".key"),
			"--client-ca", filepath.Join(certs, "ca.crt")}, extra...), &out, &errb)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := listenRE.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", errb.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ctl runs "ferryd ctl" against addr as the client "user".
func ctl(t *testing.T, certs, addr string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{"ctl", "--addr", addr, "--cert", filepath.Join(certs, "user.crt"),
		"--key", filepath.Join(certs, "user.key"), "--ca", filepath.Join(certs, "ca.crt")}, args...)
	code := run(context.Background(), full, &out, &errb)
	return out.String(), errb.String(), code
}

func mustCtl(t *testing.T, certs, addr string, args ...string) string {
	t.Helper()
	out, errs, code := ctl(t, certs, addr, args...)
	if code != 0 {
		t.Fatalf("ferryd ctl %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

// The commands a user types: certificates, two daemons, run, ps, logs,
// checkpoint, restore, migrate, metrics, rm.
func TestCLI(t *testing.T) {
	certs := t.TempDir()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"certs", "--dir", certs, "a", "b", "user"}, &out, &errb); code != 0 {
		t.Fatalf("certs: %d %s", code, errb.String())
	}
	// b runs its programs with the baseline CPU features only: a
	// migration goes to a CPU with fewer features than the source's.
	a, b := serve(t, certs, "a"), serve(t, certs, "b", "--cpu-features", "baseline")
	wasm := filepath.Join("..", "..", "testdata", "counter.wasm")

	mustCtl(t, certs, a, "run", "--name", "c", wasm)
	waitLines := func(addr, name string, n int) string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			s := mustCtl(t, certs, addr, "logs", name)
			if strings.Count(s, "\n") >= n {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s on %s printed %q", name, addr, s)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitLines(a, "c", 3)
	if ps := mustCtl(t, certs, a, "ps"); !regexp.MustCompile(`(?m)^c\s+running`).MatchString(ps) {
		t.Fatalf("ps:\n%s", ps)
	}

	var ck apiv1.CheckpointResult
	if err := json.Unmarshal([]byte(mustCtl(t, certs, a, "checkpoint", "c")), &ck); err != nil || ck.Name == "" {
		t.Fatalf("checkpoint: %+v %v", ck, err)
	}
	mustCtl(t, certs, a, "restore", "--name", "c2", "--from", ck.Name)
	waitLines(a, "c2", 3)
	file := filepath.Join(t.TempDir(), "c.ckpt")
	mustCtl(t, certs, a, "checkpoint", "--out", file, "c")
	mustCtl(t, certs, b, "restore", "--name", "up", file)
	waitLines(b, "up", 3)

	// Migrate c from a to b; follow its log on a until it leaves.
	followed := make(chan string, 1)
	go func() {
		out, _, _ := ctl(t, certs, a, "logs", "-f", "c")
		followed <- out
	}()
	var res apiv1.MigrateResult
	if err := json.Unmarshal([]byte(mustCtl(t, certs, a, "migrate", "--progress", "--to", b, "c")), &res); err != nil {
		t.Fatal(err)
	}
	if err := dirty.Available(); err == nil && (res.Mode != "precopy" || res.Bytes > 64<<10) {
		t.Fatalf("migrate: %+v, want a pre-copy (its checkpoint without memory)", res)
	}
	srcOut := <-followed
	dstOut := waitLines(b, "c", 3)
	nums := strings.Fields(srcOut + dstOut)
	for i, s := range nums {
		if v, _ := strconv.Atoi(s); v != i+1 {
			t.Fatalf("line %d of the migrated counter is %q", i+1, s)
		}
	}
	if _, errs, code := ctl(t, certs, a, "inspect", "c"); code == 0 || !strings.Contains(errs, "no instance") {
		t.Fatalf("the source still has c: %d %s", code, errs)
	}
	if m := mustCtl(t, certs, b, "metrics"); !strings.Contains(m, `ferryd_migrations_total{result="switched",role="destination"} 1`) {
		t.Fatalf("metrics:\n%s", m)
	}
	if m := mustCtl(t, certs, a, "metrics"); !strings.Contains(m, `ferryd_migration_downtime_seconds_count 1`) {
		t.Fatalf("metrics:\n%s", m)
	}
	for _, n := range []string{"c", "up"} {
		mustCtl(t, certs, b, "rm", n)
	}
	if ps := mustCtl(t, certs, b, "ps"); strings.Count(ps, "\n") != 1 {
		t.Fatalf("ps after rm:\n%s", ps)
	}
}

func TestCLIUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"nosuch"}, {"serve"}, {"certs"}, {"ctl"}, {"ctl", "--cert", "x", "--key", "y", "--ca", "z", "ps"}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != exitUsage {
			t.Errorf("%q: exit %d, want %d (%s)", args, code, exitUsage, errb.String())
		}
	}
}

// ctl migrate --progress prints one line per report: the phase, bytes,
// and for a pre-copy the round, dirty set and rate, and the expected
// downtime.
func TestFormatProgress(t *testing.T) {
	got := formatProgress(&apiv1.MigrationProgress{Phase: "precopy", Bytes: 3 << 20, Total: 64 << 20, Precopy: true, Rounds: 2,
		DirtyPages: 512, DirtyRate: 10 << 20, Rate: 100 << 20, ExpectedDowntime: 20 * time.Millisecond})
	want := "precopy: 3.0 MiB sent of 64.0 MiB, round 2, 512 pages dirtied (10.0 MiB/s), 100.0 MiB/s, expected downtime 20ms"
	if got != want {
		t.Fatalf("%q\nwant %q", got, want)
	}
}

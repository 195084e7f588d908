package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
	"github.com/ferryvm/ferry/ferryd/internal/client"
	"github.com/ferryvm/ferry/ferryd/internal/pki"
)

// TestMain lets the test binary act as ferryd itself, so that the fault
// tests can run daemons as processes and kill them.
func TestMain(m *testing.M) {
	if os.Getenv("FERRYD_TEST_AS_DAEMON") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// daemonProc is a ferryd process.
type daemonProc struct {
	cmd   *exec.Cmd
	addr  string
	state string
}

func startProc(t *testing.T, certs, state, listen string) *daemonProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--listen", listen, "--state-dir", state,
		"--tls-cert", filepath.Join(certs, "d.crt"), "--tls-key", filepath.Join(certs, "d.key"),
		"--client-ca", filepath.Join(certs, "ca.crt"), "--pending-timeout", "1s")
	cmd.Env = append(os.Environ(), "FERRYD_TEST_AS_DAEMON=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemonProc{cmd: cmd, state: state}
	t.Cleanup(func() { d.kill() })
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				line <- m[1]
			}
		}
	}()
	select {
	case d.addr = <-line:
	case <-time.After(20 * time.Second):
		t.Fatal("the daemon did not start")
	}
	return d
}

func (d *daemonProc) kill() {
	if d.cmd.ProcessState == nil {
		d.cmd.Process.Kill()
		d.cmd.Wait()
	}
}

// TestMigrateKill9: a migration during which the source or the
// destination daemon is killed with SIGKILL at a random moment, 20
// times. Whatever the moment: never two running copies; when the
// destination died before it decided to run the program, the source
// continues it; a destination restarted on its state directory answers
// the source's question with the decision it recorded, and keeps no
// partial files.
func TestMigrateKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 60 daemon processes")
	}
	certs := t.TempDir()
	ca, err := pki.MakeCA("kill test")
	if err != nil {
		t.Fatal(err)
	}
	ca.WriteFiles(certs)
	for _, n := range []string{"d", "user"} {
		c, _ := ca.Issue(n, []string{"127.0.0.1"})
		c.WriteFiles(certs, n)
	}
	cliTLS, err := pki.Files{Cert: filepath.Join(certs, "user.crt"), Key: filepath.Join(certs, "user.key"), CA: filepath.Join(certs, "ca.crt")}.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile(filepath.Join("..", "..", "testdata", "counter.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	outcomes := map[string]int{}
	ctx := context.Background()
	for trial := 0; trial < 20; trial++ {
		killSrc := trial%2 == 0
		delay := time.Duration(rng.Intn(40000)) * time.Microsecond
		a := startProc(t, certs, t.TempDir(), "127.0.0.1:0")
		b := startProc(t, certs, t.TempDir(), "127.0.0.1:0")
		ca, cb := client.New(a.addr, cliTLS), client.New(b.addr, cliTLS)
		if _, err := ca.Run(ctx, apiv1.RunRequest{Name: "c", Module: wasm}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		migrated := make(chan error, 1)
		go func() {
			_, err := ca.Migrate(ctx, "c", apiv1.MigrateRequest{To: b.addr})
			migrated <- err
		}()
		time.Sleep(delay)
		var outcome string
		if killSrc {
			a.kill()
			<-migrated
			// The destination decides alone: it runs the program if it got
			// the commit, else drops it after its pending timeout.
			time.Sleep(1500 * time.Millisecond)
			all, err := cb.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case len(all) == 0:
				outcome = "source killed, destination dropped it"
			case len(all) == 1 && all[0].State == apiv1.StateRunning:
				outcome = "source killed, destination runs it"
			default:
				t.Fatalf("trial %d: the destination holds %+v", trial, all)
			}
		} else {
			b.kill()
			// Restarted on its state directory and port, the destination
			// answers the source's status query from what it recorded.
			b2 := startProc(t, certs, b.state, b.addr)
			_ = b2
			var merr error
			select {
			case merr = <-migrated:
			case <-time.After(30 * time.Second):
				t.Fatalf("trial %d: the migration never returned", trial)
			}
			committed, _ := filepath.Glob(filepath.Join(b.state, "migrations", "[0-9a-f]*[0-9a-f]"))
			in, gerr := ca.Get(ctx, "c")
			switch {
			case len(committed) == 0 && gerr == nil && in.State == apiv1.StateRunning:
				outcome = "destination killed before its decision, source continues"
			case len(committed) == 1 && merr == nil && gerr != nil:
				outcome = "destination killed after its decision, source deleted its copy"
			default:
				t.Fatalf("trial %d: destination decisions %v, migrate error %v, source instance %+v (%v)", trial, committed, merr, in, gerr)
			}
			// b died: the restarted b runs nothing.
			if all, _ := client.New(b2.addr, cliTLS).List(ctx); len(all) != 0 {
				t.Fatalf("trial %d: the restarted destination runs %+v", trial, all)
			}
			b = b2
		}
		outcomes[outcome]++
		for _, d := range []*daemonProc{a, b} {
			if ents, _ := os.ReadDir(filepath.Join(d.state, "incoming")); len(ents) != 0 {
				t.Fatalf("trial %d: leaked %v", trial, ents)
			}
		}
		ca.Close()
		cb.Close()
		a.kill()
		b.kill()
	}
	var report []string
	for k, v := range outcomes {
		report = append(report, fmt.Sprintf("%d× %s", v, k))
	}
	t.Logf("outcomes: %s", strings.Join(report, "; "))
}

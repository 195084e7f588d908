package node

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
)

// TestMigrateMeasure migrates the dirtier workload (testdata/dirtier.c)
// of several memory sizes and dirty rates once each and logs the
// downtime and the bytes sent: the numbers docs/ferryd.md quotes. It
// takes a minute and GiBs of memory, so it runs only with
// FERRYD_MEASURE=1, e.g.
//
//	FERRYD_MEASURE=1 go test -count=1 -v -run TestMigrateMeasure ./internal/node
//
// FERRYD_MEASURE_MIB overrides the sizes (comma-separated MiB).
func TestMigrateMeasure(t *testing.T) {
	if os.Getenv("FERRYD_MEASURE") == "" {
		t.Skip("set FERRYD_MEASURE=1 to measure migrations")
	}
	sizes := []int{16, 64, 256, 1024}
	if s := os.Getenv("FERRYD_MEASURE_MIB"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, n)
		}
	}
	p := sharedPKI(t)
	// A 1 GiB checkpoint's zero-page scan comes before its first memory
	// byte; on a loaded machine that silence outlasts the tests' 5 s.
	long := func(c *Config) { c.PendingTimeout = 2 * time.Minute }
	src, dst := startNode(t, p, long), startNode(t, p, long)
	ctx := context.Background()
	wasm := readWasm(t, "dirtier.wasm")
	for _, mib := range sizes {
		for _, rate := range []int{1, 100} {
			name := "d" + strconv.Itoa(mib) + "r" + strconv.Itoa(rate)
			_, err := src.client.Run(ctx, apiv1.RunRequest{Name: name, Module: wasm, Args: []string{"dirtier", strconv.Itoa(mib), strconv.Itoa(rate)}})
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, 120*time.Second, "the workload's first lines", func() bool { return lines(src.stdout(t, name)) >= 20 })
			srcOut := followStdout(t, src, name)
			res, err := src.client.Migrate(ctx, name, apiv1.MigrateRequest{To: dst.addr})
			if err != nil {
				t.Fatal(err)
			}
			last := checkCounter(t, srcOut(), 1)
			waitFor(t, 30*time.Second, "the workload on the destination", func() bool { return lines(dst.stdout(t, name)) >= 3 })
			checkCounter(t, dst.stdout(t, name), last+1)
			t.Logf("stop-and-copy %5d MiB, %3d pages/ms dirtied: downtime %8.1f ms (stream %8.1f, restore %8.1f; acknowledged %8.1f), checkpoint %11d bytes, wire %11d bytes",
				mib, rate, ms(res.Downtime), ms(res.Stream), ms(res.Restore), ms(res.Acked), res.Bytes, res.Wire)
			if err := dst.client.Delete(ctx, name); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

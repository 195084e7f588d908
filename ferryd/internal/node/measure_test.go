package node

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
	"github.com/ferryvm/ferry/ferryd/internal/dirty"
)

// TestMigrateMeasure migrates the dirtier workload (testdata/dirtier.c)
// of several memory sizes and dirty rates once each and logs the
// downtime and the bytes sent: the numbers docs/ferryd.md quotes. The
// counter must continue with no gap and no repeat, and the memory at the
// switch (the source's paused copy, hashed once the destination runs, so
// that hashing adds nothing to the downtime) must hash equal to the
// destination's image. It takes minutes and GiBs of memory, so it runs
// only with FERRYD_MEASURE=1, e.g.
//
//	FERRYD_MEASURE=1 go test -count=1 -v -run TestMigrateMeasure ./internal/node
//
// FERRYD_MEASURE_MIB overrides the sizes (comma-separated MiB),
// FERRYD_MEASURE_RATES the dirty rates (pages per second: 256 is
// 1 MiB/s), and FERRYD_MEASURE_MODE=stop-and-copy measures without
// pre-copy.
func TestMigrateMeasure(t *testing.T) {
	if os.Getenv("FERRYD_MEASURE") == "" {
		t.Skip("set FERRYD_MEASURE=1 to measure migrations")
	}
	list := func(env string, def []int) []int {
		s := os.Getenv(env)
		if s == "" {
			return def
		}
		var out []int
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("%s: %v", env, err)
			}
			out = append(out, n)
		}
		return out
	}
	sizes := list("FERRYD_MEASURE_MIB", []int{64, 1024})
	rates := list("FERRYD_MEASURE_RATES", []int{0, 256, 2560, 25600})
	stopAndCopy := os.Getenv("FERRYD_MEASURE_MODE") == "stop-and-copy"
	p := sharedPKI(t)
	// A 1 GiB checkpoint's zero-page scan comes before its first memory
	// byte; on a loaded machine that silence outlasts the tests' 5 s.
	long := func(c *Config) { c.PendingTimeout = 2 * time.Minute }
	src, dst := startNode(t, p, long), startNode(t, p, long)
	var srcSHA string
	src.testSwitched = func(p *ferry.Paused) {
		h := sha256.Sum256(p.Instance().Memory("memory").Bytes())
		srcSHA = hex.EncodeToString(h[:])
	}
	ctx := context.Background()
	wasm := readWasm(t, "dirtier.wasm")
	for _, mib := range sizes {
		for _, rate := range rates {
			name := "d" + strconv.Itoa(mib) + "r" + strconv.Itoa(rate)
			_, err := src.client.Run(ctx, apiv1.RunRequest{Name: name, Module: wasm, Args: []string{"dirtier", strconv.Itoa(mib), strconv.Itoa(rate)}})
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, 300*time.Second, "the workload's first lines", func() bool { return lines(src.stdout(t, name)) >= 20 })
			srcOut := followStdout(t, src, name)
			srcSHA = ""
			res, err := src.client.Migrate(ctx, name, apiv1.MigrateRequest{To: dst.addr, StopAndCopy: stopAndCopy})
			if err != nil {
				t.Fatal(err)
			}
			last := checkCounter(t, srcOut(), 1)
			waitFor(t, 60*time.Second, "the workload on the destination", func() bool { return lines(dst.stdout(t, name)) >= 3 })
			checkCounter(t, dst.stdout(t, name), last+1)
			dstSHA := "(stop-and-copy: no image)"
			if res.Mode == "precopy" {
				dstSHA = fileSHA(t, filepath.Join(dst.dir, "instances", name, memoryImageFile))
				if dstSHA != srcSHA {
					t.Fatalf("%s: the destination's memory image hashes %s, the source's memory at the switch %s", name, dstSHA, srcSHA)
				}
			}
			maxSet := 0
			for _, n := range res.RoundPages {
				maxSet = max(maxSet, n)
			}
			full := int64(mib) << 20
			bound := full + int64(res.Rounds+1)*int64(maxSet)*dirty.PageSize
			t.Logf("%s %5d MiB, %6.1f MiB/s dirtied: downtime %8.1f ms (stream %8.1f, restore %8.1f; acknowledged %8.1f), rounds %d %v, final %d pages, page bytes %d (bound image + (rounds+1) x max set = %d: %v), checkpoint %d, wire %d, sha256 %.16s = %.16s",
				res.Mode, mib, float64(rate)*dirty.PageSize/(1<<20), ms(res.Downtime), ms(res.Stream), ms(res.Restore), ms(res.Acked),
				res.Rounds, res.RoundPages, res.FinalPages, res.PageBytes, bound, res.PageBytes <= bound+(1<<20), res.Bytes, res.Wire, srcSHA, dstSHA)
			if err := dst.client.Delete(ctx, name); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

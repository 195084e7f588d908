package ferry

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ferryvm/ferry/api"
)

// The fresh-process half of issue 13's reactor acceptance: an idle
// checkpoint restored by many processes at once (this test binary run
// again as TestIdleRestoreChild), each restoring it several times through
// the Go API from goroutines of its own, every instance linked to host
// functions of its own (RestoreConfig.WithImports) and called with string
// requests; all processes share one code cache directory, so most of them
// load the module's code from an entry another one wrote or is writing.
func TestIdleRestoresInFreshProcesses(t *testing.T) {
	const n, processes, perProcess = 12000, 20, 5
	if testing.Short() {
		t.Skip("starts 20 processes")
	}
	want := kvAnswers(t, n)
	rt, cm := kvRuntime(t, nil, nil)
	dir := t.TempDir()
	ckPath := filepath.Join(dir, "idle.ckpt")
	if err := kvBoot(t, rt, cm, n).WriteCheckpointFile(ckPath, NewCheckpointConfig()); err != nil {
		t.Fatal(err)
	}
	key, err := testSigningKey(t).MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	wants := make([]string, len(want))
	for i, w := range want {
		wants[i] = strconv.FormatUint(uint64(w), 10)
	}
	var wg sync.WaitGroup
	errs := make(chan error, processes)
	for p := range processes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(exe, "-test.run=^TestIdleRestoreChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "FERRY_IDLE_CHILD="+ckPath, "FERRY_IDLE_CACHE="+filepath.Join(dir, "cache"),
				"FERRY_IDLE_KEY="+string(key), "FERRY_IDLE_WANT="+strings.Join(wants, ","), fmt.Sprintf("FERRY_IDLE_RESTORES=%d", perProcess), fmt.Sprintf("FERRY_IDLE_FIRST=%d", p*perProcess))
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), fmt.Sprintf("restored %d", perProcess)) {
				errs <- fmt.Errorf("process %d: %v\n%s", p, err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestIdleRestoreChild is one process of TestIdleRestoresInFreshProcesses;
// without its environment it does nothing.
func TestIdleRestoreChild(t *testing.T) {
	path := os.Getenv("FERRY_IDLE_CHILD")
	if path == "" {
		t.Skip("run by TestIdleRestoresInFreshProcesses")
	}
	restores, _ := strconv.Atoi(os.Getenv("FERRY_IDLE_RESTORES"))
	first, _ := strconv.Atoi(os.Getenv("FERRY_IDLE_FIRST"))
	var want []uint32
	for _, s := range strings.Split(os.Getenv("FERRY_IDLE_WANT"), ",") {
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, uint32(v))
	}
	ctx := context.Background()
	key, err := ParseSigningKey([]byte(os.Getenv("FERRY_IDLE_KEY")))
	if err != nil {
		t.Fatal(err)
	}
	rt := NewRuntime(NewRuntimeConfig().WithCodeCache(os.Getenv("FERRY_IDLE_CACHE"), key))
	defer rt.Close(ctx)
	ck, err := OpenCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	var wg sync.WaitGroup
	var done atomic.Int64
	for i := first; i < first+restores; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each restore's own env.note, counting into its own total.
			var heard atomic.Int64
			env, err := rt.NewHostModule("env").Func("note", []api.ValueType{api.ValueTypeI32}, nil,
				func(_ context.Context, _ api.Module, stack []uint64) { heard.Add(int64(uint32(stack[0]))) }).Build(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			inst, err := rt.RestoreInstance(ctx, ck, NewRestoreConfig().WithImports(Imports{"env": env}))
			if err != nil {
				t.Error(err)
				return
			}
			defer inst.Close(ctx)
			k := i % len(kvRequests)
			got, err := kvHandle(ctx, inst, kvRequests[k])
			switch {
			case err != nil:
				t.Errorf("restore %d: %v", i, err)
			case got != want[k]:
				t.Errorf("restore %d: %q answers %#x, want %#x", i, kvRequests[k], got, want[k])
			case heard.Load() != int64(len(kvRequests[k])):
				t.Errorf("restore %d: its host heard of %d bytes, want %d", i, heard.Load(), len(kvRequests[k]))
			default:
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("restored %d\n", done.Load())
}

package wasi_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/wasi"
)

// ckptprog (testdata/ckptprog.c, built with clang --target=wasm32-wasi -O2)
// reads in.txt, writes stdout and out.txt as it goes, recurses, calls
// through function pointers, grows its heap and checks that the monotonic
// clock never goes backwards.
//
//go:generate clang --target=wasm32-wasi -O2 -Wall -Wl,--strip-debug -o testdata/ckptprog.wasm testdata/ckptprog.c

const ckptInput = "alpha\nbravo\ncharlie\ndelta\necho\nfoxtrot\ngolf\nhotel\n"

func ckptProgram(t testing.TB) []byte {
	b, err := os.ReadFile("testdata/ckptprog.wasm")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ckptDir(t testing.TB) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte(ckptInput), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func ckptConfig(dir string, stdout *bytes.Buffer) wasi.Config {
	return wasi.NewConfig().WithArgs("ckptprog", "in.txt", "out.txt").WithEnv("K", "V").
		WithPreopen(dir, ".").WithStdout(stdout).WithStderr(stdout)
}

// leg is the outcome of one run or resume: finished (with an exit code)
// or paused.
type leg struct {
	paused *ferry.Paused
	code   int
	rt     *ferry.Runtime
	w      *wasi.Module
}

func finish(t testing.TB, rt *ferry.Runtime, w *wasi.Module, err error) leg {
	var p *ferry.Paused
	if errors.As(err, &p) {
		return leg{paused: p, rt: rt, w: w}
	}
	code, err := wasi.ExitCode(err)
	if err != nil {
		t.Fatalf("run failed: %v", err)
	}
	w.Close(context.Background())
	rt.Close(context.Background())
	return leg{code: code}
}

// startRun runs ckptprog from the start, pausing at the n-th pause point
// (n = 0: never).
func startRun(t testing.TB, wasm []byte, cfg wasi.Config, n int64) leg {
	ctx := context.Background()
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	w, err := wasi.Instantiate(ctx, rt, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := rt.Compile(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := rt.Instantiate(ctx, cm, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = inst.Function("_start").CallWithOptions(ctx, ferry.CallOptions{PauseAfter: n})
	return finish(t, rt, w, err)
}

// checkpoint writes l's checkpoint to path and closes its runtime (the
// program stops there).
func (l leg) checkpoint(t testing.TB, path string, cfg ferry.CheckpointConfig) {
	if err := l.paused.WriteCheckpointFile(path, cfg.WithHostState(l.w)); err != nil {
		t.Fatal(err)
	}
	l.w.Close(context.Background())
	l.rt.Close(context.Background())
}

// restoreRun restores the checkpoint at path in a fresh runtime and
// resumes it, pausing again after n pause points (0: never).
func restoreRun(t testing.TB, path string, cfg wasi.Config, rc ferry.RestoreConfig, n int64) (leg, error) {
	ctx := context.Background()
	ck, err := ferry.OpenCheckpoint(path)
	if err != nil {
		return leg{}, err
	}
	defer ck.Close()
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	w, err := wasi.Restore(ctx, rt, ck, cfg, wasi.RestoreOptions{})
	if err != nil {
		rt.Close(ctx)
		return leg{}, err
	}
	p, err := rt.Restore(ctx, ck, rc)
	if err != nil {
		rt.Close(ctx)
		return leg{}, err
	}
	_, err = p.Resume(ctx, ferry.CallOptions{PauseAfter: n})
	return finish(t, rt, w, err), nil
}

// TestCheckpointAnywhere is the checkpoint-anywhere differential test:
// ckptprog run to the end, then run again checkpointed at pause points
// spread over the whole run (and chains of checkpoints), each restored in
// a fresh runtime; the concatenated standard output, the output file and
// the exit status must be identical to the uninterrupted run.
func TestCheckpointAnywhere(t *testing.T) {
	wasm := ckptProgram(t)
	var want bytes.Buffer
	dir := ckptDir(t)
	if l := startRun(t, wasm, ckptConfig(dir, &want), 0); l.code != 0 {
		t.Fatalf("uninterrupted run exited %d: %s", l.code, want.String())
	}
	wantFile, err := os.ReadFile(filepath.Join(dir, "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(want.Bytes(), []byte("monotonic ok")) {
		t.Fatalf("unexpected output: %s", want.String())
	}
	points := 0
	for n := int64(1); ; n = n*9/8 + 1 {
		dir := ckptDir(t)
		var out bytes.Buffer
		cfg := ckptConfig(dir, &out)
		l := startRun(t, wasm, cfg, n)
		if l.paused == nil {
			if n == 1 {
				t.Fatal("no pause point polled")
			}
			t.Logf("%d checkpoint runs; the program ended before pause point %d", points, n)
			break
		}
		points++
		if c, known := l.paused.PauseCount(); !known || c != n {
			t.Fatalf("N=%d: pause count %d (known %v)", n, c, known)
		}
		path := filepath.Join(t.TempDir(), "ck")
		ccfg := ferry.NewCheckpointConfig().WithCompression(points%4 == 3)
		l.checkpoint(t, path, ccfg)
		// Every third run is a chain: the restored run pauses again.
		chain, count := 0, n
		for {
			var again int64
			if points%3 == 0 && chain < 3 {
				again = n/3 + 2
			}
			r, err := restoreRun(t, path, cfg, ferry.NewRestoreConfig(), again)
			if err != nil {
				t.Fatalf("N=%d chain %d: restore: %v", n, chain, err)
			}
			if r.paused == nil {
				if r.code != 0 {
					t.Fatalf("N=%d: exit code %d", n, r.code)
				}
				break
			}
			count += again - 1
			if c, known := r.paused.PauseCount(); !known || c != count {
				t.Fatalf("N=%d chain %d: pause count %d (known %v), want %d", n, chain, c, known, count)
			}
			r.checkpoint(t, path, ccfg)
			chain++
		}
		if !bytes.Equal(out.Bytes(), want.Bytes()) {
			t.Fatalf("N=%d: output differs\n--- got\n%s\n--- want\n%s", n, out.String(), want.String())
		}
		gotFile, err := os.ReadFile(filepath.Join(dir, "out.txt"))
		if err != nil || !bytes.Equal(gotFile, wantFile) {
			t.Fatalf("N=%d: out.txt differs (%v)\n--- got\n%s\n--- want\n%s", n, err, gotFile, wantFile)
		}
	}
	if points < 50 {
		t.Fatalf("only %d checkpoints", points)
	}
}

// pausedCheckpoint runs ckptprog to pause point n, writes a checkpoint and
// returns its path, the data directory and the config.
func pausedCheckpoint(t *testing.T, n int64, ccfg ferry.CheckpointConfig) (string, string, *bytes.Buffer) {
	dir := ckptDir(t)
	var out bytes.Buffer
	l := startRun(t, ckptProgram(t), ckptConfig(dir, &out), n)
	if l.paused == nil {
		t.Fatal("did not pause")
	}
	path := filepath.Join(t.TempDir(), "ck")
	l.checkpoint(t, path, ccfg)
	return path, dir, &out
}

// A file the guest had open that changed since the checkpoint is a clear
// error unless accepted.
func TestRestoreChangedFile(t *testing.T) {
	path, dir, out := pausedCheckpoint(t, 2000, ferry.NewCheckpointConfig())
	later := time.Now().Add(time.Hour)
	os.WriteFile(filepath.Join(dir, "in.txt"), []byte(ckptInput+"india\n"), 0o644)
	os.Chtimes(filepath.Join(dir, "in.txt"), later, later)
	_, err := restoreRun(t, path, ckptConfig(dir, out), ferry.NewRestoreConfig(), 0)
	if !errors.Is(err, wasi.ErrFileChanged) {
		t.Fatalf("got %v, want ErrFileChanged", err)
	}
	ctx := context.Background()
	ck, err := ferry.OpenCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt.Close(ctx)
	if _, err := wasi.Restore(ctx, rt, ck, ckptConfig(dir, out), wasi.RestoreOptions{AcceptChangedFiles: true}); err != nil {
		t.Fatalf("accepting changed files: %v", err)
	}
}

// A pre-open can be remapped to another host directory (here: a copy of
// the original with the same modification times).
func TestRestoreRemappedPreopen(t *testing.T) {
	var want bytes.Buffer
	wdir := ckptDir(t)
	startRun(t, ckptProgram(t), ckptConfig(wdir, &want), 0)
	path, dir, out := pausedCheckpoint(t, 3000, ferry.NewCheckpointConfig())
	moved := t.TempDir()
	for _, name := range []string{"in.txt", "out.txt"} {
		src := filepath.Join(dir, name)
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(src)
		os.WriteFile(filepath.Join(moved, name), b, 0o644)
		os.Chtimes(filepath.Join(moved, name), st.ModTime(), st.ModTime())
	}
	os.RemoveAll(dir)
	l, err := restoreRun(t, path, ckptConfig(moved, out), ferry.NewRestoreConfig(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if l.code != 0 || out.String() != want.String() {
		t.Fatalf("exit %d, output differs:\n%s", l.code, out.String())
	}
}

// A checkpoint without the module restores with the right module bytes
// and refuses others.
func TestRestoreModuleOmitted(t *testing.T) {
	path, dir, out := pausedCheckpoint(t, 500, ferry.NewCheckpointConfig().WithModule(false))
	ctx := context.Background()
	ck, err := ferry.OpenCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	if ck.HasModule() {
		t.Fatal("module included")
	}
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt.Close(ctx)
	if _, err := wasi.Restore(ctx, rt, ck, ckptConfig(dir, out), wasi.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Restore(ctx, ck, ferry.NewRestoreConfig()); !errors.Is(err, ferry.ErrCheckpointMismatch) {
		t.Fatalf("no module: %v", err)
	}
	other := append(ckptProgram(t), 0, 0) // a custom section would differ too
	if _, err := rt.Restore(ctx, ck, ferry.NewRestoreConfig().WithModule(other)); !errors.Is(err, ferry.ErrCheckpointMismatch) {
		t.Fatalf("wrong module: %v", err)
	}
	p, err := rt.Restore(ctx, ck, ferry.NewRestoreConfig().WithModule(ckptProgram(t)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Resume(ctx, ferry.CallOptions{}); err != nil {
		t.Fatal(err)
	}
	if info := ck.Info(); len(info.Frames) == 0 || info.ModuleIncluded || info.WASI == nil {
		t.Fatalf("info: %+v", info)
	}
}

// A pause requested from another goroutine stops the guest; the program
// can be checkpointed and continued in the same process.
func TestRequestPauseAndContinue(t *testing.T) {
	ctx := context.Background()
	var want bytes.Buffer
	startRun(t, ckptProgram(t), ckptConfig(ckptDir(t), &want), 0)
	var out bytes.Buffer
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	defer rt.Close(ctx)
	w, err := wasi.Instantiate(ctx, rt, ckptConfig(ckptDir(t), &out))
	if err != nil {
		t.Fatal(err)
	}
	cm, _ := rt.Compile(ctx, ckptProgram(t))
	inst, err := rt.Instantiate(ctx, cm, "")
	if err != nil {
		t.Fatal(err)
	}
	inst.RequestPause() // honoured at the first pause point
	_, err = inst.Function("_start").Call(ctx)
	var p *ferry.Paused
	if !errors.As(err, &p) || !errors.Is(err, ferry.ErrPaused) {
		t.Fatalf("got %v, want a pause", err)
	}
	var buf bytes.Buffer
	if _, err := p.WriteCheckpoint(&buf, ferry.NewCheckpointConfig().WithHostState(w)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Resume(ctx, ferry.CallOptions{}); err != nil {
		t.Fatal(err)
	}
	if out.String() != want.String() {
		t.Fatalf("output differs:\n%s", out.String())
	}
	ck, err := ferry.ReadCheckpoint(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	// The pause was pending before the call: it stopped at _start's entry.
	if fs := ck.Info().Frames; len(fs) != 1 || fs[0].Kind != "entry" {
		t.Fatalf("frames %+v", fs)
	}
}

// Listening sockets are re-created: on their recorded (loopback) address
// when the checkpoint is signed by a trusted key, else on the ones the
// restoring configuration grants, which an untrusted checkpoint needs.
func TestRestoreListeners(t *testing.T) {
	dir := ckptDir(t)
	var out bytes.Buffer
	cfg := ckptConfig(dir, &out).WithTCPListen("127.0.0.1:0")
	l := startRun(t, ckptProgram(t), cfg, 700)
	if l.paused == nil {
		t.Fatal("did not pause")
	}
	var addr string
	for _, d := range l.w.Descriptors() {
		if d.Kind.String() == "listener" {
			addr = d.Addr
		}
	}
	key := testKey(t)
	path := filepath.Join(t.TempDir(), "ck")
	l.checkpoint(t, path, ferry.NewCheckpointConfig().WithSigningKey(key))
	ctx := context.Background()
	trusted := ferry.NewOpenConfig().WithTrustedKey(key.Trusted())
	for _, c := range []struct {
		cfg     wasi.Config
		open    ferry.OpenConfig
		same    bool
		granted bool
	}{
		{ckptConfig(dir, &out), trusted, true, true},
		{ckptConfig(dir, &out).WithTCPListen("127.0.0.1:0"), trusted, false, true},
		{ckptConfig(dir, &out).WithTCPListen("127.0.0.1:0"), ferry.NewOpenConfig(), false, true},
		{ckptConfig(dir, &out), ferry.NewOpenConfig(), false, false},
	} {
		ck, err := ferry.OpenCheckpointWith(path, c.open)
		if err != nil {
			t.Fatal(err)
		}
		rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
		w, err := wasi.Restore(ctx, rt, ck, c.cfg, wasi.RestoreOptions{})
		if !c.granted {
			if !errors.Is(err, wasi.ErrNotGranted) || !strings.Contains(err.Error(), "--tcplisten") {
				t.Fatalf("an untrusted listener without a grant: %v, want ErrNotGranted", err)
			}
			rt.Close(ctx)
			ck.Close()
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var got string
		for _, d := range w.Descriptors() {
			if d.Kind.String() == "listener" {
				got = d.Addr
			}
		}
		if got == "" || (got == addr) != c.same {
			t.Fatalf("listener %q, recorded %q, want same=%v", got, addr, c.same)
		}
		rt.Close(ctx)
		w.Close(ctx)
		ck.Close()
	}
}

func testKey(t testing.TB) ferry.SigningKey {
	k, err := ferry.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// restoreWith restores the checkpoint at path opened with open and
// resumes it to the end.
func restoreWith(t *testing.T, path string, open ferry.OpenConfig, cfg wasi.Config) (ferry.SignatureInfo, leg, error) {
	ctx := context.Background()
	ck, err := ferry.OpenCheckpointWith(path, open)
	if err != nil {
		return ferry.SignatureInfo{}, leg{}, err
	}
	defer ck.Close()
	sig := ck.Signature()
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	w, err := wasi.Restore(ctx, rt, ck, cfg, wasi.RestoreOptions{})
	if err != nil {
		rt.Close(ctx)
		return sig, leg{}, err
	}
	p, err := rt.Restore(ctx, ck, ferry.NewRestoreConfig())
	if err != nil {
		rt.Close(ctx)
		return sig, leg{}, err
	}
	_, err = p.Resume(ctx, ferry.CallOptions{})
	return sig, finish(t, rt, w, err), nil
}

// The Go API's rules are the CLI's: a checkpoint signed by a trusted key
// (Ed25519 or HMAC) restores without its pre-open granted, and continues
// as the uninterrupted run; signed by another key, or unsigned, it needs
// the grant, and gets it.
func TestSignedCheckpointRestoresWithoutPreopen(t *testing.T) {
	var want bytes.Buffer
	startRun(t, ckptProgram(t), ckptConfig(ckptDir(t), &want), 0)
	ed := testKey(t)
	mac, err := ferry.NewHMACKey([]byte("a shared secret of 32 bytes.....")) // 32 bytes
	if err != nil {
		t.Fatal(err)
	}
	stranger := testKey(t)
	bare := wasi.NewConfig()
	for _, c := range []struct {
		name    string
		sign    []ferry.SigningKey
		trust   []ferry.TrustedKey
		trusted bool
	}{
		{"ed25519, trusted", []ferry.SigningKey{ed}, []ferry.TrustedKey{ed.Trusted()}, true},
		{"hmac, trusted", []ferry.SigningKey{mac}, []ferry.TrustedKey{mac.Trusted()}, true},
		{"two signatures, the second trusted", []ferry.SigningKey{stranger, mac}, []ferry.TrustedKey{mac.Trusted()}, true},
		{"unknown key", []ferry.SigningKey{stranger}, []ferry.TrustedKey{ed.Trusted(), mac.Trusted()}, false},
		{"unsigned", nil, []ferry.TrustedKey{ed.Trusted()}, false},
	} {
		dir := ckptDir(t)
		var out bytes.Buffer
		l := startRun(t, ckptProgram(t), ckptConfig(dir, &out), 500)
		cc := ferry.NewCheckpointConfig()
		for _, k := range c.sign {
			cc = cc.WithSigningKey(k)
		}
		path := filepath.Join(t.TempDir(), "ck")
		l.checkpoint(t, path, cc)
		open := ferry.NewOpenConfig()
		for _, k := range c.trust {
			open = open.WithTrustedKey(k)
		}
		// The restore's stdout, and nothing else of the host.
		sig, _, err := restoreWith(t, path, open, bare.WithStdout(&out).WithStderr(&out))
		if sig.Signed != (len(c.sign) > 0) || sig.Trusted != c.trusted || len(sig.Signatures) != len(c.sign) {
			t.Errorf("%s: Signature() = %+v", c.name, sig)
		}
		if !c.trusted {
			if !errors.Is(err, wasi.ErrNotGranted) || !strings.Contains(err.Error(), `pre-open "." (recorded host dir`) {
				t.Errorf("%s: restore without the pre-open: %v, want ErrNotGranted", c.name, err)
			}
			if _, _, err = restoreWith(t, path, open, ckptConfig(dir, &out)); err != nil {
				t.Errorf("%s: restore with the pre-open granted: %v", c.name, err)
			}
		} else if err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if out.String() != want.String() {
			t.Errorf("%s: output differs from the uninterrupted run", c.name)
		}
	}
}

// A checkpoint signed by a trusted key and changed afterwards is refused
// when it is opened, before anything in it is read.
func TestTamperedSignedCheckpointRefusedByAPI(t *testing.T) {
	var out bytes.Buffer
	l := startRun(t, ckptProgram(t), ckptConfig(ckptDir(t), &out), 500)
	k := testKey(t)
	path := filepath.Join(t.TempDir(), "ck")
	l.checkpoint(t, path, ferry.NewCheckpointConfig().WithSigningKey(k).WithCompression(true))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/3] ^= 4
	_, err = ferry.ReadCheckpointWith(bytes.NewReader(b), int64(len(b)), ferry.NewOpenConfig().WithTrustedKey(k.Trusted()))
	if !errors.Is(err, ferry.ErrCheckpointSignature) || !errors.Is(err, ferry.ErrCheckpointCorrupt) {
		t.Fatalf("got %v, want ErrCheckpointSignature", err)
	}
}

// A pre-open granted for a guest path the checkpoint does not record is
// an error, which lists the recorded ones.
func TestUnmatchedPreopenIsAnError(t *testing.T) {
	dir := ckptDir(t)
	var out bytes.Buffer
	l := startRun(t, ckptProgram(t), ckptConfig(dir, &out), 500)
	path := filepath.Join(t.TempDir(), "ck")
	l.checkpoint(t, path, ferry.NewCheckpointConfig())
	_, _, err := restoreWith(t, path, ferry.NewOpenConfig(), ckptConfig(dir, &out).WithPreopen(t.TempDir(), "/data"))
	if !errors.Is(err, wasi.ErrNotGranted) || !strings.Contains(err.Error(), `"/data" matches no pre-open the checkpoint records (recorded guest paths: ".")`) {
		t.Fatalf("got %v", err)
	}
}

//go:build linux

package shim_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// runtimeName is the shim's runtime name, as ctr --runtime takes it.
const runtimeName = "io.containerd.ferry.v1"

// requireTools skips the test when a tool it needs is missing, unless
// CI is set: there a missing containerd is a broken setup, not a reason
// to pass silently.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	var missing []string
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if os.Geteuid() != 0 {
		missing = append(missing, "root (containerd mounts and unshare need it)")
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("containerd integration test needs %s (Debian: apt-get install -y containerd util-linux)", strings.Join(missing, ", "))
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

var (
	buildOnce sync.Once
	shimDir   string
	buildErr  error
)

// TestMain removes the shim built for the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if shimDir != "" {
		os.RemoveAll(shimDir)
	}
	os.Exit(code)
}

// buildShim builds containerd-shim-ferry-v1 once for the whole test run
// and returns the directory holding it, for containerd's PATH.
func buildShim(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ferry-shim-bin")
		if err != nil {
			buildErr = err
			return
		}
		shimDir = dir
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "containerd-shim-ferry-v1"), "./cmd/containerd-shim-ferry-v1").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build the shim: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return shimDir
}

// daemon is a containerd started by the test, with its own root, state
// directory and socket, in a mount namespace of its own with a tmpfs over
// /run: the shim sockets and FIFOs that containerd puts under the fixed
// /run/containerd never touch the host's. Its ctr commands enter that
// namespace.
type daemon struct {
	t       *testing.T
	dir     string
	address string
	cmd     *exec.Cmd
	log     *bytes.Buffer
}

// startDaemon starts containerd with the shim found through pathDir.
func startDaemon(t *testing.T, pathDir string) *daemon {
	t.Helper()
	dir := t.TempDir()
	d := &daemon{t: t, dir: dir, address: filepath.Join(dir, "containerd.sock"), log: new(bytes.Buffer)}
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = %q
[ttrpc]
  address = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), d.address, d.address+".ttrpc")
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command("unshare", "--mount", "--propagation", "private", "--",
		"sh", "-c", `mount -t tmpfs tmpfs /run && exec containerd --config "$1"`, "sh", cfgPath)
	d.cmd.Env = append(os.Environ(), "PATH="+pathDir+":"+os.Getenv("PATH"))
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start containerd: %v", err)
	}
	t.Cleanup(d.stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := d.ctrErr("version"); err == nil {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd did not come up within 30s; its log:\n%s", d.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop ends the tasks the test left (each shim by its own pid, which
// containerd reports) and then containerd, by its pid.
func (d *daemon) stop() {
	if out, err := d.ctrErr("tasks", "ls", "-q"); err == nil {
		for _, id := range strings.Fields(out) {
			d.ctrErr("tasks", "kill", "-s", "SIGKILL", id)
			d.ctrErr("tasks", "rm", "-f", id)
		}
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		d.cmd.Process.Kill()
		<-done
	}
	// A shim that outlived its daemon is a bug (its task was never
	// deleted and shut down); it is stopped here, by its pid, so that a
	// failed test leaves nothing running.
	for _, pid := range d.shimPids() {
		d.t.Errorf("shim %d outlived its containerd; killing it", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	// containerd's snapshots may still be mounted in the namespace,
	// which died with it; nothing of them is left on the host.
	if d.t.Failed() {
		d.t.Logf("containerd log:\n%s", d.log)
	}
}

// ctrCmd is a ctr command in the daemon's mount namespace.
func (d *daemon) ctrCmd(args ...string) *exec.Cmd {
	full := append([]string{"--target", strconv.Itoa(d.cmd.Process.Pid), "--mount", "--", "ctr", "--address", d.address}, args...)
	return exec.Command("nsenter", full...)
}

// ctrErr runs ctr and returns its combined output.
func (d *daemon) ctrErr(args ...string) (string, error) {
	out, err := d.ctrCmd(args...).CombinedOutput()
	return string(out), err
}

// ctr runs ctr and fails the test when it fails.
func (d *daemon) ctr(args ...string) string {
	d.t.Helper()
	out, err := d.ctrErr(args...)
	if err != nil {
		d.t.Fatalf("ctr %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// shimPids are the pids of the live shims that containerd started for
// this daemon: processes running containerd-shim-ferry-v1 (directly, or
// as the program qemu-aarch64 runs) with this daemon's socket address
// among their arguments.
func (d *daemon) shimPids() []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		shim, ours := false, false
		for _, a := range strings.Split(string(cmdline), "\x00") {
			shim = shim || strings.HasPrefix(filepath.Base(a), "containerd-shim-ferry-v1")
			ours = ours || a == d.address
		}
		if shim && ours {
			pids = append(pids, pid)
		}
	}
	return pids
}

// imageFile is a file of a test image.
type imageFile struct {
	name string
	data []byte
}

// writeImage writes an OCI image layout tarball holding files in one
// layer, with the given entrypoint, named ref, for ctr images import.
func writeImage(t *testing.T, path, ref string, entrypoint []string, files ...imageFile) {
	t.Helper()
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o755, Size: int64(len(f.data)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.data)
	}
	tw.Close()
	blobs := map[string][]byte{}
	add := func(b []byte) (string, int) {
		sum := sha256.Sum256(b)
		h := hex.EncodeToString(sum[:])
		blobs[h] = b
		return "sha256:" + h, len(b)
	}
	layerDigest, layerSize := add(layer.Bytes())
	config, _ := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"config":       map[string]any{"Entrypoint": entrypoint},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{layerDigest}},
	})
	configDigest, configSize := add(config)
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": configDigest, "size": configSize},
		"layers":        []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layerDigest, "size": layerSize}},
	})
	manifestDigest, manifestSize := add(manifest)
	index, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"manifests": []any{map[string]any{
			"mediaType":   "application/vnd.oci.image.manifest.v1+json",
			"digest":      manifestDigest,
			"size":        manifestSize,
			"platform":    map[string]any{"os": "linux", "architecture": runtime.GOARCH},
			"annotations": map[string]string{"io.containerd.image.name": ref},
		}},
	})
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := tar.NewWriter(f)
	put := func(name string, b []byte) {
		if err := out.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
		out.Write(b)
	}
	put("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	put("index.json", index)
	for h, b := range blobs {
		put("blobs/sha256/"+h, b)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// importTestImage builds and imports the test image: hello.wasm as the
// entrypoint, counter.wasm beside it.
func (d *daemon) importTestImage(ref string) {
	d.t.Helper()
	path := filepath.Join(d.dir, "image.tar")
	writeImage(d.t, path, ref, []string{"/hello.wasm"},
		imageFile{"hello.wasm", readTestdata(d.t, "hello.wasm")},
		imageFile{"counter.wasm", readTestdata(d.t, "counter.wasm")})
	d.ctr("images", "import", path)
}

// waitNoShims fails the test unless every shim of this daemon has exited
// within a few seconds: a shim exits shortly after containerd's Shutdown
// call returns, not during it.
func (d *daemon) waitNoShims(why string) {
	d.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := d.shimPids()
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			d.t.Errorf("shims still running %s: %v", why, pids)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

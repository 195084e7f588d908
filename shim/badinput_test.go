//go:build linux

package shim_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunImageWithoutWasmEntrypoint: an image whose entrypoint is not a
// .wasm file fails ctr run with an error that says so, and leaves no
// shim and no task behind.
func TestRunImageWithoutWasmEntrypoint(t *testing.T) {
	requireTools(t, "containerd", "ctr", "unshare", "nsenter")
	d := startDaemon(t, buildShim(t))
	path := filepath.Join(d.dir, "notwasm.tar")
	const ref = "ferry.test/notwasm:latest"
	writeImage(t, path, ref, []string{"/bin/app"}, imageFile{"bin/app", []byte("#!/bin/sh\necho not wasm\n")})
	d.ctr("images", "import", path)
	out, err := d.ctrErr("run", "--rm", "--runtime", runtimeName, ref, "notwasm1")
	if err == nil {
		t.Fatalf("ctr run of an image without a .wasm entrypoint succeeded:\n%s", out)
	}
	t.Logf("ctr run: %s", out)
	if !strings.Contains(out, "not a WebAssembly module") || !strings.Contains(out, "/bin/app") {
		t.Errorf("ctr run error does not say what is wrong:\n%s", out)
	}
	checkNothingRunning(t, d)
}

// checkNothingRunning fails unless d has no task and no shim left.
func checkNothingRunning(t *testing.T, d *daemon) {
	t.Helper()
	if tasks := strings.TrimSpace(d.ctr("tasks", "ls", "-q")); tasks != "" {
		t.Errorf("tasks left: %s", tasks)
	}
	d.waitNoShims("after a failed create")
}

// checkpointBlob finds, in d's content store, the file of the checkpoint
// data blob (containerd's "criu.tar") of the checkpoint image ref.
func checkpointBlob(t *testing.T, d *daemon, ref string) string {
	t.Helper()
	var target string
	for _, line := range strings.Split(d.ctr("images", "ls"), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == ref {
			target = f[2]
		}
	}
	if target == "" {
		t.Fatalf("no image %s", ref)
	}
	var index struct {
		Manifests []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal([]byte(d.ctr("content", "get", target)), &index); err != nil {
		t.Fatalf("checkpoint index of %s: %v", ref, err)
	}
	for _, m := range index.Manifests {
		if strings.HasSuffix(m.MediaType, "criu.checkpoint.criu.tar") {
			hex := strings.TrimPrefix(m.Digest, "sha256:")
			return filepath.Join(d.dir, "root", "io.containerd.content.v1.content", "blobs", "sha256", hex)
		}
	}
	t.Fatalf("checkpoint image %s has no criu.tar blob: %+v", ref, index)
	return ""
}

// checkpointCounter runs a counter, checkpoints it into the image ref and
// kills it.
func checkpointCounter(t *testing.T, d *daemon, id, ref string) {
	t.Helper()
	out, run := startCounter(t, d, id)
	out.waitFor(t, 3)
	d.ctr("containers", "checkpoint", "--task", "--image", id, ref)
	killTask(t, d, id, run)
	d.ctr("containers", "rm", id)
}

// TestRestoreCorruptCheckpoint: a checkpoint image whose data was damaged
// in the content store (one byte of the Ferry checkpoint flipped, the tar
// around it intact) fails ctr containers restore with Ferry's corrupt
// checkpoint error, and leaves nothing running.
func TestRestoreCorruptCheckpoint(t *testing.T) {
	requireTools(t, "containerd", "ctr", "unshare", "nsenter")
	d := startDaemon(t, buildShim(t))
	d.importTestImage(helloRef)
	const ref = "ferry.test/counter-ckpt:corrupt"
	checkpointCounter(t, d, "counter1", ref)
	blob := checkpointBlob(t, d, ref)
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	// The data of the tar's first file starts after its 512-byte header;
	// flip a byte in the middle of it.
	hdr, err := tar.NewReader(bytes.NewReader(b)).Next()
	if err != nil || hdr.Name != "ferry.checkpoint" {
		t.Fatalf("checkpoint blob: first entry %v, %v; want ferry.checkpoint", hdr, err)
	}
	b[512+hdr.Size/2] ^= 0x40
	if err := os.WriteFile(blob, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := d.ctrErr("containers", "restore", "--live", "counter2", ref)
	if err == nil {
		t.Fatalf("restore of a corrupt checkpoint succeeded:\n%s", out)
	}
	t.Logf("ctr containers restore: %s", out)
	if !strings.Contains(out, "corrupt") {
		t.Errorf("restore error does not say the checkpoint is corrupt:\n%s", out)
	}
	d.ctrErr("containers", "rm", "counter2")
	checkNothingRunning(t, d)
}

// TestRestoreCheckpointOfAnotherRuntime: a checkpoint image whose data is
// what runc writes (CRIU image files, no Ferry checkpoint) fails ctr
// containers restore with an error naming the problem. CRIU cannot
// checkpoint on this kernel, so the runc checkpoint is made by replacing
// the data of a Ferry one, in the content store, with CRIU's files.
func TestRestoreCheckpointOfAnotherRuntime(t *testing.T) {
	requireTools(t, "containerd", "ctr", "unshare", "nsenter")
	d := startDaemon(t, buildShim(t))
	d.importTestImage(helloRef)
	const ref = "ferry.test/counter-ckpt:runc"
	checkpointCounter(t, d, "counter1", ref)
	blob := checkpointBlob(t, d, ref)
	fi, err := os.Stat(blob)
	if err != nil {
		t.Fatal(err)
	}
	// Same size as the blob it replaces: containerd reads a blob up to
	// the size it recorded.
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, name := range []string{"inventory.img", "descriptors.json"} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: 4, Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)})
		tw.Write([]byte("CRIU"))
	}
	pad := fi.Size() - 2*1024 - 512 - 1024 // two small files, the header of the third, the trailer
	if pad < 0 {
		t.Fatalf("checkpoint blob of %d bytes is too small to replace", fi.Size())
	}
	tw.WriteHeader(&tar.Header{Name: "pages-1.img", Mode: 0o600, Size: pad, Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)})
	tw.Write(make([]byte, pad))
	tw.Close()
	if int64(tb.Len()) != fi.Size() {
		t.Fatalf("replacement is %d bytes, want %d", tb.Len(), fi.Size())
	}
	if err := os.WriteFile(blob, tb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := d.ctrErr("containers", "restore", "--live", "counter2", ref)
	if err == nil {
		t.Fatalf("restore of a runc checkpoint succeeded:\n%s", out)
	}
	t.Logf("ctr containers restore: %s", out)
	if !strings.Contains(out, "not a Ferry checkpoint") {
		t.Errorf("restore error does not say it is not a Ferry checkpoint:\n%s", out)
	}
	d.ctrErr("containers", "rm", "counter2")
	checkNothingRunning(t, d)
}

// TestShimKilledMidRun: a shim killed with SIGKILL while its program runs
// (the program runs inside it and dies with it) is reported dead by
// containerd: ctr run returns, the task is no longer running, and no
// shim process is left.
func TestShimKilledMidRun(t *testing.T) {
	requireTools(t, "containerd", "ctr", "unshare", "nsenter")
	d := startDaemon(t, buildShim(t))
	d.importTestImage(helloRef)
	out, run := startCounter(t, d, "counter1")
	out.waitFor(t, 3)
	pids := d.shimPids()
	if len(pids) != 1 {
		t.Fatalf("shims of the daemon: %v, want one", pids)
	}
	mountinfo := "/proc/" + strconv.Itoa(d.cmd.Process.Pid) + "/mountinfo"
	if mounts, err := os.ReadFile(mountinfo); err != nil || !strings.Contains(string(mounts), "/counter1/rootfs") {
		t.Fatalf("the running task's rootfs is not among containerd's mounts (%v)", err)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- run.Wait() }()
	select {
	case err := <-done:
		t.Logf("ctr run after the shim was killed: %v; ctr tasks ls:\n%s", err, d.ctr("tasks", "ls"))
		if err == nil {
			t.Errorf("ctr run succeeded after its shim was killed")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ctr run still waits 30s after its shim was killed")
	}
	ls := d.ctr("tasks", "ls")
	for _, line := range strings.Split(ls, "\n") {
		if strings.HasPrefix(line, "counter1 ") && !strings.Contains(line, "STOPPED") {
			t.Errorf("containerd still reports the task of a killed shim:\n%s", ls)
		}
	}
	d.waitNoShims("after the shim was killed")
	// containerd ran the shim's delete action, which unmounts the rootfs
	// the dead shim had mounted (in containerd's mount namespace).
	deadline := time.Now().Add(10 * time.Second)
	for {
		mounts, err := os.ReadFile(mountinfo)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(mounts), "/counter1/rootfs") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rootfs of the killed shim's task is still mounted:\n%s", mounts)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !processGone(pids[0], 10*time.Second) {
		t.Errorf("shim %d still exists", pids[0])
	}
}

// processGone waits until pid no longer exists or is a zombie (dead,
// waiting for whoever adopted it to reap it).
func processGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return true
		}
		// The state follows the parenthesised command name.
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

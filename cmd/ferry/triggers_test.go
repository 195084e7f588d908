package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// --checkpoint-to into a missing directory was noticed only when the
// trigger fired, maybe hours into the run; it is refused at start.
func TestCheckpointToMissingDirLate(t *testing.T) {
	dir := ckptData(t)
	missing := filepath.Join(t.TempDir(), "nope", "ck")
	code, out, stderr := runCLI(t, "run", "--dir", dir+"::.", "--checkpoint-to", missing, "--checkpoint-on", "pause:100000000",
		ckptProg, "in.txt", "out.txt")
	if code != exitUsage || out != "" || !strings.Contains(stderr, "--checkpoint-to "+missing+": stat ") {
		t.Errorf("missing directory: exit %d, stdout %q, stderr %q; want exit %d before the program runs", code, out, stderr, exitUsage)
	}
	code, out, stderr = runCLI(t, "restore", "--checkpoint-to", t.TempDir(), "x.ckpt")
	if code != exitUsage || !strings.Contains(stderr, "is a directory") {
		t.Errorf("a directory as the file: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}

// A pause:N trigger beyond the program's end wrote nothing and said
// nothing, and one behind a restored checkpoint was as silent.
func TestCheckpointOnPauseSilent(t *testing.T) {
	dir := ckptData(t)
	ck := filepath.Join(t.TempDir(), "ck")
	code, _, stderr := runCLI(t, "run", "--dir", dir+"::.", "--checkpoint-to", ck, "--checkpoint-on", "pause:100000000",
		ckptProg, "in.txt", "out.txt")
	want := "ferry: --checkpoint-on pause:100000000 did not fire: the program ended first; no checkpoint was written for it\n"
	if _, err := os.Stat(ck); code != exitOK || err == nil || !strings.Contains(stderr, want) {
		t.Fatalf("pause point beyond the end: exit %d, stderr %q; want no checkpoint and %q", code, stderr, want)
	}
	if code, _, stderr := runCLI(t, "run", "--dir", ckptData(t)+"::.", "--checkpoint-to", ck, "--checkpoint-on", "pause:500",
		ckptProg, "in.txt", "out.txt"); code != exitOK || strings.Contains(stderr, "did not fire") {
		t.Fatalf("pause:500: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "restore", "--checkpoint-to", ck+"2", "--checkpoint-on", "pause:200", ck)
	want = "ferry: --checkpoint-on pause:200 cannot fire: the run restored is at pause point 500 already"
	if code != exitOK || !strings.Contains(stderr, want) || strings.Contains(stderr, "did not fire") {
		t.Errorf("pause point behind the checkpoint: exit %d, stderr %q; want %q", code, stderr, want)
	}
}

// The changed-file error printed raw nanosecond timestamps, no host path,
// "wasi:" twice, and no hint of --accept-changed-files or cp -p.
func TestChangedFileErrorRawNanoseconds(t *testing.T) {
	dir := ckptData(t)
	ck := filepath.Join(t.TempDir(), "ck")
	if code, _, stderr := runCLI(t, "run", "--dir", dir+"::.", "--checkpoint-to", ck, "--checkpoint-on", "pause:800",
		ckptProg, "in.txt", "out.txt"); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	out := filepath.Join(dir, "out.txt")
	f, err := os.OpenFile(out, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("changed\n")
	f.Close()
	code, _, stderr := runCLI(t, "restore", ck)
	readable := regexp.MustCompile(`modified \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} `)
	if code != exitFail || strings.Count(stderr, "wasi:") != 1 || !strings.Contains(stderr, out+" is ") ||
		len(readable.FindAllString(stderr, -1)) != 2 || regexp.MustCompile(`\d ns`).MatchString(stderr) ||
		!strings.Contains(stderr, "--accept-changed-files") || !strings.Contains(stderr, "cp -p") {
		t.Errorf("exit %d, stderr:\n%s\nwant one wasi:, the host path, readable times and the hints", code, stderr)
	}
}

// The line saying a checkpoint was written gave neither its size nor the
// time it took, periodic checkpoints printed identical lines, and nothing
// could silence it.
func TestCheckpointLineWithoutSize(t *testing.T) {
	ck := filepath.Join(t.TempDir(), "ck")
	code, _, stderr := runCLI(t, "run", "--dir", ckptData(t)+"::.", "--checkpoint-to", ck, "--checkpoint-on", "pause:300",
		"--checkpoint-on", "pause:600", "--leave-running", ckptProg, "in.txt", "out.txt")
	st, err := os.Stat(ck)
	if code != exitOK || err != nil {
		t.Fatalf("exit %d, %v: %s", code, err, stderr)
	}
	line := regexp.MustCompile(`ferry: checkpoint written to \S+ at pause point (\d+) \(#(\d), (\d+\.\d) KiB in [0-9.]+[µm]?s, paused [0-9.]+[µm]?s\)\n`)
	m := line.FindAllStringSubmatch(stderr, -1)
	if len(m) != 2 || m[0][1] != "300" || m[0][2] != "1" || m[1][1] != "600" || m[1][2] != "2" {
		t.Fatalf("stderr:\n%s\nwant two numbered lines with size and times", stderr)
	}
	if want := fmt.Sprintf("%.1f", float64(st.Size())/1024); m[1][3] != want {
		t.Errorf("size %s KiB, the file has %s KiB", m[1][3], want)
	}
	for _, q := range []string{"-q", "--quiet"} {
		os.Remove(ck)
		code, _, stderr = runCLI(t, "run", q, "--dir", ckptData(t)+"::.", "--checkpoint-to", ck, "--checkpoint-on", "pause:300",
			ckptProg, "in.txt", "out.txt")
		if _, err := os.Stat(ck); code != exitOK || err != nil || stderr != "" {
			t.Errorf("%s: exit %d, checkpoint %v, stderr %q; want a checkpoint and nothing said", q, code, err, stderr)
		}
	}
}

// inspect showed a pre-open's GUEST path under "pre-open" and the path
// beneath it under "guest path", so users moving a program passed the
// wrong one to --dir. The headings use --dir's words, and inspect says
// which --dir a restore needs; following it, with the directory moved,
// restores.
func TestInspectHeadingsUnlikeDir(t *testing.T) {
	dir := ckptData(t)
	ck := filepath.Join(t.TempDir(), "ck")
	if code, _, stderr := runCLI(t, "run", "--dir", dir+"::/data", "--checkpoint-to", ck, "--checkpoint-on", "pause:800",
		ckptProg, "/data/in.txt", "/data/out.txt"); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	_, out, _ := runCLI(t, "inspect", ck)
	want := "restore with  --dir " + dir + "::/data "
	if !strings.Contains(out, "GUEST (pre-open)") || !strings.Contains(out, "HOST path") || !strings.Contains(out, want) {
		t.Fatalf("inspect lacks the --dir headings or %q:\n%s", want, out)
	}
	moved := filepath.Join(t.TempDir(), "moved")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "restore", "--dir", moved+"::/data", ck); code != exitOK {
		t.Errorf("restore as inspect says, HOST moved: exit %d: %s", code, stderr)
	}
}

// After the program's directory moved, restore said `restore fd 3
// (preopen "."): pre-open OLDDIR: no such file or directory`: "." is no
// --dir GUEST, and nothing said what to pass.
func TestRestoreMovedDirMisleads(t *testing.T) {
	dir := ckptData(t)
	ck := filepath.Join(t.TempDir(), "ck")
	if code, _, stderr := runCLI(t, "run", "--dir", dir+"::/data", "--checkpoint-to", ck, "--checkpoint-on", "pause:800",
		ckptProg, "/data/in.txt", "/data/out.txt"); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	if err := os.Rename(dir, dir+".moved"); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "restore", ck) // signed by this user's key: the recorded directory is kept
	want := `pre-open "/data": its host directory ` + dir + `: no such file or directory; pass --dir NEWDIR::/data`
	if code != exitFail || !strings.Contains(stderr, want) || strings.Contains(stderr, `"."`) {
		t.Errorf("exit %d, stderr %q; want %q", code, stderr, want)
	}
}

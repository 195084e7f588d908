package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ferryvm/ferry/internal/snapshot"
)

// Grants come from the restorer: the findings of the review of issue 14.
// A checkpoint's checksums are no authentication, so an attacker who edits
// sections and recomputes them (editCheckpoint) must get nothing that
// "ferry restore" does not grant on its command line, unless the file is
// signed by a key the restoring host trusts.

// fileprogExit is fileprog's exit status when it finishes.
const fileprogExit = 7

// grantsCheckpoint runs fileprog in a fresh directory to pause point 3000
// and returns the checkpoint's bytes and path and the directory; extra are
// more "ferry run" flags (signing).
func grantsCheckpoint(t *testing.T, extra ...string) (b []byte, ck, dir string) {
	t.Helper()
	dir = forgeSetup(t)
	ck = filepath.Join(t.TempDir(), "ck")
	args := append([]string{"run", "--dir", dir + "::.", "--checkpoint-to", ck, "--checkpoint-on", "pause:3000"}, extra...)
	if code, _, stderr := runCLI(t, append(args, "testdata/fileprog.wasm")...); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	return b, ck, dir
}

// preopenOf returns the checkpoint's pre-open of guest path ".".
func preopenOf(t *testing.T, s *snapshot.Snapshot) *snapshot.Descriptor {
	t.Helper()
	for i := range s.WASI.Descriptors {
		if d := &s.WASI.Descriptors[i]; d.Kind == snapshot.KindPreopen && d.Preopen == "." {
			return d
		}
	}
	t.Fatal("no pre-open \".\" recorded")
	return nil
}

// copyDir is a copy of dir's files, modification times included (so that
// the restore's changed-file check passes there): the target a forged
// path points to.
func copyDir(t *testing.T, dir string) string {
	to := t.TempDir()
	for name, content := range snapshotDir(t, dir) {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(filepath.Join(to, name), fi.ModTime(), fi.ModTime()); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

// A forged extra pre-open of "/" was granted by ferry restore even with a
// --dir for the genuine one: the guest could read /etc/shadow.
func TestForgedPreopenRootNotGranted(t *testing.T) {
	b, _, dir := grantsCheckpoint(t, "--no-sign")
	forged := editCheckpoint(t, b, func(s *snapshot.Snapshot) {
		s.WASI.Descriptors = append(s.WASI.Descriptors, snapshot.Descriptor{FD: 99, Kind: snapshot.KindPreopen,
			Preopen: "/", GuestPath: ".", HostPath: "/", Rights: 1<<30 - 1, Inherit: 1<<30 - 1})
	})
	path := writeTemp(t, forged)
	for _, args := range [][]string{{"--dir", dir + "::."}, {}} {
		code, out, stderr := runCLI(t, append(append([]string{"restore"}, args...), path)...)
		want := `pre-open "/" (recorded host dir "/") is not granted: pass --dir HOSTDIR::/`
		if len(args) == 0 {
			want = `pre-open "." (recorded host dir ` // the first recorded pre-open is refused first
		}
		if code != exitFail || out != "" || !strings.Contains(stderr, want) {
			t.Errorf("restore %v: exit %d, stdout %q, stderr %s; want exit %d and %q", args, code, out, stderr, exitFail, want)
		}
	}
	// Granting "/" explicitly is the restorer's call, and works.
	if code, _, stderr := runCLI(t, "restore", "--dir", dir+"::.", "--dir", t.TempDir()+"::/", path); code != fileprogExit {
		t.Errorf("restore with both pre-opens granted: exit %d: %s", code, stderr)
	}
}

// A pre-open whose recorded host path was edited to another directory
// (/etc in the review; here a copy of the guest's files, so that the
// restore would succeed there) was reopened there by a restore without
// --dir.
func TestForgedPreopenHostPathEditedNotGranted(t *testing.T) {
	b, _, dir := grantsCheckpoint(t, "--no-sign")
	target := copyDir(t, dir)
	forged := editCheckpoint(t, b, func(s *snapshot.Snapshot) { preopenOf(t, s).HostPath = target })
	before := snapshotDir(t, target)
	code, out, stderr := runCLI(t, "restore", writeTemp(t, forged))
	want := fmt.Sprintf(`pre-open "." (recorded host dir %q) is not granted: pass --dir HOSTDIR::., or sign checkpoints`, target)
	if code != exitFail || out != "" || !strings.Contains(stderr, strings.Replace(want, "HOSTDIR::.,", "HOSTDIR::. (wasi.Config.WithPreopen),", 1)) {
		t.Errorf("restore: exit %d, stdout %q, stderr %s; want exit %d and %q", code, out, stderr, exitFail, want)
	}
	if after := snapshotDir(t, target); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the guest wrote to the forged directory")
	}
	// Granted, it runs in the directory the restorer chose.
	if code, _, stderr := runCLI(t, "restore", "--dir", dir+"::.", writeTemp(t, forged)); code != fileprogExit {
		t.Errorf("restore --dir: exit %d: %s", code, stderr)
	}
	if after := snapshotDir(t, target); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the guest wrote to the forged directory")
	}
}

// A --dir whose guest path the checkpoint does not record was silently
// ignored, leaving the recorded directory in place.
func TestUnmatchedDirIsAnError(t *testing.T) {
	_, ck, dir := grantsCheckpoint(t)
	before := snapshotDir(t, dir)
	code, out, stderr := runCLI(t, "restore", "--dir", t.TempDir()+"::/data", ck)
	want := `--dir for guest path "/data" matches no pre-open the checkpoint records (recorded guest paths: ".")`
	if code != exitFail || out != "" || !strings.Contains(stderr, want) {
		t.Errorf("restore: exit %d, stdout %q, stderr %s; want exit %d and %q", code, out, stderr, exitFail, want)
	}
	if after := snapshotDir(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the guest ran")
	}
}

// Forged listeners (200 on every interface) were all bound by a restore.
func TestForgedListenersNotBound(t *testing.T) {
	b, _, dir := grantsCheckpoint(t, "--no-sign")
	forged := editCheckpoint(t, b, func(s *snapshot.Snapshot) {
		for i := range 200 {
			s.WASI.Descriptors = append(s.WASI.Descriptors, snapshot.Descriptor{FD: uint32(100 + i), Kind: snapshot.KindListener,
				Addr: "0.0.0.0:0", Rights: 1<<30 - 1, Inherit: 1<<30 - 1})
		}
	})
	path := writeTemp(t, forged)
	code, out, stderr := runCLI(t, "restore", "--dir", dir+"::.", path)
	want := `listener fd 100 (recorded address "0.0.0.0:0") is not granted: pass --tcplisten ADDR`
	if code != exitFail || out != "" || !strings.Contains(stderr, want) {
		t.Errorf("restore: exit %d, stdout %q, stderr %s; want exit %d and %q", code, out, stderr, exitFail, want)
	}
	// More --tcplisten than recorded listeners is an error too.
	_, ck, dir2 := grantsCheckpoint(t, "--no-sign")
	code, _, stderr = runCLI(t, "restore", "--dir", dir2+"::.", "--tcplisten", "127.0.0.1:0", ck)
	if code != exitFail || !strings.Contains(stderr, "1 listeners given (--tcplisten), the checkpoint records 0") {
		t.Errorf("an extra --tcplisten: exit %d: %s", code, stderr)
	}
}

// Restoring one's own checkpoint on one's own machine needs no --dir: it
// is signed with the per-user key, which restore trusts.
func TestSignedCheckpointRestoresWithoutDir(t *testing.T) {
	useConfigDir(t)
	_, ck, _ := grantsCheckpoint(t)
	code, out, stderr := runCLI(t, "inspect", ck)
	if code != exitOK || !strings.Contains(out, "signature    ed25519 key ") || !strings.Contains(out, ", verified, trusted by this host") {
		t.Fatalf("inspect: exit %d: %s%s", code, out, stderr)
	}
	if code, _, stderr := runCLI(t, "restore", ck); code != fileprogExit {
		t.Fatalf("restore: exit %d: %s", code, stderr)
	}
	// The JSON says the same.
	_, js, _ := runCLI(t, "inspect", "--json", ck)
	var info struct {
		Signature struct {
			Signed, Trusted bool
			TrustedKeyID    string `json:"trusted_key_id"`
		}
	}
	if err := json.Unmarshal([]byte(js), &info); err != nil || !info.Signature.Signed || !info.Signature.Trusted || len(info.Signature.TrustedKeyID) != 16 {
		t.Errorf("inspect --json: %v, %+v", err, info.Signature)
	}
}

// A signed checkpoint edited after signing (its pre-open's host path, the
// checksums recomputed, the signature trailer put back) is refused by a
// host that trusts the key; so is one whose signature bytes were changed.
func TestTamperedSignedCheckpointRefused(t *testing.T) {
	useConfigDir(t)
	b, _, dir := grantsCheckpoint(t)
	tr, err := snapshot.ReadTrailer(bytes.NewReader(b), int64(len(b)))
	if err != nil || tr == nil {
		t.Fatalf("no signature trailer: %v", err)
	}
	trailer := b[tr.SignedLen:]
	target := copyDir(t, dir)
	edited := editCheckpoint(t, b[:tr.SignedLen], func(s *snapshot.Snapshot) {
		p := preopenOf(t, s)
		// The same length, so that the trailer's signed length still fits.
		p.HostPath = target + strings.Repeat("/", len(p.HostPath)-len(target))
	})
	if len(edited) != int(tr.SignedLen) {
		t.Fatalf("edited file has %d bytes, want %d", len(edited), tr.SignedLen)
	}
	// The signature changed and the trailer's checksum recomputed.
	sigFlipped := append([]byte(nil), b...)
	sigFlipped[tr.SignedLen+20] ^= 1
	entries := sigFlipped[tr.SignedLen : len(b)-20] // the signatures and their count
	binary.LittleEndian.PutUint32(sigFlipped[len(b)-20:], crc32.Checksum(entries, crc32.MakeTable(crc32.Castagnoli)))
	for what, f := range map[string][]byte{
		"host path edited":  append(edited, trailer...),
		"signature changed": sigFlipped,
		"memory byte flipped": func() []byte {
			c := append([]byte(nil), b...)
			c[tr.SignedLen/2] ^= 0x80
			return c
		}(),
	} {
		code, out, stderr := runCLI(t, "restore", writeTemp(t, f))
		if code != exitFail || out != "" || !strings.Contains(stderr, "checkpoint signature does not verify") || !strings.Contains(stderr, "corrupt checkpoint") {
			t.Errorf("%s: restore: exit %d, stdout %q: %s", what, code, out, stderr)
		}
		if code, _, stderr := runCLI(t, "inspect", writeTemp(t, f)); code != exitFail || !strings.Contains(stderr, "does not verify") {
			t.Errorf("%s: inspect: exit %d: %s", what, code, stderr)
		}
	}
}

// A checkpoint signed by a key the restoring host does not trust gets only
// what the restore grants; trusting the key (--trust-key) restores its
// recorded pre-opens.
func TestUnknownKeyGetsOnlyGrants(t *testing.T) {
	useConfigDir(t)
	key := filepath.Join(t.TempDir(), "other")
	if code, _, stderr := runCLI(t, "keygen", "--out", key); code != exitOK {
		t.Fatalf("keygen: %s", stderr)
	}
	hkey := filepath.Join(t.TempDir(), "shared")
	if code, _, stderr := runCLI(t, "keygen", "--hmac", "--out", hkey); code != exitOK {
		t.Fatalf("keygen --hmac: %s", stderr)
	}
	for _, c := range []struct{ sign, trust string }{{key, key + ".pub"}, {hkey, hkey}} {
		_, ck, dir := grantsCheckpoint(t, "--sign-key", c.sign)
		code, out, _ := runCLI(t, "inspect", ck)
		if code != exitOK || !strings.Contains(out, "not trusted by this host") {
			t.Errorf("%s: inspect: exit %d:\n%s", c.sign, code, out)
		}
		code, _, stderr := runCLI(t, "restore", ck)
		if code != exitFail || !strings.Contains(stderr, `pre-open "." (recorded host dir`) || !strings.Contains(stderr, "is not granted") {
			t.Errorf("%s: restore of an untrusted file without --dir: exit %d: %s", c.sign, code, stderr)
		}
		if code, _, stderr := runCLI(t, "restore", "--trust-key", c.trust, ck); code != fileprogExit {
			t.Errorf("%s: restore --trust-key: exit %d: %s", c.sign, code, stderr)
		}
		_ = dir
	}
	// A wrong key file is a usage error, not a silent "untrusted".
	if code, _, stderr := runCLI(t, "restore", "--trust-key", "testdata/fileprog.wasm", "x.ckpt"); code != exitUsage || !strings.Contains(stderr, "not a PEM key file") {
		t.Errorf("--trust-key of a non-key: exit %d: %s", code, stderr)
	}
}

// A signed file cut inside its signature trailer is corrupt, not a file
// with bytes to ignore; cut just before the trailer it is an unsigned
// checkpoint, restored with only what is granted.
func TestTruncatedSignatureTrailerRefused(t *testing.T) {
	useConfigDir(t)
	b, _, dir := grantsCheckpoint(t)
	tr, err := snapshot.ReadTrailer(bytes.NewReader(b), int64(len(b)))
	if err != nil || tr == nil {
		t.Fatalf("no signature trailer: %v", err)
	}
	for at := tr.SignedLen + 1; at < int64(len(b)); at += 7 {
		code, _, stderr := runCLI(t, "restore", "--dir", dir+"::.", writeTemp(t, b[:at]))
		if code != exitFail || !strings.Contains(stderr, "corrupt checkpoint") {
			t.Fatalf("cut at %d: exit %d: %s", at, code, stderr)
		}
	}
	code, _, stderr := runCLI(t, "restore", writeTemp(t, b[:tr.SignedLen]))
	if code != exitFail || !strings.Contains(stderr, "is not granted") {
		t.Errorf("signature stripped: exit %d: %s", code, stderr)
	}
}

// ferry inspect printed recorded strings raw: a CR or an escape sequence
// in a path could hide a forged row from the terminal.
func TestInspectEscapesControlBytes(t *testing.T) {
	b, _, _ := grantsCheckpoint(t, "--no-sign")
	nasty := "/tmp/x\r\x1b[2K/data\x7f\u009b\u202e"
	forged := editCheckpoint(t, b, func(s *snapshot.Snapshot) {
		s.WASI.Descriptors = append(s.WASI.Descriptors, snapshot.Descriptor{FD: 99, Kind: snapshot.KindPreopen,
			Preopen: "/\x1b]0;title\a", GuestPath: ".", HostPath: nasty})
		s.WASI.Args = append(s.WASI.Args, "arg\x1b[31m")
		s.WASI.Env = append(s.WASI.Env, "K=\r")
		s.Meta.RuntimeVersion = "v\x1b[1m"
	})
	path := writeTemp(t, forged)
	code, out, stderr := runCLI(t, "inspect", path)
	if code != exitOK {
		t.Fatalf("inspect: exit %d: %s", code, stderr)
	}
	checkNoControl(t, "text", out)
	for _, want := range []string{`"/tmp/x\r\x1b[2K/data\x7f\u009b\u202e"`, `"/\x1b]0;title\a"`, `arg\x1b[31m`, `K=\r`, `"v\x1b[1m"`} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %s:\n%s", want, out)
		}
	}
	code, js, stderr := runCLI(t, "inspect", "--json", path)
	if code != exitOK {
		t.Fatalf("inspect --json: exit %d: %s", code, stderr)
	}
	checkNoControl(t, "json", js)
	var info struct {
		WASI struct {
			Descriptors []struct {
				HostPath string `json:"host_path"`
			}
		}
	}
	if err := json.Unmarshal([]byte(js), &info); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range info.WASI.Descriptors {
		found = found || d.HostPath == nasty
	}
	if !found {
		t.Errorf("the JSON does not decode to the recorded path %q", nasty)
	}
}

// checkNoControl fails if out holds a control or format character other
// than newline (tabwriter pads with spaces).
func checkNoControl(t *testing.T, what, out string) {
	t.Helper()
	for i, r := range out {
		if r == '\n' {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x202e || r == utf8.RuneError {
			t.Errorf("%s: control character %U at byte %d: %q", what, r, i, out[max(0, i-20):min(len(out), i+20)])
			return
		}
	}
}

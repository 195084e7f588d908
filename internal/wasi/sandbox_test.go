package wasi

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const secret = "TOP-SECRET-OUTSIDE"

// sandboxTree builds
//
//	base/outside/secret.txt          (must never be read, created or changed)
//	base/outside/dir/
//	base/root/                       (the pre-open)
//	base/root/file.txt, sub/inner.txt
//	base/root/abs  -> base/outside/secret.txt   (absolute symlink)
//	base/root/up   -> ../outside/secret.txt      (relative, climbs out)
//	base/root/updir -> ../outside/dir
//	base/root/loop1 <-> loop2                    (symlink loop)
//	base/root/subl -> sub                        (harmless)
//	base/root/deep -> sub/../..                  (climbs out in two steps)
func sandboxTree(t testing.TB) (root, outside string) {
	base := t.TempDir()
	outside = filepath.Join(base, "outside")
	root = filepath.Join(base, "root")
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(outside, "dir"), 0o755))
	must(os.WriteFile(filepath.Join(outside, "secret.txt"), []byte(secret), 0o644))
	must(os.MkdirAll(filepath.Join(root, "sub"), 0o755))
	must(os.WriteFile(filepath.Join(root, "file.txt"), []byte("inside"), 0o644))
	must(os.WriteFile(filepath.Join(root, "sub", "inner.txt"), []byte("inner"), 0o644))
	must(os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(root, "abs")))
	must(os.Symlink("../outside/secret.txt", filepath.Join(root, "up")))
	must(os.Symlink("../outside/dir", filepath.Join(root, "updir")))
	must(os.Symlink("loop2", filepath.Join(root, "loop1")))
	must(os.Symlink("loop1", filepath.Join(root, "loop2")))
	must(os.Symlink("sub", filepath.Join(root, "subl")))
	must(os.Symlink("sub/../..", filepath.Join(root, "deep")))
	return root, outside
}

// treeDigest summarises every name, type, mode, size, mtime and content
// under dir, so any change outside the sandbox is detected.
func treeDigest(t testing.TB, dir string) string {
	var lines []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			lines = append(lines, "ERR "+p+err.Error())
			return nil
		}
		info, _ := os.Lstat(p)
		line := fmt.Sprintf("%s %v %d %d", p, info.Mode(), info.Size(), info.ModTime().UnixNano())
		if info.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			line += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		lines = append(lines, line)
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

var resolveModes = []struct {
	name string
	mode ResolveMode
}{{"walk", ResolveWalk}, {"openat2", ResolveOpenat2}}

func forEachMode(t *testing.T, f func(t *testing.T, mode ResolveMode)) {
	for _, m := range resolveModes {
		t.Run(m.name, func(t *testing.T) {
			if m.mode == ResolveOpenat2 && !haveOpenat2() {
				t.Skip("kernel has no openat2")
			}
			f(t, m.mode)
		})
	}
}

const preopenFD = 3

func sandboxGuest(t testing.TB, mode ResolveMode) (g *guest, root, outside string) {
	root, outside = sandboxTree(t)
	g = newGuest(t, Options{Preopens: []Preopen{{HostDir: root, GuestPath: "/"}}, Resolve: mode})
	return g, root, outside
}

func TestPathEscapesFail(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode ResolveMode) {
		g, _, outside := sandboxGuest(t, mode)
		before := treeDigest(t, outside)
		cases := []struct {
			path   string
			follow bool
			want   Errno
		}{
			{"/etc/passwd", true, ErrnoPerm},
			{"../outside/secret.txt", true, ErrnoPerm},
			{"sub/../../outside/secret.txt", true, ErrnoPerm},
			{"..", true, ErrnoPerm},
			{"sub/../..", true, ErrnoPerm},
			{"abs", true, ErrnoPerm},
			{"up", true, ErrnoPerm},
			{"updir/x", true, ErrnoPerm},
			{"deep/outside/secret.txt", true, ErrnoPerm},
			{"subl/../../outside/secret.txt", true, ErrnoPerm},
			{"loop1", true, ErrnoLoop},
			{"loop1/x", false, ErrnoLoop},
			{"abs", false, ErrnoLoop}, // O_NOFOLLOW on a symlink
			{"file.txt\x00", true, ErrnoIlseq},
			{"", true, ErrnoNoent},
		}
		for _, c := range cases {
			fd, e := g.open(preopenFD, c.path, c.follow, 0, RightFdRead, 0)
			if e != c.want {
				t.Errorf("open %q follow=%v: errno %v (fd %d), want %v", c.path, c.follow, e, fd, c.want)
			}
			// Creating through the same paths must fail too.
			if _, e := g.open(preopenFD, c.path, c.follow, OflagCreat, RightFdWrite, 0); e == 0 {
				t.Errorf("create %q succeeded", c.path)
			}
		}
		// Mutations through escaping paths.
		for _, p := range []string{"../outside/new", "updir/new", "deep/outside/new", "/tmp/new"} {
			if e := g.pathCall("path_create_directory", preopenFD, p); e == 0 {
				t.Errorf("mkdir %q succeeded", p)
			}
			if e := g.pathCall("path_unlink_file", preopenFD, strings.TrimSuffix(p, "new")+"secret.txt"); e == 0 {
				t.Errorf("unlink via %q succeeded", p)
			}
			tp, tl := g.str("file.txt")
			np, nl := g.str(p)
			if e := g.call("path_rename", preopenFD, tp, tl, preopenFD, np, nl); e == 0 {
				t.Errorf("rename to %q succeeded", p)
			}
			if e := g.call("path_link", preopenFD, 0, tp, tl, preopenFD, np, nl); e == 0 {
				t.Errorf("link to %q succeeded", p)
			}
			if e := g.call("path_symlink", tp, tl, preopenFD, np, nl); e == 0 {
				t.Errorf("symlink at %q succeeded", p)
			}
		}
		for _, p := range []string{"up", "../outside/secret.txt", "abs"} {
			pp, pl := g.str(p)
			st := g.alloc(64)
			if e := g.call("path_filestat_get", preopenFD, 1, pp, pl, uint64(st)); e == 0 {
				t.Errorf("stat %q succeeded", p)
			}
			if e := g.call("path_filestat_set_times", preopenFD, 1, pp, pl, 1, 1, uint64(FstflagAtim|FstflagMtim)); e == 0 {
				t.Errorf("set times %q succeeded", p)
			}
		}
		// An absolute symlink target is refused at creation.
		tp, tl := g.str("/etc/passwd")
		np, nl := g.str("newlink")
		if e := g.call("path_symlink", tp, tl, preopenFD, np, nl); e != ErrnoPerm {
			t.Errorf("absolute symlink: %v, want perm", e)
		}
		if after := treeDigest(t, outside); after != before {
			t.Errorf("outside tree changed:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}

func TestPathInsideWorks(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode ResolveMode) {
		g, root, _ := sandboxGuest(t, mode)
		for _, p := range []string{"file.txt", "sub/../file.txt", "subl/../file.txt", "./sub/./../file.txt", "subl/inner.txt", "sub//inner.txt"} {
			fd, e := g.open(preopenFD, p, true, 0, RightFdRead, 0)
			if e != 0 {
				t.Errorf("open %q: %v", p, e)
				continue
			}
			b, e := g.read(fd, 64)
			if e != 0 || (string(b) != "inside" && string(b) != "inner") {
				t.Errorf("read %q: %q %v", p, b, e)
			}
			if e := g.call("fd_close", uint64(fd)); e != 0 {
				t.Errorf("close: %v", e)
			}
		}
		// "subl" without follow is the link itself.
		if _, e := g.open(preopenFD, "subl", false, OflagDirectory, 0, 0); e != ErrnoLoop && e != ErrnoNotdir {
			t.Errorf("open symlink nofollow: %v", e)
		}
		if e := g.pathCall("path_create_directory", preopenFD, "sub/new"); e != 0 {
			t.Fatalf("mkdir: %v", e)
		}
		if _, err := os.Stat(filepath.Join(root, "sub", "new")); err != nil {
			t.Errorf("mkdir did not create: %v", err)
		}
		fd, e := g.open(preopenFD, "sub/new/f", false, OflagCreat|OflagExcl, RightFdWrite|RightFdRead, 0)
		if e != 0 {
			t.Fatalf("create: %v", e)
		}
		if n, e := g.write(fd, []byte("hello")); e != 0 || n != 5 {
			t.Fatalf("write: %d %v", n, e)
		}
		if b, _ := os.ReadFile(filepath.Join(root, "sub", "new", "f")); string(b) != "hello" {
			t.Errorf("file content %q", b)
		}
		if _, e := g.open(preopenFD, "sub/new/f", false, OflagCreat|OflagExcl, RightFdWrite, 0); e != ErrnoExist {
			t.Errorf("excl: %v, want exist", e)
		}
		if e := g.pathCall("path_remove_directory", preopenFD, "sub/new"); e != ErrnoNotempty {
			t.Errorf("rmdir non-empty: %v", e)
		}
		if e := g.pathCall("path_unlink_file", preopenFD, "sub/new/f/"); e != ErrnoNotdir {
			t.Errorf("unlink with slash: %v", e)
		}
		if e := g.pathCall("path_unlink_file", preopenFD, "sub/new/f"); e != 0 {
			t.Errorf("unlink: %v", e)
		}
		if e := g.pathCall("path_remove_directory", preopenFD, "subl/"); e != ErrnoNotdir {
			t.Errorf("rmdir through symlink with slash: %v, want notdir", e)
		}
		if e := g.pathCall("path_remove_directory", preopenFD, "sub/new/"); e != 0 {
			t.Errorf("rmdir: %v", e)
		}
	})
}

// TestPathRaceReplacedComponent swaps a directory component for a symlink
// that points outside while the guest keeps opening through it. The guest
// may see the directory or an error, never the outside file.
func TestPathRaceReplacedComponent(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode ResolveMode) {
		g, root, outside := sandboxGuest(t, mode)
		if err := os.WriteFile(filepath.Join(outside, "dir", "secret.txt"), []byte(secret), 0o644); err != nil {
			t.Fatal(err)
		}
		race := filepath.Join(root, "race")
		os.Mkdir(race, 0o755)
		os.WriteFile(filepath.Join(race, "secret.txt"), []byte("decoy"), 0o644)
		var stop atomic.Bool
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			tmpDir, tmpLink := race+".d", race+".l"
			for !stop.Load() {
				os.Rename(race, tmpDir)
				os.Symlink(filepath.Join(outside, "dir"), tmpLink)
				os.Rename(tmpLink, race)
				os.Rename(race, tmpLink)
				os.Rename(tmpDir, race)
				os.Remove(tmpLink)
			}
		}()
		deadline := time.Now().Add(500 * time.Millisecond)
		opened := 0
		for time.Now().Before(deadline) {
			fd, e := g.open(preopenFD, "race/secret.txt", true, 0, RightFdRead, 0)
			if e != 0 {
				continue
			}
			opened++
			b, _ := g.read(fd, 64)
			g.call("fd_close", uint64(fd))
			if string(b) == secret {
				t.Fatal("read the outside file through a raced component")
			}
		}
		stop.Store(true)
		wg.Wait()
		t.Logf("%d successful opens during the race", opened)
	})
}

package wasi

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzPathResolution feeds random paths, lookup flags, oflags and
// operations to the path functions of a guest sandboxed in a tree full of
// escaping symlinks, under both resolvers. Whatever happens inside the
// pre-open, nothing outside it may be read, created or changed.
func FuzzPathResolution(f *testing.F) {
	for _, s := range []string{"file.txt", "../outside/secret.txt", "up", "abs", "updir/x", "deep/outside/secret.txt",
		"loop1", "sub/../sub/inner.txt", "subl/", "a/b/../../..", "/etc/passwd", "sub/\x00", "./././", "new/../../x"} {
		for op := range uint8(10) {
			f.Add(s, "../outside/dir", op, uint8(1), uint16(OflagCreat))
		}
	}
	f.Fuzz(func(t *testing.T, path, path2 string, op, lookup uint8, oflags uint16) {
		for _, m := range resolveModes {
			if m.mode == ResolveOpenat2 && !haveOpenat2() {
				continue
			}
			g, root, outside := sandboxGuest(t, m.mode)
			before := treeDigest(t, outside)
			runFuzzOp(g, path, path2, op, lookup, oflags)
			if after := treeDigest(t, outside); after != before {
				t.Fatalf("%s: op %d on %q/%q changed the outside tree:\n%s\n--\n%s", m.name, op, path, path2, before, after)
			}
			// Nothing may have appeared beside the pre-open either.
			entries, _ := os.ReadDir(filepath.Dir(root))
			if len(entries) != 2 {
				t.Fatalf("%s: op %d on %q/%q created %v next to the pre-open", m.name, op, path, path2, entries)
			}
		}
	})
}

func runFuzzOp(g *guest, path, path2 string, op, lookup uint8, oflags uint16) {
	p, pl := g.str(path)
	q, ql := g.str(path2)
	lf := uint64(lookup & 1)
	switch op % 10 {
	case 0:
		fd, e := g.open(preopenFD, path, lookup&1 != 0, oflags&0xf, RightsAll, 0)
		if e == 0 {
			b, _ := g.read(fd, 64)
			if strings.Contains(string(b), secret) {
				g.t.Fatalf("read outside content through %q", path)
			}
			g.write(fd, []byte("x"))
			g.call("fd_close", uint64(fd))
		}
	case 1:
		g.call("path_create_directory", preopenFD, p, pl)
	case 2:
		g.call("path_unlink_file", preopenFD, p, pl)
	case 3:
		g.call("path_remove_directory", preopenFD, p, pl)
	case 4:
		g.call("path_rename", preopenFD, p, pl, preopenFD, q, ql)
	case 5:
		g.call("path_symlink", q, ql, preopenFD, p, pl)
		// Then try to use the new link.
		fd, e := g.open(preopenFD, path, true, oflags&0xf, RightsAll, 0)
		if e == 0 {
			if b, _ := g.read(fd, 64); strings.Contains(string(b), secret) {
				g.t.Fatalf("read outside content through new symlink %q -> %q", path, path2)
			}
			g.write(fd, []byte("x"))
			g.call("fd_close", uint64(fd))
		}
	case 6:
		g.call("path_link", preopenFD, lf, p, pl, preopenFD, q, ql)
	case 7:
		st := g.alloc(64)
		g.call("path_filestat_get", preopenFD, lf, p, pl, uint64(st))
		g.call("path_filestat_set_times", preopenFD, lf, p, pl, 5, 5, uint64(FstflagAtim|FstflagMtim))
	case 8:
		buf := g.alloc(256)
		used := g.alloc(4)
		if g.call("path_readlink", preopenFD, p, pl, uint64(buf), 256, uint64(used)) == 0 && g.u32(used) > 256 {
			g.t.Fatalf("readlink reported %d bytes for a 256-byte buffer", g.u32(used))
		}
	case 9:
		fd, e := g.open(preopenFD, path, lookup&1 != 0, OflagDirectory, RightsAll, 0)
		if e == 0 {
			// Resolve the second path relative to the opened directory.
			fd2, e := g.open(fd, path2, true, oflags&0xf, RightsAll, 0)
			if e == 0 {
				if b, _ := g.read(fd2, 64); strings.Contains(string(b), secret) {
					g.t.Fatalf("read outside content through %q then %q", path, path2)
				}
				g.call("fd_close", uint64(fd2))
			}
			g.call("fd_close", uint64(fd))
		}
	}
}

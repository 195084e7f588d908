package wasi

import (
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Path resolution. A guest path is always relative to a directory
// descriptor, and that directory is the root of the guest's view: the result
// of resolving a path never lies outside it. Escapes (absolute paths, ".."
// above the root, symlinks whose targets are absolute or climb out) fail
// with ErrnoPerm; symlink chains longer than maxSymlinks fail with
// ErrnoLoop. See docs/wasi.md, "Path resolution".
//
// Resolution stops at the directory that holds the final component and
// returns that directory and the bare final name. Operations then act on
// (dir, name) with *at system calls that never follow a symlink in the final
// component (AT_SYMLINK_NOFOLLOW, O_NOFOLLOW, or calls such as unlinkat and
// mkdirat that work on the parent by nature), so a final component replaced
// by a symlink between resolution and use is never followed by the kernel.

const maxSymlinks = 40

// ResolveMode picks the path-resolution strategy.
type ResolveMode uint8

const (
	// ResolveAuto uses openat2(RESOLVE_BENEATH) when the kernel has it, and
	// the component walk otherwise.
	ResolveAuto ResolveMode = iota
	// ResolveOpenat2 always uses openat2; it fails where the kernel lacks it.
	ResolveOpenat2
	// ResolveWalk always walks component by component with O_NOFOLLOW.
	ResolveWalk
)

// resolved is the outcome of resolving a guest path: the directory holding
// the final component, and that component.
type resolved struct {
	dir   int    // host directory fd (O_PATH)
	name  string // final component, never empty, never containing '/'; "." for the start directory itself
	slash bool   // the guest path ended in '/': the final component must be a directory
	owned bool   // dir was opened by the resolver and must be closed
}

func (r *resolved) close() {
	if r.owned {
		unix.Close(r.dir)
		r.owned = false
	}
}

// kname is the final name as given to kernel calls that work on the parent
// directory by nature (mkdirat, unlinkat, renameat, symlinkat, linkat's new
// path): they keep the trailing slash, whose POSIX meaning they check
// themselves without following the final component.
func (r *resolved) kname() string {
	if r.slash && r.name != "." {
		return r.name + "/"
	}
	return r.name
}

type resolver interface {
	// resolve resolves path beneath root. With follow, a final symlink
	// is expanded too.
	resolve(root int, path string, follow bool) (resolved, Errno)
}

var openat2Probe struct {
	once sync.Once
	ok   bool
}

// haveOpenat2 reports whether the kernel supports openat2 with
// RESOLVE_BENEATH.
func haveOpenat2() bool {
	openat2Probe.once.Do(func() {
		fd, err := unix.Openat2(unix.AT_FDCWD, ".", &unix.OpenHow{
			Flags:   unix.O_PATH | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_BENEATH,
		})
		if err == nil {
			unix.Close(fd)
			openat2Probe.ok = true
		}
	})
	return openat2Probe.ok
}

func newResolver(mode ResolveMode) (resolver, error) {
	switch mode {
	case ResolveWalk:
		return walkResolver{}, nil
	case ResolveOpenat2:
		if !haveOpenat2() {
			return nil, unix.ENOSYS
		}
		return beneathResolver{}, nil
	}
	if haveOpenat2() {
		return beneathResolver{}, nil
	}
	return walkResolver{}, nil
}

// splitPath validates a guest path and splits it into components, dropping
// empty ones. slash reports a trailing '/'.
func splitPath(path string) (comps []string, slash bool, e Errno) {
	if path == "" {
		return nil, false, ErrnoNoent
	}
	if strings.IndexByte(path, 0) >= 0 {
		return nil, false, ErrnoIlseq
	}
	if path[0] == '/' {
		return nil, false, ErrnoPerm
	}
	for _, c := range strings.Split(path, "/") {
		if c != "" {
			comps = append(comps, c)
		}
	}
	slash = strings.HasSuffix(path, "/")
	return comps, slash, 0
}

// walkResolver resolves one component at a time. It keeps a stack of open
// directory fds from the root down, so ".." pops to a directory it already
// holds instead of asking the kernel, and it opens each component with
// O_NOFOLLOW so that a symlink is always noticed and expanded here.
type walkResolver struct{}

func (walkResolver) resolve(root int, path string, follow bool) (resolved, Errno) {
	comps, slash, e := splitPath(path)
	if e != 0 {
		return resolved{}, e
	}
	stack := []int{root}
	closeStack := func() {
		for _, fd := range stack[1:] {
			unix.Close(fd)
		}
	}
	links := 0
	for len(comps) > 0 {
		c := comps[0]
		last := len(comps) == 1
		switch c {
		case ".":
			comps = comps[1:]
			if last {
				return finishStack(stack, ".", slash), 0
			}
			continue
		case "..":
			if len(stack) == 1 {
				closeStack()
				return resolved{}, ErrnoPerm
			}
			unix.Close(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
			comps = comps[1:]
			if last {
				return finishStack(stack, ".", slash), 0
			}
			continue
		}
		if len(c) > 255 {
			closeStack()
			return resolved{}, ErrnoNametoolong
		}
		top := stack[len(stack)-1]
		if last && !follow {
			return finishStack(stack, c, slash), 0
		}
		if last {
			// Expand a final symlink; anything else stays for the caller.
			target, err := readlinkat(top, c)
			if err != nil {
				return finishStack(stack, c, slash), 0
			}
			links++
			if links > maxSymlinks {
				closeStack()
				return resolved{}, ErrnoLoop
			}
			tc, _, e := splitPath(target)
			if e != 0 {
				closeStack()
				return resolved{}, e
			}
			comps = tc
			if len(comps) == 0 {
				return finishStack(stack, ".", slash), 0
			}
			continue
		}
		fd, err := unix.Openat(top, c, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == nil {
			stack = append(stack, fd)
			comps = comps[1:]
			continue
		}
		if err != unix.ENOTDIR && err != unix.ELOOP {
			closeStack()
			return resolved{}, ToErrno(err)
		}
		target, lerr := readlinkat(top, c)
		if lerr != nil {
			closeStack()
			return resolved{}, ToErrno(err)
		}
		links++
		if links > maxSymlinks {
			closeStack()
			return resolved{}, ErrnoLoop
		}
		tc, _, e := splitPath(target)
		if e != 0 {
			closeStack()
			return resolved{}, e
		}
		comps = append(tc, comps[1:]...)
	}
	// Only reachable for a path of "/"-separated nothing, e.g. "a/b/.."
	// handled above; keep the root as a fallback.
	return finishStack(stack, ".", slash), 0
}

// finishStack keeps the top of the stack as the result directory and closes
// the rest.
func finishStack(stack []int, name string, slash bool) resolved {
	for i := 1; i < len(stack)-1; i++ {
		unix.Close(stack[i])
	}
	r := resolved{dir: stack[len(stack)-1], name: name, slash: slash, owned: len(stack) > 1}
	if name == "." {
		r.slash = true
	}
	return r
}

// beneathResolver lets the kernel resolve the parent directory with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), which rejects every
// escape (with EXDEV, reported as ErrnoPerm) and is immune to races with
// concurrent renames. A final symlink to follow is expanded here and the
// result resolved again by the kernel.
type beneathResolver struct{}

func (beneathResolver) resolve(root int, path string, follow bool) (resolved, Errno) {
	for links := 0; ; links++ {
		comps, slash, e := splitPath(path)
		if e != 0 {
			return resolved{}, e
		}
		if len(comps) == 0 {
			return resolved{dir: root, name: ".", slash: true}, 0
		}
		final := comps[len(comps)-1]
		parent := strings.Join(comps[:len(comps)-1], "/")
		if final == "." || final == ".." {
			parent, final = strings.Join(comps, "/"), "."
		}
		if len(final) > 255 {
			return resolved{}, ErrnoNametoolong
		}
		dir, owned := root, false
		if parent != "" {
			fd, err := openBeneath(root, parent, unix.O_PATH|unix.O_DIRECTORY)
			if err != nil {
				return resolved{}, beneathErrno(err)
			}
			dir, owned = fd, true
		}
		r := resolved{dir: dir, name: final, slash: slash || final == ".", owned: owned}
		if final == "." || !follow {
			return r, 0
		}
		target, err := readlinkat(dir, final)
		if err != nil {
			return r, 0
		}
		r.close()
		if links >= maxSymlinks {
			return resolved{}, ErrnoLoop
		}
		if strings.HasPrefix(target, "/") {
			return resolved{}, ErrnoPerm
		}
		if parent != "" {
			target = parent + "/" + target
		}
		if slash {
			target += "/"
		}
		path = target
	}
}

func openBeneath(root int, path string, flags int) (int, error) {
	for {
		fd, err := unix.Openat2(root, path, &unix.OpenHow{
			Flags:   uint64(flags | unix.O_CLOEXEC),
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
		})
		if err == unix.EAGAIN || err == unix.EINTR {
			continue // a concurrent rename raced the lookup: try again
		}
		return fd, err
	}
}

func beneathErrno(err error) Errno {
	if err == unix.EXDEV {
		return ErrnoPerm
	}
	return ToErrno(err)
}

func readlinkat(dir int, name string) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlinkat(dir, name, buf)
		if err != nil {
			return "", err
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		if len(buf) >= 1<<16 {
			return "", unix.ENAMETOOLONG
		}
		buf = make([]byte, 2*len(buf))
	}
}

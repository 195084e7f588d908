package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// stdoutTypeWat exits with the file type fd_fdstat_get reports for its
// standard output, or 99 when fd_filestat_get says otherwise.
const stdoutTypeWat = `(module
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get" (func $filestat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (if (call $fdstat (i32.const 1) (i32.const 0)) (then (call $exit (i32.const 98))))
    (if (call $filestat (i32.const 1) (i32.const 64)) (then (call $exit (i32.const 97))))
    (if (i32.ne (i32.load8_u (i32.const 0)) (i32.load8_u (i32.const 80)))
      (then (call $exit (i32.const 99))))
    (call $exit (i32.load8_u (i32.const 0)))))`

// WASI file types (wasi_snapshot_preview1 filetype).
const (
	ftUnknown   = 0
	ftCharDev   = 2
	ftRegular   = 4
	ftSocketStr = 6
)

// runWithStdout runs wasm in-process with stdout as the guest's standard
// output and returns the exit code.
func runWithStdout(t *testing.T, wasm string, stdout *os.File, args ...string) (int, string) {
	t.Helper()
	var errb bytes.Buffer
	code := runStdio(append(append([]string{"run"}, args...), wasm), strings.NewReader(""), stdout, &errb)
	return code, errb.String()
}

// Guests were told every standard stream was a character device, so
// wasi-libc's isatty() was 1 for files and pipes and it line-buffered them.
func TestStdioAlwaysTerminal(t *testing.T) {
	wasm := wat2wasm(t, stdoutTypeWat)

	file, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	_, pty := openPTY(t)

	for _, c := range []struct {
		name string
		f    *os.File
		want int
	}{
		{"file", file, ftRegular},
		{"pipe", w, ftUnknown},
		{"/dev/null", devnull, ftUnknown}, // a character device, but no terminal
		{"terminal", pty, ftCharDev},
	} {
		if code, stderr := runWithStdout(t, wasm, c.f); code != c.want {
			t.Errorf("stdout a %s: file type %d, want %d (stderr %q)", c.name, code, c.want, stderr)
		}
	}
}

// openPTY opens a pseudo-terminal and returns its two ends: the master,
// which reads what is written to the terminal, and the terminal itself.
func openPTY(t *testing.T) (master, terminal *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
		return nil, nil
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	slave, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

// threeIovecsWat writes "ab", "cd" and "ef" to standard output in one
// fd_write of three iovecs.
const threeIovecsWat = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "abcdef")
  (data (i32.const 0) "\64\00\00\00\02\00\00\00\66\00\00\00\02\00\00\00\68\00\00\00\02\00\00\00")
  (func (export "_start")
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 3) (i32.const 32)))))`

// Standard output took one write(2) per iovec (host files used writev), so
// wasi-libc's printf, which hands over its buffer and the new text as two
// iovecs, cost two system calls a line. A SOCK_SEQPACKET socket keeps each
// write a message of its own, so the reader sees how many writes there were.
func TestStdioWritePerIovec(t *testing.T) {
	wasm := wat2wasm(t, threeIovecsWat)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no SOCK_SEQPACKET: %v", err)
	}
	out := os.NewFile(uintptr(fds[0]), "seqpacket")
	defer out.Close()
	defer unix.Close(fds[1])
	if code, stderr := runWithStdout(t, wasm, out); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var msgs []string
	buf := make([]byte, 64)
	for {
		n, _, err := unix.Recvfrom(fds[1], buf, unix.MSG_DONTWAIT)
		if err != nil || n == 0 {
			break
		}
		msgs = append(msgs, string(buf[:n]))
	}
	if len(msgs) != 1 || msgs[0] != "abcdef" {
		t.Errorf("one fd_write of three iovecs came as %d writes %q; want 1 write \"abcdef\"", len(msgs), msgs)
	}
}

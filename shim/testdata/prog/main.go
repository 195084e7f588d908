// Command prog is a WASI test program (GOOS=wasip1 GOARCH=wasm) that shows
// what the shim hands a guest from the OCI spec: it prints its arguments
// and $GREETING, copies /data/in.txt to /data/out.txt in upper case, lists
// /ro and tries to write /ro/x (a read-only mount), and exits with
// status 3.
package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
)

func main() {
	fmt.Println("args:", strings.Join(os.Args, " "))
	fmt.Println("GREETING=" + os.Getenv("GREETING"))
	in, err := os.ReadFile("/data/in.txt")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile("/data/out.txt", bytes.ToUpper(in), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Listed rather than read: Ferry opens a file a Go program opens for
	// reading with write access too (Go asks for fd_filestat_set_size),
	// which a read-only mount refuses.
	entries, err := os.ReadDir("/ro")
	for _, e := range entries {
		fmt.Println("ro list:", e.Name())
	}
	if err != nil {
		fmt.Println("ro list:", err)
	}
	if err := os.WriteFile("/ro/x", []byte("x"), 0o644); err != nil {
		fmt.Println("ro write:", err)
	} else {
		fmt.Println("ro write: written")
	}
	os.Exit(3)
}

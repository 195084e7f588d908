// Command prog is a WASI test program (GOOS=wasip1 GOARCH=wasm) that shows
// what the shim hands a guest from the OCI spec: it prints its arguments
// and $GREETING, copies /data/in.txt to /data/out.txt in upper case, and
// exits with status 3.
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
	os.Exit(3)
}

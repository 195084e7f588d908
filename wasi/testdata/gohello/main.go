// Command gohello is a GOOS=wasip1 program that TestGoProgram runs under
// Ferry's WASI: it reads a file and the environment, lists and writes a
// directory, and exits with a chosen status.
package main

import (
	"fmt"
	"os"
	"sort"
)

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "read:", err)
		os.Exit(2)
	}
	fmt.Printf("hello %s, file says %q\n", os.Getenv("WHO"), data)
	entries, err := os.ReadDir("/data")
	if err != nil {
		fmt.Fprintln(os.Stderr, "readdir:", err)
		os.Exit(2)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	fmt.Println("dir:", names)
	if err := os.WriteFile("/data/out.txt", []byte("written by wasip1"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "write:", err)
		os.Exit(2)
	}
	if _, err := os.ReadFile("/etc/passwd"); err == nil {
		fmt.Println("escaped the sandbox")
		os.Exit(4)
	}
	os.Exit(7)
}

// goserve is the Go (GOOS=wasip1) server of TestCheckpointOnStdinGoServer:
// it builds a map at start-up, says "ready" on stderr, then answers one
// request per line of standard input. Go's wasip1 runtime makes standard
// input non-blocking and waits for it in poll_oneoff, unlike a C program's
// blocking fd_read.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

func main() {
	table := map[string]int{}
	for i := 0; i < 20000; i++ {
		table[fmt.Sprintf("k%d", i)] = i * i % 1000003
	}
	fmt.Fprintln(os.Stderr, "ready")
	in := bufio.NewScanner(os.Stdin)
	for n := 1; in.Scan(); n++ {
		key := strings.TrimSpace(in.Text())
		fmt.Printf("%d: %s -> %d\n", n, key, table[key])
	}
}

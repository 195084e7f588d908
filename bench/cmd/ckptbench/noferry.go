//go:build noferry

// Command ckptbench measures Ferry's checkpoints; a noferry build has
// nothing to measure.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "ckptbench: built with -tags noferry: Ferry is not in this build")
	os.Exit(1)
}

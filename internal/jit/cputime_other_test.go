//go:build !linux

package jit

import "time"

var start = time.Now()

// threadCPU falls back to wall time where no per-thread CPU clock is
// read.
func threadCPU() int64 { return int64(time.Since(start)) }

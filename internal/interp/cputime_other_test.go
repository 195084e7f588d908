//go:build !linux

package interp

func threadCPU() int64 { return 0 }

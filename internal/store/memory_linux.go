//go:build linux

package store

import "syscall"

const mapNoReserve = syscall.MAP_NORESERVE

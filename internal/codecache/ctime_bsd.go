//go:build darwin || freebsd || netbsd

package codecache

import "syscall"

func ctimeNs(st *syscall.Stat_t) int64 { return st.Ctimespec.Nano() }

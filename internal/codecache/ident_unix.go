//go:build unix

package codecache

import (
	"fmt"
	"os"
	"syscall"
)

// fileIdentity is the device and inode of a file, for BuildID.
func fileIdentity(st os.FileInfo) string {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf(" %d %d", sys.Dev, sys.Ino)
	}
	return ""
}

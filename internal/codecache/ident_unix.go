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

// fileID is the identity a module hash record compares; false where the
// file system gives no status-change time.
func fileID(st os.FileInfo) (identity, bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok || !st.Mode().IsRegular() || ctimeNs(sys) == 0 {
		return identity{}, false
	}
	return identity{dev: uint64(sys.Dev), ino: uint64(sys.Ino), size: uint64(st.Size()),
		mtimeNs: st.ModTime().UnixNano(), ctimeNs: ctimeNs(sys)}, true
}

//go:build !unix

package codecache

import "os"

// fileIdentity is empty where files have no inode: size and time remain.
func fileIdentity(os.FileInfo) string { return "" }

//go:build !unix

package codecache

import "os"

// fileIdentity is empty where files have no inode: size and time remain.
func fileIdentity(os.FileInfo) string { return "" }

// fileID is false where files have no status-change time to prove that
// they did not change: the module is then always hashed.
func fileID(os.FileInfo) (identity, bool) { return identity{}, false }

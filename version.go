package ferry

import (
	"runtime/debug"
)

// Version is this Ferry's version: the module version it was built as, a
// source revision, or "devel".
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if info.Main.Path == "github.com/ferryvm/ferry" {
		if v := info.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
		return "devel"
	}
	for _, d := range info.Deps {
		if d.Path == "github.com/ferryvm/ferry" {
			return d.Version
		}
	}
	return "devel"
}

// Command containerd-shim-ferry-v1 is a containerd runtime v2 shim that runs
// OCI images whose entrypoint is a WebAssembly module on Ferry, with
// containerd's checkpoint and restore. containerd finds it on its PATH for
// the runtime name io.containerd.ferry.v1; see docs/containerd.md.
package main

import (
	"github.com/containerd/containerd/runtime/v2/shim"

	"github.com/ferryvm/ferry/shim/internal/service"
)

func main() {
	// The guest runs inside the shim process: there is no child to reap
	// or adopt. Without a subreaper the shim also runs under qemu-user,
	// which refuses PR_SET_CHILD_SUBREAPER.
	shim.Run(service.RuntimeName, service.New, func(c *shim.Config) {
		c.NoReaper = true
		c.NoSubreaper = true
	})
}

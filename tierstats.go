package ferry

import (
	"fmt"
	"os"

	"github.com/ferryvm/ferry/internal/interp"
)

// writeTierStats serves FERRY_TIER_STATS=FILE, a test hook like
// FERRY_TIER and FERRY_DEOPT_STRESS: when the runtime closes, it appends
// one line to FILE saying which tier ran and what it did, so that a test
// running the ferry command can prove the hooks reached the process and
// changed its tier:
//
//	tier=compiled effective=compiled compiled=812 refused=3 osr=0 stress-deopts=1520
//
// A file that cannot be written is ignored: the hook never changes how a
// program runs or exits.
func (r *Runtime) writeTierStats() {
	path := os.Getenv("FERRY_TIER_STATS")
	if path == "" {
		return
	}
	e, ok := r.engine.(*interp.Engine)
	if !ok {
		return
	}
	compiled, refused := e.Counts()
	line := fmt.Sprintf("tier=%s effective=%s compiled=%d refused=%d osr=%d stress-deopts=%d\n",
		r.cfg.tier, Tier(e.EffectiveTier()), compiled, refused, e.OSREntries(), e.StressDeopts())
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	f.WriteString(line)
	f.Close()
}

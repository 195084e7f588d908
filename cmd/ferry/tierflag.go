package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/ferryvm/ferry"
)

// tierUsage documents --tier for ferry run, ferry restore and ferry wast.
const tierUsage = `  --tier T        the code that runs the guest: interp (default: the
                  portable interpreter), compiled (every function the
                  compiler supports is compiled to native code for the
                  runtime's CPU features before the program starts) or auto
                  (hot functions are compiled in the background). Results and
                  checkpoints are the same whichever runs. Where native code
                  cannot run (not amd64), compiled and auto fall back to the
                  interpreter with a note on stderr.
`

// tierFlag is --tier, parsed as the flag is set so that a bad value is a
// one-line usage error like any other flag's. Unset, it leaves the
// runtime's default alone (which the FERRY_TIER test hook may change).
type tierFlag struct {
	t   ferry.Tier
	set bool
}

// apply gives c the tier asked for, if one was.
func (f *tierFlag) apply(c ferry.RuntimeConfig) ferry.RuntimeConfig {
	if !f.set {
		return c
	}
	return c.WithTier(f.t)
}

func (f *tierFlag) String() string { return f.t.String() }

func (f *tierFlag) Set(v string) error {
	t, err := ferry.ParseTier(v)
	if err != nil {
		return err
	}
	f.t, f.set = t, true
	return nil
}

func (f *tierFlag) register(fs *flag.FlagSet) {
	fs.Var(f, "tier", "interp, compiled or auto")
}

// note tells the user, once per runtime, that the tier they asked for with
// --tier is not the one running. A tier the user did not ask for (the
// default, or the FERRY_TIER test hook) falls back silently: the program
// runs the same either way.
func (f *tierFlag) note(rt *ferry.Runtime, stderr io.Writer) {
	if !f.set {
		return
	}
	if n := rt.TierNote(); n != "" {
		fmt.Fprintf(stderr, "ferry: note: %s\n", n)
	}
}

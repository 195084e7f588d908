package difftest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ferryvm/ferry/api"
)

// arbiter says, for each export, whether a third runtime (binaryen's
// interpreter) traps when calling it; nil when there is none.
type arbiter func(ctx context.Context, wasm []byte) (map[string]bool, error)

// Module verdicts.
const (
	verdictCompared       = "compared"
	verdictBothRejected   = "rejected by both"
	verdictWazeroRejected = "rejected by wazero only"
	verdictSubjectRejects = "rejected by the subject only" // a disagreement
	verdictUnsupported    = "uses unsupported imports"
)

// disagreement is one observable difference, with what is needed to
// reproduce it.
type disagreement struct {
	export   string // "" for a load-time difference
	what     string
	ref, sub string // both outcomes
}

// moduleReport is the result of running one module under both engines.
type moduleReport struct {
	verdict       string
	loadErr       string         // the rejecting runtime's error, for reports
	funcs         int            // export calls compared
	inconclusive  int            // calls that timed out or exhausted the stack
	traps         map[string]int // trap class -> compared calls that trapped so (in both)
	disagreements []disagreement
	// referenceBugs are differences where the arbiter sided with the
	// subject against wazero: reported, not failed.
	referenceBugs []disagreement
}

// compareModule runs every exported function of wasm under ref and sub,
// each call bounded by timeout, and compares what they observably do.
func compareModule(ctx context.Context, wasm []byte, ref, sub engine, timeout time.Duration, arbitrate arbiter) moduleReport {
	var rep moduleReport
	shape, err := inspect(ctx, wasm)
	if err != nil {
		// wazero rejects the module (or it imports something we do not
		// provide): see whether the subject rejects it too.
		var refLog, subLog hostLog
		_ = refLog
		inst, _, subErr := sub.load(ctx, wasm, &moduleShape{}, &subLog)
		if inst != nil {
			inst.close()
		}
		rep.loadErr = err.Error()
		if subErr != nil {
			rep.verdict = verdictBothRejected
		} else {
			rep.verdict = verdictWazeroRejected
		}
		return rep
	}

	var refLog, subLog hostLog
	refInst, refStage, refErr := ref.load(ctx, wasm, shape, &refLog)
	subInst, subStage, subErr := sub.load(ctx, wasm, shape, &subLog)
	if refInst != nil {
		defer refInst.close()
	}
	if subInst != nil {
		defer subInst.close()
	}
	switch {
	case refErr != nil && subErr != nil:
		rep.verdict, rep.loadErr = verdictBothRejected, refErr.Error()
		if refStage != subStage {
			rep.disagreements = append(rep.disagreements, disagreement{
				what: "failed at different stages",
				ref:  fmt.Sprintf("%s: %v", refStage, refErr), sub: fmt.Sprintf("%s: %v", subStage, subErr)})
		}
		return rep
	case refErr != nil:
		rep.verdict, rep.loadErr = verdictWazeroRejected, refErr.Error()
		return rep
	case subErr != nil:
		rep.verdict, rep.loadErr = verdictSubjectRejects, subErr.Error()
		rep.disagreements = append(rep.disagreements, disagreement{
			what: fmt.Sprintf("%s rejects the module at %s", sub.name, subStage),
			ref:  "loaded", sub: subErr.Error()})
		return rep
	}
	rep.verdict = verdictCompared

	// Instantiation may already have run a start function that logs.
	if d := diff(nil, drained(&refLog), drained(&subLog)); d != "" {
		rep.disagreements = append(rep.disagreements, disagreement{what: "start function: " + d})
	}

	exports, err := callOrder(wasm, shape)
	if err != nil {
		rep.disagreements = append(rep.disagreements, disagreement{what: "reading exports: " + err.Error()})
		return rep
	}
	for _, e := range exports {
		params := make([]uint64, len(e.params)) // zero, or null for references
		r := callOne(ctx, refInst, &refLog, shape, e.name, params, timeout)
		s := callOne(ctx, subInst, &subLog, shape, e.name, params, timeout)
		if inconclusive(r.class) || inconclusive(s.class) {
			// Time and stack limits are the engines' own; after such a
			// call the states may differ, so stop here.
			rep.inconclusive++
			return rep
		}
		rep.funcs++
		if r.class != trapNone && r.class == s.class {
			if rep.traps == nil {
				rep.traps = map[string]int{}
			}
			rep.traps[r.class]++
		}
		if d := diff(e.results, r, s); d != "" {
			dis := disagreement{export: e.name, what: d, ref: r.String(), sub: s.String()}
			if subjectVindicated(ctx, arbitrate, wasm, e.name, r, s) {
				dis.what += " (wazero deviates from the spec: binaryen's interpreter, or a trap at memory.init of an active segment, sides with " + sub.name + ")"
				rep.referenceBugs = append(rep.referenceBugs, dis)
			} else {
				rep.disagreements = append(rep.disagreements, dis)
			}
			return rep // later calls would only repeat the divergence
		}
	}
	return rep
}

func drained(l *hostLog) outcome {
	calls, dropped := l.drain()
	return outcome{calls: calls, dropped: dropped}
}

// callOrder is the order binaryen's fuzz-exec uses: every function export,
// once, in declaration order (hangLimitInitializer, which resets the
// generated code's loop budget, is called where it is declared, like any
// other export).
func callOrder(wasm []byte, shape *moduleShape) ([]export, error) {
	names, err := exportOrder(wasm)
	if err != nil {
		return nil, err
	}
	byName := map[string]export{}
	for _, e := range shape.exports {
		byName[e.name] = e
	}
	var out []export
	for _, n := range names {
		if e, ok := byName[n]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// subjectVindicated reports whether a difference is wazero's fault: the
// subject trapped on memory.init of an active data segment (which the spec
// drops at instantiation; wazero 1.12 does not, whatever the arbiter), or
// the runtimes disagree on whether the call traps and the arbiter sides
// with the subject.
func subjectVindicated(ctx context.Context, arbitrate arbiter, wasm []byte, name string, ref, sub outcome) bool {
	var trap *api.TrapError
	if errors.As(sub.err, &trap) && errors.Is(trap.Kind, api.ErrOutOfBoundsMemory) &&
		len(trap.Stack) > 0 && isActiveMemoryInit(wasm, trap.Stack[0].FileOffset) {
		return true
	}
	if arbitrate == nil || (ref.class == trapNone) == (sub.class == trapNone) {
		return false
	}
	traps, err := arbitrate(ctx, wasm)
	if err != nil {
		return false
	}
	trapped, called := traps[name]
	return called && trapped == (sub.class != trapNone)
}

// callOne calls the export and collects the outcome.
func callOne(ctx context.Context, inst instance, log *hostLog, shape *moduleShape, name string, params []uint64, timeout time.Duration) outcome {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	results, err := inst.call(ctx, name, params)
	o := drained(log)
	o.class, o.err, o.results = classify(err), err, results
	if inconclusive(o.class) {
		return o // wazero closes a module whose context expired
	}
	o.memories = map[string]memoryState{}
	for _, m := range shape.memories {
		h, size, err := inst.memoryHash(m)
		if err != nil {
			o.class, o.err = trapOtherPrefix+err.Error(), err
			return o
		}
		o.memories[m] = memoryState{h, size}
	}
	return o
}

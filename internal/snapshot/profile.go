package snapshot

// The profile section (format 1.2): the run's hot set, so that a restore
// compiles it for the destination's CPU before resuming (docs/compiler.md,
// "Tiering"). Like the frames, it speaks WebAssembly: function indices and
// the byte offsets of loop headers, never a tier's pause ids or code.

// SectionProfile holds the hot set of the checkpointed run.
const SectionProfile SectionType = 11

// Caps of the profile section. A writer keeps far fewer (internal/profile:
// 256 functions, 16 loops each); the caps leave room for that to grow
// without a format change while keeping a forged section small.
const (
	MaxProfileFuncs = 1 << 12
	// MaxProfileLoops caps the loops of one function, MaxProfileLoopsAll
	// those of all functions together.
	MaxProfileLoops    = 1 << 8
	MaxProfileLoopsAll = 1 << 15
	// maxProfilePayload bounds the section: more than the largest
	// encoding of the caps (function: 5 + 10 + 2 bytes, loop: 5 + 10).
	maxProfilePayload = 1 << 20
)

// Profile is the hot set: functions hottest first.
type Profile struct {
	Funcs []ProfileFunc
}

// ProfileFunc is one hot function: its index in the module's function
// index space, its samples, and its hottest loops.
type ProfileFunc struct {
	Func    uint32
	Samples uint64
	Loops   []ProfileLoop
}

// ProfileLoop is a loop of a hot function, named by the byte offset of its
// header (the loop instruction) from the body's start, as a frame names
// its pause point, and the samples taken there.
type ProfileLoop struct {
	Offset  uint32
	Samples uint64
}

func encodeProfile(p *Profile) []byte {
	var e encoder
	e.uv(uint64(len(p.Funcs)))
	for _, f := range p.Funcs {
		e.uv(uint64(f.Func))
		e.uv(f.Samples)
		e.uv(uint64(len(f.Loops)))
		for _, l := range f.Loops {
			e.uv(uint64(l.Offset))
			e.uv(l.Samples)
		}
	}
	return e.b
}

// decodeProfile checks what a reader can check without the module: caps,
// a function or loop at most once, samples not zero, a function's loops
// not holding more samples than the function. Whether the indices and
// offsets name functions and loops of the module is the restore's check
// (an entry that names none is ignored there: a profile only steers
// what is compiled first, never what runs).
func decodeProfile(b []byte) (*Profile, error) {
	d := decoder{b: b, what: "profile"}
	n := d.count("profile functions", MaxProfileFuncs, 3)
	p := &Profile{Funcs: make([]ProfileFunc, 0, n)}
	seen := map[uint32]bool{}
	loopsLeft := uint64(MaxProfileLoopsAll)
	for i := 0; i < n && d.err == nil; i++ {
		f := ProfileFunc{Func: d.u32v("function index"), Samples: d.uv()}
		nl := d.count("profile loops", min(MaxProfileLoops, loopsLeft), 2)
		loopsLeft -= uint64(nl)
		var inLoops uint64
		offs := map[uint32]bool{}
		for j := 0; j < nl && d.err == nil; j++ {
			l := ProfileLoop{Offset: d.u32v("loop offset"), Samples: d.uv()}
			switch {
			case d.err != nil:
			case l.Samples == 0:
				d.fail("function %d: loop at %d has no samples", f.Func, l.Offset)
			case offs[l.Offset]:
				d.fail("function %d: loop at %d recorded twice", f.Func, l.Offset)
			case l.Samples > f.Samples-inLoops:
				d.fail("function %d: its loops hold more than its %d samples", f.Func, f.Samples)
			}
			offs[l.Offset] = true
			inLoops += l.Samples
			f.Loops = append(f.Loops, l)
		}
		switch {
		case d.err != nil:
		case f.Samples == 0:
			d.fail("function %d has no samples", f.Func)
		case seen[f.Func]:
			d.fail("function %d recorded twice", f.Func)
		}
		seen[f.Func] = true
		p.Funcs = append(p.Funcs, f)
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return p, nil
}

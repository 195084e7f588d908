package snapshot

import (
	"math"

	"github.com/ferryvm/ferry/api"
)

// Caps on every count and size a reader accepts (docs/snapshot-format.md,
// "Limits"). They are far above what the engine can produce and far below
// what would let a forged file exhaust the reader.
const (
	MaxString      = 1 << 20  // bytes in one string
	MaxStrings     = 1 << 20  // arguments or environment entries
	MaxFeatures    = 1 << 10  // CPU feature names
	MaxFrames      = 1 << 20  // frames
	MaxValues      = 1 << 23  // locals and operands of all frames together
	MaxGlobals     = 1 << 20  // globals
	MaxTables      = 1 << 16  // tables
	MaxTableElems  = 10000000 // elements of all tables together (store.MaxTableElems)
	MaxMemories    = 1 << 8   // memories
	MaxMemorySize  = 1 << 32  // bytes of one memory
	MaxSegments    = 1 << 20  // data or element segments
	MaxDescriptors = 1 << 16  // WASI descriptors
	MaxRuns        = 1 << 20  // page runs of all memories together
	MaxArgEnvBytes = 1 << 20  // WASI arguments and environment, each with its NUL
	MaxModule      = 1 << 28  // module bytes
)

// Limits bounds the structures a reader decodes from one file. Caps on
// section bytes alone are not enough: a value takes 2 encoded bytes and 24
// decoded ones, and zstd turns a few kilobytes into a gigabyte of them, so
// every count is checked against these totals before anything is
// allocated for it. A caller that knows tighter bounds (a runtime's call
// depth, a module's tables) passes them; the defaults bound what any file
// makes a reader allocate to a few hundred MiB, whatever its size.
type Limits struct {
	Frames      int    // frames
	Values      int    // locals and operands of all frames together
	Globals     int    // globals
	TableElems  int    // elements of all tables together
	PageRuns    int    // page runs of all memories together
	ArgEnvBytes int    // WASI arguments and environment, each with its NUL
	Descriptors int    // WASI descriptors
	ModuleBytes uint64 // module bytes
}

// DefaultLimits are the caps of docs/snapshot-format.md ("Limits"): the
// most any checkpoint Ferry writes can hold. Values is the interpreter's
// value stack (2^23 slots, a value takes at least one); TableElems the
// store's cap on one table; ArgEnvBytes about Linux's ARG_MAX.
func DefaultLimits() Limits {
	return Limits{
		Frames: MaxFrames, Values: MaxValues, Globals: MaxGlobals, TableElems: MaxTableElems,
		PageRuns: MaxRuns, ArgEnvBytes: MaxArgEnvBytes, Descriptors: MaxDescriptors, ModuleBytes: MaxModule,
	}
}

// bounded returns l with every field no larger than its default (a zero
// or negative field means the default).
func (l Limits) bounded() Limits {
	d := DefaultLimits()
	clamp := func(v *int, max int) {
		if *v <= 0 || *v > max {
			*v = max
		}
	}
	clamp(&l.Frames, d.Frames)
	clamp(&l.Values, d.Values)
	clamp(&l.Globals, d.Globals)
	clamp(&l.TableElems, d.TableElems)
	clamp(&l.PageRuns, d.PageRuns)
	clamp(&l.ArgEnvBytes, d.ArgEnvBytes)
	clamp(&l.Descriptors, d.Descriptors)
	if l.ModuleBytes == 0 || l.ModuleBytes > d.ModuleBytes {
		l.ModuleBytes = d.ModuleBytes
	}
	return l
}

// Largest encodings, from which the payload caps follow (maxPayload).
const (
	maxValueBytes = 17 // a v128: type and 16 bytes
	// function index, kind, offset, locals and operands counts
	maxFrameHeader = 5 + 1 + 5 + 4 + 4
	maxElemBytes   = 5 // a function index plus one, as a varint
)

func (e *encoder) value(v Value) {
	e.u8(v.Type)
	switch v.Type {
	case api.ValueTypeI32, api.ValueTypeF32:
		e.u32(uint32(v.Lo))
	case api.ValueTypeI64, api.ValueTypeF64:
		e.u64(v.Lo)
	case api.ValueTypeV128:
		e.u64(v.Lo)
		e.u64(v.Hi)
	default: // references
		e.uv(v.Lo)
	}
}

func (d *decoder) value() Value {
	v := Value{Type: d.u8()}
	switch v.Type {
	case api.ValueTypeI32, api.ValueTypeF32:
		v.Lo = uint64(d.u32())
	case api.ValueTypeI64, api.ValueTypeF64:
		v.Lo = d.u64()
	case api.ValueTypeV128:
		v.Lo, v.Hi = d.u64(), d.u64()
	case api.ValueTypeFuncref:
		v.Lo = d.uv()
		if v.Lo > math.MaxUint32 {
			d.fail("funcref %d out of range", v.Lo)
		}
	case api.ValueTypeExternref:
		if v.Lo = d.uv(); v.Lo != 0 {
			d.fail("non-null externref")
		}
	default:
		d.fail("unknown value type 0x%02x", v.Type)
	}
	return v
}

func (e *encoder) values(vs []Value) {
	e.uv(uint64(len(vs)))
	for _, v := range vs {
		e.value(v)
	}
}

// values reads a vector of values, at most *budget of them; it takes what
// it read from the budget.
func (d *decoder) values(what string, budget *int) []Value {
	n := d.count(what, uint64(*budget), 2)
	if d.err != nil || n == 0 {
		return nil
	}
	*budget -= n
	out := make([]Value, n)
	for i := range out {
		out[i] = d.value()
	}
	return out
}

// skipValues checks a vector of values as values does, without keeping
// them, and returns their number.
func (d *decoder) skipValues(what string, budget *int) int {
	n := d.count(what, uint64(*budget), 2)
	if d.err != nil {
		return 0
	}
	*budget -= n
	for range n {
		if d.value(); d.err != nil {
			return 0
		}
	}
	return n
}

func encodeMeta(m *Meta) []byte {
	var e encoder
	e.str(m.RuntimeVersion)
	e.str(m.Arch)
	e.strs(m.Features)
	e.fixed(m.ModuleHash[:])
	e.u64(m.ModuleSize)
	e.boolean(m.PauseCountKnown)
	e.u64(m.PauseCount)
	e.sv(m.Created)
	return e.b
}

func readMeta(d *decoder) (Meta, error) {
	var m Meta
	m.RuntimeVersion = d.str("runtime version")
	m.Arch = d.str("architecture")
	m.Features = d.strs("CPU features", MaxFeatures)
	copy(m.ModuleHash[:], d.fixed(32))
	m.ModuleSize = d.u64()
	m.PauseCountKnown = d.boolean()
	m.PauseCount = d.u64()
	m.Created = d.sv()
	return m, d.end()
}

func encodeFrames(fs []Frame) []byte {
	var e encoder
	e.uv(uint64(len(fs)))
	for i := range fs {
		f := &fs[i]
		e.uv(uint64(f.Func))
		e.u8(uint8(f.Kind))
		e.uv(uint64(f.Offset))
		e.values(f.Locals)
		e.values(f.Stack)
	}
	return e.b
}

func readFrames(d *decoder, lim Limits) ([]Frame, error) {
	n := d.count("frame", uint64(lim.Frames), 5)
	if d.err != nil {
		return nil, d.err
	}
	budget := lim.Values
	fs := make([]Frame, n)
	for i := range fs {
		f := &fs[i]
		f.Func, f.Kind, f.Offset = d.frameHeader(i)
		f.Locals = d.values("local", &budget)
		f.Stack = d.values("operand", &budget)
	}
	return fs, d.end()
}

// readFrameHeaders checks the frames section as readFrames does, keeping
// only the headers: what it allocates follows the number of frames, never
// the number of values.
func readFrameHeaders(d *decoder, lim Limits) ([]FrameHeader, error) {
	n := d.count("frame", uint64(lim.Frames), 5)
	if d.err != nil {
		return nil, d.err
	}
	budget := lim.Values
	hs := make([]FrameHeader, n)
	for i := range hs {
		h := &hs[i]
		h.Func, h.Kind, h.Offset = d.frameHeader(i)
		h.Locals = d.skipValues("local", &budget)
		h.Stack = d.skipValues("operand", &budget)
	}
	return hs, d.end()
}

// frameHeader reads frame i's function index, pause kind and offset.
func (d *decoder) frameHeader(i int) (fn uint32, kind api.PauseKind, offset uint32) {
	fn = d.u32v("function index")
	kind = api.PauseKind(d.u8())
	if kind < api.PauseFuncEntry || kind > api.PauseHostCall {
		d.fail("frame %d: unknown pause kind %d", i, kind)
	}
	return fn, kind, d.u32v("offset")
}

func encodeGlobals(gs []Global) []byte {
	var e encoder
	e.uv(uint64(len(gs)))
	for _, g := range gs {
		e.boolean(g.Mutable)
		e.value(g.Value)
	}
	return e.b
}

func readGlobals(d *decoder, lim Limits) ([]Global, error) {
	n := d.count("global", uint64(lim.Globals), 3)
	gs := make([]Global, n)
	for i := range gs {
		gs[i].Mutable = d.boolean()
		gs[i].Value = d.value()
	}
	return gs, d.end()
}

func encodeTables(ts []Table) []byte {
	var e encoder
	e.uv(uint64(len(ts)))
	for _, t := range ts {
		e.u8(t.ElemType)
		e.uv(uint64(len(t.Elems)))
		for _, x := range t.Elems {
			e.uv(uint64(x))
		}
	}
	return e.b
}

func readTables(d *decoder, lim Limits) ([]Table, error) {
	n := d.count("table", MaxTables, 2)
	budget := lim.TableElems
	ts := make([]Table, n)
	for i := range ts {
		t := &ts[i]
		t.ElemType = d.u8()
		if d.err == nil && t.ElemType != api.ValueTypeFuncref && t.ElemType != api.ValueTypeExternref {
			d.fail("table %d: element type 0x%02x is not a reference type", i, t.ElemType)
		}
		m := d.count("table element", uint64(budget), 1)
		if d.err != nil {
			break
		}
		budget -= m
		t.Elems = make([]uint32, m)
		for j := range t.Elems {
			t.Elems[j] = d.u32v("table element")
			if t.ElemType == api.ValueTypeExternref && t.Elems[j] != 0 && d.err == nil {
				d.fail("table %d element %d: non-null externref", i, j)
			}
		}
	}
	return ts, d.end()
}

func encodeBools(e *encoder, bs []bool) {
	e.uv(uint64(len(bs)))
	var cur byte
	for i, b := range bs {
		if b {
			cur |= 1 << (i % 8)
		}
		if i%8 == 7 || i == len(bs)-1 {
			e.u8(cur)
			cur = 0
		}
	}
}

func decodeBools(d *decoder, what string) []bool {
	n := d.count(what, MaxSegments, 0)
	if d.err != nil {
		return nil
	}
	raw := d.fixed((n + 7) / 8)
	if d.err != nil {
		return nil
	}
	out := make([]bool, n)
	for i := range out {
		out[i] = raw[i/8]&(1<<(i%8)) != 0
	}
	if n%8 != 0 && raw[len(raw)-1]>>(n%8) != 0 {
		d.fail("%s: padding bits set", what)
	}
	return out
}

func encodeSegments(s *Segments) []byte {
	var e encoder
	encodeBools(&e, s.DataDropped)
	encodeBools(&e, s.ElemDropped)
	return e.b
}

func readSegments(d *decoder) (Segments, error) {
	var s Segments
	s.DataDropped = decodeBools(d, "data segment")
	s.ElemDropped = decodeBools(d, "element segment")
	return s, d.end()
}

func encodeMemoryMap(index int, m *Memory) []byte {
	var e encoder
	e.uv(uint64(index))
	e.u64(m.Size)
	e.uv(uint64(len(m.Runs)))
	next := uint64(0)
	for _, r := range m.Runs {
		// Runs are delta-coded: the gap since the previous run's end.
		e.uv(r.First - next)
		e.uv(r.Count)
		next = r.First + r.Count
	}
	return e.b
}

// decodeMemoryMap decodes memory want's page map, at most *runs runs; it
// takes what it read from *runs.
func readMemoryMap(d *decoder, want int, runs *int) (Memory, error) {
	var m Memory
	if idx := d.uv(); d.err == nil && idx != uint64(want) {
		d.fail("memory index %d, want %d", idx, want)
	}
	m.Size = d.u64()
	if d.err == nil && (m.Size > MaxMemorySize || m.Size%(64<<10) != 0) {
		d.fail("memory size %d is not a multiple of 64 KiB up to 4 GiB", m.Size)
	}
	pages := m.Size / PageSize
	// Runs are neither empty nor adjacent: at most one per two pages.
	n := d.count("page run", min(uint64(*runs), (pages+1)/2), 2)
	if d.err != nil {
		return m, d.err
	}
	*runs -= n
	next := uint64(0)
	m.Runs = make([]PageRun, n)
	for i := range m.Runs {
		gap, cnt := d.uv(), d.uv()
		if d.err != nil {
			break
		}
		if (i > 0 && gap == 0) || cnt == 0 || gap > pages-next || cnt > pages-next-gap {
			d.fail("page run %d (gap %d, %d pages) is empty, adjacent or beyond %d pages", i, gap, cnt, pages)
			break
		}
		m.Runs[i] = PageRun{First: next + gap, Count: cnt}
		next += gap + cnt
	}
	return m, d.end()
}

// EncodeWASI encodes the WASI section's payload.
func EncodeWASI(w *WASI) []byte {
	var e encoder
	e.strs(w.Args)
	e.strs(w.Env)
	e.u64(w.Monotonic)
	e.u64(w.CPUTime)
	e.uv(uint64(len(w.Descriptors)))
	for _, x := range w.Descriptors {
		e.uv(uint64(x.FD))
		e.u8(x.Kind)
		e.str(x.Preopen)
		e.str(x.GuestPath)
		e.str(x.HostPath)
		e.uv(uint64(x.OFlags))
		e.uv(uint64(x.FDFlags))
		e.u64(x.Rights)
		e.u64(x.Inherit)
		e.sv(x.Offset)
		e.uv(x.DirCookie)
		e.u8(x.Stdio)
		e.str(x.Addr)
		e.str(x.Peer)
		e.sv(x.Size)
		e.sv(x.MtimeNs)
		e.uv(x.Dev)
		e.uv(x.Ino)
	}
	return e.b
}

// DecodeWASI decodes and checks a WASI section's payload within the
// default limits.
func DecodeWASI(b []byte) (*WASI, error) { return decodeWASI(b, DefaultLimits()) }

func decodeWASI(b []byte, lim Limits) (*WASI, error) {
	return readWASI(&decoder{b: b, what: "wasi"}, lim)
}

func readWASI(d *decoder, lim Limits) (*WASI, error) {
	w := &WASI{}
	budget := lim.ArgEnvBytes
	w.Args = d.argEnv("argument", &budget, lim.ArgEnvBytes)
	w.Env = d.argEnv("environment entry", &budget, lim.ArgEnvBytes)
	w.Monotonic = d.u64()
	w.CPUTime = d.u64()
	n := d.count("descriptor", uint64(lim.Descriptors), 20)
	if d.err != nil {
		return nil, d.err
	}
	w.Descriptors = make([]Descriptor, n)
	prev := int64(-1)
	for i := range w.Descriptors {
		x := &w.Descriptors[i]
		x.FD = d.u32v("descriptor number")
		if d.err == nil && int64(x.FD) <= prev {
			d.fail("descriptor %d: numbers not strictly increasing", x.FD)
		}
		prev = int64(x.FD)
		x.Kind = d.u8()
		if d.err == nil && (x.Kind < KindStdio || x.Kind > KindConn) {
			d.fail("descriptor %d: unknown kind %d", x.FD, x.Kind)
		}
		x.Preopen = d.str("pre-open")
		x.GuestPath = d.str("guest path")
		x.HostPath = d.str("host path")
		of, ff := d.uv(), d.uv()
		if of > 0xffff || ff > 0xffff {
			d.fail("descriptor %d: flags out of range", x.FD)
		}
		x.OFlags, x.FDFlags = uint16(of), uint16(ff)
		x.Rights = d.u64()
		x.Inherit = d.u64()
		x.Offset = d.sv()
		x.DirCookie = d.uv()
		x.Stdio = d.u8()
		x.Addr = d.str("address")
		x.Peer = d.str("peer")
		x.Size = d.sv()
		x.MtimeNs = d.sv()
		x.Dev = d.uv()
		x.Ino = d.uv()
	}
	return w, d.end()
}

// argEnv reads arguments or environment entries, taking each one's bytes
// and its NUL (as the guest's args_get and environ_get copy them) from
// *budget: a guest started with them would need them all in its memory,
// and Linux refuses more than about ARG_MAX at exec.
func (d *decoder) argEnv(what string, budget *int, limit int) []string {
	n := d.uv()
	if d.err == nil && n > uint64(*budget) {
		d.fail("%d %ss exceed the %d-byte limit on arguments and environment", n, what, limit)
	}
	if d.err != nil || !d.need(int(n)) { // every string takes a byte at least
		return nil
	}
	*budget -= int(n) // the NULs
	out := make([]string, n)
	for i := range out {
		l := d.uv()
		if d.err == nil && l > uint64(*budget) {
			d.fail("%s %d (%d bytes) exceeds the %d bytes left of the %d-byte limit on arguments and environment", what, i, l, *budget, limit)
		}
		if d.err != nil || !d.need(int(l)) {
			return nil
		}
		*budget -= int(l)
		out[i] = string(d.read(int(l), nil))
	}
	return out
}

package codecache

import (
	"encoding/binary"
	"fmt"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/interp"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/pause"
	"github.com/ferryvm/ferry/internal/v128"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Func is one function's lowered code as an entry stores it.
type Func = interp.FuncParts

// A function's encoding (docs/code-cache.md). What the module determines
// (signature, locals, index, body start) is not stored: interp takes it
// from the module.
//
// An instruction is uvarint(op<<4 | mask) followed by the uvarints of A,
// B, C and Imm whose mask bit (1, 2, 4, 8) is set, the others being zero:
// most operands are small slot numbers and most immediates zero, so an
// instruction takes about 4 bytes instead of the 24 of ir.Instr, which
// keeps both the file and the MAC over it small.

// Instruction operand mask bits.
const (
	hasA = 1 << iota
	hasB
	hasC
	hasImm
)

// Function flags.
const flagEntryPoll = 1

// Pause point flags.
const (
	pointMaybeHost = 1 << iota
	pointIndirect
)

func encodeFunc(w *writer, p *Func) {
	f := &p.IR
	var flags byte
	if f.EntryPoll {
		flags |= flagEntryPoll
	}
	w.b = append(w.b, flags)
	w.uv(uint64(f.LocalSlots))
	w.uv(uint64(f.ParamSlots))
	w.uv(uint64(f.FrameSlots))
	for _, in := range f.Code {
		var mask uint64
		if in.A != 0 {
			mask |= hasA
		}
		if in.B != 0 {
			mask |= hasB
		}
		if in.C != 0 {
			mask |= hasC
		}
		if in.Imm != 0 {
			mask |= hasImm
		}
		w.uv(uint64(in.Op)<<4 | mask)
		if in.A != 0 {
			w.uv(uint64(in.A))
		}
		if in.B != 0 {
			w.uv(uint64(in.B))
		}
		if in.C != 0 {
			w.uv(uint64(in.C))
		}
		if in.Imm != 0 {
			w.uv(in.Imm)
		}
	}
	// Offsets mostly grow by a few bytes per instruction: zigzag deltas.
	prev := int64(0)
	for _, o := range f.Offsets {
		d := int64(o) - prev
		w.uv(uint64(d<<1) ^ uint64(d>>63))
		prev = int64(o)
	}
	w.uv(uint64(len(f.BrTargets)))
	for _, t := range f.BrTargets {
		w.uv(uint64(t.PC))
		w.uv(uint64(t.Src))
		w.uv(uint64(t.Dst))
		w.uv(uint64(t.N))
	}
	w.u32s(f.PauseIR)
	w.u32s(f.LoopPolls)
	w.uv(uint64(len(f.VConsts)))
	for _, v := range f.VConsts {
		w.b = binary.LittleEndian.AppendUint64(w.b, v.Lo)
		w.b = binary.LittleEndian.AppendUint64(w.b, v.Hi)
	}
	w.uv(uint64(len(p.BackEdges)))
	for _, e := range p.BackEdges {
		w.uv(uint64(e.At))
		w.uv(uint64(e.Loop))
		var table byte
		if e.Table {
			table = 1
		}
		w.b = append(w.b, table)
		w.uv(uint64(e.Plain))
	}
	pts := p.Pauses.Points
	types := 0
	for i := range pts {
		types += len(pts[i].Stack) + len(pts[i].Operands)
	}
	w.uv(uint64(len(pts)))
	w.uv(uint64(types))
	for i := range pts {
		pt := &pts[i]
		var flags byte
		if pt.MaybeHost {
			flags |= pointMaybeHost
		}
		if pt.Indirect {
			flags |= pointIndirect
		}
		w.uv(uint64(pt.Offset))
		w.b = append(w.b, byte(pt.Kind), flags)
		w.uv(uint64(pt.Callee))
		w.uv(uint64(pt.TypeIndex))
		w.types(pt.Stack)
		w.types(pt.Operands)
	}
}

func (w *writer) u32s(s []uint32) {
	w.uv(uint64(len(s)))
	for _, v := range s {
		w.uv(uint64(v))
	}
}

// types writes a value type list; nil and empty differ (a pause point's
// Operands are nil except at calls), so the length is stored plus one,
// zero meaning nil.
func (w *writer) types(ts []wasm.ValType) {
	if ts == nil {
		w.uv(0)
		return
	}
	w.uv(uint64(len(ts)) + 1)
	for _, t := range ts {
		w.b = append(w.b, byte(t))
	}
}

// decoder decodes one function.
type decoder struct {
	reader
}

// uvarintAt reads a uvarint at b[p], returning the position after it, or
// -1 when it is malformed or cut. Small enough to be inlined: the hot
// loop reads most operands through its one-byte path.
func uvarintAt(b []byte, p int) (uint64, int) {
	if uint(p) < uint(len(b)) && b[p] < 0x80 {
		return uint64(b[p]), p + 1
	}
	return uvarintSlow(b, p)
}

func uvarintSlow(b []byte, p int) (uint64, int) {
	if p < 0 || p > len(b) {
		return 0, -1
	}
	v, n := binary.Uvarint(b[p:])
	if n <= 0 {
		return 0, -1
	}
	return v, p + n
}

func (d *decoder) function(p *Func, code []ir.Instr, offsets []uint32) error {
	f := &p.IR
	flags := d.byte()
	if flags&^flagEntryPoll != 0 {
		return fmt.Errorf("unknown flags %#x", flags)
	}
	f.EntryPoll = flags&flagEntryPoll != 0
	f.LocalSlots, f.ParamSlots, f.FrameSlots = d.u32(), d.u32(), d.u32()
	p.Pauses.LocalSlots = f.LocalSlots
	if d.err != nil {
		return d.err
	}
	// The hot loop: local position, inlined varints, one check per
	// instruction of the position and of the values' ranges.
	b, pos := d.b, d.p
	const max32 = 1<<32 - 1
	for i := range code {
		in := &code[i]
		var head, a, bb, c, imm uint64
		head, pos = uvarintAt(b, pos)
		if head&hasA != 0 {
			a, pos = uvarintAt(b, pos)
		}
		if head&hasB != 0 {
			bb, pos = uvarintAt(b, pos)
		}
		if head&hasC != 0 {
			c, pos = uvarintAt(b, pos)
		}
		if head&hasImm != 0 {
			imm, pos = uvarintAt(b, pos)
		}
		if pos < 0 || head>>4 >= uint64(ir.Count) || (a|bb|c) > max32 {
			d.fail("instruction %d malformed", i)
			return d.err
		}
		*in = ir.Instr{Op: ir.Op(head >> 4), A: uint32(a), B: uint32(bb), C: uint32(c), Imm: imm}
	}
	prev := int64(0)
	for i := range offsets {
		var z uint64
		z, pos = uvarintAt(b, pos)
		prev += int64(z>>1) ^ -int64(z&1)
		if pos < 0 || prev < 0 || prev > max32 {
			d.fail("offset %d malformed", i)
			return d.err
		}
		offsets[i] = uint32(prev)
	}
	d.p = pos
	f.Code, f.Offsets = code, offsets
	if nt := d.count(4); nt > 0 {
		f.BrTargets = make([]ir.BrTarget, nt)
		for i := range f.BrTargets {
			f.BrTargets[i] = ir.BrTarget{PC: d.u32(), Src: d.u32(), Dst: d.u32(), N: d.u32()}
		}
	}
	f.PauseIR = d.u32s()
	f.LoopPolls = d.u32s()
	if nv := d.count(16); nv > 0 {
		f.VConsts = make([]v128.V128, nv)
		for i := range f.VConsts {
			if b := d.bytes(16); b != nil {
				f.VConsts[i] = v128.FromBytes(b)
			}
		}
	}
	if ne := d.count(4); ne > 0 {
		p.BackEdges = make([]interp.BackEdge, ne)
		for i := range p.BackEdges {
			e := &p.BackEdges[i]
			e.At, e.Loop = d.u32(), d.u32()
			switch d.byte() {
			case 0:
			case 1:
				e.Table = true
			default:
				d.fail("bad back-edge kind")
			}
			op := d.uv()
			if op >= uint64(ir.Count) {
				d.fail("op %d out of range", op)
			}
			e.Plain = ir.Op(op)
		}
	}
	d.points(&p.Pauses)
	if d.err == nil && d.p != len(d.b) {
		d.fail("%d bytes after the function", len(d.b)-d.p)
	}
	return d.err
}

func (d *decoder) u32s() []uint32 {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	s := make([]uint32, n)
	for i := range s {
		s[i] = d.u32()
	}
	return s
}

// points decodes a pause-point table; every point's types are cut from
// one array.
func (d *decoder) points(pf *pause.Func) {
	n := d.count(6)
	types := d.count(1)
	if d.err != nil || n == 0 {
		return
	}
	pool := make([]wasm.ValType, types)
	pf.Points = make([]pause.Point, n)
	for i := range pf.Points {
		pt := &pf.Points[i]
		pt.Offset = d.u32()
		pt.Kind = api.PauseKind(d.byte())
		switch pt.Kind {
		case api.PauseFuncEntry, api.PauseLoop, api.PauseCall:
		default:
			d.fail("pause point kind %d", pt.Kind)
		}
		flags := d.byte()
		if flags&^(pointMaybeHost|pointIndirect) != 0 {
			d.fail("unknown pause point flags %#x", flags)
		}
		pt.MaybeHost, pt.Indirect = flags&pointMaybeHost != 0, flags&pointIndirect != 0
		pt.Callee, pt.TypeIndex = d.u32(), d.u32()
		pt.Stack, pool = d.types(pool)
		pt.Operands, pool = d.types(pool)
		if d.err != nil {
			return
		}
	}
	if len(pool) != 0 {
		d.fail("%d value types fewer than the function says", len(pool))
	}
}

// types cuts a value type list from pool.
func (d *decoder) types(pool []wasm.ValType) ([]wasm.ValType, []wasm.ValType) {
	n := d.uv()
	if n == 0 {
		return nil, pool
	}
	n--
	if n > uint64(len(pool)) {
		d.fail("more value types than the function says")
		return nil, pool
	}
	raw := d.bytes(int(n))
	ts := pool[:n:n]
	for i, c := range raw {
		t := wasm.ValType(c)
		if !t.Valid() {
			d.fail("value type %#x", c)
			return nil, pool
		}
		ts[i] = t
	}
	return ts, pool[n:]
}

package interp

import (
	"encoding/binary"
	"math"
	"math/bits"
	"unsafe"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/engine"
	"github.com/ferryvm/ferry/internal/store"
	"github.com/ferryvm/ferry/internal/wasm"
)

// frame is a frame header; the frame's slots are stack[base:base+frameSlots].
type frame struct {
	fn   *store.Function
	code *funcCode
	// pc is the IR index execution continues at: for a caller, the
	// instruction after its call; for a stopped innermost frame, the pause
	// point's instruction; after a trap, one past the trapping instruction.
	pc   uint32
	base int
}

// maxStackSlots bounds the value stack (64 MiB): deep recursion through
// functions with large frames traps before the depth limit would.
const maxStackSlots = 1 << 23

// sl returns slot i of the frame at fp. Lowering proves i < frameSlots and
// the call sequence reserves frameSlots slots, so no check is needed.
func sl(fp unsafe.Pointer, i uint32) *uint64 {
	return (*uint64)(unsafe.Add(fp, uintptr(i)<<3))
}

func slots(fp unsafe.Pointer, i, n uint32) []uint64 {
	return unsafe.Slice(sl(fp, i), n)
}

// trap records where the innermost frame stopped and raises kind.
func (m *machine) trap(fr *frame, pc uint32, kind error) {
	fr.pc = pc
	panic(engine.Trap{Kind: kind})
}

// interpCode returns f's interpreter code. It is the tier boundary: a
// call between functions of one instance takes its callee's body from
// the caller's Compiled (same module, same tier), so only a call into
// another instance, a resume and an entry from the host come here.
func interpCode(f *store.Function) (*funcCode, bool) {
	c, ok := f.Code.(*funcCode)
	return c, ok
}

// push enters f with its frame at base, its arguments already there.
func (m *machine) push(f *store.Function, base int) {
	c, ok := interpCode(f)
	if !ok {
		panic(engine.Trap{Kind: errNotCompiled})
	}
	m.pushCode(f, c, base)
}

// pushCode is push with f's body c already found.
func (m *machine) pushCode(f *store.Function, c *funcCode, base int) {
	if len(m.frames) >= m.maxDepth {
		panic(engine.Trap{Kind: api.ErrCallStackExhausted})
	}
	need := base + int(c.frameSlots)
	if need > len(m.stack) {
		if need > maxStackSlots {
			panic(engine.Trap{Kind: api.ErrCallStackExhausted})
		}
		n := 2 * len(m.stack)
		if n < need+64 {
			n = need + 64
		}
		s := make([]uint64, n)
		copy(s, m.stack)
		m.stack = s
	}
	clear(m.stack[base+int(c.paramSlots) : base+int(c.localSlots)])
	// Unarmed code starts past its entry opPoll, armed code at it (arm.go).
	m.frames = append(m.frames, frame{fn: f, code: c, base: base, pc: c.start})
}

// run executes until the frame stack is empty (returning false) or the run
// stops at a pause point (returning true).
func (m *machine) run() bool {
	var (
		fr      *frame
		code    []instr
		pc      uint32
		fp      unsafe.Pointer
		inst    *store.Instance
		funcs   []*store.Function
		globals []*store.Global
		mem     *store.Memory
		buf     []byte
	)
	intr := m.intr
reload:
	fr = &m.frames[len(m.frames)-1]
	code = fr.code.code
	pc = fr.pc
	fp = unsafe.Pointer(&m.stack[fr.base])
	if fi := fr.fn.Instance; fi != inst {
		inst = fi
		funcs, globals = inst.Funcs, inst.Globals
		mem = nil
		if len(inst.Memories) > 0 {
			mem = inst.Memories[0]
		}
	}
	buf = nil
	if mem != nil {
		buf = mem.Buf // a callee may have grown it
	}
	for {
		in := &code[pc]
		pc++
		switch in.op {
		case opPoll:
			if intr.Load() != 0 {
				fr.pc = pc - 1
				if m.interrupted() {
					return true
				}
			}
		case opUnreachable:
			m.trap(fr, pc, api.ErrUnreachable)
		case opBr:
			pc = in.a
		case opBrCopy:
			if in.imm == 1 {
				*sl(fp, in.c) = *sl(fp, in.b)
			} else {
				copy(slots(fp, in.c, uint32(in.imm)), slots(fp, in.b, uint32(in.imm)))
			}
			pc = in.a
		case opBrIf:
			if uint32(*sl(fp, in.b)) != 0 {
				pc = in.a
			}
		case opBrIfNot:
			if uint32(*sl(fp, in.b)) == 0 {
				pc = in.a
			}
		case opBrIfCopy:
			if uint32(*sl(fp, in.b)) != 0 {
				n := uint32(in.imm >> 32)
				copy(slots(fp, uint32(in.imm), n), slots(fp, in.c, n))
				pc = in.a
			}
		case opBrTable:
			i := uint64(uint32(*sl(fp, in.a)))
			if i >= uint64(in.c) {
				i = uint64(in.c) - 1
			}
			t := &fr.code.brTargets[uint64(in.b)+i]
			if t.n != 0 && t.src != t.dst {
				copy(slots(fp, t.dst, t.n), slots(fp, t.src, t.n))
			}
			pc = t.pc
		case opReturn:
			if in.b != 0 {
				if in.c == 1 {
					*sl(fp, 0) = *sl(fp, in.b)
				} else {
					copy(slots(fp, 0, in.c), slots(fp, in.b, in.c))
				}
			}
			m.frames = m.frames[:len(m.frames)-1]
			if len(m.frames) == m.floor {
				return false
			}
			fr = &m.frames[len(m.frames)-1]
			if fr.fn.Instance != inst {
				goto reload
			}
			// Same instance: funcs, globals, mem and buf (which a callee's
			// memory.grow updated in this very loop) are still current.
			code, pc, fp = fr.code.code, fr.pc, unsafe.Pointer(&m.stack[fr.base])
		case opCall:
			f := funcs[in.a]
			if f.Host != nil {
				if m.callHost(fr, pc, f, inst, fr.base+int(in.b)) {
					return true
				}
				if mem != nil {
					buf = mem.Buf
				}
				continue
			}
			fr.pc = pc
			nb := fr.base + int(in.b)
			// A body in the caller's byIndex is the module's own: the
			// callee is this instance's. An imported Wasm function takes
			// the general path. (Read here, not kept in a local of the
			// loop: one more live variable across the loop costs the hot
			// memory instructions a register.)
			c := fr.code.owner.byIndex[in.a]
			if c == nil || len(m.frames) >= m.maxDepth || nb+int(c.frameSlots) > len(m.stack) {
				m.push(f, nb) // the general path: traps, stack growth, other instances
				goto reload
			}
			// The common case, inlined: same instance, room on the stack.
			clear(m.stack[nb+int(c.paramSlots) : nb+int(c.localSlots)])
			pc = c.start
			m.frames = append(m.frames, frame{fn: f, code: c, base: nb, pc: pc})
			fr = &m.frames[len(m.frames)-1]
			code, fp = c.code, unsafe.Pointer(&m.stack[nb])
		case opCallIndirect:
			tab := inst.Tables[in.b]
			i := uint64(uint32(*sl(fp, uint32(in.imm))))
			if i >= uint64(len(tab.Elems)) {
				m.trap(fr, pc, api.ErrUndefinedElement)
			}
			ref := tab.Elems[i]
			if ref == 0 {
				m.trap(fr, pc, api.ErrUninitializedElement)
			}
			f := inst.Store.FuncByRef(ref)
			if f == nil {
				m.trap(fr, pc, api.ErrUninitializedElement)
			}
			if f.TypeID != inst.TypeIDs[in.a] {
				m.trap(fr, pc, api.ErrIndirectCallTypeMismatch)
			}
			if f.Host != nil {
				if m.callHost(fr, pc, f, inst, fr.base+int(in.c)) {
					return true
				}
				if mem != nil {
					buf = mem.Buf
				}
				continue
			}
			fr.pc = pc
			if c := fr.code.owner.byIndex; f.Instance == inst && c[f.Index] != nil {
				m.pushCode(f, c[f.Index], fr.base+int(in.c))
			} else {
				m.push(f, fr.base+int(in.c))
			}
			goto reload
		case opConst:
			*sl(fp, in.a) = in.imm
		case opMov:
			*sl(fp, in.a) = *sl(fp, in.b)
		case opMov2:
			*sl(fp, in.a) = *sl(fp, in.b)
			*sl(fp, in.a+1) = *sl(fp, in.b+1)
		case opSelect:
			if uint32(*sl(fp, uint32(in.imm))) != 0 {
				*sl(fp, in.a) = *sl(fp, in.b)
			} else {
				*sl(fp, in.a) = *sl(fp, in.c)
			}
		case opSelect2:
			s := in.c
			if uint32(*sl(fp, uint32(in.imm))) != 0 {
				s = in.b
			}
			lo, hi := *sl(fp, s), *sl(fp, s+1)
			*sl(fp, in.a), *sl(fp, in.a+1) = lo, hi
		case opGlobalGet:
			*sl(fp, in.a) = globals[in.b].Lo
		case opGlobalSet:
			globals[in.a].Lo = *sl(fp, in.b)
		case opGlobalGet2:
			g := globals[in.b]
			*sl(fp, in.a), *sl(fp, in.a+1) = g.Lo, g.Hi
		case opGlobalSet2:
			g := globals[in.a]
			g.Lo, g.Hi = *sl(fp, in.b), *sl(fp, in.b+1)

		// Memory.
		case opI32Load, opF32Load:
			ea := uint64(uint32(*sl(fp, in.b))) + in.imm
			if ea+4 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			*sl(fp, in.a) = uint64(binary.LittleEndian.Uint32(buf[ea:]))
		case opI64Load, opF64Load:
			ea := uint64(uint32(*sl(fp, in.b))) + in.imm
			if ea+8 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			*sl(fp, in.a) = binary.LittleEndian.Uint64(buf[ea:])
		case opI32Load8S, opI32Load8U, opI64Load8S, opI64Load8U:
			ea := uint64(uint32(*sl(fp, in.b))) + in.imm
			if ea >= uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			v := buf[ea]
			switch in.op {
			case opI32Load8S:
				*sl(fp, in.a) = uint64(uint32(int32(int8(v))))
			case opI64Load8S:
				*sl(fp, in.a) = uint64(int64(int8(v)))
			default:
				*sl(fp, in.a) = uint64(v)
			}
		case opI32Load16S, opI32Load16U, opI64Load16S, opI64Load16U:
			ea := uint64(uint32(*sl(fp, in.b))) + in.imm
			if ea+2 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			v := binary.LittleEndian.Uint16(buf[ea:])
			switch in.op {
			case opI32Load16S:
				*sl(fp, in.a) = uint64(uint32(int32(int16(v))))
			case opI64Load16S:
				*sl(fp, in.a) = uint64(int64(int16(v)))
			default:
				*sl(fp, in.a) = uint64(v)
			}
		case opI64Load32S, opI64Load32U:
			ea := uint64(uint32(*sl(fp, in.b))) + in.imm
			if ea+4 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			v := binary.LittleEndian.Uint32(buf[ea:])
			if in.op == opI64Load32S {
				*sl(fp, in.a) = uint64(int64(int32(v)))
			} else {
				*sl(fp, in.a) = uint64(v)
			}
		case opI32Store, opF32Store, opI64Store32:
			ea := uint64(uint32(*sl(fp, in.a))) + in.imm
			if ea+4 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			binary.LittleEndian.PutUint32(buf[ea:], uint32(*sl(fp, in.b)))
		case opI64Store, opF64Store:
			ea := uint64(uint32(*sl(fp, in.a))) + in.imm
			if ea+8 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			binary.LittleEndian.PutUint64(buf[ea:], *sl(fp, in.b))
		case opI32Store8, opI64Store8:
			ea := uint64(uint32(*sl(fp, in.a))) + in.imm
			if ea >= uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			buf[ea] = byte(*sl(fp, in.b))
		case opI32Store16, opI64Store16:
			ea := uint64(uint32(*sl(fp, in.a))) + in.imm
			if ea+2 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			binary.LittleEndian.PutUint16(buf[ea:], uint16(*sl(fp, in.b)))
		case opMemorySize:
			*sl(fp, in.a) = uint64(len(buf)) / wasm.PageSize
		case opMemoryGrow:
			old, ok := mem.Grow(uint64(uint32(*sl(fp, in.b))))
			buf = mem.Buf
			if ok {
				*sl(fp, in.a) = old
			} else {
				*sl(fp, in.a) = 0xFFFFFFFF
			}
		case opMemoryInit:
			d, s, n := uint64(uint32(*sl(fp, in.b))), uint64(uint32(*sl(fp, in.b+1))), uint64(uint32(*sl(fp, in.b+2)))
			data := inst.Datas[in.a]
			if s+n > uint64(len(data)) || d+n > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			copy(buf[d:d+n], data[s:s+n])
		case opMemoryCopy:
			d, s, n := uint64(uint32(*sl(fp, in.b))), uint64(uint32(*sl(fp, in.b+1))), uint64(uint32(*sl(fp, in.b+2)))
			if s+n > uint64(len(buf)) || d+n > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			m.builtins.memoryCopy.Func()(buf[d:d+n], buf[s:s+n]) // a builtin (simd_builtins.go)
		case opMemoryFill:
			d, v, n := uint64(uint32(*sl(fp, in.b))), byte(*sl(fp, in.b+1)), uint64(uint32(*sl(fp, in.b+2)))
			if d+n > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			m.builtins.memoryFill.Func()(buf[d:d+n], v) // a builtin (simd_builtins.go)
		case opDataDrop:
			inst.Datas[in.a] = nil

		// Tables.
		case opTableGet:
			tab := inst.Tables[in.b]
			i := uint64(uint32(*sl(fp, in.c)))
			if i >= uint64(len(tab.Elems)) {
				m.trap(fr, pc, api.ErrOutOfBoundsTable)
			}
			*sl(fp, in.a) = tab.Elems[i]
		case opTableSet:
			tab := inst.Tables[in.a]
			i := uint64(uint32(*sl(fp, in.b)))
			if i >= uint64(len(tab.Elems)) {
				m.trap(fr, pc, api.ErrOutOfBoundsTable)
			}
			tab.Elems[i] = *sl(fp, in.c)
		case opTableSize:
			*sl(fp, in.a) = uint64(len(inst.Tables[in.b].Elems))
		case opTableGrow:
			old, ok := inst.Tables[in.a].Grow(uint64(uint32(*sl(fp, in.b+1))), *sl(fp, in.b))
			if ok {
				*sl(fp, in.b) = old
			} else {
				*sl(fp, in.b) = 0xFFFFFFFF
			}
		case opTableFill:
			if !inst.Tables[in.a].Fill(uint64(uint32(*sl(fp, in.b))), uint64(uint32(*sl(fp, in.b+2))), *sl(fp, in.b+1)) {
				m.trap(fr, pc, api.ErrOutOfBoundsTable)
			}
		case opTableCopy:
			dt, st := inst.Tables[in.a].Elems, inst.Tables[in.b].Elems
			d, s, n := uint64(uint32(*sl(fp, in.c))), uint64(uint32(*sl(fp, in.c+1))), uint64(uint32(*sl(fp, in.c+2)))
			if s+n > uint64(len(st)) || d+n > uint64(len(dt)) {
				m.trap(fr, pc, api.ErrOutOfBoundsTable)
			}
			copy(dt[d:d+n], st[s:s+n])
		case opTableInit:
			d, s, n := uint64(uint32(*sl(fp, in.c))), uint64(uint32(*sl(fp, in.c+1))), uint64(uint32(*sl(fp, in.c+2)))
			if !inst.Tables[in.b].Init(d, inst.Elems[in.a], s, n) {
				m.trap(fr, pc, api.ErrOutOfBoundsTable)
			}
		case opElemDrop:
			inst.Elems[in.a] = nil
		case opRefFunc:
			*sl(fp, in.a) = funcs[in.b].Ref

		// i32 comparisons and arithmetic.
		case op(wasm.OpI32Eqz):
			*sl(fp, in.a) = b2u(uint32(*sl(fp, in.b)) == 0)
		case op(wasm.OpI32Eq):
			*sl(fp, in.a) = b2u(uint32(*sl(fp, in.b)) == uint32(*sl(fp, in.c)))
		case op(wasm.OpI32Ne):
			*sl(fp, in.a) = b2u(uint32(*sl(fp, in.b)) != uint32(*sl(fp, in.c)))
		case op(wasm.OpI32LtS):
			*sl(fp, in.a) = b2u(int32(*sl(fp, in.b)) < int32(*sl(fp, in.c)))
		case op(wasm.OpI32LtU):
			*sl(fp, in.a) = b2u(uint32(*sl(fp, in.b)) < uint32(*sl(fp, in.c)))
		case op(wasm.OpI32GtS):
			*sl(fp, in.a) = b2u(int32(*sl(fp, in.b)) > int32(*sl(fp, in.c)))
		case op(wasm.OpI32GtU):
			*sl(fp, in.a) = b2u(uint32(*sl(fp, in.b)) > uint32(*sl(fp, in.c)))
		case op(wasm.OpI32LeS):
			*sl(fp, in.a) = b2u(int32(*sl(fp, in.b)) <= int32(*sl(fp, in.c)))
		case op(wasm.OpI32LeU):
			*sl(fp, in.a) = b2u(uint32(*sl(fp, in.b)) <= uint32(*sl(fp, in.c)))
		case op(wasm.OpI32GeS):
			*sl(fp, in.a) = b2u(int32(*sl(fp, in.b)) >= int32(*sl(fp, in.c)))
		case op(wasm.OpI32GeU):
			*sl(fp, in.a) = b2u(uint32(*sl(fp, in.b)) >= uint32(*sl(fp, in.c)))
		case opI32EqI:
			*sl(fp, in.a) = b2u(uint32(*sl(fp, in.b)) == uint32(in.imm))
		case opI32NeI:
			*sl(fp, in.a) = b2u(uint32(*sl(fp, in.b)) != uint32(in.imm))
		case opI32LtSI:
			*sl(fp, in.a) = b2u(int32(*sl(fp, in.b)) < int32(in.imm))
		case opI32LtUI:
			*sl(fp, in.a) = b2u(uint32(*sl(fp, in.b)) < uint32(in.imm))
		case opI32GtSI:
			*sl(fp, in.a) = b2u(int32(*sl(fp, in.b)) > int32(in.imm))
		case opI32GtUI:
			*sl(fp, in.a) = b2u(uint32(*sl(fp, in.b)) > uint32(in.imm))
		case opI32LeSI:
			*sl(fp, in.a) = b2u(int32(*sl(fp, in.b)) <= int32(in.imm))
		case opI32LeUI:
			*sl(fp, in.a) = b2u(uint32(*sl(fp, in.b)) <= uint32(in.imm))
		case opI32GeSI:
			*sl(fp, in.a) = b2u(int32(*sl(fp, in.b)) >= int32(in.imm))
		case opI32GeUI:
			*sl(fp, in.a) = b2u(uint32(*sl(fp, in.b)) >= uint32(in.imm))
		case op(wasm.OpI32Clz):
			*sl(fp, in.a) = uint64(bits.LeadingZeros32(uint32(*sl(fp, in.b))))
		case op(wasm.OpI32Ctz):
			*sl(fp, in.a) = uint64(bits.TrailingZeros32(uint32(*sl(fp, in.b))))
		case op(wasm.OpI32Popcnt):
			*sl(fp, in.a) = uint64(bits.OnesCount32(uint32(*sl(fp, in.b))))
		case op(wasm.OpI32Add):
			*sl(fp, in.a) = uint64(uint32(*sl(fp, in.b)) + uint32(*sl(fp, in.c)))
		case op(wasm.OpI32Sub):
			*sl(fp, in.a) = uint64(uint32(*sl(fp, in.b)) - uint32(*sl(fp, in.c)))
		case op(wasm.OpI32Mul):
			*sl(fp, in.a) = uint64(uint32(*sl(fp, in.b)) * uint32(*sl(fp, in.c)))
		case op(wasm.OpI32DivS):
			*sl(fp, in.a) = m.i32DivS(fr, pc, uint32(*sl(fp, in.b)), uint32(*sl(fp, in.c)))
		case op(wasm.OpI32DivU):
			*sl(fp, in.a) = m.i32DivU(fr, pc, uint32(*sl(fp, in.b)), uint32(*sl(fp, in.c)))
		case op(wasm.OpI32RemS):
			*sl(fp, in.a) = m.i32RemS(fr, pc, uint32(*sl(fp, in.b)), uint32(*sl(fp, in.c)))
		case op(wasm.OpI32RemU):
			*sl(fp, in.a) = m.i32RemU(fr, pc, uint32(*sl(fp, in.b)), uint32(*sl(fp, in.c)))
		case op(wasm.OpI32And):
			*sl(fp, in.a) = uint64(uint32(*sl(fp, in.b)) & uint32(*sl(fp, in.c)))
		case op(wasm.OpI32Or):
			*sl(fp, in.a) = uint64(uint32(*sl(fp, in.b)) | uint32(*sl(fp, in.c)))
		case op(wasm.OpI32Xor):
			*sl(fp, in.a) = uint64(uint32(*sl(fp, in.b)) ^ uint32(*sl(fp, in.c)))
		case op(wasm.OpI32Shl):
			*sl(fp, in.a) = uint64(uint32(*sl(fp, in.b)) << (uint32(*sl(fp, in.c)) & 31))
		case op(wasm.OpI32ShrS):
			*sl(fp, in.a) = uint64(uint32(int32(*sl(fp, in.b)) >> (uint32(*sl(fp, in.c)) & 31)))
		case op(wasm.OpI32ShrU):
			*sl(fp, in.a) = uint64(uint32(*sl(fp, in.b)) >> (uint32(*sl(fp, in.c)) & 31))
		case op(wasm.OpI32Rotl):
			*sl(fp, in.a) = uint64(bits.RotateLeft32(uint32(*sl(fp, in.b)), int(uint32(*sl(fp, in.c))&31)))
		case op(wasm.OpI32Rotr):
			*sl(fp, in.a) = uint64(bits.RotateLeft32(uint32(*sl(fp, in.b)), -int(uint32(*sl(fp, in.c))&31)))
		case opI32AddI:
			*sl(fp, in.a) = uint64(uint32(*sl(fp, in.b)) + uint32(in.imm))
		case opI32SubI:
			*sl(fp, in.a) = uint64(uint32(*sl(fp, in.b)) - uint32(in.imm))
		case opI32MulI:
			*sl(fp, in.a) = uint64(uint32(*sl(fp, in.b)) * uint32(in.imm))
		case opI32DivSI:
			*sl(fp, in.a) = m.i32DivS(fr, pc, uint32(*sl(fp, in.b)), uint32(in.imm))
		case opI32DivUI:
			*sl(fp, in.a) = m.i32DivU(fr, pc, uint32(*sl(fp, in.b)), uint32(in.imm))
		case opI32RemSI:
			*sl(fp, in.a) = m.i32RemS(fr, pc, uint32(*sl(fp, in.b)), uint32(in.imm))
		case opI32RemUI:
			*sl(fp, in.a) = m.i32RemU(fr, pc, uint32(*sl(fp, in.b)), uint32(in.imm))
		case opI32AndI:
			*sl(fp, in.a) = uint64(uint32(*sl(fp, in.b)) & uint32(in.imm))
		case opI32OrI:
			*sl(fp, in.a) = uint64(uint32(*sl(fp, in.b)) | uint32(in.imm))
		case opI32XorI:
			*sl(fp, in.a) = uint64(uint32(*sl(fp, in.b)) ^ uint32(in.imm))
		case opI32ShlI:
			*sl(fp, in.a) = uint64(uint32(*sl(fp, in.b)) << (uint32(in.imm) & 31))
		case opI32ShrSI:
			*sl(fp, in.a) = uint64(uint32(int32(*sl(fp, in.b)) >> (uint32(in.imm) & 31)))
		case opI32ShrUI:
			*sl(fp, in.a) = uint64(uint32(*sl(fp, in.b)) >> (uint32(in.imm) & 31))
		case opI32RotlI:
			*sl(fp, in.a) = uint64(bits.RotateLeft32(uint32(*sl(fp, in.b)), int(uint32(in.imm)&31)))
		case opI32RotrI:
			*sl(fp, in.a) = uint64(bits.RotateLeft32(uint32(*sl(fp, in.b)), -int(uint32(in.imm)&31)))

		// Compare-and-branch.
		case opBrI32Eq:
			if uint32(*sl(fp, in.b)) == uint32(*sl(fp, in.c)) {
				pc = in.a
			}
		case opBrI32Ne:
			if uint32(*sl(fp, in.b)) != uint32(*sl(fp, in.c)) {
				pc = in.a
			}
		case opBrI32LtS:
			if int32(*sl(fp, in.b)) < int32(*sl(fp, in.c)) {
				pc = in.a
			}
		case opBrI32LtU:
			if uint32(*sl(fp, in.b)) < uint32(*sl(fp, in.c)) {
				pc = in.a
			}
		case opBrI32GtS:
			if int32(*sl(fp, in.b)) > int32(*sl(fp, in.c)) {
				pc = in.a
			}
		case opBrI32GtU:
			if uint32(*sl(fp, in.b)) > uint32(*sl(fp, in.c)) {
				pc = in.a
			}
		case opBrI32LeS:
			if int32(*sl(fp, in.b)) <= int32(*sl(fp, in.c)) {
				pc = in.a
			}
		case opBrI32LeU:
			if uint32(*sl(fp, in.b)) <= uint32(*sl(fp, in.c)) {
				pc = in.a
			}
		case opBrI32GeS:
			if int32(*sl(fp, in.b)) >= int32(*sl(fp, in.c)) {
				pc = in.a
			}
		case opBrI32GeU:
			if uint32(*sl(fp, in.b)) >= uint32(*sl(fp, in.c)) {
				pc = in.a
			}
		case opBrI32EqI:
			if uint32(*sl(fp, in.b)) == uint32(in.imm) {
				pc = in.a
			}
		case opBrI32NeI:
			if uint32(*sl(fp, in.b)) != uint32(in.imm) {
				pc = in.a
			}
		case opBrI32LtSI:
			if int32(*sl(fp, in.b)) < int32(in.imm) {
				pc = in.a
			}
		case opBrI32LtUI:
			if uint32(*sl(fp, in.b)) < uint32(in.imm) {
				pc = in.a
			}
		case opBrI32GtSI:
			if int32(*sl(fp, in.b)) > int32(in.imm) {
				pc = in.a
			}
		case opBrI32GtUI:
			if uint32(*sl(fp, in.b)) > uint32(in.imm) {
				pc = in.a
			}
		case opBrI32LeSI:
			if int32(*sl(fp, in.b)) <= int32(in.imm) {
				pc = in.a
			}
		case opBrI32LeUI:
			if uint32(*sl(fp, in.b)) <= uint32(in.imm) {
				pc = in.a
			}
		case opBrI32GeSI:
			if int32(*sl(fp, in.b)) >= int32(in.imm) {
				pc = in.a
			}
		case opBrI32GeUI:
			if uint32(*sl(fp, in.b)) >= uint32(in.imm) {
				pc = in.a
			}

		// Loop back-edges, armed (see opBrBack and arm.go).
		case opBrBack:
			pc = in.a
			if intr.Load() != 0 {
				pc = in.b // the loop's poll stub
			}
		case opBrIfBack:
			if uint32(*sl(fp, in.b)) != 0 {
				pc = in.a
				if intr.Load() != 0 {
					pc = in.c // the loop's poll stub
				}
			}
		case opBrIfNotBack:
			if uint32(*sl(fp, in.b)) == 0 {
				pc = in.a
				if intr.Load() != 0 {
					pc = in.c // the loop's poll stub
				}
			}
		case opBrI32EqBack:
			if uint32(*sl(fp, in.b)) == uint32(*sl(fp, in.c)) {
				pc = in.a
				if intr.Load() != 0 {
					pc = uint32(in.imm) // the loop's poll stub
				}
			}
		case opBrI32NeBack:
			if uint32(*sl(fp, in.b)) != uint32(*sl(fp, in.c)) {
				pc = in.a
				if intr.Load() != 0 {
					pc = uint32(in.imm) // the loop's poll stub
				}
			}
		case opBrI32LtSBack:
			if int32(*sl(fp, in.b)) < int32(*sl(fp, in.c)) {
				pc = in.a
				if intr.Load() != 0 {
					pc = uint32(in.imm) // the loop's poll stub
				}
			}
		case opBrI32LtUBack:
			if uint32(*sl(fp, in.b)) < uint32(*sl(fp, in.c)) {
				pc = in.a
				if intr.Load() != 0 {
					pc = uint32(in.imm) // the loop's poll stub
				}
			}
		case opBrI32GtSBack:
			if int32(*sl(fp, in.b)) > int32(*sl(fp, in.c)) {
				pc = in.a
				if intr.Load() != 0 {
					pc = uint32(in.imm) // the loop's poll stub
				}
			}
		case opBrI32GtUBack:
			if uint32(*sl(fp, in.b)) > uint32(*sl(fp, in.c)) {
				pc = in.a
				if intr.Load() != 0 {
					pc = uint32(in.imm) // the loop's poll stub
				}
			}
		case opBrI32LeSBack:
			if int32(*sl(fp, in.b)) <= int32(*sl(fp, in.c)) {
				pc = in.a
				if intr.Load() != 0 {
					pc = uint32(in.imm) // the loop's poll stub
				}
			}
		case opBrI32LeUBack:
			if uint32(*sl(fp, in.b)) <= uint32(*sl(fp, in.c)) {
				pc = in.a
				if intr.Load() != 0 {
					pc = uint32(in.imm) // the loop's poll stub
				}
			}
		case opBrI32GeSBack:
			if int32(*sl(fp, in.b)) >= int32(*sl(fp, in.c)) {
				pc = in.a
				if intr.Load() != 0 {
					pc = uint32(in.imm) // the loop's poll stub
				}
			}
		case opBrI32GeUBack:
			if uint32(*sl(fp, in.b)) >= uint32(*sl(fp, in.c)) {
				pc = in.a
				if intr.Load() != 0 {
					pc = uint32(in.imm) // the loop's poll stub
				}
			}
		case opBrI32EqIBack:
			if uint32(*sl(fp, in.b)) == uint32(in.imm) {
				pc = in.a
				if intr.Load() != 0 {
					pc = in.c // the loop's poll stub
				}
			}
		case opBrI32NeIBack:
			if uint32(*sl(fp, in.b)) != uint32(in.imm) {
				pc = in.a
				if intr.Load() != 0 {
					pc = in.c // the loop's poll stub
				}
			}
		case opBrI32LtSIBack:
			if int32(*sl(fp, in.b)) < int32(in.imm) {
				pc = in.a
				if intr.Load() != 0 {
					pc = in.c // the loop's poll stub
				}
			}
		case opBrI32LtUIBack:
			if uint32(*sl(fp, in.b)) < uint32(in.imm) {
				pc = in.a
				if intr.Load() != 0 {
					pc = in.c // the loop's poll stub
				}
			}
		case opBrI32GtSIBack:
			if int32(*sl(fp, in.b)) > int32(in.imm) {
				pc = in.a
				if intr.Load() != 0 {
					pc = in.c // the loop's poll stub
				}
			}
		case opBrI32GtUIBack:
			if uint32(*sl(fp, in.b)) > uint32(in.imm) {
				pc = in.a
				if intr.Load() != 0 {
					pc = in.c // the loop's poll stub
				}
			}
		case opBrI32LeSIBack:
			if int32(*sl(fp, in.b)) <= int32(in.imm) {
				pc = in.a
				if intr.Load() != 0 {
					pc = in.c // the loop's poll stub
				}
			}
		case opBrI32LeUIBack:
			if uint32(*sl(fp, in.b)) <= uint32(in.imm) {
				pc = in.a
				if intr.Load() != 0 {
					pc = in.c // the loop's poll stub
				}
			}
		case opBrI32GeSIBack:
			if int32(*sl(fp, in.b)) >= int32(in.imm) {
				pc = in.a
				if intr.Load() != 0 {
					pc = in.c // the loop's poll stub
				}
			}
		case opBrI32GeUIBack:
			if uint32(*sl(fp, in.b)) >= uint32(in.imm) {
				pc = in.a
				if intr.Load() != 0 {
					pc = in.c // the loop's poll stub
				}
			}

		// Stores of constants.
		case opI32StoreI:
			ea := uint64(uint32(*sl(fp, in.a))) + in.imm
			if ea+4 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			binary.LittleEndian.PutUint32(buf[ea:], in.c)
		case opI32Store8I:
			ea := uint64(uint32(*sl(fp, in.a))) + in.imm
			if ea >= uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			buf[ea] = byte(in.c)
		case opI32Store16I:
			ea := uint64(uint32(*sl(fp, in.a))) + in.imm
			if ea+2 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			binary.LittleEndian.PutUint16(buf[ea:], uint16(in.c))
		case opI64StoreI:
			ea := uint64(uint32(*sl(fp, in.a))) + in.imm
			if ea+8 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			binary.LittleEndian.PutUint64(buf[ea:], uint64(int64(int32(in.c))))

		// i64.
		case op(wasm.OpI64Eqz):
			*sl(fp, in.a) = b2u(*sl(fp, in.b) == 0)
		case op(wasm.OpI64Eq):
			*sl(fp, in.a) = b2u(*sl(fp, in.b) == *sl(fp, in.c))
		case op(wasm.OpI64Ne):
			*sl(fp, in.a) = b2u(*sl(fp, in.b) != *sl(fp, in.c))
		case op(wasm.OpI64LtS):
			*sl(fp, in.a) = b2u(int64(*sl(fp, in.b)) < int64(*sl(fp, in.c)))
		case op(wasm.OpI64LtU):
			*sl(fp, in.a) = b2u(*sl(fp, in.b) < *sl(fp, in.c))
		case op(wasm.OpI64GtS):
			*sl(fp, in.a) = b2u(int64(*sl(fp, in.b)) > int64(*sl(fp, in.c)))
		case op(wasm.OpI64GtU):
			*sl(fp, in.a) = b2u(*sl(fp, in.b) > *sl(fp, in.c))
		case op(wasm.OpI64LeS):
			*sl(fp, in.a) = b2u(int64(*sl(fp, in.b)) <= int64(*sl(fp, in.c)))
		case op(wasm.OpI64LeU):
			*sl(fp, in.a) = b2u(*sl(fp, in.b) <= *sl(fp, in.c))
		case op(wasm.OpI64GeS):
			*sl(fp, in.a) = b2u(int64(*sl(fp, in.b)) >= int64(*sl(fp, in.c)))
		case op(wasm.OpI64GeU):
			*sl(fp, in.a) = b2u(*sl(fp, in.b) >= *sl(fp, in.c))
		case opI64EqI:
			*sl(fp, in.a) = b2u(*sl(fp, in.b) == in.imm)
		case opI64NeI:
			*sl(fp, in.a) = b2u(*sl(fp, in.b) != in.imm)
		case opI64LtSI:
			*sl(fp, in.a) = b2u(int64(*sl(fp, in.b)) < int64(in.imm))
		case opI64LtUI:
			*sl(fp, in.a) = b2u(*sl(fp, in.b) < in.imm)
		case opI64GtSI:
			*sl(fp, in.a) = b2u(int64(*sl(fp, in.b)) > int64(in.imm))
		case opI64GtUI:
			*sl(fp, in.a) = b2u(*sl(fp, in.b) > in.imm)
		case opI64LeSI:
			*sl(fp, in.a) = b2u(int64(*sl(fp, in.b)) <= int64(in.imm))
		case opI64LeUI:
			*sl(fp, in.a) = b2u(*sl(fp, in.b) <= in.imm)
		case opI64GeSI:
			*sl(fp, in.a) = b2u(int64(*sl(fp, in.b)) >= int64(in.imm))
		case opI64GeUI:
			*sl(fp, in.a) = b2u(*sl(fp, in.b) >= in.imm)
		case op(wasm.OpI64Clz):
			*sl(fp, in.a) = uint64(bits.LeadingZeros64(*sl(fp, in.b)))
		case op(wasm.OpI64Ctz):
			*sl(fp, in.a) = uint64(bits.TrailingZeros64(*sl(fp, in.b)))
		case op(wasm.OpI64Popcnt):
			*sl(fp, in.a) = uint64(bits.OnesCount64(*sl(fp, in.b)))
		case op(wasm.OpI64Add):
			*sl(fp, in.a) = *sl(fp, in.b) + *sl(fp, in.c)
		case op(wasm.OpI64Sub):
			*sl(fp, in.a) = *sl(fp, in.b) - *sl(fp, in.c)
		case op(wasm.OpI64Mul):
			*sl(fp, in.a) = *sl(fp, in.b) * *sl(fp, in.c)
		case op(wasm.OpI64DivS):
			*sl(fp, in.a) = m.i64DivS(fr, pc, *sl(fp, in.b), *sl(fp, in.c))
		case op(wasm.OpI64DivU):
			*sl(fp, in.a) = m.i64DivU(fr, pc, *sl(fp, in.b), *sl(fp, in.c))
		case op(wasm.OpI64RemS):
			*sl(fp, in.a) = m.i64RemS(fr, pc, *sl(fp, in.b), *sl(fp, in.c))
		case op(wasm.OpI64RemU):
			*sl(fp, in.a) = m.i64RemU(fr, pc, *sl(fp, in.b), *sl(fp, in.c))
		case op(wasm.OpI64And):
			*sl(fp, in.a) = *sl(fp, in.b) & *sl(fp, in.c)
		case op(wasm.OpI64Or):
			*sl(fp, in.a) = *sl(fp, in.b) | *sl(fp, in.c)
		case op(wasm.OpI64Xor):
			*sl(fp, in.a) = *sl(fp, in.b) ^ *sl(fp, in.c)
		case op(wasm.OpI64Shl):
			*sl(fp, in.a) = *sl(fp, in.b) << (*sl(fp, in.c) & 63)
		case op(wasm.OpI64ShrS):
			*sl(fp, in.a) = uint64(int64(*sl(fp, in.b)) >> (*sl(fp, in.c) & 63))
		case op(wasm.OpI64ShrU):
			*sl(fp, in.a) = *sl(fp, in.b) >> (*sl(fp, in.c) & 63)
		case op(wasm.OpI64Rotl):
			*sl(fp, in.a) = bits.RotateLeft64(*sl(fp, in.b), int(*sl(fp, in.c)&63))
		case op(wasm.OpI64Rotr):
			*sl(fp, in.a) = bits.RotateLeft64(*sl(fp, in.b), -int(*sl(fp, in.c)&63))
		case opI64AddI:
			*sl(fp, in.a) = *sl(fp, in.b) + in.imm
		case opI64SubI:
			*sl(fp, in.a) = *sl(fp, in.b) - in.imm
		case opI64MulI:
			*sl(fp, in.a) = *sl(fp, in.b) * in.imm
		case opI64DivSI:
			*sl(fp, in.a) = m.i64DivS(fr, pc, *sl(fp, in.b), in.imm)
		case opI64DivUI:
			*sl(fp, in.a) = m.i64DivU(fr, pc, *sl(fp, in.b), in.imm)
		case opI64RemSI:
			*sl(fp, in.a) = m.i64RemS(fr, pc, *sl(fp, in.b), in.imm)
		case opI64RemUI:
			*sl(fp, in.a) = m.i64RemU(fr, pc, *sl(fp, in.b), in.imm)
		case opI64AndI:
			*sl(fp, in.a) = *sl(fp, in.b) & in.imm
		case opI64OrI:
			*sl(fp, in.a) = *sl(fp, in.b) | in.imm
		case opI64XorI:
			*sl(fp, in.a) = *sl(fp, in.b) ^ in.imm
		case opI64ShlI:
			*sl(fp, in.a) = *sl(fp, in.b) << (in.imm & 63)
		case opI64ShrSI:
			*sl(fp, in.a) = uint64(int64(*sl(fp, in.b)) >> (in.imm & 63))
		case opI64ShrUI:
			*sl(fp, in.a) = *sl(fp, in.b) >> (in.imm & 63)
		case opI64RotlI:
			*sl(fp, in.a) = bits.RotateLeft64(*sl(fp, in.b), int(in.imm&63))
		case opI64RotrI:
			*sl(fp, in.a) = bits.RotateLeft64(*sl(fp, in.b), -int(in.imm&63))

		// f32 / f64 comparisons.
		case op(wasm.OpF32Eq):
			*sl(fp, in.a) = b2u(f32(*sl(fp, in.b)) == f32(*sl(fp, in.c)))
		case op(wasm.OpF32Ne):
			*sl(fp, in.a) = b2u(f32(*sl(fp, in.b)) != f32(*sl(fp, in.c)))
		case op(wasm.OpF32Lt):
			*sl(fp, in.a) = b2u(f32(*sl(fp, in.b)) < f32(*sl(fp, in.c)))
		case op(wasm.OpF32Gt):
			*sl(fp, in.a) = b2u(f32(*sl(fp, in.b)) > f32(*sl(fp, in.c)))
		case op(wasm.OpF32Le):
			*sl(fp, in.a) = b2u(f32(*sl(fp, in.b)) <= f32(*sl(fp, in.c)))
		case op(wasm.OpF32Ge):
			*sl(fp, in.a) = b2u(f32(*sl(fp, in.b)) >= f32(*sl(fp, in.c)))
		case op(wasm.OpF64Eq):
			*sl(fp, in.a) = b2u(f64(*sl(fp, in.b)) == f64(*sl(fp, in.c)))
		case op(wasm.OpF64Ne):
			*sl(fp, in.a) = b2u(f64(*sl(fp, in.b)) != f64(*sl(fp, in.c)))
		case op(wasm.OpF64Lt):
			*sl(fp, in.a) = b2u(f64(*sl(fp, in.b)) < f64(*sl(fp, in.c)))
		case op(wasm.OpF64Gt):
			*sl(fp, in.a) = b2u(f64(*sl(fp, in.b)) > f64(*sl(fp, in.c)))
		case op(wasm.OpF64Le):
			*sl(fp, in.a) = b2u(f64(*sl(fp, in.b)) <= f64(*sl(fp, in.c)))
		case op(wasm.OpF64Ge):
			*sl(fp, in.a) = b2u(f64(*sl(fp, in.b)) >= f64(*sl(fp, in.c)))

		// f32 arithmetic.
		case op(wasm.OpF32Abs):
			*sl(fp, in.a) = *sl(fp, in.b) & 0x7fffffff
		case op(wasm.OpF32Neg):
			*sl(fp, in.a) = (*sl(fp, in.b) ^ 0x80000000) & 0xffffffff
		case op(wasm.OpF32Ceil):
			*sl(fp, in.a) = pf32(round32(math.Ceil, f32(*sl(fp, in.b))))
		case op(wasm.OpF32Floor):
			*sl(fp, in.a) = pf32(round32(math.Floor, f32(*sl(fp, in.b))))
		case op(wasm.OpF32Trunc):
			*sl(fp, in.a) = pf32(round32(math.Trunc, f32(*sl(fp, in.b))))
		case op(wasm.OpF32Nearest):
			*sl(fp, in.a) = pf32(round32(math.RoundToEven, f32(*sl(fp, in.b))))
		case op(wasm.OpF32Sqrt):
			*sl(fp, in.a) = pf32(float32(math.Sqrt(float64(f32(*sl(fp, in.b))))))
		case op(wasm.OpF32Add):
			*sl(fp, in.a) = pf32(f32(*sl(fp, in.b)) + f32(*sl(fp, in.c)))
		case op(wasm.OpF32Sub):
			*sl(fp, in.a) = pf32(f32(*sl(fp, in.b)) - f32(*sl(fp, in.c)))
		case op(wasm.OpF32Mul):
			*sl(fp, in.a) = pf32(f32(*sl(fp, in.b)) * f32(*sl(fp, in.c)))
		case op(wasm.OpF32Div):
			*sl(fp, in.a) = pf32(f32(*sl(fp, in.b)) / f32(*sl(fp, in.c)))
		case op(wasm.OpF32Min):
			*sl(fp, in.a) = pf32(fmin32(f32(*sl(fp, in.b)), f32(*sl(fp, in.c))))
		case op(wasm.OpF32Max):
			*sl(fp, in.a) = pf32(fmax32(f32(*sl(fp, in.b)), f32(*sl(fp, in.c))))
		case op(wasm.OpF32Copysign):
			*sl(fp, in.a) = (*sl(fp, in.b) & 0x7fffffff) | (*sl(fp, in.c) & 0x80000000)

		// f64 arithmetic.
		case op(wasm.OpF64Abs):
			*sl(fp, in.a) = *sl(fp, in.b) &^ (1 << 63)
		case op(wasm.OpF64Neg):
			*sl(fp, in.a) = *sl(fp, in.b) ^ (1 << 63)
		case op(wasm.OpF64Ceil):
			*sl(fp, in.a) = pf64(round(math.Ceil, f64(*sl(fp, in.b))))
		case op(wasm.OpF64Floor):
			*sl(fp, in.a) = pf64(round(math.Floor, f64(*sl(fp, in.b))))
		case op(wasm.OpF64Trunc):
			*sl(fp, in.a) = pf64(round(math.Trunc, f64(*sl(fp, in.b))))
		case op(wasm.OpF64Nearest):
			*sl(fp, in.a) = pf64(round(math.RoundToEven, f64(*sl(fp, in.b))))
		case op(wasm.OpF64Sqrt):
			*sl(fp, in.a) = pf64(math.Sqrt(f64(*sl(fp, in.b))))
		case op(wasm.OpF64Add):
			*sl(fp, in.a) = pf64(f64(*sl(fp, in.b)) + f64(*sl(fp, in.c)))
		case op(wasm.OpF64Sub):
			*sl(fp, in.a) = pf64(f64(*sl(fp, in.b)) - f64(*sl(fp, in.c)))
		case op(wasm.OpF64Mul):
			*sl(fp, in.a) = pf64(f64(*sl(fp, in.b)) * f64(*sl(fp, in.c)))
		case op(wasm.OpF64Div):
			*sl(fp, in.a) = pf64(f64(*sl(fp, in.b)) / f64(*sl(fp, in.c)))
		case op(wasm.OpF64Min):
			*sl(fp, in.a) = pf64(fmin64(f64(*sl(fp, in.b)), f64(*sl(fp, in.c))))
		case op(wasm.OpF64Max):
			*sl(fp, in.a) = pf64(fmax64(f64(*sl(fp, in.b)), f64(*sl(fp, in.c))))
		case op(wasm.OpF64Copysign):
			*sl(fp, in.a) = (*sl(fp, in.b) &^ (1 << 63)) | (*sl(fp, in.c) & (1 << 63))

		// Conversions.
		case op(wasm.OpI32WrapI64):
			*sl(fp, in.a) = uint64(uint32(*sl(fp, in.b)))
		case op(wasm.OpI32TruncF32S):
			v, err := truncS32(float64(f32(*sl(fp, in.b))))
			if err != nil {
				m.trap(fr, pc, err)
			}
			*sl(fp, in.a) = v
		case op(wasm.OpI32TruncF32U):
			v, err := truncU32(float64(f32(*sl(fp, in.b))))
			if err != nil {
				m.trap(fr, pc, err)
			}
			*sl(fp, in.a) = v
		case op(wasm.OpI32TruncF64S):
			v, err := truncS32(f64(*sl(fp, in.b)))
			if err != nil {
				m.trap(fr, pc, err)
			}
			*sl(fp, in.a) = v
		case op(wasm.OpI32TruncF64U):
			v, err := truncU32(f64(*sl(fp, in.b)))
			if err != nil {
				m.trap(fr, pc, err)
			}
			*sl(fp, in.a) = v
		case op(wasm.OpI64ExtendI32S):
			*sl(fp, in.a) = uint64(int64(int32(*sl(fp, in.b))))
		case op(wasm.OpI64ExtendI32U):
			*sl(fp, in.a) = uint64(uint32(*sl(fp, in.b)))
		case op(wasm.OpI64TruncF32S):
			v, err := truncS64(float64(f32(*sl(fp, in.b))))
			if err != nil {
				m.trap(fr, pc, err)
			}
			*sl(fp, in.a) = v
		case op(wasm.OpI64TruncF32U):
			v, err := truncU64(float64(f32(*sl(fp, in.b))))
			if err != nil {
				m.trap(fr, pc, err)
			}
			*sl(fp, in.a) = v
		case op(wasm.OpI64TruncF64S):
			v, err := truncS64(f64(*sl(fp, in.b)))
			if err != nil {
				m.trap(fr, pc, err)
			}
			*sl(fp, in.a) = v
		case op(wasm.OpI64TruncF64U):
			v, err := truncU64(f64(*sl(fp, in.b)))
			if err != nil {
				m.trap(fr, pc, err)
			}
			*sl(fp, in.a) = v
		case op(wasm.OpF32ConvertI32S):
			*sl(fp, in.a) = pf32(float32(int32(*sl(fp, in.b))))
		case op(wasm.OpF32ConvertI32U):
			*sl(fp, in.a) = pf32(float32(uint32(*sl(fp, in.b))))
		case op(wasm.OpF32ConvertI64S):
			*sl(fp, in.a) = pf32(float32(int64(*sl(fp, in.b))))
		case op(wasm.OpF32ConvertI64U):
			*sl(fp, in.a) = pf32(u64ToF32(*sl(fp, in.b)))
		case op(wasm.OpF32DemoteF64):
			*sl(fp, in.a) = pf32(float32(f64(*sl(fp, in.b))))
		case op(wasm.OpF64ConvertI32S):
			*sl(fp, in.a) = pf64(float64(int32(*sl(fp, in.b))))
		case op(wasm.OpF64ConvertI32U):
			*sl(fp, in.a) = pf64(float64(uint32(*sl(fp, in.b))))
		case op(wasm.OpF64ConvertI64S):
			*sl(fp, in.a) = pf64(float64(int64(*sl(fp, in.b))))
		case op(wasm.OpF64ConvertI64U):
			*sl(fp, in.a) = pf64(u64ToF64(*sl(fp, in.b)))
		case op(wasm.OpF64PromoteF32):
			*sl(fp, in.a) = pf64(float64(f32(*sl(fp, in.b))))
		case op(wasm.OpI32ReinterpretF32), op(wasm.OpF32ReinterpretI32):
			*sl(fp, in.a) = uint64(uint32(*sl(fp, in.b)))
		case op(wasm.OpI64ReinterpretF64), op(wasm.OpF64ReinterpretI64):
			*sl(fp, in.a) = *sl(fp, in.b)
		case op(wasm.OpI32Extend8S):
			*sl(fp, in.a) = uint64(uint32(int32(int8(*sl(fp, in.b)))))
		case op(wasm.OpI32Extend16S):
			*sl(fp, in.a) = uint64(uint32(int32(int16(*sl(fp, in.b)))))
		case op(wasm.OpI64Extend8S):
			*sl(fp, in.a) = uint64(int64(int8(*sl(fp, in.b))))
		case op(wasm.OpI64Extend16S):
			*sl(fp, in.a) = uint64(int64(int16(*sl(fp, in.b))))
		case op(wasm.OpI64Extend32S):
			*sl(fp, in.a) = uint64(int64(int32(*sl(fp, in.b))))
		case opSatBase + 0:
			*sl(fp, in.a) = uint64(uint32(satS32(float64(f32(*sl(fp, in.b))))))
		case opSatBase + 1:
			*sl(fp, in.a) = satU32(float64(f32(*sl(fp, in.b))))
		case opSatBase + 2:
			*sl(fp, in.a) = uint64(uint32(satS32(f64(*sl(fp, in.b)))))
		case opSatBase + 3:
			*sl(fp, in.a) = satU32(f64(*sl(fp, in.b)))
		case opSatBase + 4:
			*sl(fp, in.a) = satS64(float64(f32(*sl(fp, in.b))))
		case opSatBase + 5:
			*sl(fp, in.a) = satU64(float64(f32(*sl(fp, in.b))))
		case opSatBase + 6:
			*sl(fp, in.a) = satS64(f64(*sl(fp, in.b)))
		case opSatBase + 7:
			*sl(fp, in.a) = satU64(f64(*sl(fp, in.b)))

		case opV128Unary, opV128Binary, opV128Bitselect, opV128Shuffle, opV128Shift, opV128ShiftI,
			opV128Test, opV128Splat, opV128Extract, opV128Replace, opV128Load, opV128LoadX,
			opV128LoadLane, opV128Store, opV128StoreLane, opV128Relaxed:
			// Out of line (simd_exec.go), so the scalar part of this loop
			// is compiled as if SIMD did not exist.
			m.execSIMD(fr, pc, in, fp, buf)
		default:
			m.trap(fr, pc, errBadOp)
		}
	}
}

func (m *machine) i32DivS(fr *frame, pc uint32, x, y uint32) uint64 {
	if y == 0 {
		m.trap(fr, pc, api.ErrIntegerDivideByZero)
	}
	if int32(x) == math.MinInt32 && int32(y) == -1 {
		m.trap(fr, pc, api.ErrIntegerOverflow)
	}
	return uint64(uint32(int32(x) / int32(y)))
}

func (m *machine) i32DivU(fr *frame, pc uint32, x, y uint32) uint64 {
	if y == 0 {
		m.trap(fr, pc, api.ErrIntegerDivideByZero)
	}
	return uint64(x / y)
}

func (m *machine) i32RemS(fr *frame, pc uint32, x, y uint32) uint64 {
	if y == 0 {
		m.trap(fr, pc, api.ErrIntegerDivideByZero)
	}
	if int32(y) == -1 {
		return 0
	}
	return uint64(uint32(int32(x) % int32(y)))
}

func (m *machine) i32RemU(fr *frame, pc uint32, x, y uint32) uint64 {
	if y == 0 {
		m.trap(fr, pc, api.ErrIntegerDivideByZero)
	}
	return uint64(x % y)
}

func (m *machine) i64DivS(fr *frame, pc uint32, x, y uint64) uint64 {
	if y == 0 {
		m.trap(fr, pc, api.ErrIntegerDivideByZero)
	}
	if int64(x) == math.MinInt64 && int64(y) == -1 {
		m.trap(fr, pc, api.ErrIntegerOverflow)
	}
	return uint64(int64(x) / int64(y))
}

func (m *machine) i64DivU(fr *frame, pc uint32, x, y uint64) uint64 {
	if y == 0 {
		m.trap(fr, pc, api.ErrIntegerDivideByZero)
	}
	return x / y
}

func (m *machine) i64RemS(fr *frame, pc uint32, x, y uint64) uint64 {
	if y == 0 {
		m.trap(fr, pc, api.ErrIntegerDivideByZero)
	}
	if int64(y) == -1 {
		return 0
	}
	return uint64(int64(x) % int64(y))
}

func (m *machine) i64RemU(fr *frame, pc uint32, x, y uint64) uint64 {
	if y == 0 {
		m.trap(fr, pc, api.ErrIntegerDivideByZero)
	}
	return x % y
}

package interp

import (
	"encoding/binary"
	"math"
	"math/bits"
	"unsafe"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/engine"
	"github.com/ferryvm/ferry/internal/ir"
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
	pc uint32
	// tier says how the frame continues: frameInterp, or one of the
	// compiled states (native.go). It fits the padding after pc, so the
	// header stays four words.
	tier frameTier
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
	c.mustLoad() // code from a cache entry is read on first use (cached.go)
	if len(m.frames) >= m.maxDepth {
		panic(engine.Trap{Kind: api.ErrCallStackExhausted})
	}
	need := base + int(c.FrameSlots)
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
	clear(m.stack[base+int(c.ParamSlots) : base+int(c.LocalSlots)])
	// Unarmed code starts past its entry ir.Poll, armed code at it (arm.go).
	m.frames = append(m.frames, frame{fn: f, code: c, base: base, pc: c.start})
	if c.tiered() {
		m.tierCall(c)
	}
}

// run executes interpreter frames until the run stops at a pause point
// (returning true), or returns false when the frames above m.floor are
// gone or the innermost frame is a compiled one: the driver (drive,
// native.go) then decides what runs next.
func (m *machine) run() bool {
	var (
		fr      *frame
		code    []ir.Instr
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
	if fr.tier != frameInterp {
		return false // a compiled frame: the driver runs it (native.go)
	}
	code = fr.code.Code
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
		switch in.Op {
		case ir.Poll:
			if intr.Load() != 0 {
				fr.pc = pc - 1
				if m.interrupted() {
					return true
				}
				if fr.tier != frameInterp {
					return false // a sample moved the frame into compiled code (OSR)
				}
			}
		case ir.Unreachable:
			m.trap(fr, pc, api.ErrUnreachable)
		case ir.Br:
			pc = in.A
		case ir.BrCopy:
			if in.Imm == 1 {
				*sl(fp, in.C) = *sl(fp, in.B)
			} else {
				copy(slots(fp, in.C, uint32(in.Imm)), slots(fp, in.B, uint32(in.Imm)))
			}
			pc = in.A
		case ir.BrIf:
			if uint32(*sl(fp, in.B)) != 0 {
				pc = in.A
			}
		case ir.BrIfNot:
			if uint32(*sl(fp, in.B)) == 0 {
				pc = in.A
			}
		case ir.BrIfCopy:
			if uint32(*sl(fp, in.B)) != 0 {
				n := uint32(in.Imm >> 32)
				copy(slots(fp, uint32(in.Imm), n), slots(fp, in.C, n))
				pc = in.A
			}
		case ir.BrTable:
			i := uint64(uint32(*sl(fp, in.A)))
			if i >= uint64(in.C) {
				i = uint64(in.C) - 1
			}
			t := &fr.code.BrTargets[uint64(in.B)+i]
			if t.N != 0 && t.Src != t.Dst {
				copy(slots(fp, t.Dst, t.N), slots(fp, t.Src, t.N))
			}
			pc = t.PC
		case ir.Return:
			if in.B != 0 {
				if in.C == 1 {
					*sl(fp, 0) = *sl(fp, in.B)
				} else {
					copy(slots(fp, 0, in.C), slots(fp, in.B, in.C))
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
			code, pc, fp = fr.code.Code, fr.pc, unsafe.Pointer(&m.stack[fr.base])
		case ir.Call:
			f := funcs[in.A]
			if f.Host != nil {
				if m.callHost(fr, pc, f, inst, fr.base+int(in.B)) {
					return true
				}
				if mem != nil {
					buf = mem.Buf
				}
				continue
			}
			fr.pc = pc
			nb := fr.base + int(in.B)
			// A body in the caller's byIndex is the module's own: the
			// callee is this instance's. An imported Wasm function takes
			// the general path. (Read here, not kept in a local of the
			// loop: one more live variable across the loop costs the hot
			// memory instructions a register.)
			c := fr.code.owner.byIndex[in.A]
			// callSlots is FrameSlots, or too large for any stack while
			// the callee is tiered: the room check is also the tier check.
			if c == nil || len(m.frames) >= m.maxDepth || nb+int(c.callSlots.Load()) > len(m.stack) {
				// The general path: traps, stack growth, other
				// instances, compiled code and the tier policy.
				m.push(f, nb)
				goto reload
			}
			// The common case, inlined: same instance, room on the stack.
			clear(m.stack[nb+int(c.ParamSlots) : nb+int(c.LocalSlots)])
			pc = c.start
			m.frames = append(m.frames, frame{fn: f, code: c, base: nb, pc: pc})
			fr = &m.frames[len(m.frames)-1]
			code, fp = c.Code, unsafe.Pointer(&m.stack[nb])
		case ir.CallIndirect:
			f := m.indirectCallee(fr, pc, in, fp, inst)
			if f.Host != nil {
				if m.callHost(fr, pc, f, inst, fr.base+int(in.C)) {
					return true
				}
				if mem != nil {
					buf = mem.Buf
				}
				continue
			}
			fr.pc = pc
			if c := fr.code.owner.byIndex; f.Instance == inst && c[f.Index] != nil {
				m.pushCode(f, c[f.Index], fr.base+int(in.C))
			} else {
				m.push(f, fr.base+int(in.C))
			}
			goto reload
		case ir.Const:
			*sl(fp, in.A) = in.Imm
		case ir.Mov:
			*sl(fp, in.A) = *sl(fp, in.B)
		case ir.Mov2:
			*sl(fp, in.A) = *sl(fp, in.B)
			*sl(fp, in.A+1) = *sl(fp, in.B+1)
		case ir.Select:
			if uint32(*sl(fp, uint32(in.Imm))) != 0 {
				*sl(fp, in.A) = *sl(fp, in.B)
			} else {
				*sl(fp, in.A) = *sl(fp, in.C)
			}
		case ir.Select2:
			s := in.C
			if uint32(*sl(fp, uint32(in.Imm))) != 0 {
				s = in.B
			}
			lo, hi := *sl(fp, s), *sl(fp, s+1)
			*sl(fp, in.A), *sl(fp, in.A+1) = lo, hi
		case ir.GlobalGet:
			*sl(fp, in.A) = globals[in.B].Lo
		case ir.GlobalSet:
			globals[in.A].Lo = *sl(fp, in.B)
		case ir.GlobalGet2:
			g := globals[in.B]
			*sl(fp, in.A), *sl(fp, in.A+1) = g.Lo, g.Hi
		case ir.GlobalSet2:
			g := globals[in.A]
			g.Lo, g.Hi = *sl(fp, in.B), *sl(fp, in.B+1)

		// Memory.
		case ir.I32Load, ir.F32Load:
			ea := uint64(uint32(*sl(fp, in.B))) + in.Imm
			if ea+4 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			*sl(fp, in.A) = uint64(binary.LittleEndian.Uint32(buf[ea:]))
		case ir.I64Load, ir.F64Load:
			ea := uint64(uint32(*sl(fp, in.B))) + in.Imm
			if ea+8 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			*sl(fp, in.A) = binary.LittleEndian.Uint64(buf[ea:])
		case ir.I32Load8S, ir.I32Load8U, ir.I64Load8S, ir.I64Load8U:
			ea := uint64(uint32(*sl(fp, in.B))) + in.Imm
			if ea >= uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			v := buf[ea]
			switch in.Op {
			case ir.I32Load8S:
				*sl(fp, in.A) = uint64(uint32(int32(int8(v))))
			case ir.I64Load8S:
				*sl(fp, in.A) = uint64(int64(int8(v)))
			default:
				*sl(fp, in.A) = uint64(v)
			}
		case ir.I32Load16S, ir.I32Load16U, ir.I64Load16S, ir.I64Load16U:
			ea := uint64(uint32(*sl(fp, in.B))) + in.Imm
			if ea+2 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			v := binary.LittleEndian.Uint16(buf[ea:])
			switch in.Op {
			case ir.I32Load16S:
				*sl(fp, in.A) = uint64(uint32(int32(int16(v))))
			case ir.I64Load16S:
				*sl(fp, in.A) = uint64(int64(int16(v)))
			default:
				*sl(fp, in.A) = uint64(v)
			}
		case ir.I64Load32S, ir.I64Load32U:
			ea := uint64(uint32(*sl(fp, in.B))) + in.Imm
			if ea+4 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			v := binary.LittleEndian.Uint32(buf[ea:])
			if in.Op == ir.I64Load32S {
				*sl(fp, in.A) = uint64(int64(int32(v)))
			} else {
				*sl(fp, in.A) = uint64(v)
			}
		case ir.I32Store, ir.F32Store, ir.I64Store32:
			ea := uint64(uint32(*sl(fp, in.A))) + in.Imm
			if ea+4 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			binary.LittleEndian.PutUint32(buf[ea:], uint32(*sl(fp, in.B)))
		case ir.I64Store, ir.F64Store:
			ea := uint64(uint32(*sl(fp, in.A))) + in.Imm
			if ea+8 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			binary.LittleEndian.PutUint64(buf[ea:], *sl(fp, in.B))
		case ir.I32Store8, ir.I64Store8:
			ea := uint64(uint32(*sl(fp, in.A))) + in.Imm
			if ea >= uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			buf[ea] = byte(*sl(fp, in.B))
		case ir.I32Store16, ir.I64Store16:
			ea := uint64(uint32(*sl(fp, in.A))) + in.Imm
			if ea+2 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			binary.LittleEndian.PutUint16(buf[ea:], uint16(*sl(fp, in.B)))
		case ir.MemorySize:
			*sl(fp, in.A) = uint64(len(buf)) / wasm.PageSize
		case ir.MemoryGrow, ir.MemoryInit, ir.MemoryCopy, ir.MemoryFill, ir.DataDrop,
			ir.TableGet, ir.TableSet, ir.TableSize, ir.TableGrow, ir.TableFill, ir.TableCopy,
			ir.TableInit, ir.ElemDrop, ir.RefFunc:
			// Out of line (rare.go), shared with the compiled tier's
			// ExitInterp.
			m.execRare(fr, pc, in, fp, inst)
			if mem != nil {
				buf = mem.Buf // memory.grow may have moved it
			}

		// i32 comparisons and arithmetic.
		case ir.Op(wasm.OpI32Eqz):
			*sl(fp, in.A) = b2u(uint32(*sl(fp, in.B)) == 0)
		case ir.Op(wasm.OpI32Eq):
			*sl(fp, in.A) = b2u(uint32(*sl(fp, in.B)) == uint32(*sl(fp, in.C)))
		case ir.Op(wasm.OpI32Ne):
			*sl(fp, in.A) = b2u(uint32(*sl(fp, in.B)) != uint32(*sl(fp, in.C)))
		case ir.Op(wasm.OpI32LtS):
			*sl(fp, in.A) = b2u(int32(*sl(fp, in.B)) < int32(*sl(fp, in.C)))
		case ir.Op(wasm.OpI32LtU):
			*sl(fp, in.A) = b2u(uint32(*sl(fp, in.B)) < uint32(*sl(fp, in.C)))
		case ir.Op(wasm.OpI32GtS):
			*sl(fp, in.A) = b2u(int32(*sl(fp, in.B)) > int32(*sl(fp, in.C)))
		case ir.Op(wasm.OpI32GtU):
			*sl(fp, in.A) = b2u(uint32(*sl(fp, in.B)) > uint32(*sl(fp, in.C)))
		case ir.Op(wasm.OpI32LeS):
			*sl(fp, in.A) = b2u(int32(*sl(fp, in.B)) <= int32(*sl(fp, in.C)))
		case ir.Op(wasm.OpI32LeU):
			*sl(fp, in.A) = b2u(uint32(*sl(fp, in.B)) <= uint32(*sl(fp, in.C)))
		case ir.Op(wasm.OpI32GeS):
			*sl(fp, in.A) = b2u(int32(*sl(fp, in.B)) >= int32(*sl(fp, in.C)))
		case ir.Op(wasm.OpI32GeU):
			*sl(fp, in.A) = b2u(uint32(*sl(fp, in.B)) >= uint32(*sl(fp, in.C)))
		case ir.I32EqI:
			*sl(fp, in.A) = b2u(uint32(*sl(fp, in.B)) == uint32(in.Imm))
		case ir.I32NeI:
			*sl(fp, in.A) = b2u(uint32(*sl(fp, in.B)) != uint32(in.Imm))
		case ir.I32LtSI:
			*sl(fp, in.A) = b2u(int32(*sl(fp, in.B)) < int32(in.Imm))
		case ir.I32LtUI:
			*sl(fp, in.A) = b2u(uint32(*sl(fp, in.B)) < uint32(in.Imm))
		case ir.I32GtSI:
			*sl(fp, in.A) = b2u(int32(*sl(fp, in.B)) > int32(in.Imm))
		case ir.I32GtUI:
			*sl(fp, in.A) = b2u(uint32(*sl(fp, in.B)) > uint32(in.Imm))
		case ir.I32LeSI:
			*sl(fp, in.A) = b2u(int32(*sl(fp, in.B)) <= int32(in.Imm))
		case ir.I32LeUI:
			*sl(fp, in.A) = b2u(uint32(*sl(fp, in.B)) <= uint32(in.Imm))
		case ir.I32GeSI:
			*sl(fp, in.A) = b2u(int32(*sl(fp, in.B)) >= int32(in.Imm))
		case ir.I32GeUI:
			*sl(fp, in.A) = b2u(uint32(*sl(fp, in.B)) >= uint32(in.Imm))
		case ir.Op(wasm.OpI32Clz):
			*sl(fp, in.A) = uint64(bits.LeadingZeros32(uint32(*sl(fp, in.B))))
		case ir.Op(wasm.OpI32Ctz):
			*sl(fp, in.A) = uint64(bits.TrailingZeros32(uint32(*sl(fp, in.B))))
		case ir.Op(wasm.OpI32Popcnt):
			*sl(fp, in.A) = uint64(bits.OnesCount32(uint32(*sl(fp, in.B))))
		case ir.Op(wasm.OpI32Add):
			*sl(fp, in.A) = uint64(uint32(*sl(fp, in.B)) + uint32(*sl(fp, in.C)))
		case ir.Op(wasm.OpI32Sub):
			*sl(fp, in.A) = uint64(uint32(*sl(fp, in.B)) - uint32(*sl(fp, in.C)))
		case ir.Op(wasm.OpI32Mul):
			*sl(fp, in.A) = uint64(uint32(*sl(fp, in.B)) * uint32(*sl(fp, in.C)))
		case ir.Op(wasm.OpI32DivS):
			*sl(fp, in.A) = m.i32DivS(fr, pc, uint32(*sl(fp, in.B)), uint32(*sl(fp, in.C)))
		case ir.Op(wasm.OpI32DivU):
			*sl(fp, in.A) = m.i32DivU(fr, pc, uint32(*sl(fp, in.B)), uint32(*sl(fp, in.C)))
		case ir.Op(wasm.OpI32RemS):
			*sl(fp, in.A) = m.i32RemS(fr, pc, uint32(*sl(fp, in.B)), uint32(*sl(fp, in.C)))
		case ir.Op(wasm.OpI32RemU):
			*sl(fp, in.A) = m.i32RemU(fr, pc, uint32(*sl(fp, in.B)), uint32(*sl(fp, in.C)))
		case ir.Op(wasm.OpI32And):
			*sl(fp, in.A) = uint64(uint32(*sl(fp, in.B)) & uint32(*sl(fp, in.C)))
		case ir.Op(wasm.OpI32Or):
			*sl(fp, in.A) = uint64(uint32(*sl(fp, in.B)) | uint32(*sl(fp, in.C)))
		case ir.Op(wasm.OpI32Xor):
			*sl(fp, in.A) = uint64(uint32(*sl(fp, in.B)) ^ uint32(*sl(fp, in.C)))
		case ir.Op(wasm.OpI32Shl):
			*sl(fp, in.A) = uint64(uint32(*sl(fp, in.B)) << (uint32(*sl(fp, in.C)) & 31))
		case ir.Op(wasm.OpI32ShrS):
			*sl(fp, in.A) = uint64(uint32(int32(*sl(fp, in.B)) >> (uint32(*sl(fp, in.C)) & 31)))
		case ir.Op(wasm.OpI32ShrU):
			*sl(fp, in.A) = uint64(uint32(*sl(fp, in.B)) >> (uint32(*sl(fp, in.C)) & 31))
		case ir.Op(wasm.OpI32Rotl):
			*sl(fp, in.A) = uint64(bits.RotateLeft32(uint32(*sl(fp, in.B)), int(uint32(*sl(fp, in.C))&31)))
		case ir.Op(wasm.OpI32Rotr):
			*sl(fp, in.A) = uint64(bits.RotateLeft32(uint32(*sl(fp, in.B)), -int(uint32(*sl(fp, in.C))&31)))
		case ir.I32AddI:
			*sl(fp, in.A) = uint64(uint32(*sl(fp, in.B)) + uint32(in.Imm))
		case ir.I32SubI:
			*sl(fp, in.A) = uint64(uint32(*sl(fp, in.B)) - uint32(in.Imm))
		case ir.I32MulI:
			*sl(fp, in.A) = uint64(uint32(*sl(fp, in.B)) * uint32(in.Imm))
		case ir.I32DivSI:
			*sl(fp, in.A) = m.i32DivS(fr, pc, uint32(*sl(fp, in.B)), uint32(in.Imm))
		case ir.I32DivUI:
			*sl(fp, in.A) = m.i32DivU(fr, pc, uint32(*sl(fp, in.B)), uint32(in.Imm))
		case ir.I32RemSI:
			*sl(fp, in.A) = m.i32RemS(fr, pc, uint32(*sl(fp, in.B)), uint32(in.Imm))
		case ir.I32RemUI:
			*sl(fp, in.A) = m.i32RemU(fr, pc, uint32(*sl(fp, in.B)), uint32(in.Imm))
		case ir.I32AndI:
			*sl(fp, in.A) = uint64(uint32(*sl(fp, in.B)) & uint32(in.Imm))
		case ir.I32OrI:
			*sl(fp, in.A) = uint64(uint32(*sl(fp, in.B)) | uint32(in.Imm))
		case ir.I32XorI:
			*sl(fp, in.A) = uint64(uint32(*sl(fp, in.B)) ^ uint32(in.Imm))
		case ir.I32ShlI:
			*sl(fp, in.A) = uint64(uint32(*sl(fp, in.B)) << (uint32(in.Imm) & 31))
		case ir.I32ShrSI:
			*sl(fp, in.A) = uint64(uint32(int32(*sl(fp, in.B)) >> (uint32(in.Imm) & 31)))
		case ir.I32ShrUI:
			*sl(fp, in.A) = uint64(uint32(*sl(fp, in.B)) >> (uint32(in.Imm) & 31))
		case ir.I32RotlI:
			*sl(fp, in.A) = uint64(bits.RotateLeft32(uint32(*sl(fp, in.B)), int(uint32(in.Imm)&31)))
		case ir.I32RotrI:
			*sl(fp, in.A) = uint64(bits.RotateLeft32(uint32(*sl(fp, in.B)), -int(uint32(in.Imm)&31)))

		// Compare-and-branch.
		case ir.BrI32Eq:
			if uint32(*sl(fp, in.B)) == uint32(*sl(fp, in.C)) {
				pc = in.A
			}
		case ir.BrI32Ne:
			if uint32(*sl(fp, in.B)) != uint32(*sl(fp, in.C)) {
				pc = in.A
			}
		case ir.BrI32LtS:
			if int32(*sl(fp, in.B)) < int32(*sl(fp, in.C)) {
				pc = in.A
			}
		case ir.BrI32LtU:
			if uint32(*sl(fp, in.B)) < uint32(*sl(fp, in.C)) {
				pc = in.A
			}
		case ir.BrI32GtS:
			if int32(*sl(fp, in.B)) > int32(*sl(fp, in.C)) {
				pc = in.A
			}
		case ir.BrI32GtU:
			if uint32(*sl(fp, in.B)) > uint32(*sl(fp, in.C)) {
				pc = in.A
			}
		case ir.BrI32LeS:
			if int32(*sl(fp, in.B)) <= int32(*sl(fp, in.C)) {
				pc = in.A
			}
		case ir.BrI32LeU:
			if uint32(*sl(fp, in.B)) <= uint32(*sl(fp, in.C)) {
				pc = in.A
			}
		case ir.BrI32GeS:
			if int32(*sl(fp, in.B)) >= int32(*sl(fp, in.C)) {
				pc = in.A
			}
		case ir.BrI32GeU:
			if uint32(*sl(fp, in.B)) >= uint32(*sl(fp, in.C)) {
				pc = in.A
			}
		case ir.BrI32EqI:
			if uint32(*sl(fp, in.B)) == uint32(in.Imm) {
				pc = in.A
			}
		case ir.BrI32NeI:
			if uint32(*sl(fp, in.B)) != uint32(in.Imm) {
				pc = in.A
			}
		case ir.BrI32LtSI:
			if int32(*sl(fp, in.B)) < int32(in.Imm) {
				pc = in.A
			}
		case ir.BrI32LtUI:
			if uint32(*sl(fp, in.B)) < uint32(in.Imm) {
				pc = in.A
			}
		case ir.BrI32GtSI:
			if int32(*sl(fp, in.B)) > int32(in.Imm) {
				pc = in.A
			}
		case ir.BrI32GtUI:
			if uint32(*sl(fp, in.B)) > uint32(in.Imm) {
				pc = in.A
			}
		case ir.BrI32LeSI:
			if int32(*sl(fp, in.B)) <= int32(in.Imm) {
				pc = in.A
			}
		case ir.BrI32LeUI:
			if uint32(*sl(fp, in.B)) <= uint32(in.Imm) {
				pc = in.A
			}
		case ir.BrI32GeSI:
			if int32(*sl(fp, in.B)) >= int32(in.Imm) {
				pc = in.A
			}
		case ir.BrI32GeUI:
			if uint32(*sl(fp, in.B)) >= uint32(in.Imm) {
				pc = in.A
			}

		// Loop back-edges, armed (see ir.BrBack and arm.go).
		case ir.BrBack:
			pc = in.A
			if intr.Load() != 0 {
				pc = in.B // the loop's poll stub
			}
		case ir.BrIfBack:
			if uint32(*sl(fp, in.B)) != 0 {
				pc = in.A
				if intr.Load() != 0 {
					pc = in.C // the loop's poll stub
				}
			}
		case ir.BrIfNotBack:
			if uint32(*sl(fp, in.B)) == 0 {
				pc = in.A
				if intr.Load() != 0 {
					pc = in.C // the loop's poll stub
				}
			}
		case ir.BrI32EqBack:
			if uint32(*sl(fp, in.B)) == uint32(*sl(fp, in.C)) {
				pc = in.A
				if intr.Load() != 0 {
					pc = uint32(in.Imm) // the loop's poll stub
				}
			}
		case ir.BrI32NeBack:
			if uint32(*sl(fp, in.B)) != uint32(*sl(fp, in.C)) {
				pc = in.A
				if intr.Load() != 0 {
					pc = uint32(in.Imm) // the loop's poll stub
				}
			}
		case ir.BrI32LtSBack:
			if int32(*sl(fp, in.B)) < int32(*sl(fp, in.C)) {
				pc = in.A
				if intr.Load() != 0 {
					pc = uint32(in.Imm) // the loop's poll stub
				}
			}
		case ir.BrI32LtUBack:
			if uint32(*sl(fp, in.B)) < uint32(*sl(fp, in.C)) {
				pc = in.A
				if intr.Load() != 0 {
					pc = uint32(in.Imm) // the loop's poll stub
				}
			}
		case ir.BrI32GtSBack:
			if int32(*sl(fp, in.B)) > int32(*sl(fp, in.C)) {
				pc = in.A
				if intr.Load() != 0 {
					pc = uint32(in.Imm) // the loop's poll stub
				}
			}
		case ir.BrI32GtUBack:
			if uint32(*sl(fp, in.B)) > uint32(*sl(fp, in.C)) {
				pc = in.A
				if intr.Load() != 0 {
					pc = uint32(in.Imm) // the loop's poll stub
				}
			}
		case ir.BrI32LeSBack:
			if int32(*sl(fp, in.B)) <= int32(*sl(fp, in.C)) {
				pc = in.A
				if intr.Load() != 0 {
					pc = uint32(in.Imm) // the loop's poll stub
				}
			}
		case ir.BrI32LeUBack:
			if uint32(*sl(fp, in.B)) <= uint32(*sl(fp, in.C)) {
				pc = in.A
				if intr.Load() != 0 {
					pc = uint32(in.Imm) // the loop's poll stub
				}
			}
		case ir.BrI32GeSBack:
			if int32(*sl(fp, in.B)) >= int32(*sl(fp, in.C)) {
				pc = in.A
				if intr.Load() != 0 {
					pc = uint32(in.Imm) // the loop's poll stub
				}
			}
		case ir.BrI32GeUBack:
			if uint32(*sl(fp, in.B)) >= uint32(*sl(fp, in.C)) {
				pc = in.A
				if intr.Load() != 0 {
					pc = uint32(in.Imm) // the loop's poll stub
				}
			}
		case ir.BrI32EqIBack:
			if uint32(*sl(fp, in.B)) == uint32(in.Imm) {
				pc = in.A
				if intr.Load() != 0 {
					pc = in.C // the loop's poll stub
				}
			}
		case ir.BrI32NeIBack:
			if uint32(*sl(fp, in.B)) != uint32(in.Imm) {
				pc = in.A
				if intr.Load() != 0 {
					pc = in.C // the loop's poll stub
				}
			}
		case ir.BrI32LtSIBack:
			if int32(*sl(fp, in.B)) < int32(in.Imm) {
				pc = in.A
				if intr.Load() != 0 {
					pc = in.C // the loop's poll stub
				}
			}
		case ir.BrI32LtUIBack:
			if uint32(*sl(fp, in.B)) < uint32(in.Imm) {
				pc = in.A
				if intr.Load() != 0 {
					pc = in.C // the loop's poll stub
				}
			}
		case ir.BrI32GtSIBack:
			if int32(*sl(fp, in.B)) > int32(in.Imm) {
				pc = in.A
				if intr.Load() != 0 {
					pc = in.C // the loop's poll stub
				}
			}
		case ir.BrI32GtUIBack:
			if uint32(*sl(fp, in.B)) > uint32(in.Imm) {
				pc = in.A
				if intr.Load() != 0 {
					pc = in.C // the loop's poll stub
				}
			}
		case ir.BrI32LeSIBack:
			if int32(*sl(fp, in.B)) <= int32(in.Imm) {
				pc = in.A
				if intr.Load() != 0 {
					pc = in.C // the loop's poll stub
				}
			}
		case ir.BrI32LeUIBack:
			if uint32(*sl(fp, in.B)) <= uint32(in.Imm) {
				pc = in.A
				if intr.Load() != 0 {
					pc = in.C // the loop's poll stub
				}
			}
		case ir.BrI32GeSIBack:
			if int32(*sl(fp, in.B)) >= int32(in.Imm) {
				pc = in.A
				if intr.Load() != 0 {
					pc = in.C // the loop's poll stub
				}
			}
		case ir.BrI32GeUIBack:
			if uint32(*sl(fp, in.B)) >= uint32(in.Imm) {
				pc = in.A
				if intr.Load() != 0 {
					pc = in.C // the loop's poll stub
				}
			}

		// Stores of constants.
		case ir.I32StoreI:
			ea := uint64(uint32(*sl(fp, in.A))) + in.Imm
			if ea+4 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			binary.LittleEndian.PutUint32(buf[ea:], in.C)
		case ir.I32Store8I:
			ea := uint64(uint32(*sl(fp, in.A))) + in.Imm
			if ea >= uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			buf[ea] = byte(in.C)
		case ir.I32Store16I:
			ea := uint64(uint32(*sl(fp, in.A))) + in.Imm
			if ea+2 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			binary.LittleEndian.PutUint16(buf[ea:], uint16(in.C))
		case ir.I64StoreI:
			ea := uint64(uint32(*sl(fp, in.A))) + in.Imm
			if ea+8 > uint64(len(buf)) {
				m.trap(fr, pc, api.ErrOutOfBoundsMemory)
			}
			binary.LittleEndian.PutUint64(buf[ea:], uint64(int64(int32(in.C))))

		// i64.
		case ir.Op(wasm.OpI64Eqz):
			*sl(fp, in.A) = b2u(*sl(fp, in.B) == 0)
		case ir.Op(wasm.OpI64Eq):
			*sl(fp, in.A) = b2u(*sl(fp, in.B) == *sl(fp, in.C))
		case ir.Op(wasm.OpI64Ne):
			*sl(fp, in.A) = b2u(*sl(fp, in.B) != *sl(fp, in.C))
		case ir.Op(wasm.OpI64LtS):
			*sl(fp, in.A) = b2u(int64(*sl(fp, in.B)) < int64(*sl(fp, in.C)))
		case ir.Op(wasm.OpI64LtU):
			*sl(fp, in.A) = b2u(*sl(fp, in.B) < *sl(fp, in.C))
		case ir.Op(wasm.OpI64GtS):
			*sl(fp, in.A) = b2u(int64(*sl(fp, in.B)) > int64(*sl(fp, in.C)))
		case ir.Op(wasm.OpI64GtU):
			*sl(fp, in.A) = b2u(*sl(fp, in.B) > *sl(fp, in.C))
		case ir.Op(wasm.OpI64LeS):
			*sl(fp, in.A) = b2u(int64(*sl(fp, in.B)) <= int64(*sl(fp, in.C)))
		case ir.Op(wasm.OpI64LeU):
			*sl(fp, in.A) = b2u(*sl(fp, in.B) <= *sl(fp, in.C))
		case ir.Op(wasm.OpI64GeS):
			*sl(fp, in.A) = b2u(int64(*sl(fp, in.B)) >= int64(*sl(fp, in.C)))
		case ir.Op(wasm.OpI64GeU):
			*sl(fp, in.A) = b2u(*sl(fp, in.B) >= *sl(fp, in.C))
		case ir.I64EqI:
			*sl(fp, in.A) = b2u(*sl(fp, in.B) == in.Imm)
		case ir.I64NeI:
			*sl(fp, in.A) = b2u(*sl(fp, in.B) != in.Imm)
		case ir.I64LtSI:
			*sl(fp, in.A) = b2u(int64(*sl(fp, in.B)) < int64(in.Imm))
		case ir.I64LtUI:
			*sl(fp, in.A) = b2u(*sl(fp, in.B) < in.Imm)
		case ir.I64GtSI:
			*sl(fp, in.A) = b2u(int64(*sl(fp, in.B)) > int64(in.Imm))
		case ir.I64GtUI:
			*sl(fp, in.A) = b2u(*sl(fp, in.B) > in.Imm)
		case ir.I64LeSI:
			*sl(fp, in.A) = b2u(int64(*sl(fp, in.B)) <= int64(in.Imm))
		case ir.I64LeUI:
			*sl(fp, in.A) = b2u(*sl(fp, in.B) <= in.Imm)
		case ir.I64GeSI:
			*sl(fp, in.A) = b2u(int64(*sl(fp, in.B)) >= int64(in.Imm))
		case ir.I64GeUI:
			*sl(fp, in.A) = b2u(*sl(fp, in.B) >= in.Imm)
		case ir.Op(wasm.OpI64Clz):
			*sl(fp, in.A) = uint64(bits.LeadingZeros64(*sl(fp, in.B)))
		case ir.Op(wasm.OpI64Ctz):
			*sl(fp, in.A) = uint64(bits.TrailingZeros64(*sl(fp, in.B)))
		case ir.Op(wasm.OpI64Popcnt):
			*sl(fp, in.A) = uint64(bits.OnesCount64(*sl(fp, in.B)))
		case ir.Op(wasm.OpI64Add):
			*sl(fp, in.A) = *sl(fp, in.B) + *sl(fp, in.C)
		case ir.Op(wasm.OpI64Sub):
			*sl(fp, in.A) = *sl(fp, in.B) - *sl(fp, in.C)
		case ir.Op(wasm.OpI64Mul):
			*sl(fp, in.A) = *sl(fp, in.B) * *sl(fp, in.C)
		case ir.Op(wasm.OpI64DivS):
			*sl(fp, in.A) = m.i64DivS(fr, pc, *sl(fp, in.B), *sl(fp, in.C))
		case ir.Op(wasm.OpI64DivU):
			*sl(fp, in.A) = m.i64DivU(fr, pc, *sl(fp, in.B), *sl(fp, in.C))
		case ir.Op(wasm.OpI64RemS):
			*sl(fp, in.A) = m.i64RemS(fr, pc, *sl(fp, in.B), *sl(fp, in.C))
		case ir.Op(wasm.OpI64RemU):
			*sl(fp, in.A) = m.i64RemU(fr, pc, *sl(fp, in.B), *sl(fp, in.C))
		case ir.Op(wasm.OpI64And):
			*sl(fp, in.A) = *sl(fp, in.B) & *sl(fp, in.C)
		case ir.Op(wasm.OpI64Or):
			*sl(fp, in.A) = *sl(fp, in.B) | *sl(fp, in.C)
		case ir.Op(wasm.OpI64Xor):
			*sl(fp, in.A) = *sl(fp, in.B) ^ *sl(fp, in.C)
		case ir.Op(wasm.OpI64Shl):
			*sl(fp, in.A) = *sl(fp, in.B) << (*sl(fp, in.C) & 63)
		case ir.Op(wasm.OpI64ShrS):
			*sl(fp, in.A) = uint64(int64(*sl(fp, in.B)) >> (*sl(fp, in.C) & 63))
		case ir.Op(wasm.OpI64ShrU):
			*sl(fp, in.A) = *sl(fp, in.B) >> (*sl(fp, in.C) & 63)
		case ir.Op(wasm.OpI64Rotl):
			*sl(fp, in.A) = bits.RotateLeft64(*sl(fp, in.B), int(*sl(fp, in.C)&63))
		case ir.Op(wasm.OpI64Rotr):
			*sl(fp, in.A) = bits.RotateLeft64(*sl(fp, in.B), -int(*sl(fp, in.C)&63))
		case ir.I64AddI:
			*sl(fp, in.A) = *sl(fp, in.B) + in.Imm
		case ir.I64SubI:
			*sl(fp, in.A) = *sl(fp, in.B) - in.Imm
		case ir.I64MulI:
			*sl(fp, in.A) = *sl(fp, in.B) * in.Imm
		case ir.I64DivSI:
			*sl(fp, in.A) = m.i64DivS(fr, pc, *sl(fp, in.B), in.Imm)
		case ir.I64DivUI:
			*sl(fp, in.A) = m.i64DivU(fr, pc, *sl(fp, in.B), in.Imm)
		case ir.I64RemSI:
			*sl(fp, in.A) = m.i64RemS(fr, pc, *sl(fp, in.B), in.Imm)
		case ir.I64RemUI:
			*sl(fp, in.A) = m.i64RemU(fr, pc, *sl(fp, in.B), in.Imm)
		case ir.I64AndI:
			*sl(fp, in.A) = *sl(fp, in.B) & in.Imm
		case ir.I64OrI:
			*sl(fp, in.A) = *sl(fp, in.B) | in.Imm
		case ir.I64XorI:
			*sl(fp, in.A) = *sl(fp, in.B) ^ in.Imm
		case ir.I64ShlI:
			*sl(fp, in.A) = *sl(fp, in.B) << (in.Imm & 63)
		case ir.I64ShrSI:
			*sl(fp, in.A) = uint64(int64(*sl(fp, in.B)) >> (in.Imm & 63))
		case ir.I64ShrUI:
			*sl(fp, in.A) = *sl(fp, in.B) >> (in.Imm & 63)
		case ir.I64RotlI:
			*sl(fp, in.A) = bits.RotateLeft64(*sl(fp, in.B), int(in.Imm&63))
		case ir.I64RotrI:
			*sl(fp, in.A) = bits.RotateLeft64(*sl(fp, in.B), -int(in.Imm&63))

		// f32 / f64 comparisons.
		case ir.Op(wasm.OpF32Eq):
			*sl(fp, in.A) = b2u(f32(*sl(fp, in.B)) == f32(*sl(fp, in.C)))
		case ir.Op(wasm.OpF32Ne):
			*sl(fp, in.A) = b2u(f32(*sl(fp, in.B)) != f32(*sl(fp, in.C)))
		case ir.Op(wasm.OpF32Lt):
			*sl(fp, in.A) = b2u(f32(*sl(fp, in.B)) < f32(*sl(fp, in.C)))
		case ir.Op(wasm.OpF32Gt):
			*sl(fp, in.A) = b2u(f32(*sl(fp, in.B)) > f32(*sl(fp, in.C)))
		case ir.Op(wasm.OpF32Le):
			*sl(fp, in.A) = b2u(f32(*sl(fp, in.B)) <= f32(*sl(fp, in.C)))
		case ir.Op(wasm.OpF32Ge):
			*sl(fp, in.A) = b2u(f32(*sl(fp, in.B)) >= f32(*sl(fp, in.C)))
		case ir.Op(wasm.OpF64Eq):
			*sl(fp, in.A) = b2u(f64(*sl(fp, in.B)) == f64(*sl(fp, in.C)))
		case ir.Op(wasm.OpF64Ne):
			*sl(fp, in.A) = b2u(f64(*sl(fp, in.B)) != f64(*sl(fp, in.C)))
		case ir.Op(wasm.OpF64Lt):
			*sl(fp, in.A) = b2u(f64(*sl(fp, in.B)) < f64(*sl(fp, in.C)))
		case ir.Op(wasm.OpF64Gt):
			*sl(fp, in.A) = b2u(f64(*sl(fp, in.B)) > f64(*sl(fp, in.C)))
		case ir.Op(wasm.OpF64Le):
			*sl(fp, in.A) = b2u(f64(*sl(fp, in.B)) <= f64(*sl(fp, in.C)))
		case ir.Op(wasm.OpF64Ge):
			*sl(fp, in.A) = b2u(f64(*sl(fp, in.B)) >= f64(*sl(fp, in.C)))

		// f32 arithmetic.
		case ir.Op(wasm.OpF32Abs):
			*sl(fp, in.A) = *sl(fp, in.B) & 0x7fffffff
		case ir.Op(wasm.OpF32Neg):
			*sl(fp, in.A) = (*sl(fp, in.B) ^ 0x80000000) & 0xffffffff
		case ir.Op(wasm.OpF32Ceil):
			*sl(fp, in.A) = pf32(round32(math.Ceil, f32(*sl(fp, in.B))))
		case ir.Op(wasm.OpF32Floor):
			*sl(fp, in.A) = pf32(round32(math.Floor, f32(*sl(fp, in.B))))
		case ir.Op(wasm.OpF32Trunc):
			*sl(fp, in.A) = pf32(round32(math.Trunc, f32(*sl(fp, in.B))))
		case ir.Op(wasm.OpF32Nearest):
			*sl(fp, in.A) = pf32(round32(math.RoundToEven, f32(*sl(fp, in.B))))
		case ir.Op(wasm.OpF32Sqrt):
			*sl(fp, in.A) = pf32(float32(math.Sqrt(float64(f32(*sl(fp, in.B))))))
		case ir.Op(wasm.OpF32Add):
			*sl(fp, in.A) = pf32(f32(*sl(fp, in.B)) + f32(*sl(fp, in.C)))
		case ir.Op(wasm.OpF32Sub):
			*sl(fp, in.A) = pf32(f32(*sl(fp, in.B)) - f32(*sl(fp, in.C)))
		case ir.Op(wasm.OpF32Mul):
			*sl(fp, in.A) = pf32(f32(*sl(fp, in.B)) * f32(*sl(fp, in.C)))
		case ir.Op(wasm.OpF32Div):
			*sl(fp, in.A) = pf32(f32(*sl(fp, in.B)) / f32(*sl(fp, in.C)))
		case ir.Op(wasm.OpF32Min):
			*sl(fp, in.A) = pf32(fmin32(f32(*sl(fp, in.B)), f32(*sl(fp, in.C))))
		case ir.Op(wasm.OpF32Max):
			*sl(fp, in.A) = pf32(fmax32(f32(*sl(fp, in.B)), f32(*sl(fp, in.C))))
		case ir.Op(wasm.OpF32Copysign):
			*sl(fp, in.A) = (*sl(fp, in.B) & 0x7fffffff) | (*sl(fp, in.C) & 0x80000000)

		// f64 arithmetic.
		case ir.Op(wasm.OpF64Abs):
			*sl(fp, in.A) = *sl(fp, in.B) &^ (1 << 63)
		case ir.Op(wasm.OpF64Neg):
			*sl(fp, in.A) = *sl(fp, in.B) ^ (1 << 63)
		case ir.Op(wasm.OpF64Ceil):
			*sl(fp, in.A) = pf64(round(math.Ceil, f64(*sl(fp, in.B))))
		case ir.Op(wasm.OpF64Floor):
			*sl(fp, in.A) = pf64(round(math.Floor, f64(*sl(fp, in.B))))
		case ir.Op(wasm.OpF64Trunc):
			*sl(fp, in.A) = pf64(round(math.Trunc, f64(*sl(fp, in.B))))
		case ir.Op(wasm.OpF64Nearest):
			*sl(fp, in.A) = pf64(round(math.RoundToEven, f64(*sl(fp, in.B))))
		case ir.Op(wasm.OpF64Sqrt):
			*sl(fp, in.A) = pf64(math.Sqrt(f64(*sl(fp, in.B))))
		case ir.Op(wasm.OpF64Add):
			*sl(fp, in.A) = pf64(f64(*sl(fp, in.B)) + f64(*sl(fp, in.C)))
		case ir.Op(wasm.OpF64Sub):
			*sl(fp, in.A) = pf64(f64(*sl(fp, in.B)) - f64(*sl(fp, in.C)))
		case ir.Op(wasm.OpF64Mul):
			*sl(fp, in.A) = pf64(f64(*sl(fp, in.B)) * f64(*sl(fp, in.C)))
		case ir.Op(wasm.OpF64Div):
			*sl(fp, in.A) = pf64(f64(*sl(fp, in.B)) / f64(*sl(fp, in.C)))
		case ir.Op(wasm.OpF64Min):
			*sl(fp, in.A) = pf64(fmin64(f64(*sl(fp, in.B)), f64(*sl(fp, in.C))))
		case ir.Op(wasm.OpF64Max):
			*sl(fp, in.A) = pf64(fmax64(f64(*sl(fp, in.B)), f64(*sl(fp, in.C))))
		case ir.Op(wasm.OpF64Copysign):
			*sl(fp, in.A) = (*sl(fp, in.B) &^ (1 << 63)) | (*sl(fp, in.C) & (1 << 63))

		// Conversions.
		case ir.Op(wasm.OpI32WrapI64):
			*sl(fp, in.A) = uint64(uint32(*sl(fp, in.B)))
		case ir.Op(wasm.OpI32TruncF32S):
			v, err := truncS32(float64(f32(*sl(fp, in.B))))
			if err != nil {
				m.trap(fr, pc, err)
			}
			*sl(fp, in.A) = v
		case ir.Op(wasm.OpI32TruncF32U):
			v, err := truncU32(float64(f32(*sl(fp, in.B))))
			if err != nil {
				m.trap(fr, pc, err)
			}
			*sl(fp, in.A) = v
		case ir.Op(wasm.OpI32TruncF64S):
			v, err := truncS32(f64(*sl(fp, in.B)))
			if err != nil {
				m.trap(fr, pc, err)
			}
			*sl(fp, in.A) = v
		case ir.Op(wasm.OpI32TruncF64U):
			v, err := truncU32(f64(*sl(fp, in.B)))
			if err != nil {
				m.trap(fr, pc, err)
			}
			*sl(fp, in.A) = v
		case ir.Op(wasm.OpI64ExtendI32S):
			*sl(fp, in.A) = uint64(int64(int32(*sl(fp, in.B))))
		case ir.Op(wasm.OpI64ExtendI32U):
			*sl(fp, in.A) = uint64(uint32(*sl(fp, in.B)))
		case ir.Op(wasm.OpI64TruncF32S):
			v, err := truncS64(float64(f32(*sl(fp, in.B))))
			if err != nil {
				m.trap(fr, pc, err)
			}
			*sl(fp, in.A) = v
		case ir.Op(wasm.OpI64TruncF32U):
			v, err := truncU64(float64(f32(*sl(fp, in.B))))
			if err != nil {
				m.trap(fr, pc, err)
			}
			*sl(fp, in.A) = v
		case ir.Op(wasm.OpI64TruncF64S):
			v, err := truncS64(f64(*sl(fp, in.B)))
			if err != nil {
				m.trap(fr, pc, err)
			}
			*sl(fp, in.A) = v
		case ir.Op(wasm.OpI64TruncF64U):
			v, err := truncU64(f64(*sl(fp, in.B)))
			if err != nil {
				m.trap(fr, pc, err)
			}
			*sl(fp, in.A) = v
		case ir.Op(wasm.OpF32ConvertI32S):
			*sl(fp, in.A) = pf32(float32(int32(*sl(fp, in.B))))
		case ir.Op(wasm.OpF32ConvertI32U):
			*sl(fp, in.A) = pf32(float32(uint32(*sl(fp, in.B))))
		case ir.Op(wasm.OpF32ConvertI64S):
			*sl(fp, in.A) = pf32(float32(int64(*sl(fp, in.B))))
		case ir.Op(wasm.OpF32ConvertI64U):
			*sl(fp, in.A) = pf32(u64ToF32(*sl(fp, in.B)))
		case ir.Op(wasm.OpF32DemoteF64):
			*sl(fp, in.A) = pf32(float32(f64(*sl(fp, in.B))))
		case ir.Op(wasm.OpF64ConvertI32S):
			*sl(fp, in.A) = pf64(float64(int32(*sl(fp, in.B))))
		case ir.Op(wasm.OpF64ConvertI32U):
			*sl(fp, in.A) = pf64(float64(uint32(*sl(fp, in.B))))
		case ir.Op(wasm.OpF64ConvertI64S):
			*sl(fp, in.A) = pf64(float64(int64(*sl(fp, in.B))))
		case ir.Op(wasm.OpF64ConvertI64U):
			*sl(fp, in.A) = pf64(u64ToF64(*sl(fp, in.B)))
		case ir.Op(wasm.OpF64PromoteF32):
			*sl(fp, in.A) = pf64(float64(f32(*sl(fp, in.B))))
		case ir.Op(wasm.OpI32ReinterpretF32), ir.Op(wasm.OpF32ReinterpretI32):
			*sl(fp, in.A) = uint64(uint32(*sl(fp, in.B)))
		case ir.Op(wasm.OpI64ReinterpretF64), ir.Op(wasm.OpF64ReinterpretI64):
			*sl(fp, in.A) = *sl(fp, in.B)
		case ir.Op(wasm.OpI32Extend8S):
			*sl(fp, in.A) = uint64(uint32(int32(int8(*sl(fp, in.B)))))
		case ir.Op(wasm.OpI32Extend16S):
			*sl(fp, in.A) = uint64(uint32(int32(int16(*sl(fp, in.B)))))
		case ir.Op(wasm.OpI64Extend8S):
			*sl(fp, in.A) = uint64(int64(int8(*sl(fp, in.B))))
		case ir.Op(wasm.OpI64Extend16S):
			*sl(fp, in.A) = uint64(int64(int16(*sl(fp, in.B))))
		case ir.Op(wasm.OpI64Extend32S):
			*sl(fp, in.A) = uint64(int64(int32(*sl(fp, in.B))))
		case ir.SatBase + 0:
			*sl(fp, in.A) = uint64(uint32(satS32(float64(f32(*sl(fp, in.B))))))
		case ir.SatBase + 1:
			*sl(fp, in.A) = satU32(float64(f32(*sl(fp, in.B))))
		case ir.SatBase + 2:
			*sl(fp, in.A) = uint64(uint32(satS32(f64(*sl(fp, in.B)))))
		case ir.SatBase + 3:
			*sl(fp, in.A) = satU32(f64(*sl(fp, in.B)))
		case ir.SatBase + 4:
			*sl(fp, in.A) = satS64(float64(f32(*sl(fp, in.B))))
		case ir.SatBase + 5:
			*sl(fp, in.A) = satU64(float64(f32(*sl(fp, in.B))))
		case ir.SatBase + 6:
			*sl(fp, in.A) = satS64(f64(*sl(fp, in.B)))
		case ir.SatBase + 7:
			*sl(fp, in.A) = satU64(f64(*sl(fp, in.B)))

		case ir.V128Unary, ir.V128Binary, ir.V128Bitselect, ir.V128Shuffle, ir.V128Shift, ir.V128ShiftI,
			ir.V128Test, ir.V128Splat, ir.V128Extract, ir.V128Replace, ir.V128Load, ir.V128LoadX,
			ir.V128LoadLane, ir.V128Store, ir.V128StoreLane, ir.V128Relaxed:
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

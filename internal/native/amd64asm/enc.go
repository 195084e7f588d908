package amd64asm

import "encoding/binary"

// opc is an opcode of one to three bytes, passed by value so that encoding
// a form builds nothing on the heap.
type opc struct {
	b [3]byte
	n uint8
}

func op1(x byte) opc       { return opc{[3]byte{x}, 1} }
func op2(x, y byte) opc    { return opc{[3]byte{x, y}, 2} }
func op3(x, y, z byte) opc { return opc{[3]byte{x, y, z}, 3} }

// width64 reports whether w selects REX.W, failing on widths the form
// does not have.
func (a *Asm) width64(w Width) (wide, ok bool) {
	switch w {
	case W32:
		return false, true
	case W64:
		return true, true
	}
	a.fail("width %d where 32 or 64 bits is required", w)
	return false, false
}

func (a *Asm) regOK(r byte) bool {
	if r > 15 {
		a.fail("register %d out of range 0-15", r)
		return false
	}
	return true
}

// byteRex reports whether a byte register operand r needs an (empty) REX
// prefix: without one, encodings 4-7 name AH, CH, DH, BH instead of SPL,
// BPL, SIL, DIL.
func byteRex(r byte) bool { return r >= 4 && r <= 7 }

func (a *Asm) emitOp(o opc) { a.buf = append(a.buf, o.b[:o.n]...) }

func (a *Asm) imm8(v int8)   { a.buf = append(a.buf, byte(v)) }
func (a *Asm) imm16(v int16) { a.buf = binary.LittleEndian.AppendUint16(a.buf, uint16(v)) }
func (a *Asm) imm32(v int32) { a.buf = binary.LittleEndian.AppendUint32(a.buf, uint32(v)) }

func fits8(v int32) bool { return v >= -128 && v <= 127 }

// rr encodes [pfx] [REX] opcode ModRM(11, reg, rm). The mandatory prefix
// goes before REX, which must immediately precede the opcode. The bytes
// are assembled in a local array and appended once.
func (a *Asm) rr(pfx byte, wide, forceRex bool, o opc, reg, rm byte) bool {
	if a.err != nil || !a.regOK(reg) || !a.regOK(rm) {
		return false
	}
	var ins [7]byte
	n := 0
	if pfx != 0 {
		ins[0] = pfx
		n = 1
	}
	rex := byte(0x40) | (reg>>3)<<2 | rm>>3
	if wide {
		rex |= 8
	}
	if rex != 0x40 || forceRex {
		ins[n] = rex
		n++
	}
	ins[n], ins[n+1], ins[n+2] = o.b[0], o.b[1], o.b[2]
	n += int(o.n)
	ins[n] = 0xC0 | (reg&7)<<3 | rm&7
	a.buf = append(a.buf, ins[:n+1]...)
	return true
}

func (a *Asm) memOK(m Mem) bool {
	if !a.regOK(byte(m.Base)) {
		return false
	}
	switch m.Scale {
	case 0:
	case 1, 2, 4, 8:
		if !a.regOK(byte(m.Index)) {
			return false
		}
		if m.Index == RSP {
			a.fail("RSP cannot be an index register")
			return false
		}
	default:
		a.fail("scale %d, want 1, 2, 4 or 8", m.Scale)
		return false
	}
	return true
}

// rm encodes [pfx] [REX] opcode ModRM SIB? disp? for a memory operand.
func (a *Asm) rm(pfx byte, wide, forceRex bool, o opc, reg byte, m Mem) bool {
	if a.err != nil || !a.regOK(reg) || !a.memOK(m) {
		return false
	}
	if pfx != 0 {
		a.buf = append(a.buf, pfx)
	}
	rex := byte(0x40) | (reg>>3)<<2 | byte(m.Base)>>3
	if m.Scale != 0 {
		rex |= (byte(m.Index) >> 3) << 1
	}
	if wide {
		rex |= 8
	}
	if rex != 0x40 || forceRex {
		a.buf = append(a.buf, rex)
	}
	a.emitOp(o)
	a.modrmMem(reg, m)
	return true
}

func (a *Asm) modrmMem(reg byte, m Mem) { a.modrmMemScaled(reg, m, 1) }

// vex encodes a three-byte VEX prefix (C4), opcode and ModRM for a
// register rm. pp: 0 none, 1 66, 2 F3, 3 F2; mmmmm: 2 0F38, 3 0F3A.
// L is 0: every VEX form here is a scalar (LZ) form.
func (a *Asm) vexRR(pp, mmmmm byte, wide bool, op, reg, vvvv, rm byte) bool {
	if a.err != nil || !a.regOK(reg) || !a.regOK(vvvv) || !a.regOK(rm) {
		return false
	}
	a.vexPrefix(pp, mmmmm, wide, reg, 0, rm, vvvv)
	a.buf = append(a.buf, op, 0xC0|(reg&7)<<3|rm&7)
	return true
}

func (a *Asm) vexPrefix(pp, mmmmm byte, wide bool, r, x, b, vvvv byte) {
	// R, X, B and vvvv are stored inverted.
	b1 := (^r>>3&1)<<7 | (^x>>3&1)<<6 | (^b>>3&1)<<5 | mmmmm
	b2 := (^vvvv&15)<<3 | pp
	if wide {
		b2 |= 0x80
	}
	a.buf = append(a.buf, 0xC4, b1, b2)
}

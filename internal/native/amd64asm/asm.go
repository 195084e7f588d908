// Package amd64asm encodes the amd64 instruction forms Ferry's compiled
// tier emits into a byte buffer. It only produces bytes, so it builds and
// is tested on every GOARCH; nothing here executes the code.
//
// An Asm appends one instruction per method call into a single []byte
// whose capacity grows geometrically, so encoding allocates nothing per
// instruction once the buffer (and the label and fixup tables) are warm.
// Every form is tagged with the CPU feature it needs and the buffer keeps
// the union of what it emitted (Features), which the feature lint checks
// against the mask a unit was compiled for.
//
// Invalid operands (a register out of range, scale 3, RSP as an index, an
// unbound label) never panic: the first such error is kept, later calls
// are ignored, and Finish reports it. See docs/amd64-encoder.md.
package amd64asm

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ferryvm/ferry/internal/cpu"
)

// Reg is a general-purpose register, numbered as in the ModRM/REX
// encoding (RAX=0 … R15=15).
type Reg uint8

// General-purpose registers.
const (
	RAX Reg = iota
	RCX
	RDX
	RBX
	RSP
	RBP
	RSI
	RDI
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
)

// XReg is an SSE register, X0 … X15.
type XReg uint8

// SSE registers.
const (
	X0 XReg = iota
	X1
	X2
	X3
	X4
	X5
	X6
	X7
	X8
	X9
	X10
	X11
	X12
	X13
	X14
	X15
)

// Width is an operand size in bytes for the forms that exist in several
// sizes: W32 and W64 for ALU forms, and also W8 and W16 for extending
// loads and narrow stores.
type Width uint8

// Operand widths.
const (
	W8  Width = 1
	W16 Width = 2
	W32 Width = 4
	W64 Width = 8
)

// Mem is a memory operand [Base + Index*Scale + Disp]. Scale 0 means no
// index. RSP cannot be an index (its encoding means "none"); every base is
// allowed, including RSP/R12 (which need a SIB byte) and RBP/R13 (which
// need an explicit displacement), and the encoder handles both.
type Mem struct {
	Base  Reg
	Index Reg
	Scale uint8
	Disp  int32
}

// M is the memory operand [base+disp].
func M(base Reg, disp int32) Mem { return Mem{Base: base, Disp: disp} }

// MI is the memory operand [base+index*scale+disp].
func MI(base, index Reg, scale uint8, disp int32) Mem {
	return Mem{Base: base, Index: index, Scale: scale, Disp: disp}
}

// Label names a code position; it is bound once with Bind and may be
// referred to by branches before or after that.
type Label int32

// fixup is a 32-bit field patched by Finish: label's offset minus the end
// of the field (a rel32, base < 0) or minus base's offset (a jump-table
// entry).
type fixup struct {
	at    int32
	label Label
	base  Label
}

// maxCodeSize bounds one unit's code (a variable so a test can lower it).
var maxCodeSize = 1 << 30

// ErrInvalid is wrapped by every operand error Finish reports.
var ErrInvalid = errors.New("amd64asm: invalid operand")

// Asm is an instruction buffer. The zero value is ready to use; an Asm is
// not safe for concurrent use, but separate Asms are independent.
type Asm struct {
	buf    []byte
	labels []int32 // offset each label is bound at, -1 while unbound
	fixups []fixup
	feats  cpu.Set
	err    error
}

// Reset empties the buffer, labels and features but keeps the capacity,
// so one Asm can encode many units without allocating again.
func (a *Asm) Reset() {
	a.buf = a.buf[:0]
	a.labels = a.labels[:0]
	a.fixups = a.fixups[:0]
	a.feats = cpu.Set{}
	a.err = nil
}

// Offset is the offset the next instruction will be encoded at, the value
// a compiler records for its native-PC tables.
func (a *Asm) Offset() int { return len(a.buf) }

// Features is the union of the CPU features the emitted instructions need.
func (a *Asm) Features() cpu.Set { return a.feats }

// Err is the first operand error, or nil.
func (a *Asm) Err() error { return a.err }

// Bytes is the code so far, with branches to labels not yet patched; use
// Finish for the final code.
func (a *Asm) Bytes() []byte { return a.buf }

// NewLabel returns a fresh unbound label.
func (a *Asm) NewLabel() Label {
	a.labels = append(a.labels, -1)
	return Label(len(a.labels) - 1)
}

// Bind binds l to the current offset.
func (a *Asm) Bind(l Label) {
	if !a.validLabel(l) {
		return
	}
	if a.labels[l] >= 0 {
		a.fail("label %d bound twice", l)
		return
	}
	a.labels[l] = int32(len(a.buf))
}

// LabelOffset is the offset l is bound at, or -1.
func (a *Asm) LabelOffset(l Label) int {
	if l < 0 || int(l) >= len(a.labels) {
		return -1
	}
	return int(a.labels[l])
}

// Finish patches every branch to its label and returns the code. It fails
// if an operand was invalid or a referenced label was never bound. The
// returned slice aliases the buffer until the next Reset.
func (a *Asm) Finish() ([]byte, error) {
	if a.err != nil {
		return nil, a.err
	}
	// Offsets are int32 and branches rel32, so larger code cannot be
	// patched correctly; a compiler meeting this keeps the function
	// interpreted.
	if len(a.buf) > maxCodeSize {
		return nil, fmt.Errorf("%w: %d bytes of code, more than %d", ErrInvalid, len(a.buf), maxCodeSize)
	}
	for _, f := range a.fixups {
		to := a.labels[f.label]
		if to < 0 {
			return nil, fmt.Errorf("%w: label %d used but never bound", ErrInvalid, f.label)
		}
		from := f.at + 4
		if f.base >= 0 {
			if from = a.labels[f.base]; from < 0 {
				return nil, fmt.Errorf("%w: label %d used but never bound", ErrInvalid, f.base)
			}
		}
		binary.LittleEndian.PutUint32(a.buf[f.at:], uint32(to-from))
	}
	a.fixups = a.fixups[:0]
	return a.buf, nil
}

// LeaLabel emits LEA dst, [RIP+l]: the address of a label, such as a
// jump table or constant pool placed after the code.
func (a *Asm) LeaLabel(dst Reg, l Label) {
	if a.err != nil || !a.regOK(byte(dst)) || !a.validLabel(l) {
		return
	}
	// ModRM mod 00 rm 101 is RIP-relative in 64-bit mode; the disp32 is
	// the last field, so it is relative to its own end like a branch's.
	a.buf = append(a.buf, 0x48|(byte(dst)>>3)<<2, 0x8D, (byte(dst)&7)<<3|5)
	a.fixups = append(a.fixups, fixup{at: int32(len(a.buf)), label: l, base: -1})
	a.buf = append(a.buf, 0, 0, 0, 0)
}

// TableEntry emits a 4-byte jump-table entry holding l's offset minus
// base's. Tables of differences stay valid wherever the code is mapped;
// a br_table dispatch is LeaLabel(t, base), MovsxLoad of the entry, ADD
// and JmpReg.
func (a *Asm) TableEntry(l, base Label) {
	if a.err != nil || !a.validLabel(l) || !a.validLabel(base) {
		return
	}
	a.fixups = append(a.fixups, fixup{at: int32(len(a.buf)), label: l, base: base})
	a.buf = append(a.buf, 0, 0, 0, 0)
}

func (a *Asm) validLabel(l Label) bool {
	if l < 0 || int(l) >= len(a.labels) {
		a.fail("label %d does not exist", l)
		return false
	}
	return true
}

// fail keeps the first error; formatting happens only on the error path.
func (a *Asm) fail(format string, args ...any) {
	if a.err == nil {
		a.err = fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
	}
}

func (a *Asm) need(s cpu.Set) { a.feats = a.feats.Union(s) }

var (
	featSSE2   = cpu.NewSet(cpu.X86SSE2)
	featSSE41  = cpu.NewSet(cpu.X86SSE41)
	featPOPCNT = cpu.NewSet(cpu.X86POPCNT)
	featLZCNT  = cpu.NewSet(cpu.X86LZCNT)
	featBMI1   = cpu.NewSet(cpu.X86BMI1)
	featBMI2   = cpu.NewSet(cpu.X86BMI2)
)

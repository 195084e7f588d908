package wasm

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Instr is one decoded instruction with its immediates. Which fields are set
// depends on Op:
//
//	block, loop, if            BlockType
//	br, br_if                  A = label depth
//	br_table                   Labels = targets, the default last
//	call, ref.func             A = function index
//	call_indirect              A = type index, B = table index
//	select t                   Types = the result types (validation wants one)
//	local.*, global.*          A = index
//	table.get/set/size/grow/fill  A = table index
//	loads and stores           A = alignment exponent, Offset = memarg offset
//	memory.size/grow/fill      A = memory index
//	memory.init                A = data index, B = memory index
//	memory.copy                A = destination memory, B = source memory
//	data.drop                  A = data index
//	table.init                 A = element index, B = table index
//	elem.drop                  A = element index
//	table.copy                 A = destination table, B = source table
//	ref.null                   A = the reference type byte
//	i32.const, i64.const       Imm = the value (sign-extended to 64 bits)
//	f32.const, f64.const       Imm = the IEEE bits
//	v128.const, i8x16.shuffle  Imm = low 8 bytes, Imm2 = high 8 bytes (little-endian)
//	SIMD extract/replace lane  A = lane
//	SIMD load/store lane       A = alignment exponent, Offset, B = lane
type Instr struct {
	Op        Opcode
	Pos       uint32 // byte offset of the opcode in the code the reader was given
	A, B      uint32
	Offset    uint64
	Imm, Imm2 uint64
	BlockType BlockType
	Labels    []uint32
	Types     []ValType
}

// BlockType is a block's type as the binary format encodes it: BlockEmpty, a
// value type (negative, the s33 reading of its byte) or a type index (>= 0).
type BlockType int64

// BlockEmpty is the block type with no parameters and no results.
const BlockEmpty BlockType = -0x40

// ValType returns the single result type of a value block type.
func (bt BlockType) ValType() (ValType, bool) {
	if bt < 0 && bt != BlockEmpty {
		return ValType(byte(bt)&0x7F | 0x40), true
	}
	return 0, false
}

// Signature resolves a block type against the module's types. ok is false
// when bt names a type index out of range or an invalid value type.
func (bt BlockType) Signature(m *Module) (params, results []ValType, ok bool) {
	switch {
	case bt == BlockEmpty:
		return nil, nil, true
	case bt < 0:
		t, _ := bt.ValType()
		if !t.Valid() {
			return nil, nil, false
		}
		return nil, []ValType{t}, true
	case bt < BlockType(len(m.Types)):
		ft := &m.Types[bt]
		return ft.Params, ft.Results, true
	}
	return nil, nil, false
}

// Errors of instruction decoding (the spec calls these "malformed").
var (
	ErrIllegalOpcode    = errors.New("illegal opcode")
	ErrZeroByteExpected = errors.New("zero byte expected")
)

// InstrReader decodes a sequence of instructions. It never panics on bad
// input and allocates nothing per instruction beyond what it reuses (the
// Labels and Types slices of the Instr it returns are overwritten by the next
// call).
type InstrReader struct {
	code   []byte
	pos    int
	labels []uint32
	types  []ValType
}

// NewInstrReader reads instructions from code.
func NewInstrReader(code []byte) *InstrReader { return &InstrReader{code: code} }

// Reset restarts the reader on other code, keeping its buffers.
func (r *InstrReader) Reset(code []byte) { r.code, r.pos = code, 0 }

// Pos is the offset of the next instruction.
func (r *InstrReader) Pos() int { return r.pos }

// Done reports whether all the code has been read.
func (r *InstrReader) Done() bool { return r.pos >= len(r.code) }

// InstrError is a decoding error at an offset of the code.
type InstrError struct {
	Pos int
	Err error
}

func (e *InstrError) Error() string { return fmt.Sprintf("at +0x%x: %v", e.Pos, e.Err) }
func (e *InstrError) Unwrap() error { return e.Err }

// Next decodes the next instruction into in.
func (r *InstrReader) Next(in *Instr) error {
	start := r.pos
	*in = Instr{Pos: uint32(start)}
	if err := r.next(in); err != nil {
		return &InstrError{Pos: start, Err: err}
	}
	return nil
}

func (r *InstrReader) u32() (uint32, error) {
	v, n, err := ReadU32(r.code[r.pos:])
	r.pos += n
	return v, err
}

func (r *InstrReader) byte() (byte, error) {
	if r.pos >= len(r.code) {
		return 0, ErrUnexpectedEnd
	}
	b := r.code[r.pos]
	r.pos++
	return b, nil
}

func (r *InstrReader) fixed(n int) (uint64, error) {
	if len(r.code)-r.pos < n {
		r.pos = len(r.code)
		return 0, ErrUnexpectedEnd
	}
	var buf [8]byte
	copy(buf[:], r.code[r.pos:r.pos+n])
	r.pos += n
	return binary.LittleEndian.Uint64(buf[:]), nil
}

func (r *InstrReader) zero() error {
	b, err := r.byte()
	if err == nil && b != 0 {
		err = ErrZeroByteExpected
	}
	return err
}

func (r *InstrReader) memarg(in *Instr) error {
	var err error
	if in.A, err = r.u32(); err != nil {
		return err
	}
	off, err := r.u32()
	in.Offset = uint64(off)
	return err
}

func (r *InstrReader) next(in *Instr) (err error) {
	b, err := r.byte()
	if err != nil {
		return err
	}
	op := Opcode(b)
	switch b {
	case 0xFC, 0xFD:
		sub, err := r.u32()
		if err != nil {
			return err
		}
		if b == 0xFC && sub < 0x100 {
			op = 0x100 + Opcode(sub)
		} else if b == 0xFD && sub < 0x200 {
			op = 0x200 + Opcode(sub)
		} else {
			return fmt.Errorf("%w 0x%02x 0x%x", ErrIllegalOpcode, b, sub)
		}
	}
	if !op.Known() {
		if op >= 0x100 {
			if op >= 0x200 {
				return fmt.Errorf("%w 0xfd 0x%x", ErrIllegalOpcode, op-0x200)
			}
			return fmt.Errorf("%w 0xfc 0x%x", ErrIllegalOpcode, op-0x100)
		}
		return fmt.Errorf("%w 0x%02x", ErrIllegalOpcode, b)
	}
	in.Op = op
	switch op {
	case OpBlock, OpLoop, OpIf:
		v, n, err := ReadS33(r.code[r.pos:])
		r.pos += n
		in.BlockType = BlockType(v)
		return err
	case OpBr, OpBrIf, OpCall, OpRefFunc, OpLocalGet, OpLocalSet, OpLocalTee,
		OpGlobalGet, OpGlobalSet, OpTableGet, OpTableSet, OpTableSize, OpTableGrow,
		OpTableFill, OpDataDrop, OpElemDrop:
		in.A, err = r.u32()
		return err
	case OpBrTable:
		n, err := r.u32()
		if err != nil {
			return err
		}
		// Each label takes at least one byte: a count beyond the remaining
		// bytes is malformed and must not size an allocation.
		if int64(n) >= int64(len(r.code)-r.pos) {
			return ErrUnexpectedEnd
		}
		r.labels = r.labels[:0]
		for i := uint32(0); i <= n; i++ {
			l, err := r.u32()
			if err != nil {
				return err
			}
			r.labels = append(r.labels, l)
		}
		in.Labels = r.labels
		return nil
	case OpCallIndirect, OpTableInit, OpTableCopy:
		if in.A, err = r.u32(); err != nil {
			return err
		}
		in.B, err = r.u32()
		return err
	case OpSelectT:
		n, err := r.u32()
		if err != nil {
			return err
		}
		if int64(n) > int64(len(r.code)-r.pos) {
			return ErrUnexpectedEnd
		}
		r.types = r.types[:0]
		for i := uint32(0); i < n; i++ {
			t, err := r.byte()
			if err != nil {
				return err
			}
			r.types = append(r.types, ValType(t))
		}
		in.Types = r.types
		return nil
	case OpMemorySize, OpMemoryGrow, OpMemoryFill:
		return r.zero()
	case OpMemoryInit:
		if in.A, err = r.u32(); err != nil {
			return err
		}
		return r.zero()
	case OpMemoryCopy:
		if err = r.zero(); err != nil {
			return err
		}
		return r.zero()
	case OpRefNull:
		t, err := r.byte()
		in.A = uint32(t)
		return err
	case OpI32Const:
		v, n, err := ReadS32(r.code[r.pos:])
		r.pos += n
		in.Imm = uint64(int64(v))
		return err
	case OpI64Const:
		v, n, err := ReadS64(r.code[r.pos:])
		r.pos += n
		in.Imm = uint64(v)
		return err
	case OpF32Const:
		in.Imm, err = r.fixed(4)
		return err
	case OpF64Const:
		in.Imm, err = r.fixed(8)
		return err
	case OpV128Const, OpI8x16Shuffle:
		if in.Imm, err = r.fixed(8); err != nil {
			return err
		}
		in.Imm2, err = r.fixed(8)
		return err
	}
	switch {
	case op >= OpI32Load && op <= OpI64Store32,
		op >= OpV128Load && op <= OpV128Store,
		op == OpV128Load32Zero, op == OpV128Load64Zero:
		return r.memarg(in)
	case op >= OpV128Load8Lane && op <= OpV128Store64Lane:
		if err = r.memarg(in); err != nil {
			return err
		}
		l, err := r.byte()
		in.B = uint32(l)
		return err
	case op >= OpI8x16ExtractLaneS && op <= OpF64x2ReplaceLane:
		l, err := r.byte()
		in.A = uint32(l)
		return err
	}
	return nil
}

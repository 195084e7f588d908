package binary

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/ferryvm/ferry/internal/wasm"
)

// reader reads the primitive encodings of the binary format from a module,
// bounded by the end of the current section (or function body). Every failure
// comes back as an *Error naming the section and the offset.
type reader struct {
	b       []byte // the whole module
	pos     int
	end     int    // reads stop here
	section string // for error reports
	ir      wasm.InstrReader
	in      wasm.Instr
}

func (r *reader) fail(off int, err error) *Error {
	return &Error{Section: r.section, Offset: off, Err: err}
}

// eof is the error for a read that runs past the bound: the spec distinguishes
// the end of the file (header, section headers) from the end of a section.
func (r *reader) eof() error {
	if r.section == "" {
		return wasm.ErrUnexpectedEnd
	}
	return ErrEndOfSection
}

func (r *reader) left() int { return r.end - r.pos }

func (r *reader) byte() (byte, error) {
	if r.pos >= r.end {
		return 0, r.fail(r.pos, r.eof())
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

func (r *reader) u32() (uint32, error) {
	start := r.pos
	v, n, err := wasm.ReadU32(r.b[r.pos:r.end])
	r.pos += n
	if err != nil {
		if errors.Is(err, wasm.ErrUnexpectedEnd) {
			err = r.eof()
			// An integer that runs past the bound and is malformed anyway
			// is reported as malformed, as the reference interpreter
			// (which reads unbounded) does.
			if _, _, werr := wasm.ReadU32(r.b[start:]); werr != nil && !errors.Is(werr, wasm.ErrUnexpectedEnd) {
				err = werr
			}
		}
		return 0, r.fail(start, err)
	}
	return v, nil
}

// count reads a vector length and checks it against the bytes left, given
// that every element takes at least minSize bytes, so a hostile count never
// sizes an allocation.
func (r *reader) count(minSize int) (uint32, error) {
	start := r.pos
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(minSize) > uint64(r.left()) {
		return 0, r.fail(start, fmt.Errorf("%w: %d elements in %d bytes", ErrEndOfSection, n, r.left()))
	}
	return n, nil
}

// length reads a byte length (of a string, a section, a body) and checks it
// against the bytes left. Like the reference interpreter, a length beyond the
// end of the file (counted from the length field itself) is "length out of
// bounds"; one that only overruns the section is an unexpected end.
func (r *reader) length() (int, error) {
	start := r.pos
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	switch {
	case uint64(n) > uint64(len(r.b)-start):
		return 0, r.fail(start, fmt.Errorf("%w: %d bytes, %d left", ErrLength, n, len(r.b)-r.pos))
	case uint64(n) > uint64(r.left()):
		return 0, r.fail(start, fmt.Errorf("%w: %d bytes, %d left", r.eof(), n, r.left()))
	}
	return int(n), nil
}

func (r *reader) bytes() ([]byte, error) {
	n, err := r.length()
	if err != nil {
		return nil, err
	}
	b := r.b[r.pos : r.pos+n : r.pos+n]
	r.pos += n
	return b, nil
}

func (r *reader) name() (string, error) {
	start := r.pos
	b, err := r.bytes()
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", r.fail(start, ErrUTF8)
	}
	return string(b), nil
}

// typeByte reads a one-byte type code. The reference interpreter reads these
// as signed LEB128 of 7 bits, so a continuation bit is a too-long integer.
func (r *reader) typeByte() (byte, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	if c&0x80 != 0 {
		return 0, r.fail(r.pos-1, wasm.ErrLEBTooLong)
	}
	return c, nil
}

func (r *reader) valType() (wasm.ValType, error) {
	c, err := r.typeByte()
	if err != nil {
		return 0, err
	}
	if t := wasm.ValType(c); t.Valid() {
		return t, nil
	}
	return 0, r.fail(r.pos-1, fmt.Errorf("%w 0x%02x", ErrValType, c))
}

func (r *reader) refType() (wasm.ValType, error) {
	c, err := r.typeByte()
	if err != nil {
		return 0, err
	}
	if t := wasm.ValType(c); t.IsRef() {
		return t, nil
	}
	return 0, r.fail(r.pos-1, fmt.Errorf("%w 0x%02x", ErrRefType, c))
}

func (r *reader) limits() (wasm.Limits, error) {
	var l wasm.Limits
	flags, err := r.byte()
	if err != nil {
		return l, err
	}
	// The flags are a one-bit LEB128 integer to the reference interpreter,
	// hence its wording.
	switch {
	case flags&0x80 != 0:
		return l, r.fail(r.pos-1, fmt.Errorf("%w: limits flags", wasm.ErrLEBTooLong))
	case flags > 1:
		return l, r.fail(r.pos-1, fmt.Errorf("%w: limits flags 0x%02x", wasm.ErrLEBTooLarge, flags))
	}
	min, err := r.u32()
	if err != nil {
		return l, err
	}
	l.Min = uint64(min)
	if flags == 1 {
		max, err := r.u32()
		if err != nil {
			return l, err
		}
		l.Max, l.HasMax = uint64(max), true
	}
	return l, nil
}

func (r *reader) tableType() (wasm.TableType, error) {
	t, err := r.refType()
	if err != nil {
		return wasm.TableType{}, err
	}
	l, err := r.limits()
	return wasm.TableType{Elem: t, Limits: l}, err
}

func (r *reader) globalType() (wasm.GlobalType, error) {
	t, err := r.valType()
	if err != nil {
		return wasm.GlobalType{}, err
	}
	mut, err := r.byte()
	if err != nil {
		return wasm.GlobalType{}, err
	}
	if mut > 1 {
		return wasm.GlobalType{}, r.fail(r.pos-1, fmt.Errorf("%w 0x%02x", ErrMutability, mut))
	}
	return wasm.GlobalType{Type: t, Mutable: mut == 1}, nil
}

// constExpr finds the end of a constant expression and returns its raw bytes.
// Constant expressions hold no blocks, so the first `end` closes them; what
// the instructions mean is the validator's business.
func (r *reader) constExpr() (wasm.ConstExpr, error) {
	start := r.pos
	r.ir.Reset(r.b[start:r.end])
	for {
		if r.ir.Done() {
			return wasm.ConstExpr{}, r.fail(r.end, r.eof())
		}
		if err := r.ir.Next(&r.in); err != nil {
			off := start
			var ie *wasm.InstrError
			if errors.As(err, &ie) {
				off += ie.Pos
				err = ie.Err
			}
			if errors.Is(err, wasm.ErrUnexpectedEnd) {
				err = r.eof()
			}
			return wasm.ConstExpr{}, r.fail(off, err)
		}
		if r.in.Op == wasm.OpEnd {
			break
		}
	}
	r.pos = start + r.ir.Pos()
	return wasm.ConstExpr{Bytes: r.b[start:r.pos:r.pos]}, nil
}

package wasm

import "errors"

// LEB128 errors, worded as the spec test suite words them.
var (
	ErrUnexpectedEnd = errors.New("unexpected end")
	ErrLEBTooLong    = errors.New("integer representation too long")
	ErrLEBTooLarge   = errors.New("integer too large")
)

// ReadU32 decodes an unsigned LEB128 of at most 32 bits from b, returning the
// value and the number of bytes read.
func ReadU32(b []byte) (uint32, int, error) {
	v, n, err := readUnsigned(b, 32)
	return uint32(v), n, err
}

// ReadS32 decodes a signed LEB128 of at most 32 bits.
func ReadS32(b []byte) (int32, int, error) {
	v, n, err := readSigned(b, 32)
	return int32(v), n, err
}

// ReadS33 decodes a signed LEB128 of at most 33 bits (block types).
func ReadS33(b []byte) (int64, int, error) { return readSigned(b, 33) }

// ReadS64 decodes a signed LEB128 of at most 64 bits.
func ReadS64(b []byte) (int64, int, error) { return readSigned(b, 64) }

func readUnsigned(b []byte, bits uint) (uint64, int, error) {
	maxLen := int((bits + 6) / 7)
	var v uint64
	for i := 0; i < maxLen; i++ {
		if i >= len(b) {
			return 0, i, ErrUnexpectedEnd
		}
		c := b[i]
		shift := uint(i) * 7
		if i == maxLen-1 {
			// The last byte may carry only the bits that remain; anything
			// else is too large (or, with the continuation bit, too long).
			if c&0x80 != 0 {
				return 0, i + 1, ErrLEBTooLong
			}
			if rem := bits - shift; rem < 7 && c>>rem != 0 {
				return 0, i + 1, ErrLEBTooLarge
			}
		}
		v |= uint64(c&0x7F) << shift
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, maxLen, ErrLEBTooLong
}

func readSigned(b []byte, bits uint) (int64, int, error) {
	maxLen := int((bits + 6) / 7)
	var v int64
	for i := 0; i < maxLen; i++ {
		if i >= len(b) {
			return 0, i, ErrUnexpectedEnd
		}
		c := b[i]
		shift := uint(i) * 7
		if i == maxLen-1 {
			if c&0x80 != 0 {
				return 0, i + 1, ErrLEBTooLong
			}
			if rem := bits - shift; rem < 7 {
				// The unused high bits must all equal the sign bit.
				sign := (c >> (rem - 1)) & 1
				mask := byte(0x7F) >> rem << rem // bits above the value
				if sign == 1 && c&mask != mask || sign == 0 && c&mask != 0 {
					return 0, i + 1, ErrLEBTooLarge
				}
			}
		}
		v |= int64(c&0x7F) << shift
		if c&0x80 == 0 {
			if end := shift + 7; end < 64 && c&0x40 != 0 {
				v |= -1 << end
			}
			return v, i + 1, nil
		}
	}
	return 0, maxLen, ErrLEBTooLong
}

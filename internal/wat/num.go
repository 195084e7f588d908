package wat

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
)

var (
	errNotNumber = errors.New("not a number")
	errRange     = errors.New("constant out of range")
)

// digits strips the underscores of a digit run, which the text format
// allows singly between digits only; ok is false for any other use, or
// for a character that is not a digit of the base.
func digits(s string, hex bool) (string, bool) {
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' {
			if s[i-1] == '_' {
				return "", false
			}
			continue
		}
		if !(c >= '0' && c <= '9' || hex && isHex(c)) {
			return "", false
		}
		b.WriteByte(c)
	}
	return b.String(), true
}

// parseUnsigned parses an unsigned integer literal (decimal or 0x hex) of
// at most bits bits.
func parseUnsigned(s string, bits int) (uint64, error) {
	hex := false
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		s, hex = h, true
	}
	d, ok := digits(s, hex)
	if !ok {
		return 0, errNotNumber
	}
	base := 10
	if hex {
		base = 16
	}
	v, err := strconv.ParseUint(d, base, bits)
	if err != nil {
		return 0, errRange
	}
	return v, nil
}

// ParseInt parses an integer literal for an iN constant: signed or
// unsigned, in -2^(N-1) .. 2^N-1, returned as its N-bit pattern.
func ParseInt(s string, bits int) (uint64, error) {
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		s, neg = s[1:], true
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	v, err := parseUnsigned(s, bits)
	if err != nil {
		return 0, err
	}
	mask := uint64(math.MaxUint64) >> (64 - bits)
	if neg {
		if v > 1<<(bits-1) {
			return 0, errRange
		}
		return -v & mask, nil
	}
	return v, nil
}

// ParseF32 parses a float literal as the bits of an f32.
func ParseF32(s string) (uint32, error) {
	v, err := parseFloat(s, 32)
	return uint32(v), err
}

// ParseF64 parses a float literal as the bits of an f64.
func ParseF64(s string) (uint64, error) { return parseFloat(s, 64) }

// parseFloat parses inf, nan, nan:0xPAYLOAD, decimal and hexadecimal
// floats, rounded to nearest even, into the bits of a float of bits bits.
func parseFloat(s string, bits int) (uint64, error) {
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		s, neg = s[1:], true
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	mantBits, expBits := 52, 11
	if bits == 32 {
		mantBits, expBits = 23, 8
	}
	sign := uint64(0)
	if neg {
		sign = 1 << (bits - 1)
	}
	expAll := (uint64(1)<<expBits - 1) << mantBits
	switch {
	case s == "inf":
		return sign | expAll, nil
	case s == "nan":
		return sign | expAll | 1<<(mantBits-1), nil
	case strings.HasPrefix(s, "nan:0x"):
		p, ok := parseHexDigits(s[len("nan:0x"):])
		if !ok {
			return 0, errNotNumber
		}
		if p == 0 || p >= 1<<mantBits {
			return 0, errRange
		}
		return sign | expAll | p, nil
	}
	var v float64
	var err error
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		v, err = hexFloat(h, bits)
	} else {
		v, err = decFloat(s, bits)
	}
	if err != nil {
		return 0, err
	}
	if neg {
		v = -v
	}
	if bits == 32 {
		return uint64(math.Float32bits(float32(v))), nil
	}
	return math.Float64bits(v), nil
}

// decFloat parses num ('.' num?)? ([eE] [+-]? num)?.
func decFloat(s string, bits int) (float64, error) {
	mant, exp, hasExp := s, "", false
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, exp, hasExp = s[:i], s[i+1:], true
	}
	intPart, frac, hasDot := strings.Cut(mant, ".")
	ip, ok := digits(intPart, false)
	if !ok {
		return 0, errNotNumber
	}
	clean := ip
	if hasDot {
		clean += "."
		if frac != "" {
			f, ok := digits(frac, false)
			if !ok {
				return 0, errNotNumber
			}
			clean += f
		}
	}
	if hasExp {
		sign := ""
		if exp != "" && (exp[0] == '+' || exp[0] == '-') {
			sign, exp = exp[:1], exp[1:]
		}
		e, ok := digits(exp, false)
		if !ok {
			return 0, errNotNumber
		}
		clean += "e" + sign + e
	}
	v, err := strconv.ParseFloat(clean, bits)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange && math.IsInf(v, 0) {
			return 0, errRange
		}
		if !(errors.As(err, &ne) && ne.Err == strconv.ErrRange) {
			return 0, errNotNumber
		}
	}
	return v, nil
}

// hexFloat parses hexnum ('.' hexnum?)? ([pP] [+-]? num)? after "0x",
// rounding exactly: the digits and exponent go through big.Float with
// enough precision, then to the target width with round-to-nearest-even.
func hexFloat(s string, bits int) (float64, error) {
	mant, exp, hasExp := s, "", false
	if i := strings.IndexAny(s, "pP"); i >= 0 {
		mant, exp, hasExp = s[:i], s[i+1:], true
	}
	intPart, frac, hasDot := strings.Cut(mant, ".")
	ip, ok := digits(intPart, true)
	if !ok {
		return 0, errNotNumber
	}
	fp := ""
	if hasDot && frac != "" {
		if fp, ok = digits(frac, true); !ok {
			return 0, errNotNumber
		}
	}
	e := int64(0)
	if hasExp {
		neg := false
		if exp != "" && (exp[0] == '+' || exp[0] == '-') {
			neg, exp = exp[0] == '-', exp[1:]
		}
		d, ok := digits(exp, false)
		if !ok {
			return 0, errNotNumber
		}
		n, err := strconv.ParseInt(d, 10, 32)
		if err != nil {
			n = 1 << 30 // far beyond any float's range either way
		}
		if neg {
			n = -n
		}
		e = n
	}
	// The value is 0x(ip fp) * 2^(e - 4*len(fp)). Leading zeros are
	// dropped and digits beyond what can matter are folded into a sticky
	// bit, so the integer stays small whatever the input.
	all := strings.TrimLeft(ip+fp, "0")
	e -= 4 * int64(len(fp))
	if all == "" {
		return 0, nil
	}
	const keep = 40 // hex digits: 160 bits, far more than 53 + guard bits
	sticky := false
	if len(all) > keep {
		sticky = strings.TrimRight(all[keep:], "0") != ""
		e += 4 * int64(len(all)-keep)
		all = all[:keep]
	}
	m, _ := new(big.Int).SetString(all, 16)
	if sticky {
		m.Lsh(m, 1)
		m.SetBit(m, 0, 1)
		e--
	}
	// Beyond these exponents the value is certainly infinite or zero; the
	// cut keeps big.Float's exponent in range.
	top := int64(m.BitLen()) + e
	if top > 2000 {
		return 0, errRange
	}
	if top < -2000 {
		return 0, nil
	}
	f := new(big.Float).SetPrec(uint(m.BitLen()) + 2).SetInt(m)
	f.SetMantExp(f, int(e))
	var v float64
	if bits == 32 {
		f32, _ := f.Float32()
		if math.IsInf(float64(f32), 0) {
			return 0, errRange
		}
		v = float64(f32)
	} else {
		v, _ = f.Float64()
		if math.IsInf(v, 0) {
			return 0, errRange
		}
	}
	return v, nil
}

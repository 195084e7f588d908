package snapshot

// CRC-32C combination, so that pieces of one checksummed payload can be
// checksummed apart (in parallel) and the results joined.
//
// Without its conditioning (initial value and final xor, both all ones), a
// CRC register is linear over GF(2): feeding it data maps state s to
// Z^len(data)·s ⊕ R(data), where Z is the 32×32 matrix of feeding one zero
// byte and R(data) the register after data from a zero state. Writing
// c(X) for the conditioned CRC that crc32.Checksum returns, with ones the
// all-ones vector:
//
//	c(A‖B) = Z^|B|·(c(A) ⊕ ones) ⊕ R(B) ⊕ ones
//	c(B)   = Z^|B|·ones           ⊕ R(B) ⊕ ones
//
// and adding the two lines (Z^|B| is linear) leaves
//
//	c(A‖B) = Z^|B|·c(A) ⊕ c(B).
//
// Z^n comes from Z, Z², Z⁴, ... by repeated squaring: O(log n) products of
// 32×32 bit matrices, whatever n.

// castagnoliReflected is the CRC-32C polynomial 0x1EDC6F41 bit-reversed, as
// the reflected (least significant bit first) register uses it.
const castagnoliReflected = 0x82F63B78

// gf2Matrix is a linear map on 32-bit vectors over GF(2): column j (the
// image of bit j) is m[j].
type gf2Matrix [32]uint32

// times returns m·v.
func (m *gf2Matrix) times(v uint32) uint32 {
	var out uint32
	for j := 0; v != 0; j, v = j+1, v>>1 {
		if v&1 != 0 {
			out ^= m[j]
		}
	}
	return out
}

// compose returns m·n (n applied first).
func (m *gf2Matrix) compose(n *gf2Matrix) gf2Matrix {
	var out gf2Matrix
	for j := range n {
		out[j] = m.times(n[j])
	}
	return out
}

// zeroByte is Z: eight zero bits through the reflected register, where one
// bit shifts the state right and adds the polynomial when the bit shifted
// out was set.
func zeroByte() gf2Matrix {
	var bit gf2Matrix
	bit[0] = castagnoliReflected
	for j := 1; j < 32; j++ {
		bit[j] = 1 << (j - 1)
	}
	two := bit.compose(&bit)
	four := two.compose(&two)
	return four.compose(&four)
}

// crcCombine returns the CRC-32C of A‖B given crcA of A, crcB of B and
// lenB = |B| in bytes.
func crcCombine(crcA, crcB uint32, lenB int64) uint32 {
	power := zeroByte() // Z^(2^k) for the k-th bit of lenB
	for n := lenB; n > 0; n >>= 1 {
		if n&1 != 0 {
			crcA = power.times(crcA)
		}
		if n > 1 {
			power = power.compose(&power)
		}
	}
	return crcA ^ crcB
}

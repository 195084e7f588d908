package wat

// buf is a binary-format writer.
type buf []byte

func (b *buf) byte(c byte)         { *b = append(*b, c) }
func (b *buf) bytes(p []byte)      { *b = append(*b, p...) }
func (b *buf) u32(v uint32)        { b.uleb(uint64(v)) }
func (b *buf) name(s string)       { b.u32(uint32(len(s))); *b = append(*b, s...) }
func (b *buf) vec(p []byte, n int) { b.u32(uint32(n)); b.bytes(p) }

func (b *buf) uleb(v uint64) {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		*b = append(*b, c)
		if v == 0 {
			return
		}
	}
}

func (b *buf) sleb(v int64) {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		done := (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0)
		if !done {
			c |= 0x80
		}
		*b = append(*b, c)
		if done {
			return
		}
	}
}

func (b *buf) fixed(v uint64, n int) {
	for i := 0; i < n; i++ {
		*b = append(*b, byte(v>>(8*i)))
	}
}

// section appends a section with its id and size.
func (b *buf) section(id byte, body []byte) {
	b.byte(id)
	b.u32(uint32(len(body)))
	b.bytes(body)
}

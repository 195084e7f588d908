package difftest

import (
	"errors"
	"fmt"
)

// exportOrder lists the names of a module's function exports in
// declaration order, the order binaryen's own fuzz-exec calls them in, so
// that binaryen's interpreter can arbitrate (see arbiter.go). It reads just
// enough of the binary format to find the export section.
func exportOrder(wasm []byte) ([]string, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return nil, errors.New("not a wasm module")
	}
	p := 8
	for p < len(wasm) {
		id := wasm[p]
		p++
		size, n := uleb(wasm[p:])
		if n == 0 || p+n+int(size) > len(wasm) {
			return nil, fmt.Errorf("bad section size at %d", p)
		}
		p += n
		body := wasm[p : p+int(size)]
		p += int(size)
		if id != 7 {
			continue
		}
		count, q := uleb(body)
		var names []string
		for i := uint64(0); i < count; i++ {
			l, n := uleb(body[q:])
			q += n
			if n == 0 || q+int(l)+1 > len(body) {
				return nil, errors.New("bad export entry")
			}
			name := string(body[q : q+int(l)])
			q += int(l)
			kind := body[q]
			q++
			_, n = uleb(body[q:])
			if n == 0 {
				return nil, errors.New("bad export index")
			}
			q += n
			if kind == 0 {
				names = append(names, name)
			}
		}
		return names, nil
	}
	return nil, nil
}

// uleb decodes an unsigned LEB128; n is 0 if b does not hold one.
func uleb(b []byte) (v uint64, n int) {
	for shift := 0; n < len(b) && shift < 64; shift += 7 {
		c := b[n]
		n++
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, n
		}
	}
	return 0, 0
}

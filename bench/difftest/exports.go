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

// section returns the body of the first section with the given id.
func section(wasm []byte, want byte) ([]byte, bool) {
	if len(wasm) < 8 {
		return nil, false
	}
	for p := 8; p < len(wasm); {
		id := wasm[p]
		p++
		size, n := uleb(wasm[p:])
		if n == 0 || p+n+int(size) > len(wasm) {
			return nil, false
		}
		p += n
		if id == want {
			return wasm[p : p+int(size)], true
		}
		p += int(size)
	}
	return nil, false
}

// activeDataSegments reports, per data segment, whether it is active.
func activeDataSegments(wasm []byte) ([]bool, bool) {
	body, ok := section(wasm, 11)
	if !ok {
		return nil, false
	}
	count, q := uleb(body)
	out := make([]bool, 0, count)
	for i := uint64(0); i < count; i++ {
		flags, n := uleb(body[q:])
		if n == 0 {
			return nil, false
		}
		q += n
		if flags == 2 {
			_, n = uleb(body[q:]) // memory index
			q += n
		}
		if flags != 1 {
			// The offset: one constant instruction, then end (0x0b). With
			// extended-const disabled that is i32.const or global.get.
			if q >= len(body) || (body[q] != 0x41 && body[q] != 0x23) {
				return nil, false
			}
			_, n = uleb(body[q+1:]) // sleb and uleb have the same length
			q += 1 + n
			if q >= len(body) || body[q] != 0x0b {
				return nil, false
			}
			q++
		}
		size, n := uleb(body[q:])
		if n == 0 || q+n+int(size) > len(body) {
			return nil, false
		}
		q += n + int(size)
		out = append(out, flags != 1)
	}
	return out, true
}

// isActiveMemoryInit reports whether the instruction at fileOffset is a
// memory.init (0xfc 0x08) of an active data segment.
func isActiveMemoryInit(wasm []byte, fileOffset uint32) bool {
	p := int(fileOffset)
	if p+2 >= len(wasm) || wasm[p] != 0xfc || wasm[p+1] != 0x08 {
		return false
	}
	seg, n := uleb(wasm[p+2:])
	if n == 0 {
		return false
	}
	active, ok := activeDataSegments(wasm)
	return ok && seg < uint64(len(active)) && active[seg]
}

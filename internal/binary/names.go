package binary

import (
	"errors"

	"github.com/ferryvm/ferry/internal/wasm"
)

// Subsection ids of the name section (spec appendix 7.4).
const (
	nameModule   = 0
	nameFunction = 1
	nameLocal    = 2
)

// decodeNames parses the content of a "name" custom section. It returns nil
// when the content is malformed: names are debugging aid, and the spec asks
// engines to ignore a bad name section rather than reject the module.
// Subsections other than module, function and local names (the extended-name
// proposal's labels, types, ...) are skipped.
func decodeNames(data []byte) *wasm.Names {
	r := &reader{b: data, end: len(data), section: "name"}
	names := &wasm.Names{}
	last := -1
	for r.pos < len(data) {
		r.end = len(data)
		id, err := r.byte()
		if err != nil {
			return nil
		}
		size, err := r.length()
		if err != nil {
			return nil
		}
		if int(id) <= last {
			return nil // out of order or duplicated
		}
		last = int(id)
		r.end = r.pos + size
		switch id {
		case nameModule:
			if names.Module, err = r.name(); err != nil {
				return nil
			}
		case nameFunction:
			if names.Funcs, err = nameMap(r); err != nil {
				return nil
			}
		case nameLocal:
			n, err := r.count(2)
			if err != nil {
				return nil
			}
			names.Locals = make(map[uint32]map[uint32]string, n)
			prev := int64(-1)
			for i := uint32(0); i < n; i++ {
				fn, err := r.u32()
				if err != nil || int64(fn) <= prev {
					return nil
				}
				prev = int64(fn)
				if names.Locals[fn], err = nameMap(r); err != nil {
					return nil
				}
			}
		default:
			r.pos = r.end
		}
		if r.pos != r.end {
			return nil
		}
	}
	return names
}

// nameMap reads a name map: index-name pairs in strictly increasing index
// order.
func nameMap(r *reader) (map[uint32]string, error) {
	n, err := r.count(2)
	if err != nil {
		return nil, err
	}
	m := make(map[uint32]string, n)
	prev := int64(-1)
	for i := uint32(0); i < n; i++ {
		idx, err := r.u32()
		if err != nil {
			return nil, err
		}
		if int64(idx) <= prev {
			return nil, r.fail(r.pos, errNameOrder)
		}
		prev = int64(idx)
		if m[idx], err = r.name(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

var errNameOrder = errors.New("name map indices not in increasing order")

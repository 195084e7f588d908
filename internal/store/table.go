package store

import (
	"errors"
	"fmt"

	"github.com/ferryvm/ferry/internal/wasm"
)

// MaxTableElems caps every table, whatever its declared maximum, so a guest
// cannot make the host allocate without bound (8 bytes per element: 80 MB).
const MaxTableElems = 10_000_000

// ErrTableLimit is returned when a table's declared minimum exceeds
// MaxTableElems.
var ErrTableLimit = errors.New("table size exceeds limit")

// NewTable creates a table of type t with its minimum number of null
// elements.
func NewTable(t wasm.TableType) (*Table, error) {
	max := uint64(MaxTableElems)
	if t.Limits.HasMax && t.Limits.Max < max {
		max = t.Limits.Max
	}
	if t.Limits.Min > max {
		return nil, fmt.Errorf("%w: minimum %d elements, limit %d", ErrTableLimit, t.Limits.Min, max)
	}
	return &Table{Type: t, Elems: make([]uint64, t.Limits.Min), Max: max}, nil
}

// Grow adds delta elements set to init and returns the previous size; ok is
// false (and nothing changes) if the result would exceed the maximum.
func (t *Table) Grow(delta uint64, init uint64) (old uint64, ok bool) {
	old = uint64(len(t.Elems))
	if delta > t.Max-old {
		return old, false
	}
	n := int(old + delta)
	if n > cap(t.Elems) {
		elems := make([]uint64, n, n+n/4)
		copy(elems, t.Elems)
		t.Elems = elems
	} else {
		t.Elems = t.Elems[:n]
	}
	for i := old; i < uint64(n); i++ {
		t.Elems[i] = init
	}
	return old, true
}

// Fill sets n elements from offset to v; it returns false (changing
// nothing) if the range is out of bounds.
func (t *Table) Fill(offset, n, v uint64) bool {
	size := uint64(len(t.Elems))
	if offset > size || n > size-offset {
		return false
	}
	for i := range t.Elems[offset : offset+n] {
		t.Elems[offset+uint64(i)] = v
	}
	return true
}

// Init copies n elements of src starting at srcOff into the table at dstOff
// (table.init); it returns false, copying nothing, if either range is out of
// bounds.
func (t *Table) Init(dstOff uint64, src []uint64, srcOff, n uint64) bool {
	size, slen := uint64(len(t.Elems)), uint64(len(src))
	if dstOff > size || n > size-dstOff || srcOff > slen || n > slen-srcOff {
		return false
	}
	copy(t.Elems[dstOff:dstOff+n], src[srcOff:srcOff+n])
	return true
}

// CopyTable copies n elements from src at srcOff to dst at dstOff
// (table.copy; the ranges may overlap, even within one table). It returns
// false, copying nothing, if either range is out of bounds.
func CopyTable(dst *Table, dstOff uint64, src *Table, srcOff, n uint64) bool {
	dsize, ssize := uint64(len(dst.Elems)), uint64(len(src.Elems))
	if dstOff > dsize || n > dsize-dstOff || srcOff > ssize || n > ssize-srcOff {
		return false
	}
	copy(dst.Elems[dstOff:dstOff+n], src.Elems[srcOff:srcOff+n])
	return true
}

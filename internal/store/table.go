package store

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/ferryvm/ferry/internal/wasm"
)

// MaxTableElems caps every table, whatever its declared maximum, so a guest
// cannot make the host allocate without bound (8 bytes per element: 80 MB).
const MaxTableElems = 10_000_000

// DefaultTableElemLimit is a store's default TableElemLimit: as many
// elements as one table may have, 80 MB of them.
const DefaultTableElemLimit = MaxTableElems

// ErrTableLimit is returned when a table's declared minimum exceeds
// MaxTableElems, or when the elements of a store's tables together would
// exceed its TableElemLimit.
var ErrTableLimit = errors.New("table size exceeds limit")

// tableBudget counts the elements of a store's tables against its limit.
// The per-table cap alone let 100 tables of 10 million elements take
// 7.65 GB: the host's memory for tables is bounded only by a total.
type tableBudget struct {
	limit atomic.Uint64
	used  atomic.Uint64
}

// take charges n elements; false (charging nothing) when they do not fit.
// A nil budget (a table made by NewTable alone) charges nothing.
func (b *tableBudget) take(n uint64) bool {
	if b == nil || n == 0 {
		return true
	}
	for {
		used := b.used.Load()
		if n > b.limit.Load()-min(used, b.limit.Load()) {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

func (b *tableBudget) give(n uint64) {
	if b != nil && n > 0 {
		b.used.Add(-n)
	}
}

// SetTableElemLimit caps the elements of all the store's tables together
// (each table is also capped at MaxTableElems). Set it before the first
// instantiation; NewStore sets DefaultTableElemLimit.
func (s *Store) SetTableElemLimit(n uint64) { s.tables.limit.Store(n) }

// TableElemsInUse is how many elements the store's live tables hold.
func (s *Store) TableElemsInUse() uint64 { return s.tables.used.Load() }

// NewTable creates a table of type t with its minimum number of null
// elements, counted against no store's limit.
func NewTable(t wasm.TableType) (*Table, error) {
	return newTable(t, nil)
}

// newTable is NewTable charging the elements to the store's budget.
func (s *Store) newTable(t wasm.TableType) (*Table, error) {
	return newTable(t, &s.tables)
}

func newTable(t wasm.TableType, b *tableBudget) (*Table, error) {
	max := uint64(MaxTableElems)
	if t.Limits.HasMax && t.Limits.Max < max {
		max = t.Limits.Max
	}
	if t.Limits.Min > max {
		return nil, fmt.Errorf("%w: minimum %d elements, limit %d", ErrTableLimit, t.Limits.Min, max)
	}
	if !b.take(t.Limits.Min) {
		return nil, fmt.Errorf("%w: minimum %d elements, the runtime's tables already hold %d of at most %d",
			ErrTableLimit, t.Limits.Min, b.used.Load(), b.limit.Load())
	}
	return &Table{Type: t, Elems: make([]uint64, t.Limits.Min), Max: max, budget: b}, nil
}

// Resize sets the table to n null elements, for a restore that fills them:
// the change in size is charged to (or given back to) the store's budget
// before anything is allocated.
func (t *Table) Resize(n uint64) error {
	old := uint64(len(t.Elems))
	if n > t.Max {
		return fmt.Errorf("%w: %d elements, maximum %d", ErrTableLimit, n, t.Max)
	}
	if n > old && !t.budget.take(n-old) {
		return fmt.Errorf("%w: %d elements, the runtime's tables already hold %d of at most %d",
			ErrTableLimit, n, t.budget.used.Load(), t.budget.limit.Load())
	}
	t.budget.give(old - min(old, n))
	t.Elems = make([]uint64, n)
	return nil
}

// release gives the table's elements back to the store's budget, once:
// when the instance that created it closes.
func (t *Table) release() {
	if b := t.budget; b != nil {
		t.budget = nil
		b.give(uint64(len(t.Elems)))
	}
}

// releaseTables gives back the elements of the tables the instance
// created, for an instantiation that fails or an instance that closes.
func (i *Instance) releaseTables() {
	for _, t := range i.Tables {
		if t != nil && t.owner == i {
			t.release()
		}
	}
}

// Grow adds delta elements set to init and returns the previous size; ok is
// false (and nothing changes) if the result would exceed the maximum or the
// store's limit on all its tables' elements.
func (t *Table) Grow(delta uint64, init uint64) (old uint64, ok bool) {
	old = uint64(len(t.Elems))
	if delta > t.Max-old || !t.budget.take(delta) {
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

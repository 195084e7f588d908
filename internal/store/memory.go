package store

import (
	"errors"
	"fmt"

	"github.com/ferryvm/ferry/internal/wasm"
)

// ErrMemoryLimit is returned when a memory's declared minimum exceeds the
// configured limit.
var ErrMemoryLimit = errors.New("memory size exceeds limit")

// NewMemory creates a memory of type t whose size may never exceed
// limitPages. The maximum size (declared maximum, else the limit, at most
// 4 GiB) is reserved up front but not committed: pages cost resident memory
// only once touched, and growing never moves Buf.
func NewMemory(t wasm.MemType, limitPages uint64) (*Memory, error) {
	max := uint64(wasm.MaxPages)
	if limitPages < max {
		max = limitPages
	}
	if t.Limits.HasMax && t.Limits.Max < max {
		max = t.Limits.Max
	}
	if t.Limits.Min > max {
		return nil, fmt.Errorf("%w: minimum %d pages, limit %d pages", ErrMemoryLimit, t.Limits.Min, max)
	}
	m := &Memory{Type: t, Max: max}
	if max > 0 {
		res, mmapped, err := reserve(max * wasm.PageSize)
		if err != nil {
			return nil, fmt.Errorf("reserving %d pages of memory: %w", max, err)
		}
		m.reservation, m.mmapped = res, mmapped
	}
	m.Buf = m.reservation[: t.Limits.Min*wasm.PageSize : t.Limits.Min*wasm.PageSize]
	m.users.Store(1)
	return m, nil
}

// Pages is the current size in pages.
func (m *Memory) Pages() uint64 { return uint64(len(m.Buf)) / wasm.PageSize }

// Grow adds delta pages and returns the previous size in pages; ok is false
// (and nothing changes) if the result would exceed the maximum. The new
// pages are zero: they were never touched in the reservation.
func (m *Memory) Grow(delta uint64) (old uint64, ok bool) {
	old = m.Pages()
	if m.closed.Load() || delta > m.Max-old {
		return old, false
	}
	n := (old + delta) * wasm.PageSize
	// A capacity equal to the length keeps host code from appending into
	// pages the guest cannot see yet.
	m.Buf = m.reservation[:n:n]
	return old, true
}

// Size is the current size in bytes (api.Memory).
func (m *Memory) Size() uint64 { return uint64(len(m.Buf)) }

// Bytes returns the accessible memory (api.Memory).
func (m *Memory) Bytes() []byte { return m.Buf }

// Read returns n bytes at offset, aliasing the memory (api.Memory).
func (m *Memory) Read(offset, n uint64) ([]byte, bool) {
	size := uint64(len(m.Buf))
	if offset > size || n > size-offset {
		return nil, false
	}
	return m.Buf[offset : offset+n : offset+n], true
}

// Write copies b to offset, or writes nothing and returns false if the range
// is out of bounds (api.Memory).
func (m *Memory) Write(offset uint64, b []byte) bool {
	size := uint64(len(m.Buf))
	if offset > size || uint64(len(b)) > size-offset {
		return false
	}
	copy(m.Buf[offset:], b)
	return true
}

// Close releases the reservation. It is idempotent; afterwards Buf is nil
// and every access is out of bounds.
func (m *Memory) Close() {
	if !m.closed.CompareAndSwap(false, true) {
		return
	}
	res := m.reservation
	m.Buf, m.reservation = nil, nil
	if m.mmapped {
		release(res)
	}
}

func (m *Memory) acquire() { m.users.Add(1) }

// release drops one holder and closes the memory when none is left.
func (m *Memory) release() {
	if m.users.Add(-1) <= 0 {
		m.Close()
	}
}

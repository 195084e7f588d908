//go:build !unix

package store

func (m *Memory) zero(n uint64) error {
	clear(m.reservation[:n])
	return nil
}

func mapFile([]byte, int, int64, uint64, uint64) error { return ErrNotMappable }

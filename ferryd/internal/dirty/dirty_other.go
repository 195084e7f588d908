//go:build !linux

package dirty

import "fmt"

// Tracker is unavailable off Linux.
type Tracker struct{}

// Available reports ErrUnavailable off Linux.
func Available() error { return fmt.Errorf("%w: not Linux", ErrUnavailable) }

// New fails off Linux.
func New(mem []byte) (*Tracker, error) { return nil, Available() }

// Grow, Size, Collect and Close exist for the build only.
func (t *Tracker) Grow(n int) error            { return Available() }
func (t *Tracker) Size() int                   { return 0 }
func (t *Tracker) Collect(f func(Range)) error { return Available() }
func (t *Tracker) Close() error                { return nil }

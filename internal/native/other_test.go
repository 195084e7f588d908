//go:build !(amd64 && (linux || darwin || freebsd || netbsd || openbsd || dragonfly))

package native

import (
	"errors"
	"testing"
)

func TestMapReportsNotSupported(t *testing.T) {
	a := NewAllocator(1 << 20)
	if _, err := a.Map([]byte{0xC3}); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("Map: %v, want ErrNotSupported", err)
	}
	if a.Used() != 0 {
		t.Fatalf("used %d after a refused map", a.Used())
	}
}

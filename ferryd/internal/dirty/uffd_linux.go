//go:build linux

package dirty

import (
	"fmt"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Kernel interface (include/uapi/linux/userfaultfd.h and fs.h, Linux 6.7
// or later), spelled out because the C headers of older distributions
// lack the asynchronous mode and PAGEMAP_SCAN.
const (
	uffdAPI            = 0xAA
	uffdUserModeOnly   = 1
	uffdFeatureWPUnpop = 1 << 13 // UFFD_FEATURE_WP_UNPOPULATED: protect pages never touched too
	uffdFeatureWPAsync = 1 << 15 // UFFD_FEATURE_WP_ASYNC: the kernel resolves write faults itself

	uffdioAPI          = 0xC018AA3F // _IOWR(0xAA, 0x3F, struct uffdio_api)
	uffdioRegister     = 0xC020AA00 // _IOWR(0xAA, 0x00, struct uffdio_register)
	uffdioUnregister   = 0x8010AA01 // _IOR(0xAA, 0x01, struct uffdio_range)
	uffdioWriteProtect = 0xC018AA06 // _IOWR(0xAA, 0x06, struct uffdio_writeprotect)
	registerModeWP     = 1 << 1
	writeProtectModeWP = 1 << 0

	pagemapScan      = 0xC0606610 // _IOWR('f', 16, struct pm_scan_arg)
	pmScanWPMatching = 1 << 0     // re-protect the pages reported
	pmScanCheckAsync = 1 << 1     // fail unless the range is under asynchronous write-protection
	pageIsWritten    = 1 << 1
)

type uffdioAPIArg struct{ api, features, ioctls uint64 }

type uffdioRange struct{ start, len uint64 }

type uffdioRegisterArg struct {
	rng          uffdioRange
	mode, ioctls uint64
}

type uffdioWriteProtectArg struct {
	rng  uffdioRange
	mode uint64
}

type pmScanArg struct {
	size, flags, start, end, walkEnd, vec, vecLen, maxPages uint64
	categoryInverted, categoryMask, categoryAnyofMask       uint64
	returnMask                                              uint64
}

type pageRegion struct{ start, end, categories uint64 }

func ioctl(fd int, req uintptr, arg unsafe.Pointer) (uintptr, error) {
	r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
	if e != 0 {
		return r, e
	}
	return r, nil
}

// Tracker tracks the writes to one memory. It is not safe for
// concurrent use; the memory may be written concurrently with any call.
type Tracker struct {
	uffd, pagemap int
	base          uintptr // the memory's first byte
	tracked       int     // bytes registered from base
	regions       []pageRegion
	// grown are the pages Grow added since the last Collect: written
	// between the memory's growth and Grow, they were not tracked.
	grown []Range
}

var probe struct {
	once sync.Once
	err  error
}

// Available reports whether this kernel tracks writes this way, probed
// once per process.
func Available() error {
	probe.once.Do(func() {
		fd, err := openUffd()
		if err != nil {
			probe.err = err
			return
		}
		unix.Close(fd)
	})
	return probe.err
}

func openUffd() (int, error) {
	r, _, e := unix.Syscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC|unix.O_NONBLOCK|uffdUserModeOnly, 0, 0)
	if e != 0 {
		return -1, fmt.Errorf("%w: userfaultfd: %v", ErrUnavailable, e)
	}
	fd := int(r)
	api := uffdioAPIArg{api: uffdAPI, features: uffdFeatureWPAsync | uffdFeatureWPUnpop}
	if _, err := ioctl(fd, uffdioAPI, unsafe.Pointer(&api)); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("%w: this kernel lacks asynchronous write-protection (Linux 6.7 or later): %v", ErrUnavailable, err)
	}
	return fd, nil
}

// New starts tracking mem, a page-aligned anonymous mapping (a Ferry
// linear memory): from its return, every page written is reported by the
// next Collect. The memory must stay mapped until Close.
func New(mem []byte) (*Tracker, error) {
	if len(mem) == 0 || uintptr(unsafe.Pointer(&mem[0]))%PageSize != 0 || len(mem)%PageSize != 0 {
		return nil, fmt.Errorf("%w: the memory is not a page-aligned mapping", ErrUnavailable)
	}
	fd, err := openUffd()
	if err != nil {
		return nil, err
	}
	pm, err := unix.Open("/proc/self/pagemap", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	t := &Tracker{uffd: fd, pagemap: pm, base: uintptr(unsafe.Pointer(&mem[0])), regions: make([]pageRegion, 256)}
	if err := t.extend(len(mem)); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// extend registers and protects the memory from t.tracked to n bytes.
func (t *Tracker) extend(n int) error {
	if n <= t.tracked {
		return nil
	}
	rng := uffdioRange{start: uint64(t.base) + uint64(t.tracked), len: uint64(n - t.tracked)}
	reg := uffdioRegisterArg{rng: rng, mode: registerModeWP}
	if _, err := ioctl(t.uffd, uffdioRegister, unsafe.Pointer(&reg)); err != nil {
		return fmt.Errorf("%w: register the memory: %v", ErrUnavailable, err)
	}
	wp := uffdioWriteProtectArg{rng: rng, mode: writeProtectModeWP}
	if _, err := ioctl(t.uffd, uffdioWriteProtect, unsafe.Pointer(&wp)); err != nil {
		return fmt.Errorf("write-protect the memory: %w", err)
	}
	t.tracked = n
	return nil
}

// Grow extends tracking to a memory grown to n bytes (memory.grow
// never moves a Ferry memory). The pages added are reported as written
// by the next Collect, since writes made between the growth and Grow
// went untracked, and tracked from there on.
func (t *Tracker) Grow(n int) error {
	if n%PageSize != 0 {
		return fmt.Errorf("grow to %d bytes: not a whole number of pages", n)
	}
	old := t.tracked
	if err := t.extend(n); err != nil {
		return err
	}
	if n > old {
		t.grown = append(t.grown, Range{First: old / PageSize, Count: (n - old) / PageSize})
	}
	return nil
}

// Size is the number of bytes tracked.
func (t *Tracker) Size() int { return t.tracked }

// Collect reports the pages written since New or the previous Collect,
// in address order, and protects them again in the same pass: a write
// racing with it is reported now or by the next Collect, never lost.
// Pages added by Grow since the previous Collect are reported first
// (a page may then be reported twice).
func (t *Tracker) Collect(f func(Range)) error {
	for _, r := range t.grown {
		f(r)
	}
	t.grown = t.grown[:0]
	end := uint64(t.base) + uint64(t.tracked)
	start := uint64(t.base)
	for start < end {
		arg := pmScanArg{
			size: uint64(unsafe.Sizeof(pmScanArg{})), flags: pmScanWPMatching | pmScanCheckAsync,
			start: start, end: end,
			vec: uint64(uintptr(unsafe.Pointer(&t.regions[0]))), vecLen: uint64(len(t.regions)),
			categoryMask: pageIsWritten, returnMask: pageIsWritten,
		}
		n, err := ioctl(t.pagemap, pagemapScan, unsafe.Pointer(&arg))
		if err != nil {
			return fmt.Errorf("PAGEMAP_SCAN: %w", err)
		}
		for _, r := range t.regions[:n] {
			first := int((r.start - uint64(t.base)) / PageSize)
			f(Range{First: first, Count: int((r.end - r.start) / PageSize)})
		}
		if arg.walkEnd <= start {
			return fmt.Errorf("PAGEMAP_SCAN made no progress at %#x", start)
		}
		start = arg.walkEnd
	}
	return nil
}

// Close stops tracking: the memory is unregistered (writes no longer
// fault) and the descriptors closed.
func (t *Tracker) Close() error {
	if t.tracked > 0 {
		rng := uffdioRange{start: uint64(t.base), len: uint64(t.tracked)}
		ioctl(t.uffd, uffdioUnregister, unsafe.Pointer(&rng))
		t.tracked = 0
	}
	if t.pagemap >= 0 {
		unix.Close(t.pagemap)
		t.pagemap = -1
	}
	if t.uffd >= 0 {
		unix.Close(t.uffd)
		t.uffd = -1
	}
	return nil
}

package store

import (
	"runtime"
	"unsafe"
)

// MapsFile reports whether file pages are mapped into the memory.
func (m *Memory) MapsFile() bool { return m.mapsFile.Load() }

// MappedFileFault reports whether r, a value recovered from a panic, is a
// memory fault (turned into a panic by debug.SetPanicOnFault) at an
// address inside a memory of one of insts that maps a file: the file
// shrank under the mapping. Any other fault is a bug, not the guest's
// doing, and is not reported.
func MappedFileFault(r any, insts ...*Instance) bool {
	err, ok := r.(runtime.Error)
	if !ok {
		return false
	}
	fault, ok := err.(interface{ Addr() uintptr })
	if !ok {
		return false
	}
	addr := fault.Addr()
	for _, inst := range insts {
		if inst == nil {
			continue
		}
		for _, m := range inst.Memories {
			if m.mapsFile.Load() && m.contains(addr) {
				return true
			}
		}
	}
	return false
}

// AnyMapsFile reports whether a memory of one of insts maps a file.
func AnyMapsFile(insts ...*Instance) bool {
	for _, inst := range insts {
		if inst == nil {
			continue
		}
		for _, m := range inst.Memories {
			if m.mapsFile.Load() {
				return true
			}
		}
	}
	return false
}

func (m *Memory) contains(addr uintptr) bool {
	res := m.reservation
	if len(res) == 0 {
		return false
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(res)))
	return addr >= start && addr-start < uintptr(len(res))
}

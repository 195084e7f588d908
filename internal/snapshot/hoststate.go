package snapshot

import (
	"bytes"
	"fmt"
	"sort"
)

// The host-state section (type 14): the state of an embedder's host-state
// plug-ins, each a named, versioned opaque payload (docs/snapshot-format.md,
// "Host state"). The payloads are the plug-ins' own encodings; the format
// only bounds and frames them. WASI keeps its own section (type 9), whose
// contents a reader checks field by field.

// SectionHostState holds the host-state entries. Types 11 (profile), 12
// (idle) and 13 (memory chunk sums, another branch) are taken.
const SectionHostState SectionType = 14

// Caps of the host-state section.
const (
	MaxHostStates    = 64       // entries
	MaxHostStateName = 128      // bytes of one name
	MaxHostStateData = 64 << 20 // bytes of all payloads together
	// maxHostStatePayload bounds the section: the payloads plus the
	// largest encoding of the entries' names, versions and lengths.
	maxHostStatePayload = MaxHostStateData + 1<<16
)

// WASIName is the name of the WASI plug-in, whose state is the WASI
// section: no host-state entry may take it.
const WASIName = "wasi_snapshot_preview1"

// HostState is one plug-in's state: its name, the version of its
// encoding, and the payload the plug-in wrote.
type HostState struct {
	Name    string
	Version uint32
	Data    []byte
}

// CheckHostStateName refuses a name a host-state entry cannot have: empty,
// longer than MaxHostStateName, reserved for WASI, or with a byte outside
// [A-Za-z0-9._/-] (names are printed by inspect and in errors, so they
// hold nothing a terminal would interpret).
func CheckHostStateName(name string) error {
	if name == "" || len(name) > MaxHostStateName {
		return fmt.Errorf("host state name of %d bytes (1 to %d allowed)", len(name), MaxHostStateName)
	}
	if name == WASIName {
		return fmt.Errorf("host state name %q is reserved for WASI", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '/' || c == '-') {
			return fmt.Errorf("host state name %q: byte %#x is not in [A-Za-z0-9._/-]", name, c)
		}
	}
	return nil
}

// SortHostStates checks the entries as a reader would (names valid and
// distinct, payloads within the caps) and sorts them by name, the order
// the section requires: one set of entries has one encoding.
func SortHostStates(h []HostState) error {
	if len(h) > MaxHostStates {
		return fmt.Errorf("%d host states (at most %d)", len(h), MaxHostStates)
	}
	total := 0
	for _, x := range h {
		if err := CheckHostStateName(x.Name); err != nil {
			return err
		}
		total += len(x.Data)
	}
	if total > MaxHostStateData {
		return fmt.Errorf("host states of %d bytes (at most %d)", total, MaxHostStateData)
	}
	sort.Slice(h, func(i, j int) bool { return h[i].Name < h[j].Name })
	for i := 1; i < len(h); i++ {
		if h[i].Name == h[i-1].Name {
			return fmt.Errorf("two host states named %q", h[i].Name)
		}
	}
	return nil
}

func encodeHostStates(h []HostState) []byte {
	var e encoder
	e.uv(uint64(len(h)))
	for _, x := range h {
		e.str(x.Name)
		e.uv(uint64(x.Version))
		e.uv(uint64(len(x.Data)))
		e.fixed(x.Data)
	}
	return e.b
}

// DecodeHostStates decodes and checks a host-state section's payload:
// caps, valid names in strictly increasing order (so each at most once).
func DecodeHostStates(b []byte) ([]HostState, error) {
	if len(b) > maxHostStatePayload {
		return nil, fmt.Errorf("%w: host state: %d bytes exceed the limit %d", ErrCorrupt, len(b), maxHostStatePayload)
	}
	d := &decoder{b: b, what: "host state"}
	// An entry takes at least 4 bytes: a name's length and first byte, a
	// version and a payload length.
	n := d.count("host state", MaxHostStates, 4)
	if d.err != nil {
		return nil, d.err
	}
	h := make([]HostState, n)
	total := 0
	for i := range h {
		x := &h[i]
		name := d.bytes("host state name", MaxHostStateName)
		if d.err != nil {
			break
		}
		x.Name = string(name)
		if err := CheckHostStateName(x.Name); err != nil {
			d.fail("entry %d: %v", i, err)
			break
		}
		if i > 0 && x.Name <= h[i-1].Name {
			d.fail("entry %q: names not strictly increasing", x.Name)
			break
		}
		x.Version = d.u32v("host state version")
		x.Data = d.bytes("host state "+x.Name, MaxHostStateData)
		total += len(x.Data)
		if d.err == nil && total > MaxHostStateData {
			d.fail("payloads of more than %d bytes", MaxHostStateData)
		}
		if d.err != nil {
			break
		}
		if x.Data == nil {
			x.Data = []byte{}
		}
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return h, nil
}

// equalHostStates is for tests.
func equalHostStates(a, b []HostState) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Version != b[i].Version || !bytes.Equal(a[i].Data, b[i].Data) {
			return false
		}
	}
	return true
}

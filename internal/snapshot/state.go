package snapshot

// The portable state a checkpoint holds (ARCHITECTURE.md §2), in
// WebAssembly terms only. These structs are a convenience for Go code: the
// compatibility contract is the byte encoding in docs/snapshot-format.md,
// never these names.

import "github.com/ferryvm/ferry/api"

// Value types and pause kinds are api's constants (api.ValueType,
// api.PauseKind): one set of numbers, so that the engine, the facade and
// the file cannot disagree. The file format stores these very numbers
// (docs/snapshot-format.md), which TestFormatNumbers pins: a change to
// api's numbering must not silently change the format.

// Snapshot is the whole portable state of a paused instance.
type Snapshot struct {
	Meta Meta
	// Module is the module's bytes, or nil when the checkpoint leaves them
	// out (the restorer supplies them and Meta.ModuleHash is checked).
	Module []byte
	// Frames are the paused call's frames, which a writer fills. A reader
	// leaves them nil and keeps their headers and encoded values (see
	// File.FrameHeaders, File.Frames): a few kilobytes of zstd decode to
	// hundreds of MiB of values, which only a check against the module
	// can tell apart from a real stack.
	Frames []Frame
	// Idle says the checkpoint is of an instance between calls: no call
	// to continue, no frames (an idle section in place of frames).
	Idle     bool
	Globals  []Global
	Tables   []Table
	Memories []Memory
	Segments Segments
	// WASI is the WASI host state, nil when the instance uses no WASI.
	WASI *WASI
	// Host is the state of the embedder's host-state plug-ins, sorted by
	// name (the host-state section, hoststate.go); nil when there is none.
	Host []HostState
	// Callsites are the builtin decisions of the run (format 1.1); nil in
	// a file without the section (format 1.0).
	Callsites []Decision
	// Profile is the run's hot set (format 1.2), nil when the run was not
	// profiled (the interpreter tier alone) or the file is older.
	Profile *Profile
}

// Meta identifies the checkpoint's origin and its module.
type Meta struct {
	// RuntimeVersion is the writing Ferry's version (informational).
	RuntimeVersion string
	// Arch is the writer's GOARCH and Features its effective CPU features
	// (detected, then masked by --cpu-features: what the run's builtins
	// were chosen for), internal/cpu names (as golang.org/x/sys/cpu spells
	// them, lower case, without "Has").
	Arch     string
	Features []string
	// ModuleHash is the SHA-256 of the module bytes, ModuleSize their length.
	ModuleHash [32]byte
	ModuleSize uint64
	// PauseCount is the number of pause points polled since the start of
	// the run, the one stopped at included; valid when PauseCountKnown.
	PauseCount      uint64
	PauseCountKnown bool
	// Created is the wall-clock time of the checkpoint in Unix nanoseconds
	// (informational).
	Created int64
}

// Value is a typed value as api.Value defines it. In a checkpoint a funcref
// holds a function index plus one (0 is null) and an externref must be
// null (host values cannot be carried).
type Value = api.Value

// Frame is one paused frame, as api.Frame describes it; frames are stored
// outermost first.
type Frame = api.Frame

// FrameHeader is a frame without its values: what a reader keeps of each
// frame until they are asked for.
type FrameHeader struct {
	Func   uint32
	Kind   api.PauseKind
	Offset uint32
	Locals int // number of locals (parameters included)
	Stack  int // number of operands
}

// Global is one global of the instance's global index space.
type Global struct {
	Mutable bool
	Value   Value
}

// Table is one table: its element type and, per element, a function index
// plus one (0 is null). Externref tables may only hold nulls.
type Table struct {
	ElemType uint8
	Elems    []uint32
}

// Segments records which passive data and element segments were dropped
// (data.drop, elem.drop; active and declarative segments count as
// dropped once instantiation applied them).
type Segments struct {
	DataDropped []bool
	ElemDropped []bool
}

// PageRun is a run of Count present (non-zero) file pages starting at
// memory page First; pages are PageSize (4 KiB) bytes.
type PageRun struct {
	First, Count uint64
}

// Memory is one linear memory. Size is in bytes (a multiple of 64 KiB).
// A writer fills Data (the live memory, Size bytes); a reader gets Runs,
// the present pages, and reads the bytes through File.
type Memory struct {
	Size uint64
	Runs []PageRun
	Data []byte
	// Packed says Data holds only the pages of Runs, back to back (see
	// Pack), rather than the whole memory, which Write then scans for
	// all-zero pages.
	Packed bool
}

// Pack replaces the whole-memory Data by a copy of its present pages, so
// that the snapshot no longer refers to memory that keeps changing (a
// guest that goes on running while the checkpoint is written). The copy
// goes into buf when it is large enough: reusing the buffer of an earlier
// capture saves allocating, and first touching, fresh memory.
func (m *Memory) Pack(isZeroPage func(page []byte) bool, buf []byte) {
	if m.Packed {
		return
	}
	m.Runs = presentRuns(m.Data, isZeroPage)
	need := m.PresentPages() * PageSize
	packed := buf[:0]
	if uint64(cap(buf)) < need {
		packed = make([]byte, 0, need)
	}
	forRuns(m, func(b []byte) { packed = append(packed, b...) })
	m.Data, m.Packed = packed, true
}

// PresentPages is the number of stored pages.
func (m *Memory) PresentPages() uint64 {
	var n uint64
	for _, r := range m.Runs {
		n += r.Count
	}
	return n
}

// WASI is the WASI preview-1 host state.
type WASI struct {
	Args, Env   []string
	Descriptors []Descriptor
	// Monotonic and CPUTime are the guest's clock readings in nanoseconds;
	// a restore continues them from there.
	Monotonic uint64
	CPUTime   uint64
}

// Descriptor kinds (internal/wasi Kind values).
const (
	KindStdio    uint8 = 1
	KindFile     uint8 = 2
	KindDir      uint8 = 3
	KindPreopen  uint8 = 4
	KindListener uint8 = 5
	KindConn     uint8 = 6
)

// Descriptor is one open guest descriptor (see docs/wasi.md).
type Descriptor struct {
	FD        uint32
	Kind      uint8
	Preopen   string
	GuestPath string
	HostPath  string
	OFlags    uint16
	FDFlags   uint16
	Rights    uint64
	Inherit   uint64
	Offset    int64
	DirCookie uint64
	Stdio     uint8
	Addr      string
	Peer      string
	// The file's identity when checkpointed, for the changed-file check.
	Size    int64
	MtimeNs int64
	Dev     uint64
	Ino     uint64
}

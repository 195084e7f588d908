package ferry

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/snapshot"
	"github.com/ferryvm/ferry/internal/wasm"
)

// CheckpointInfo describes a checkpoint for people and tools (ferry
// inspect). Function names come from the module's name section when the
// checkpoint carries the module.
//
// CheckpointInfo and the types it holds (FrameInfo, TableInfo, MemoryInfo,
// WASIInfo, DescriptorInfo, SectionInfo) are the schema of
// `ferry inspect --json`: their JSON field names are a compatibility
// promise to scripts that read that output, so a field is added, never
// renamed or removed. They stay in this package, not in cmd/ferry, because
// embedders already call Checkpoint.Info and because filling them needs
// the decoded file, which only this package holds.
type CheckpointInfo struct {
	FormatVersion   string        `json:"format_version"`
	RuntimeVersion  string        `json:"runtime_version"`
	Arch            string        `json:"arch"`
	CPUFeatures     []string      `json:"cpu_features"`
	ModuleSHA256    string        `json:"module_sha256"`
	ModuleSize      uint64        `json:"module_size"`
	ModuleIncluded  bool          `json:"module_included"`
	PauseCount      uint64        `json:"pause_count"`
	PauseCountKnown bool          `json:"pause_count_known"`
	Created         time.Time     `json:"created"`
	Frames          []FrameInfo   `json:"frames"`
	Globals         int           `json:"globals"`
	Tables          []TableInfo   `json:"tables"`
	Memories        []MemoryInfo  `json:"memories"`
	DroppedData     int           `json:"dropped_data_segments"`
	DroppedElems    int           `json:"dropped_elem_segments"`
	WASI            *WASIInfo     `json:"wasi,omitempty"`
	Sections        []SectionInfo `json:"sections"`
	// Callsites are the builtin decisions of the checkpointed run
	// (format 1.1; CallsitesRecorded is false for a 1.0 file).
	Callsites         []DecisionInfo `json:"callsites"`
	CallsitesRecorded bool           `json:"callsites_recorded"`
	// Idle says the checkpoint is of an instance between calls, with no
	// frames (Instance.WriteCheckpoint).
	Idle bool `json:"idle"`
	// Profile is the run's hot set (format 1.2), nil without one.
	Profile *ProfileInfo `json:"profile,omitempty"`
	// HostStates are the host-state plug-ins' entries (section 14), by
	// name; WASI's state is WASI.
	HostStates []HostStateInfo `json:"host_states"`
}

// FrameInfo is one frame, outermost first.
type FrameInfo struct {
	Func   uint32 `json:"func"`
	Name   string `json:"name,omitempty"`
	Kind   string `json:"kind"`
	Offset uint32 `json:"offset"`
	Locals int    `json:"locals"`
	Stack  int    `json:"stack"`
}

// TableInfo is one table.
type TableInfo struct {
	ElemType string `json:"elem_type"`
	Size     int    `json:"size"`
}

// MemoryInfo is one memory: its size and how many 4 KiB pages are stored.
type MemoryInfo struct {
	Bytes        uint64 `json:"bytes"`
	Pages        uint64 `json:"pages"`
	StoredPages  uint64 `json:"stored_4k_pages"`
	Mappable     bool   `json:"mappable"`
	StoredOffset int64  `json:"stored_offset"`
	// DataOmitted: the checkpoint holds none of the memory's pages
	// (written WithoutMemoryData); it restores only with its image.
	DataOmitted bool `json:"data_omitted,omitempty"`
	// Chunks is how many 1 MiB chunks of the stored data a first-touch
	// restore can check one by one (chunk sums, or a trusted signature's
	// digests); 0 when it must check them all at once.
	Chunks int `json:"chunks,omitempty"`
}

// WASIInfo is the WASI host state.
type WASIInfo struct {
	Args        []string         `json:"args"`
	Env         []string         `json:"env"`
	MonotonicNs uint64           `json:"monotonic_ns"`
	CPUTimeNs   uint64           `json:"cputime_ns"`
	Descriptors []DescriptorInfo `json:"descriptors"`
}

// DescriptorInfo is one WASI descriptor.
type DescriptorInfo struct {
	FD        uint32 `json:"fd"`
	Kind      string `json:"kind"`
	Preopen   string `json:"preopen,omitempty"`
	GuestPath string `json:"guest_path,omitempty"`
	HostPath  string `json:"host_path,omitempty"`
	Offset    int64  `json:"offset,omitempty"`
	Size      int64  `json:"size,omitempty"`
	Addr      string `json:"addr,omitempty"`
	FDFlags   uint16 `json:"fdflags,omitempty"`
	Rights    uint64 `json:"rights"`
}

// SectionInfo is one section of the file.
type SectionInfo struct {
	Type       string `json:"type"`
	Offset     int64  `json:"offset"`
	Length     uint64 `json:"length"`
	RawLength  uint64 `json:"raw_length"`
	Compressed bool   `json:"compressed,omitempty"`
	Skipped    bool   `json:"skipped,omitempty"`
}

var descriptorKinds = map[uint8]string{
	snapshot.KindStdio: "stdio", snapshot.KindFile: "file", snapshot.KindDir: "dir",
	snapshot.KindPreopen: "preopen", snapshot.KindListener: "listener", snapshot.KindConn: "conn",
}

// Info describes the checkpoint.
func (c *Checkpoint) Info() CheckpointInfo {
	s := &c.f.Snapshot
	info := CheckpointInfo{
		FormatVersion:  fmt.Sprintf("%d.%d", c.f.Major, c.f.Minor),
		RuntimeVersion: s.Meta.RuntimeVersion, Arch: s.Meta.Arch, CPUFeatures: s.Meta.Features,
		ModuleSHA256: hex.EncodeToString(s.Meta.ModuleHash[:]), ModuleSize: s.Meta.ModuleSize,
		ModuleIncluded: s.Module != nil, PauseCount: s.Meta.PauseCount, PauseCountKnown: s.Meta.PauseCountKnown,
		Created: time.Unix(0, s.Meta.Created).UTC(), Globals: len(s.Globals),
		Callsites: decisionInfos(s.Callsites), CallsitesRecorded: s.Callsites != nil,
		Idle: s.Idle, HostStates: c.HostStates(),
	}
	var names *wasm.Names
	if s.Module != nil {
		if m, err := binary.Decode(s.Module); err == nil {
			names = m.Names
		}
	}
	for _, f := range c.f.FrameHeaders() {
		fi := FrameInfo{Func: f.Func, Kind: f.Kind.String(), Offset: f.Offset, Locals: f.Locals, Stack: f.Stack}
		if names != nil {
			fi.Name = names.Funcs[f.Func]
		}
		info.Frames = append(info.Frames, fi)
	}
	for _, t := range s.Tables {
		info.Tables = append(info.Tables, TableInfo{ElemType: wasm.ValType(t.ElemType).String(), Size: len(t.Elems)})
	}
	for k := range s.Memories {
		m := &s.Memories[k]
		off, _, mappable := c.f.MemoryData(k)
		chunks, _ := c.f.ChunksVerifiable(k)
		info.Memories = append(info.Memories, MemoryInfo{Bytes: m.Size, Pages: m.Size / wasm.PageSize,
			StoredPages: m.PresentPages(), Mappable: mappable, StoredOffset: off, DataOmitted: m.DataOmitted, Chunks: chunks})
	}
	for _, d := range s.Segments.DataDropped {
		if d {
			info.DroppedData++
		}
	}
	for _, d := range s.Segments.ElemDropped {
		if d {
			info.DroppedElems++
		}
	}
	if w := s.WASI; w != nil {
		wi := &WASIInfo{Args: w.Args, Env: w.Env, MonotonicNs: w.Monotonic, CPUTimeNs: w.CPUTime}
		for _, d := range w.Descriptors {
			wi.Descriptors = append(wi.Descriptors, DescriptorInfo{FD: d.FD, Kind: descriptorKinds[d.Kind],
				Preopen: d.Preopen, GuestPath: d.GuestPath, HostPath: d.HostPath, Offset: d.Offset, Size: d.Size,
				Addr: d.Addr, FDFlags: d.FDFlags, Rights: d.Rights})
		}
		info.WASI = wi
	}
	var funcNames map[uint32]string
	if names != nil {
		funcNames = names.Funcs
	}
	info.Profile = profileInfo(s.Profile, funcNames)
	for _, sec := range c.f.Sections {
		info.Sections = append(info.Sections, SectionInfo{Type: sec.Type.String(), Offset: sec.Offset,
			Length: sec.Length, RawLength: sec.RawLength, Compressed: sec.Compressed, Skipped: sec.Skipped})
	}
	return info
}

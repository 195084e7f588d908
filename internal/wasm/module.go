// Package wasm is Ferry's model of a decoded WebAssembly module: the sections of
// the binary format as plain Go values, shared by the decoder, the validator,
// the instantiation code and every execution tier. Nothing here executes code.
package wasm

import (
	"fmt"

	"github.com/ferryvm/ferry/api"
)

// ValType is a WebAssembly value type, encoded as its binary-format byte.
type ValType byte

const (
	I32       ValType = 0x7F
	I64       ValType = 0x7E
	F32       ValType = 0x7D
	F64       ValType = 0x7C
	V128      ValType = 0x7B
	FuncRef   ValType = 0x70
	ExternRef ValType = 0x6F
)

// Slots is the number of 64-bit value-stack slots a value of this type takes
// (ARCHITECTURE.md §3: a v128 takes two, low half first).
func (t ValType) Slots() int {
	if t == V128 {
		return 2
	}
	return 1
}

// IsRef reports whether t is a reference type.
func (t ValType) IsRef() bool { return t == FuncRef || t == ExternRef }

// Valid reports whether b encodes a value type of WebAssembly 2.0.
func (t ValType) Valid() bool {
	switch t {
	case I32, I64, F32, F64, V128, FuncRef, ExternRef:
		return true
	}
	return false
}

func (t ValType) String() string { return api.ValueTypeName(byte(t)) }

// FuncType is a function signature.
type FuncType struct {
	Params, Results []ValType
}

// Equal reports whether two signatures are identical.
func (f *FuncType) Equal(g *FuncType) bool {
	if len(f.Params) != len(g.Params) || len(f.Results) != len(g.Results) {
		return false
	}
	for i := range f.Params {
		if f.Params[i] != g.Params[i] {
			return false
		}
	}
	for i := range f.Results {
		if f.Results[i] != g.Results[i] {
			return false
		}
	}
	return true
}

// String renders the signature in text-format style, e.g. "(i32 i32) -> (i64)".
func (f *FuncType) String() string {
	return fmt.Sprintf("%v -> %v", f.Params, f.Results)
}

// Limits bound the size of a memory (in 64 KiB pages) or a table (in elements).
type Limits struct {
	Min    uint64
	Max    uint64 // meaningful only when HasMax
	HasMax bool
}

// TableType describes a table: its element reference type and size limits.
type TableType struct {
	Elem   ValType // FuncRef or ExternRef
	Limits Limits
}

// MemType describes a linear memory in pages of PageSize bytes.
type MemType struct {
	Limits Limits
}

// PageSize is the size of a WebAssembly memory page.
const PageSize = 65536

// MaxPages is the largest number of pages a 32-bit memory can have (4 GiB).
const MaxPages = 65536

// GlobalType describes a global variable.
type GlobalType struct {
	Type    ValType
	Mutable bool
}

// ExternKind says what an import or export refers to.
type ExternKind byte

const (
	ExternFunc   ExternKind = 0
	ExternTable  ExternKind = 1
	ExternMemory ExternKind = 2
	ExternGlobal ExternKind = 3
)

func (k ExternKind) String() string {
	switch k {
	case ExternFunc:
		return "func"
	case ExternTable:
		return "table"
	case ExternMemory:
		return "memory"
	case ExternGlobal:
		return "global"
	}
	return fmt.Sprintf("externkind(%d)", byte(k))
}

// Import is one entry of the import section. Only the field matching Kind is
// meaningful.
type Import struct {
	Module, Name string
	Kind         ExternKind
	TypeIndex    uint32 // ExternFunc: index into Module.Types
	Table        TableType
	Memory       MemType
	Global       GlobalType
}

// Export is one entry of the export section.
type Export struct {
	Name  string
	Kind  ExternKind
	Index uint32 // in the index space of Kind (imports first)
}

// LocalGroup is one run-length entry of a function's local declarations.
type LocalGroup struct {
	Count uint32
	Type  ValType
}

// Func is a function defined by the module (imports are not here).
type Func struct {
	TypeIndex uint32
	// Locals are the declared locals (parameters excluded), expanded; the
	// decoder caps their number at MaxLocals.
	Locals []ValType
	// Body is the function's expression: the instruction bytes up to and
	// including the final `end`, without the local declarations.
	Body []byte
	// BodyOffset is the module-file offset of Body[0]; Ferry's pause points
	// and frames report offsets relative to BodyStart (see below), and traces
	// add BodyStart to print offsets that match `wasm-objdump`.
	BodyOffset uint32
	// BodyStart is the module-file offset of the first byte of the function's
	// code entry after its size field (the start of the local declarations).
	// Wasm byte offsets "within the function body" in Ferry are counted from
	// here, as the tool conventions for DWARF in WebAssembly do.
	BodyStart uint32
}

// MaxLocals bounds the number of locals (parameters included) of one
// function; it matches the limit of the major JavaScript engines.
const MaxLocals = 50000

// ConstExpr is a constant expression (global initialisers, segment offsets,
// element initialisers), kept as its raw bytes including the final `end`. The
// validator checks it; instantiation evaluates it.
type ConstExpr struct {
	Bytes []byte
}

// Global is a global defined by the module.
type Global struct {
	Type GlobalType
	Init ConstExpr
}

// SegmentMode says when a data or element segment is applied.
type SegmentMode byte

const (
	SegmentActive      SegmentMode = iota // copied at instantiation, then dropped
	SegmentPassive                        // copied by memory.init / table.init
	SegmentDeclarative                    // element segments only: declares ref.func targets
)

// Elem is an element segment. Exactly one of FuncIndices and Exprs is used:
// the binary format's function-index forms fill FuncIndices, the expression
// forms fill Exprs.
type Elem struct {
	Mode        SegmentMode
	Table       uint32    // active only
	Offset      ConstExpr // active only
	Type        ValType   // FuncRef or ExternRef
	FuncIndices []uint32
	Exprs       []ConstExpr
}

// Len is the number of elements of the segment.
func (e *Elem) Len() int {
	if e.FuncIndices != nil {
		return len(e.FuncIndices)
	}
	return len(e.Exprs)
}

// Data is a data segment.
type Data struct {
	Mode   SegmentMode // SegmentActive or SegmentPassive
	Memory uint32      // active only
	Offset ConstExpr   // active only
	Init   []byte
}

// CustomSection is a custom section kept as it was found.
type CustomSection struct {
	Name string
	Data []byte
}

// Names is the content of the "name" custom section.
type Names struct {
	Module string
	Funcs  map[uint32]string            // function index -> name
	Locals map[uint32]map[uint32]string // function index -> local index -> name
}

// Module is a decoded (not yet validated) WebAssembly module.
type Module struct {
	Types        []FuncType
	Imports      []Import
	Funcs        []Func // defined functions, in index order after the imported ones
	Tables       []TableType
	Memories     []MemType
	Globals      []Global
	Exports      []Export
	Start        uint32
	HasStart     bool
	Elems        []Elem
	Datas        []Data
	DataCount    uint32 // meaningful only when HasDataCount
	HasDataCount bool
	Customs      []CustomSection
	// CodeStart is the module-file offset of the code section's contents
	// (0 without one): DWARF addresses in WebAssembly are relative to it.
	CodeStart uint32
	Names     *Names // nil when there is no (well-formed) name section

	// Per-kind views of Imports, kept by AddImport; the index space of each
	// kind starts with its imports.
	ImportedFuncs    []uint32 // type index of each imported function
	ImportedTables   []TableType
	ImportedMemories []MemType
	ImportedGlobals  []GlobalType
}

// AddImport appends an import and keeps the per-kind views in step.
func (m *Module) AddImport(imp Import) {
	m.Imports = append(m.Imports, imp)
	switch imp.Kind {
	case ExternFunc:
		m.ImportedFuncs = append(m.ImportedFuncs, imp.TypeIndex)
	case ExternTable:
		m.ImportedTables = append(m.ImportedTables, imp.Table)
	case ExternMemory:
		m.ImportedMemories = append(m.ImportedMemories, imp.Memory)
	case ExternGlobal:
		m.ImportedGlobals = append(m.ImportedGlobals, imp.Global)
	}
}

// NumImportedFuncs is the number of imported functions.
func (m *Module) NumImportedFuncs() uint32 { return uint32(len(m.ImportedFuncs)) }

// NumImportedGlobals is the number of imported globals.
func (m *Module) NumImportedGlobals() uint32 { return uint32(len(m.ImportedGlobals)) }

// NumFuncs is the size of the function index space.
func (m *Module) NumFuncs() uint32 { return uint32(len(m.ImportedFuncs) + len(m.Funcs)) }

// NumTables is the size of the table index space.
func (m *Module) NumTables() uint32 { return uint32(len(m.ImportedTables) + len(m.Tables)) }

// NumMemories is the size of the memory index space.
func (m *Module) NumMemories() uint32 { return uint32(len(m.ImportedMemories) + len(m.Memories)) }

// NumGlobals is the size of the global index space.
func (m *Module) NumGlobals() uint32 { return uint32(len(m.ImportedGlobals) + len(m.Globals)) }

// FuncTypeIndex returns the type index of function idx (imported or defined).
// idx must be in range.
func (m *Module) FuncTypeIndex(idx uint32) uint32 {
	if n := uint32(len(m.ImportedFuncs)); idx < n {
		return m.ImportedFuncs[idx]
	} else {
		return m.Funcs[idx-n].TypeIndex
	}
}

// FuncType returns the signature of function idx. idx must be in range and
// its type index valid.
func (m *Module) FuncType(idx uint32) *FuncType {
	return &m.Types[m.FuncTypeIndex(idx)]
}

// TableType returns the type of table idx, which must be in range.
func (m *Module) TableType(idx uint32) TableType {
	if n := uint32(len(m.ImportedTables)); idx < n {
		return m.ImportedTables[idx]
	} else {
		return m.Tables[idx-n]
	}
}

// MemType returns the type of memory idx, which must be in range.
func (m *Module) MemType(idx uint32) MemType {
	if n := uint32(len(m.ImportedMemories)); idx < n {
		return m.ImportedMemories[idx]
	} else {
		return m.Memories[idx-n]
	}
}

// GlobalType returns the type of global idx, which must be in range.
func (m *Module) GlobalType(idx uint32) GlobalType {
	if n := uint32(len(m.ImportedGlobals)); idx < n {
		return m.ImportedGlobals[idx]
	} else {
		return m.Globals[idx-n].Type
	}
}

// FuncName returns the name-section name of function idx, or "".
func (m *Module) FuncName(idx uint32) string {
	if m.Names == nil {
		return ""
	}
	return m.Names.Funcs[idx]
}

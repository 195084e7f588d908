// Package store holds the run-time state of instantiated modules: functions,
// tables, memories, globals and segments, shared by every execution tier.
// It knows nothing about how code runs: a tier attaches its lowered code to
// Function.Code and reads and writes this state directly.
package store

import (
	"sync"
	"sync/atomic"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/pause"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Function is a function instance: defined by a WebAssembly module or
// provided by the host.
type Function struct {
	Type   *wasm.FuncType
	TypeID uint32 // canonical signature id in the Store: equal ids, equal types
	// Ref is this function's funcref value in value-stack slots and tables:
	// its position in the Store's function-reference space plus one (0 is the null reference). Go
	// pointers never live in value slots, so the GC and checkpoints never see
	// them there.
	Ref uint64

	Instance *Instance // the defining instance; for host functions, the host module's
	Index    uint32    // index in the defining module's function space
	Name     string    // for stack traces: name section or host name

	Host api.HostFunc // non-nil for host functions
	// Code is the execution tier's lowered body for a defined function; set
	// when the instance is created, read by the tier on every call.
	Code Code
}

// Code is a function body as an execution tier lowered it. The store only
// keeps it; what every tier must provide is what the rest of the runtime
// reads without knowing the tier.
type Code interface {
	// Pauses is the function's pause-point table, made by validation and
	// shared by every tier (internal/pause).
	Pauses() *pause.Func
	// CodeArmer returns the switch that makes the code poll its pause
	// points while some instance of the store asks for it, or nil if
	// the code polls for good (interrupt.go).
	CodeArmer() Armer
}

// Table is a table instance. Elements are reference values encoded as in
// value slots (funcref: Function.Ref; externref: the host value; 0: null).
type Table struct {
	Type  wasm.TableType
	Elems []uint64
	Max   uint64 // effective maximum number of elements

	budget *tableBudget // the creating store's, until its instance closes
	owner  *Instance    // the instance that created it (nil for NewTable)
}

// Global is a global instance; a v128 global uses Hi as well.
type Global struct {
	Type   wasm.GlobalType
	Lo, Hi uint64
}

// Instance is an instantiated module.
type Instance struct {
	Store  *Store
	Module *wasm.Module
	Name   string

	// Index spaces, imports first.
	Funcs    []*Function
	Tables   []*Table
	Memories []*Memory
	Globals  []*Global

	// Segments still available to memory.init / table.init; a dropped (or
	// applied active) segment is nil.
	Datas [][]byte
	Elems [][]uint64

	Exports map[string]wasm.Export

	// TypeIDs maps the module's type indices to the Store's canonical
	// signature ids (call_indirect compares these).
	TypeIDs []uint32

	// intr holds the interrupt word the execution tiers poll at function
	// entries and loop back-edges (ARCHITECTURE.md §3); see interrupt.go.
	intr interrupts

	closed atomic.Bool
	// life ties the instance's lifetime to those it links with
	// (lifecycle.go).
	life instLife
}

// Interrupt bits.
const (
	InterruptPause uint32 = 1 << iota
	// InterruptCancel is set when the context of a running call is
	// cancelled; the tier stops with the context's error.
	InterruptCancel
	// InterruptStep makes every pause point take the tier's slow path; the
	// interpreter uses it to count pause points deterministically in tests.
	InterruptStep
	// InterruptAbort stops the running code with the error Abort set.
	InterruptAbort
	// InterruptSample asks the running code for one profile sample: the
	// next pause point it polls records where it is (internal/profile)
	// and clears the bit; it never stops the run. A sampler sets it
	// periodically on instances that are running, so that the profile
	// costs the unarmed code nothing (docs/compiler.md, "Tiering").
	InterruptSample
)

// Memory is a linear memory instance. Buf is the accessible memory (its
// length is the current size, a multiple of wasm.PageSize); it is a prefix of
// a reservation of the maximum size made when the memory is created, so
// growing never moves it and untouched pages are never committed.
type Memory struct {
	Type wasm.MemType
	Buf  []byte
	Max  uint64 // effective maximum in pages
	// reservation is the whole reserved mapping (Buf is a prefix of it).
	reservation []byte
	// users counts the instances holding this memory (its creator and every
	// importer); the reservation is released when the last one closes.
	users  atomic.Int32
	closed atomic.Bool
	// mmapped says whether reservation came from mmap (and must be unmapped).
	mmapped bool
	// mapsFile says whether pages of a file are mapped into reservation
	// (MapFile): their accesses may fault if the file shrinks.
	mapsFile atomic.Bool
}

// Store is the set of instances of one runtime: it owns the function-reference
// space and the canonical signature ids.
type Store struct {
	// funcs is the function-reference space (store.go, "A funcref value
	// is a slot"). Its chunks are added under mu and published by an
	// atomic pointer, and each slot is atomic, so that FuncByRef — on the
	// hot path of call_indirect — takes no lock.
	funcs atomic.Pointer[slotChunks]
	// nslots slots were ever taken; freeIdx are free for reuse, and
	// slotGens the generation each reused slot is at (under mu).
	nslots   uint32
	freeIdx  []uint32
	slotGens []uint32
	types    map[string]uint32

	// MemoryLimitPages caps every memory created in this store (declared
	// minimum, declared maximum and growth), in pages. Set it before the
	// first instantiation; NewStore sets wasm.MaxPages.
	MemoryLimitPages uint64

	// tables counts the elements of the store's tables (table.go).
	tables tableBudget

	mu sync.RWMutex

	// armed keeps the code of the store's instances armed while any of
	// them has interrupt bits set (interrupt.go).
	armed armState

	// life is the lifecycle of the store's instances (lifecycle.go).
	life storeLife
}

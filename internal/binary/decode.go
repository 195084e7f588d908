// Package binary decodes the WebAssembly 2.0 binary format into a wasm.Module.
//
// Decoding checks the framing of the module: the header, section ids, order
// and sizes, every count and length, the encodings of types, imports,
// exports, segments and names. It does not decode function bodies: the
// validator reads their instructions in the same pass that type-checks them.
// Constant expressions are only delimited here.
package binary

import (
	"fmt"

	"github.com/ferryvm/ferry/internal/wasm"
)

// Section ids of the binary format.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
)

var sectionNames = [...]string{
	"custom", "type", "import", "function", "table", "memory", "global",
	"export", "start", "element", "code", "data", "data count",
}

// sectionRank is the position a non-custom section must take: the data
// count section sits between the element and code sections though its id is
// the largest.
var sectionRank = [...]int{
	secType: 1, secImport: 2, secFunction: 3, secTable: 4, secMemory: 5,
	secGlobal: 6, secExport: 7, secStart: 8, secElement: 9, secDataCount: 10,
	secCode: 11, secData: 12,
}

const (
	magic   = "\x00asm"
	version = "\x01\x00\x00\x00"
)

// Decode decodes a binary module. The module's byte slices (function bodies,
// constant expressions, data, custom sections) alias b, which must not be
// modified afterwards. Every failure is an *Error.
func Decode(b []byte) (*wasm.Module, error) {
	d := &decoder{r: reader{b: b, end: len(b)}, m: &wasm.Module{}}
	if err := d.module(); err != nil {
		return nil, err
	}
	return d.m, nil
}

type decoder struct {
	r       reader
	m       *wasm.Module
	hasCode bool
	hasData bool
}

func (d *decoder) module() error {
	r := &d.r
	// The header is two 4-byte words: a short file is an unexpected end
	// whatever bytes it holds.
	if len(r.b) < 4 {
		return r.fail(len(r.b), wasm.ErrUnexpectedEnd)
	}
	if string(r.b[:4]) != magic {
		return r.fail(0, ErrMagic)
	}
	if len(r.b) < 8 {
		return r.fail(len(r.b), wasm.ErrUnexpectedEnd)
	}
	if string(r.b[4:8]) != version {
		return r.fail(4, ErrVersion)
	}
	r.pos = 8
	if err := r.limit(0, "bytes in the module", 0, uint64(len(r.b)), MaxModuleSize); err != nil {
		return err
	}

	lastRank, lastID := 0, 0
	for r.pos < len(r.b) {
		r.section, r.end = "", len(r.b)
		idPos := r.pos
		id, _ := r.byte()
		if int(id) >= len(sectionNames) {
			return r.fail(idPos, fmt.Errorf("%w 0x%02x", ErrSectionID, id))
		}
		size, err := r.length()
		if err != nil {
			return err
		}
		r.section, r.end = sectionNames[id], r.pos+size
		if id != secCustom {
			rank := sectionRank[id]
			if rank <= lastRank {
				what := "out of order after " + sectionNames[lastID] + " section"
				if rank == lastRank {
					what = "duplicate section"
				}
				return r.fail(idPos, fmt.Errorf("%w: %s", ErrSectionOrder, what))
			}
			lastRank, lastID = rank, int(id)
		}
		if err := d.section(id); err != nil {
			return err
		}
		if r.pos != r.end {
			return r.fail(r.pos, fmt.Errorf("%w: %d bytes left over", ErrSectionSize, r.end-r.pos))
		}
	}
	r.section = ""
	if !d.hasCode && len(d.m.Funcs) > 0 {
		return r.fail(r.pos, fmt.Errorf("%w: %d functions, no code section", ErrFuncCodeCount, len(d.m.Funcs)))
	}
	if d.m.HasDataCount && !d.hasData && d.m.DataCount != 0 {
		return r.fail(r.pos, fmt.Errorf("%w: data count %d, no data section", ErrDataCount, d.m.DataCount))
	}
	return nil
}

func (d *decoder) section(id byte) error {
	switch id {
	case secCustom:
		return d.customSection()
	case secType:
		return d.typeSection()
	case secImport:
		return d.importSection()
	case secFunction:
		return d.functionSection()
	case secTable:
		return d.tableSection()
	case secMemory:
		return d.memorySection()
	case secGlobal:
		return d.globalSection()
	case secExport:
		return d.exportSection()
	case secStart:
		return d.startSection()
	case secElement:
		return d.elementSection()
	case secCode:
		return d.codeSection()
	case secData:
		return d.dataSection()
	case secDataCount:
		return d.dataCountSection()
	}
	return nil // unreachable: ids are checked by the caller
}

func (d *decoder) customSection() error {
	r := &d.r
	name, err := r.name()
	if err != nil {
		return err
	}
	data := r.b[r.pos:r.end:r.end]
	r.pos = r.end
	d.m.Customs = append(d.m.Customs, wasm.CustomSection{Name: name, Data: data})
	if name == "name" && d.m.Names == nil {
		// A malformed name section does not make the module malformed
		// (spec appendix 7.4.1): it is kept as a plain custom section.
		d.m.Names = decodeNames(data)
	}
	return nil
}

func (d *decoder) typeSection() error {
	r := &d.r
	n, err := r.limitedCount(1, "types", 0, MaxTypes)
	if err != nil {
		return err
	}
	d.m.Types = make([]wasm.FuncType, n)
	for i := range d.m.Types {
		form, err := r.typeByte()
		if err != nil {
			return err
		}
		if form != 0x60 {
			return r.fail(r.pos-1, fmt.Errorf("%w 0x%02x", ErrFuncType, form))
		}
		ft := &d.m.Types[i]
		if ft.Params, err = d.valTypes("parameters", MaxParams); err != nil {
			return err
		}
		if ft.Results, err = d.valTypes("results", MaxResults); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) valTypes(what string, max uint64) ([]wasm.ValType, error) {
	r := &d.r
	n, err := r.limitedCount(1, what, 0, max)
	if err != nil || n == 0 {
		return nil, err
	}
	ts := make([]wasm.ValType, n)
	for i := range ts {
		if ts[i], err = r.valType(); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

func (d *decoder) importSection() error {
	r := &d.r
	n, err := r.limitedCount(1, "imports", 0, MaxImports)
	if err != nil {
		return err
	}
	d.m.Imports = make([]wasm.Import, 0, n)
	for i := uint32(0); i < n; i++ {
		var imp wasm.Import
		pos := r.pos
		if imp.Module, err = r.name(); err != nil {
			return err
		}
		if imp.Name, err = r.name(); err != nil {
			return err
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		imp.Kind = wasm.ExternKind(kind)
		switch imp.Kind {
		case wasm.ExternFunc:
			imp.TypeIndex, err = r.u32()
		case wasm.ExternTable:
			imp.Table, err = r.tableType()
		case wasm.ExternMemory:
			imp.Memory.Limits, err = r.limits()
		case wasm.ExternGlobal:
			imp.Global, err = r.globalType()
		default:
			return r.fail(r.pos-1, fmt.Errorf("%w 0x%02x", ErrImportKind, kind))
		}
		if err != nil {
			return err
		}
		if err := d.indexSpaceLimit(pos, imp.Kind, 1); err != nil {
			return err
		}
		d.m.AddImport(imp)
	}
	return nil
}

func (d *decoder) functionSection() error {
	r := &d.r
	pos := r.pos
	n, err := r.count(1)
	if err != nil {
		return err
	}
	if err := d.indexSpaceLimit(pos, wasm.ExternFunc, n); err != nil {
		return err
	}
	d.m.Funcs = make([]wasm.Func, n)
	for i := range d.m.Funcs {
		if d.m.Funcs[i].TypeIndex, err = r.u32(); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) tableSection() error {
	r := &d.r
	pos := r.pos
	n, err := r.count(1)
	if err != nil {
		return err
	}
	if err := d.indexSpaceLimit(pos, wasm.ExternTable, n); err != nil {
		return err
	}
	d.m.Tables = make([]wasm.TableType, n)
	for i := range d.m.Tables {
		if d.m.Tables[i], err = r.tableType(); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) memorySection() error {
	r := &d.r
	pos := r.pos
	n, err := r.count(1)
	if err != nil {
		return err
	}
	if err := d.indexSpaceLimit(pos, wasm.ExternMemory, n); err != nil {
		return err
	}
	d.m.Memories = make([]wasm.MemType, n)
	for i := range d.m.Memories {
		if d.m.Memories[i].Limits, err = r.limits(); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) globalSection() error {
	r := &d.r
	pos := r.pos
	n, err := r.count(1)
	if err != nil {
		return err
	}
	if err := d.indexSpaceLimit(pos, wasm.ExternGlobal, n); err != nil {
		return err
	}
	d.m.Globals = make([]wasm.Global, n)
	for i := range d.m.Globals {
		g := &d.m.Globals[i]
		if g.Type, err = r.globalType(); err != nil {
			return err
		}
		if g.Init, err = r.constExpr(); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) exportSection() error {
	r := &d.r
	n, err := r.limitedCount(1, "exports", 0, MaxExports)
	if err != nil {
		return err
	}
	d.m.Exports = make([]wasm.Export, n)
	for i := range d.m.Exports {
		e := &d.m.Exports[i]
		if e.Name, err = r.name(); err != nil {
			return err
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		if kind > byte(wasm.ExternGlobal) {
			return r.fail(r.pos-1, fmt.Errorf("%w 0x%02x", ErrExportKind, kind))
		}
		e.Kind = wasm.ExternKind(kind)
		if e.Index, err = r.u32(); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) startSection() error {
	var err error
	d.m.Start, err = d.r.u32()
	d.m.HasStart = err == nil
	return err
}

func (d *decoder) dataCountSection() error {
	var err error
	pos := d.r.pos
	d.m.DataCount, err = d.r.u32()
	d.m.HasDataCount = err == nil
	if err != nil {
		return err
	}
	return d.r.limit(pos, "data segments", 0, uint64(d.m.DataCount), MaxDataSegments)
}

// Element segment flag bits (spec 5.5.12): bit 0 passive-or-declarative
// (with bit 1 choosing declarative), bit 1 an explicit table index for
// active segments, bit 2 expressions instead of function indices.
const (
	elemNotActive   = 1
	elemExplicit    = 2
	elemExpressions = 4
)

func (d *decoder) elementSection() error {
	r := &d.r
	n, err := r.limitedCount(1, "element segments", 0, MaxElemSegments)
	if err != nil {
		return err
	}
	d.m.Elems = make([]wasm.Elem, n)
	for i := range d.m.Elems {
		if err := d.elem(&d.m.Elems[i]); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) elem(e *wasm.Elem) error {
	r := &d.r
	flagsPos := r.pos
	flags, err := r.u32()
	if err != nil {
		return err
	}
	if flags > 7 {
		return r.fail(flagsPos, fmt.Errorf("%w %d", ErrElemSegment, flags))
	}
	e.Type = wasm.FuncRef
	switch {
	case flags&elemNotActive == 0:
		e.Mode = wasm.SegmentActive
		if flags&elemExplicit != 0 {
			if e.Table, err = r.u32(); err != nil {
				return err
			}
		}
		if e.Offset, err = r.constExpr(); err != nil {
			return err
		}
	case flags&elemExplicit == 0:
		e.Mode = wasm.SegmentPassive
	default:
		e.Mode = wasm.SegmentDeclarative
	}
	// Forms 0 and 4 imply funcref; every other form states the type.
	if flags&(elemNotActive|elemExplicit) != 0 {
		if flags&elemExpressions != 0 {
			if e.Type, err = r.refType(); err != nil {
				return err
			}
		} else {
			kind, err := r.byte()
			if err != nil {
				return err
			}
			if kind != 0 {
				return r.fail(r.pos-1, fmt.Errorf("%w 0x%02x", ErrElemKind, kind))
			}
		}
	}
	if flags&elemExpressions != 0 {
		n, err := r.limitedCount(1, "segment entries", 0, MaxElemSegmentEntries)
		if err != nil {
			return err
		}
		e.Exprs = make([]wasm.ConstExpr, n)
		for i := range e.Exprs {
			if e.Exprs[i], err = r.constExpr(); err != nil {
				return err
			}
		}
		return nil
	}
	n, err := r.limitedCount(1, "segment entries", 0, MaxElemSegmentEntries)
	if err != nil {
		return err
	}
	e.FuncIndices = make([]uint32, n)
	for i := range e.FuncIndices {
		if e.FuncIndices[i], err = r.u32(); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) codeSection() error {
	r := &d.r
	countPos := r.pos
	d.m.CodeStart = uint32(countPos)
	n, err := r.count(1)
	if err != nil {
		return err
	}
	d.hasCode = true
	if int(n) != len(d.m.Funcs) {
		return r.fail(countPos, fmt.Errorf("%w: %d functions, %d bodies", ErrFuncCodeCount, len(d.m.Funcs), n))
	}
	for i := range d.m.Funcs {
		if err := d.code(&d.m.Funcs[i]); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) code(f *wasm.Func) error {
	r := &d.r
	sizePos := r.pos
	size, err := r.length()
	if err != nil {
		return err
	}
	if err := r.limit(sizePos, "bytes in a function body", 0, uint64(size), MaxFunctionBodySize); err != nil {
		return err
	}
	sectionEnd := r.end
	r.end = r.pos + size
	defer func() { r.end = sectionEnd }()
	f.BodyStart = uint32(r.pos)

	// Parameters count against the locals limit when the type index is
	// valid; a bad index is left for the validator to report.
	var total uint64
	if int(f.TypeIndex) < len(d.m.Types) {
		total = uint64(len(d.m.Types[f.TypeIndex].Params))
	}
	groupsPos := r.pos
	groups, err := r.count(1)
	if err != nil {
		return err
	}
	// Two passes: sum first, so a hostile count is refused before it sizes
	// the slice.
	declared := uint64(0)
	for i := uint32(0); i < groups; i++ {
		cnt, err := r.u32()
		if err != nil {
			return err
		}
		if _, err := r.valType(); err != nil {
			return err
		}
		declared += uint64(cnt)
		if total+declared > wasm.MaxLocals {
			return r.fail(groupsPos, fmt.Errorf("%w: more than %d", ErrTooManyLocals, wasm.MaxLocals))
		}
	}
	if declared > 0 {
		f.Locals = make([]wasm.ValType, 0, declared)
		r.pos = groupsPos
		_, _ = r.u32()
		for i := uint32(0); i < groups; i++ {
			cnt, _ := r.u32()
			t, _ := r.valType()
			for j := uint32(0); j < cnt; j++ {
				f.Locals = append(f.Locals, t)
			}
		}
	}

	if r.pos == r.end || r.b[r.end-1] != byte(wasm.OpEnd) {
		return r.fail(r.end, ErrEndExpected)
	}
	f.BodyOffset = uint32(r.pos)
	f.Body = r.b[r.pos:r.end:r.end]
	r.pos = r.end
	return nil
}

// Data segment flags (spec 5.5.16): 0 active in memory 0, 1 passive,
// 2 active with an explicit memory index.
func (d *decoder) dataSection() error {
	r := &d.r
	countPos := r.pos
	n, err := r.limitedCount(1, "data segments", 0, MaxDataSegments)
	if err != nil {
		return err
	}
	d.hasData = true
	if d.m.HasDataCount && n != d.m.DataCount {
		return r.fail(countPos, fmt.Errorf("%w: data count %d, %d segments", ErrDataCount, d.m.DataCount, n))
	}
	d.m.Datas = make([]wasm.Data, n)
	for i := range d.m.Datas {
		s := &d.m.Datas[i]
		flagsPos := r.pos
		flags, err := r.u32()
		if err != nil {
			return err
		}
		switch flags {
		case 0, 2:
			s.Mode = wasm.SegmentActive
			if flags == 2 {
				if s.Memory, err = r.u32(); err != nil {
					return err
				}
			}
			if s.Offset, err = r.constExpr(); err != nil {
				return err
			}
		case 1:
			s.Mode = wasm.SegmentPassive
		default:
			return r.fail(flagsPos, fmt.Errorf("%w %d", ErrDataSegment, flags))
		}
		if s.Init, err = r.bytes(); err != nil {
			return err
		}
	}
	return nil
}

// indexSpaceLimit checks that n more functions, tables, memories or globals
// keep their index space (imports and definitions together) within its
// limit.
func (d *decoder) indexSpaceLimit(pos int, kind wasm.ExternKind, n uint32) error {
	m := d.m
	switch kind {
	case wasm.ExternFunc:
		return d.r.limit(pos, "functions", uint64(len(m.ImportedFuncs)+len(m.Funcs)), uint64(n), MaxFunctions)
	case wasm.ExternTable:
		return d.r.limit(pos, "tables", uint64(len(m.ImportedTables)+len(m.Tables)), uint64(n), MaxTables)
	case wasm.ExternMemory:
		return d.r.limit(pos, "memories", uint64(len(m.ImportedMemories)+len(m.Memories)), uint64(n), MaxMemories)
	case wasm.ExternGlobal:
		return d.r.limit(pos, "globals", uint64(len(m.ImportedGlobals)+len(m.Globals)), uint64(n), MaxGlobals)
	}
	return nil
}

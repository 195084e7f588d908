package v128

import (
	"fmt"

	"github.com/ferryvm/ferry/internal/wasm"
)

// Kind is the calling shape of a SIMD instruction: which field of a Table
// holds its implementation and how a tier passes operands to it.
type Kind uint8

const (
	KindNone      Kind = iota // not a SIMD opcode
	KindConst                 // v128.const: no function, the value is the immediate
	KindUnary                 // v128 -> v128
	KindBinary                // v128 v128 -> v128
	KindTernary               // v128 v128 v128 -> v128 (bitselect: x, y, mask)
	KindShuffle               // v128 v128 -> v128 with a 16-byte immediate (a Ternary)
	KindShift                 // v128 i32 -> v128
	KindTest                  // v128 -> i32 (any_true, all_true, bitmask)
	KindSplat                 // scalar -> v128
	KindExtract               // v128 -> scalar, lane immediate
	KindReplace               // v128 scalar -> v128, lane immediate
	KindLoad                  // memory -> v128 (load, extend, splat and zero forms)
	KindLoadLane              // memory v128 -> v128, lane immediate
	KindStore                 // v128 -> memory
	KindStoreLane             // v128 -> memory, lane immediate
)

// Function shapes. Scalars are passed and returned as value-stack slots
// hold them (i32 and f32 zero-extended to 64 bits).
type (
	UnaryFunc       func(x V128) V128
	BinaryFunc      func(x, y V128) V128
	TernaryFunc     func(x, y, z V128) V128
	ShiftFunc       func(x V128, n uint32) V128
	TestFunc        func(x V128) uint32
	SplatFunc       func(x uint64) V128
	ExtractLaneFunc func(x V128, lane uint32) uint64
	ReplaceLaneFunc func(x V128, lane uint32, v uint64) V128
	LoadFunc        func(b []byte) V128                      // b holds exactly Size bytes
	LoadLaneFunc    func(x V128, lane uint32, b []byte) V128 // likewise
	StoreFunc       func(x V128, b []byte)
	StoreLaneFunc   func(x V128, lane uint32, b []byte)
)

// Table holds one implementation of every SIMD instruction, indexed by
// sub-opcode (the opcode minus 0xFD00, i.e. wasm.Opcode - 0x200). A tier
// looks an instruction up once when lowering (Kind, Size) and calls through
// the field of its kind when running; replacing an entry (a CPU-specific
// kernel) changes nothing else.
type Table struct {
	kinds     [256]Kind
	size      [256]uint8
	Unary     [256]UnaryFunc
	Binary    [256]BinaryFunc
	Ternary   [256]TernaryFunc // bitselect and shuffle (the mask as z)
	Shift     [256]ShiftFunc
	Test      [256]TestFunc
	Splat     [256]SplatFunc
	Extract   [256]ExtractLaneFunc
	Replace   [256]ReplaceLaneFunc
	Load      [256]LoadFunc
	LoadLane  [256]LoadLaneFunc
	Store     [256]StoreFunc
	StoreLane [256]StoreLaneFunc
}

// Sub returns the sub-opcode of a SIMD opcode, the index into a Table.
func Sub(op wasm.Opcode) uint8 { return uint8(op - 0x200) }

func sub(op wasm.Opcode) uint8 { return Sub(op) }

// KindOf returns the calling shape of opcode op (KindNone for a non-SIMD one).
func (t *Table) KindOf(op wasm.Opcode) Kind {
	if op < 0x200 || op > 0x2FF {
		return KindNone
	}
	return t.kinds[sub(op)]
}

// Size is the number of memory bytes a memory instruction accesses.
func (t *Table) Size(op wasm.Opcode) uint32 {
	if op < 0x200 || op > 0x2FF {
		return 0
	}
	return uint32(t.size[sub(op)])
}

func (t *Table) set(op wasm.Opcode, k Kind, fn any) {
	s := sub(op)
	t.kinds[s] = k
	ok := true
	switch f := fn.(type) {
	case func(V128) V128:
		t.Unary[s] = f
		ok = k == KindUnary
	case func(V128, V128) V128:
		t.Binary[s] = f
		ok = k == KindBinary
	case func(V128, V128, V128) V128:
		t.Ternary[s] = f
		ok = k == KindTernary || k == KindShuffle
	case func(V128, uint32) V128:
		t.Shift[s] = f
		ok = k == KindShift
	case func(V128) uint32:
		t.Test[s] = f
		ok = k == KindTest
	case func(uint64) V128:
		t.Splat[s] = f
		ok = k == KindSplat
	case func(V128, uint32) uint64:
		t.Extract[s] = f
		ok = k == KindExtract
	case func(V128, uint32, uint64) V128:
		t.Replace[s] = f
		ok = k == KindReplace
	case func([]byte) V128:
		t.Load[s] = f
		ok = k == KindLoad
	case func(V128, uint32, []byte) V128:
		t.LoadLane[s] = f
		ok = k == KindLoadLane
	case func(V128, []byte):
		t.Store[s] = f
		ok = k == KindStore
	case func(V128, uint32, []byte):
		t.StoreLane[s] = f
		ok = k == KindStoreLane
	default:
		ok = false
	}
	if !ok {
		panic(fmt.Sprintf("v128: %v: function %T does not fit kind %d", op, fn, k))
	}
}

// memSizes are the bytes accessed by each memory instruction.
var memSizes = map[wasm.Opcode]uint8{
	wasm.OpV128Load: 16, wasm.OpV128Store: 16,
	wasm.OpV128Load8x8S: 8, wasm.OpV128Load8x8U: 8, wasm.OpV128Load16x4S: 8,
	wasm.OpV128Load16x4U: 8, wasm.OpV128Load32x2S: 8, wasm.OpV128Load32x2U: 8,
	wasm.OpV128Load8Splat: 1, wasm.OpV128Load16Splat: 2, wasm.OpV128Load32Splat: 4, wasm.OpV128Load64Splat: 8,
	wasm.OpV128Load32Zero: 4, wasm.OpV128Load64Zero: 8,
	wasm.OpV128Load8Lane: 1, wasm.OpV128Load16Lane: 2, wasm.OpV128Load32Lane: 4, wasm.OpV128Load64Lane: 8,
	wasm.OpV128Store8Lane: 1, wasm.OpV128Store16Lane: 2, wasm.OpV128Store32Lane: 4, wasm.OpV128Store64Lane: 8,
}

var portable = buildPortable()

// Portable returns a fresh copy of the portable table: every entry is this
// package's reference implementation. The caller may replace entries.
func Portable() *Table {
	t := *portable
	return &t
}

func buildPortable() *Table {
	t := new(Table)
	t.set(wasm.OpV128Load, KindLoad, Load)
	t.set(wasm.OpV128Load8x8S, KindLoad, Load8x8S)
	t.set(wasm.OpV128Load8x8U, KindLoad, Load8x8U)
	t.set(wasm.OpV128Load16x4S, KindLoad, Load16x4S)
	t.set(wasm.OpV128Load16x4U, KindLoad, Load16x4U)
	t.set(wasm.OpV128Load32x2S, KindLoad, Load32x2S)
	t.set(wasm.OpV128Load32x2U, KindLoad, Load32x2U)
	t.set(wasm.OpV128Load8Splat, KindLoad, Load8Splat)
	t.set(wasm.OpV128Load16Splat, KindLoad, Load16Splat)
	t.set(wasm.OpV128Load32Splat, KindLoad, Load32Splat)
	t.set(wasm.OpV128Load64Splat, KindLoad, Load64Splat)
	t.set(wasm.OpV128Store, KindStore, Store)
	t.kinds[sub(wasm.OpV128Const)] = KindConst
	t.set(wasm.OpI8x16Shuffle, KindShuffle, Shuffle)
	t.set(wasm.OpI8x16Swizzle, KindBinary, Swizzle)
	t.set(wasm.OpI8x16Splat, KindSplat, I8x16Splat)
	t.set(wasm.OpI16x8Splat, KindSplat, I16x8Splat)
	t.set(wasm.OpI32x4Splat, KindSplat, I32x4Splat)
	t.set(wasm.OpI64x2Splat, KindSplat, I64x2Splat)
	t.set(wasm.OpF32x4Splat, KindSplat, I32x4Splat)
	t.set(wasm.OpF64x2Splat, KindSplat, I64x2Splat)
	t.set(wasm.OpI8x16ExtractLaneS, KindExtract, I8x16ExtractLaneS)
	t.set(wasm.OpI8x16ExtractLaneU, KindExtract, I8x16ExtractLaneU)
	t.set(wasm.OpI8x16ReplaceLane, KindReplace, I8x16ReplaceLane)
	t.set(wasm.OpI16x8ExtractLaneS, KindExtract, I16x8ExtractLaneS)
	t.set(wasm.OpI16x8ExtractLaneU, KindExtract, I16x8ExtractLaneU)
	t.set(wasm.OpI16x8ReplaceLane, KindReplace, I16x8ReplaceLane)
	t.set(wasm.OpI32x4ExtractLane, KindExtract, I32x4ExtractLane)
	t.set(wasm.OpI32x4ReplaceLane, KindReplace, I32x4ReplaceLane)
	t.set(wasm.OpI64x2ExtractLane, KindExtract, I64x2ExtractLane)
	t.set(wasm.OpI64x2ReplaceLane, KindReplace, I64x2ReplaceLane)
	t.set(wasm.OpF32x4ExtractLane, KindExtract, I32x4ExtractLane)
	t.set(wasm.OpF32x4ReplaceLane, KindReplace, I32x4ReplaceLane)
	t.set(wasm.OpF64x2ExtractLane, KindExtract, I64x2ExtractLane)
	t.set(wasm.OpF64x2ReplaceLane, KindReplace, I64x2ReplaceLane)
	t.set(wasm.OpI8x16Eq, KindBinary, I8x16Eq)
	t.set(wasm.OpI8x16Ne, KindBinary, I8x16Ne)
	t.set(wasm.OpI8x16LtS, KindBinary, I8x16LtS)
	t.set(wasm.OpI8x16LtU, KindBinary, I8x16LtU)
	t.set(wasm.OpI8x16GtS, KindBinary, I8x16GtS)
	t.set(wasm.OpI8x16GtU, KindBinary, I8x16GtU)
	t.set(wasm.OpI8x16LeS, KindBinary, I8x16LeS)
	t.set(wasm.OpI8x16LeU, KindBinary, I8x16LeU)
	t.set(wasm.OpI8x16GeS, KindBinary, I8x16GeS)
	t.set(wasm.OpI8x16GeU, KindBinary, I8x16GeU)
	t.set(wasm.OpI16x8Eq, KindBinary, I16x8Eq)
	t.set(wasm.OpI16x8Ne, KindBinary, I16x8Ne)
	t.set(wasm.OpI16x8LtS, KindBinary, I16x8LtS)
	t.set(wasm.OpI16x8LtU, KindBinary, I16x8LtU)
	t.set(wasm.OpI16x8GtS, KindBinary, I16x8GtS)
	t.set(wasm.OpI16x8GtU, KindBinary, I16x8GtU)
	t.set(wasm.OpI16x8LeS, KindBinary, I16x8LeS)
	t.set(wasm.OpI16x8LeU, KindBinary, I16x8LeU)
	t.set(wasm.OpI16x8GeS, KindBinary, I16x8GeS)
	t.set(wasm.OpI16x8GeU, KindBinary, I16x8GeU)
	t.set(wasm.OpI32x4Eq, KindBinary, I32x4Eq)
	t.set(wasm.OpI32x4Ne, KindBinary, I32x4Ne)
	t.set(wasm.OpI32x4LtS, KindBinary, I32x4LtS)
	t.set(wasm.OpI32x4LtU, KindBinary, I32x4LtU)
	t.set(wasm.OpI32x4GtS, KindBinary, I32x4GtS)
	t.set(wasm.OpI32x4GtU, KindBinary, I32x4GtU)
	t.set(wasm.OpI32x4LeS, KindBinary, I32x4LeS)
	t.set(wasm.OpI32x4LeU, KindBinary, I32x4LeU)
	t.set(wasm.OpI32x4GeS, KindBinary, I32x4GeS)
	t.set(wasm.OpI32x4GeU, KindBinary, I32x4GeU)
	t.set(wasm.OpF32x4Eq, KindBinary, F32x4Eq)
	t.set(wasm.OpF32x4Ne, KindBinary, F32x4Ne)
	t.set(wasm.OpF32x4Lt, KindBinary, F32x4Lt)
	t.set(wasm.OpF32x4Gt, KindBinary, F32x4Gt)
	t.set(wasm.OpF32x4Le, KindBinary, F32x4Le)
	t.set(wasm.OpF32x4Ge, KindBinary, F32x4Ge)
	t.set(wasm.OpF64x2Eq, KindBinary, F64x2Eq)
	t.set(wasm.OpF64x2Ne, KindBinary, F64x2Ne)
	t.set(wasm.OpF64x2Lt, KindBinary, F64x2Lt)
	t.set(wasm.OpF64x2Gt, KindBinary, F64x2Gt)
	t.set(wasm.OpF64x2Le, KindBinary, F64x2Le)
	t.set(wasm.OpF64x2Ge, KindBinary, F64x2Ge)
	t.set(wasm.OpV128Not, KindUnary, Not)
	t.set(wasm.OpV128And, KindBinary, And)
	t.set(wasm.OpV128Andnot, KindBinary, AndNot)
	t.set(wasm.OpV128Or, KindBinary, Or)
	t.set(wasm.OpV128Xor, KindBinary, Xor)
	t.set(wasm.OpV128Bitselect, KindTernary, Bitselect)
	t.set(wasm.OpV128AnyTrue, KindTest, AnyTrue)
	t.set(wasm.OpV128Load8Lane, KindLoadLane, Load8Lane)
	t.set(wasm.OpV128Load16Lane, KindLoadLane, Load16Lane)
	t.set(wasm.OpV128Load32Lane, KindLoadLane, Load32Lane)
	t.set(wasm.OpV128Load64Lane, KindLoadLane, Load64Lane)
	t.set(wasm.OpV128Store8Lane, KindStoreLane, Store8Lane)
	t.set(wasm.OpV128Store16Lane, KindStoreLane, Store16Lane)
	t.set(wasm.OpV128Store32Lane, KindStoreLane, Store32Lane)
	t.set(wasm.OpV128Store64Lane, KindStoreLane, Store64Lane)
	t.set(wasm.OpV128Load32Zero, KindLoad, Load32Zero)
	t.set(wasm.OpV128Load64Zero, KindLoad, Load64Zero)
	t.set(wasm.OpF32x4DemoteF64x2Zero, KindUnary, F32x4DemoteF64x2Zero)
	t.set(wasm.OpF64x2PromoteLowF32x4, KindUnary, F64x2PromoteLowF32x4)
	t.set(wasm.OpI8x16Abs, KindUnary, I8x16Abs)
	t.set(wasm.OpI8x16Neg, KindUnary, I8x16Neg)
	t.set(wasm.OpI8x16Popcnt, KindUnary, I8x16Popcnt)
	t.set(wasm.OpI8x16AllTrue, KindTest, I8x16AllTrue)
	t.set(wasm.OpI8x16Bitmask, KindTest, I8x16Bitmask)
	t.set(wasm.OpI8x16NarrowI16x8S, KindBinary, I8x16NarrowI16x8S)
	t.set(wasm.OpI8x16NarrowI16x8U, KindBinary, I8x16NarrowI16x8U)
	t.set(wasm.OpF32x4Ceil, KindUnary, F32x4Ceil)
	t.set(wasm.OpF32x4Floor, KindUnary, F32x4Floor)
	t.set(wasm.OpF32x4Trunc, KindUnary, F32x4Trunc)
	t.set(wasm.OpF32x4Nearest, KindUnary, F32x4Nearest)
	t.set(wasm.OpI8x16Shl, KindShift, I8x16Shl)
	t.set(wasm.OpI8x16ShrS, KindShift, I8x16ShrS)
	t.set(wasm.OpI8x16ShrU, KindShift, I8x16ShrU)
	t.set(wasm.OpI8x16Add, KindBinary, I8x16Add)
	t.set(wasm.OpI8x16AddSatS, KindBinary, I8x16AddSatS)
	t.set(wasm.OpI8x16AddSatU, KindBinary, I8x16AddSatU)
	t.set(wasm.OpI8x16Sub, KindBinary, I8x16Sub)
	t.set(wasm.OpI8x16SubSatS, KindBinary, I8x16SubSatS)
	t.set(wasm.OpI8x16SubSatU, KindBinary, I8x16SubSatU)
	t.set(wasm.OpF64x2Ceil, KindUnary, F64x2Ceil)
	t.set(wasm.OpF64x2Floor, KindUnary, F64x2Floor)
	t.set(wasm.OpI8x16MinS, KindBinary, I8x16MinS)
	t.set(wasm.OpI8x16MinU, KindBinary, I8x16MinU)
	t.set(wasm.OpI8x16MaxS, KindBinary, I8x16MaxS)
	t.set(wasm.OpI8x16MaxU, KindBinary, I8x16MaxU)
	t.set(wasm.OpF64x2Trunc, KindUnary, F64x2Trunc)
	t.set(wasm.OpI8x16AvgrU, KindBinary, I8x16AvgrU)
	t.set(wasm.OpI16x8ExtaddPairwiseI8x16S, KindUnary, I16x8ExtaddPairwiseI8x16S)
	t.set(wasm.OpI16x8ExtaddPairwiseI8x16U, KindUnary, I16x8ExtaddPairwiseI8x16U)
	t.set(wasm.OpI32x4ExtaddPairwiseI16x8S, KindUnary, I32x4ExtaddPairwiseI16x8S)
	t.set(wasm.OpI32x4ExtaddPairwiseI16x8U, KindUnary, I32x4ExtaddPairwiseI16x8U)
	t.set(wasm.OpI16x8Abs, KindUnary, I16x8Abs)
	t.set(wasm.OpI16x8Neg, KindUnary, I16x8Neg)
	t.set(wasm.OpI16x8Q15mulrSatS, KindBinary, I16x8Q15mulrSatS)
	t.set(wasm.OpI16x8AllTrue, KindTest, I16x8AllTrue)
	t.set(wasm.OpI16x8Bitmask, KindTest, I16x8Bitmask)
	t.set(wasm.OpI16x8NarrowI32x4S, KindBinary, I16x8NarrowI32x4S)
	t.set(wasm.OpI16x8NarrowI32x4U, KindBinary, I16x8NarrowI32x4U)
	t.set(wasm.OpI16x8ExtendLowI8x16S, KindUnary, I16x8ExtendLowI8x16S)
	t.set(wasm.OpI16x8ExtendHighI8x16S, KindUnary, I16x8ExtendHighI8x16S)
	t.set(wasm.OpI16x8ExtendLowI8x16U, KindUnary, I16x8ExtendLowI8x16U)
	t.set(wasm.OpI16x8ExtendHighI8x16U, KindUnary, I16x8ExtendHighI8x16U)
	t.set(wasm.OpI16x8Shl, KindShift, I16x8Shl)
	t.set(wasm.OpI16x8ShrS, KindShift, I16x8ShrS)
	t.set(wasm.OpI16x8ShrU, KindShift, I16x8ShrU)
	t.set(wasm.OpI16x8Add, KindBinary, I16x8Add)
	t.set(wasm.OpI16x8AddSatS, KindBinary, I16x8AddSatS)
	t.set(wasm.OpI16x8AddSatU, KindBinary, I16x8AddSatU)
	t.set(wasm.OpI16x8Sub, KindBinary, I16x8Sub)
	t.set(wasm.OpI16x8SubSatS, KindBinary, I16x8SubSatS)
	t.set(wasm.OpI16x8SubSatU, KindBinary, I16x8SubSatU)
	t.set(wasm.OpF64x2Nearest, KindUnary, F64x2Nearest)
	t.set(wasm.OpI16x8Mul, KindBinary, I16x8Mul)
	t.set(wasm.OpI16x8MinS, KindBinary, I16x8MinS)
	t.set(wasm.OpI16x8MinU, KindBinary, I16x8MinU)
	t.set(wasm.OpI16x8MaxS, KindBinary, I16x8MaxS)
	t.set(wasm.OpI16x8MaxU, KindBinary, I16x8MaxU)
	t.set(wasm.OpI16x8AvgrU, KindBinary, I16x8AvgrU)
	t.set(wasm.OpI16x8ExtmulLowI8x16S, KindBinary, I16x8ExtmulLowI8x16S)
	t.set(wasm.OpI16x8ExtmulHighI8x16S, KindBinary, I16x8ExtmulHighI8x16S)
	t.set(wasm.OpI16x8ExtmulLowI8x16U, KindBinary, I16x8ExtmulLowI8x16U)
	t.set(wasm.OpI16x8ExtmulHighI8x16U, KindBinary, I16x8ExtmulHighI8x16U)
	t.set(wasm.OpI32x4Abs, KindUnary, I32x4Abs)
	t.set(wasm.OpI32x4Neg, KindUnary, I32x4Neg)
	t.set(wasm.OpI32x4AllTrue, KindTest, I32x4AllTrue)
	t.set(wasm.OpI32x4Bitmask, KindTest, I32x4Bitmask)
	t.set(wasm.OpI32x4ExtendLowI16x8S, KindUnary, I32x4ExtendLowI16x8S)
	t.set(wasm.OpI32x4ExtendHighI16x8S, KindUnary, I32x4ExtendHighI16x8S)
	t.set(wasm.OpI32x4ExtendLowI16x8U, KindUnary, I32x4ExtendLowI16x8U)
	t.set(wasm.OpI32x4ExtendHighI16x8U, KindUnary, I32x4ExtendHighI16x8U)
	t.set(wasm.OpI32x4Shl, KindShift, I32x4Shl)
	t.set(wasm.OpI32x4ShrS, KindShift, I32x4ShrS)
	t.set(wasm.OpI32x4ShrU, KindShift, I32x4ShrU)
	t.set(wasm.OpI32x4Add, KindBinary, I32x4Add)
	t.set(wasm.OpI32x4Sub, KindBinary, I32x4Sub)
	t.set(wasm.OpI32x4Mul, KindBinary, I32x4Mul)
	t.set(wasm.OpI32x4MinS, KindBinary, I32x4MinS)
	t.set(wasm.OpI32x4MinU, KindBinary, I32x4MinU)
	t.set(wasm.OpI32x4MaxS, KindBinary, I32x4MaxS)
	t.set(wasm.OpI32x4MaxU, KindBinary, I32x4MaxU)
	t.set(wasm.OpI32x4DotI16x8S, KindBinary, I32x4DotI16x8S)
	t.set(wasm.OpI32x4ExtmulLowI16x8S, KindBinary, I32x4ExtmulLowI16x8S)
	t.set(wasm.OpI32x4ExtmulHighI16x8S, KindBinary, I32x4ExtmulHighI16x8S)
	t.set(wasm.OpI32x4ExtmulLowI16x8U, KindBinary, I32x4ExtmulLowI16x8U)
	t.set(wasm.OpI32x4ExtmulHighI16x8U, KindBinary, I32x4ExtmulHighI16x8U)
	t.set(wasm.OpI64x2Abs, KindUnary, I64x2Abs)
	t.set(wasm.OpI64x2Neg, KindUnary, I64x2Neg)
	t.set(wasm.OpI64x2AllTrue, KindTest, I64x2AllTrue)
	t.set(wasm.OpI64x2Bitmask, KindTest, I64x2Bitmask)
	t.set(wasm.OpI64x2ExtendLowI32x4S, KindUnary, I64x2ExtendLowI32x4S)
	t.set(wasm.OpI64x2ExtendHighI32x4S, KindUnary, I64x2ExtendHighI32x4S)
	t.set(wasm.OpI64x2ExtendLowI32x4U, KindUnary, I64x2ExtendLowI32x4U)
	t.set(wasm.OpI64x2ExtendHighI32x4U, KindUnary, I64x2ExtendHighI32x4U)
	t.set(wasm.OpI64x2Shl, KindShift, I64x2Shl)
	t.set(wasm.OpI64x2ShrS, KindShift, I64x2ShrS)
	t.set(wasm.OpI64x2ShrU, KindShift, I64x2ShrU)
	t.set(wasm.OpI64x2Add, KindBinary, I64x2Add)
	t.set(wasm.OpI64x2Sub, KindBinary, I64x2Sub)
	t.set(wasm.OpI64x2Mul, KindBinary, I64x2Mul)
	t.set(wasm.OpI64x2Eq, KindBinary, I64x2Eq)
	t.set(wasm.OpI64x2Ne, KindBinary, I64x2Ne)
	t.set(wasm.OpI64x2LtS, KindBinary, I64x2LtS)
	t.set(wasm.OpI64x2GtS, KindBinary, I64x2GtS)
	t.set(wasm.OpI64x2LeS, KindBinary, I64x2LeS)
	t.set(wasm.OpI64x2GeS, KindBinary, I64x2GeS)
	t.set(wasm.OpI64x2ExtmulLowI32x4S, KindBinary, I64x2ExtmulLowI32x4S)
	t.set(wasm.OpI64x2ExtmulHighI32x4S, KindBinary, I64x2ExtmulHighI32x4S)
	t.set(wasm.OpI64x2ExtmulLowI32x4U, KindBinary, I64x2ExtmulLowI32x4U)
	t.set(wasm.OpI64x2ExtmulHighI32x4U, KindBinary, I64x2ExtmulHighI32x4U)
	t.set(wasm.OpF32x4Abs, KindUnary, F32x4Abs)
	t.set(wasm.OpF32x4Neg, KindUnary, F32x4Neg)
	t.set(wasm.OpF32x4Sqrt, KindUnary, F32x4Sqrt)
	t.set(wasm.OpF32x4Add, KindBinary, F32x4Add)
	t.set(wasm.OpF32x4Sub, KindBinary, F32x4Sub)
	t.set(wasm.OpF32x4Mul, KindBinary, F32x4Mul)
	t.set(wasm.OpF32x4Div, KindBinary, F32x4Div)
	t.set(wasm.OpF32x4Min, KindBinary, F32x4Min)
	t.set(wasm.OpF32x4Max, KindBinary, F32x4Max)
	t.set(wasm.OpF32x4Pmin, KindBinary, F32x4Pmin)
	t.set(wasm.OpF32x4Pmax, KindBinary, F32x4Pmax)
	t.set(wasm.OpF64x2Abs, KindUnary, F64x2Abs)
	t.set(wasm.OpF64x2Neg, KindUnary, F64x2Neg)
	t.set(wasm.OpF64x2Sqrt, KindUnary, F64x2Sqrt)
	t.set(wasm.OpF64x2Add, KindBinary, F64x2Add)
	t.set(wasm.OpF64x2Sub, KindBinary, F64x2Sub)
	t.set(wasm.OpF64x2Mul, KindBinary, F64x2Mul)
	t.set(wasm.OpF64x2Div, KindBinary, F64x2Div)
	t.set(wasm.OpF64x2Min, KindBinary, F64x2Min)
	t.set(wasm.OpF64x2Max, KindBinary, F64x2Max)
	t.set(wasm.OpF64x2Pmin, KindBinary, F64x2Pmin)
	t.set(wasm.OpF64x2Pmax, KindBinary, F64x2Pmax)
	t.set(wasm.OpI32x4TruncSatF32x4S, KindUnary, I32x4TruncSatF32x4S)
	t.set(wasm.OpI32x4TruncSatF32x4U, KindUnary, I32x4TruncSatF32x4U)
	t.set(wasm.OpF32x4ConvertI32x4S, KindUnary, F32x4ConvertI32x4S)
	t.set(wasm.OpF32x4ConvertI32x4U, KindUnary, F32x4ConvertI32x4U)
	t.set(wasm.OpI32x4TruncSatF64x2SZero, KindUnary, I32x4TruncSatF64x2SZero)
	t.set(wasm.OpI32x4TruncSatF64x2UZero, KindUnary, I32x4TruncSatF64x2UZero)
	t.set(wasm.OpF64x2ConvertLowI32x4S, KindUnary, F64x2ConvertLowI32x4S)
	t.set(wasm.OpF64x2ConvertLowI32x4U, KindUnary, F64x2ConvertLowI32x4U)
	for op, n := range memSizes {
		t.size[sub(op)] = n
	}
	return t
}

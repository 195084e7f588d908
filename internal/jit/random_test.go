package jit

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestDifferentialRandomIntegerExpressions compiles random expression trees
// of every integer operator (immediate and compare-and-branch forms arise
// from constants and ifs), with edge constants and arguments, and checks
// that compiled code and the interpreter agree on results and traps.
// FERRY_JIT_SEED picks another seed.
func TestDifferentialRandomIntegerExpressions(t *testing.T) {
	seed := uint64(11)
	if s := os.Getenv("FERRY_JIT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seed = v
	}
	g := &exprGen{r: rand.New(rand.NewPCG(seed, 1))}
	const funcs = 150
	var src strings.Builder
	src.WriteString("(module (memory 1)\n")
	for i := range funcs {
		ty := "i32"
		if i%2 == 1 {
			ty = "i64"
		}
		fmt.Fprintf(&src, "(func (export \"f%d\") (param i32 i32 i64 i64) (result %s) %s)\n", i, ty, g.expr(ty, 5))
	}
	src.WriteString(")")
	m := loadWat(t, src.String())
	alloc := newAlloc()
	compared := 0
	for i := range funcs {
		name := fmt.Sprintf("f%d", i)
		code := compileExport(t, m, name, alloc)
		idx, _ := m.exportedFunc(name)
		for range 12 {
			args := []uint64{uint64(uint32(g.edge32())), uint64(uint32(g.edge32())), uint64(g.edge64()), uint64(g.edge64())}
			want, wantInst, wantErr := interpCall(m, name, args)
			inst, err := m.instance()
			if err != nil || wantInst == nil {
				t.Fatal(err)
			}
			got, gotErr := newRunner(inst, 3).call(code, m.ir[idx], args, 2)
			compared++
			if !sameOutcome(want, wantErr, got, gotErr) {
				t.Fatalf("seed %d, %s%v: interpreter %v, %v; compiled %v, %v\n%s", seed, name, args, want, wantErr, got, gotErr, funcSource(src.String(), i))
			}
			if d := stateDiff(wantInst, inst); d != "" {
				t.Fatalf("seed %d, %s%v: %s differs\n%s", seed, name, args, d, funcSource(src.String(), i))
			}
		}
	}
	t.Logf("%d calls compared", compared)
}

func funcSource(src string, i int) string {
	lines := strings.Split(src, "\n")
	if i+1 < len(lines) {
		return lines[i+1]
	}
	return ""
}

type exprGen struct{ r *rand.Rand }

var edges32 = []int32{0, 1, -1, 2, -2, 31, 32, 33, 63, 64, 65, 0x7fffffff, -0x80000000, 0x7ffffffe, -0x7fffffff, 0xff, 0xffff, 0x10000, 65532, 65535, 12345, -12345}
var edges64 = []int64{0, 1, -1, 2, -2, 31, 32, 63, 64, 65, 127, 0x7fffffff, -0x80000000, 0xffffffff, 0x100000000, 0x7fffffffffffffff, -0x8000000000000000, -0x7fffffffffffffff, 65535, 123456789012345}

func (g *exprGen) edge32() int32 {
	if g.r.IntN(4) == 0 {
		return int32(g.r.Uint32())
	}
	return edges32[g.r.IntN(len(edges32))]
}

func (g *exprGen) edge64() int64 {
	switch g.r.IntN(5) {
	case 0:
		return int64(g.r.Uint64())
	case 1:
		return int64(g.edge32())
	}
	return edges64[g.r.IntN(len(edges64))]
}

var (
	binOps = []string{"add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor", "shl", "shr_s", "shr_u", "rotl", "rotr"}
	cmpOps = []string{"eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"}
)

// expr returns a random expression of type ty (i32 or i64).
func (g *exprGen) expr(ty string, depth int) string {
	if depth == 0 || g.r.IntN(6) == 0 {
		return g.leaf(ty)
	}
	d := depth - 1
	other := "i64"
	if ty == "i64" {
		other = "i32"
	}
	switch g.r.IntN(14) {
	case 0, 1, 2, 3:
		return fmt.Sprintf("(%s.%s %s %s)", ty, binOps[g.r.IntN(len(binOps))], g.expr(ty, d), g.expr(ty, d))
	case 4:
		// The immediate forms: a constant right operand.
		return fmt.Sprintf("(%s.%s %s %s)", ty, binOps[g.r.IntN(len(binOps))], g.expr(ty, d), g.constant(ty))
	case 5:
		t := []string{"i32", "i64"}[g.r.IntN(2)]
		cmp := fmt.Sprintf("(%s.%s %s %s)", t, cmpOps[g.r.IntN(len(cmpOps))], g.expr(t, d), g.expr(t, d))
		return g.widen(ty, cmp)
	case 6:
		u := []string{"clz", "ctz", "popcnt", "eqz", "extend8_s", "extend16_s"}[g.r.IntN(6)]
		e := fmt.Sprintf("(%s.%s %s)", ty, u, g.expr(ty, d))
		if u == "eqz" {
			return g.widen(ty, e)
		}
		return e
	case 7:
		if ty == "i32" {
			return fmt.Sprintf("(i32.wrap_i64 %s)", g.expr(other, d))
		}
		s := []string{"s", "u"}[g.r.IntN(2)]
		if g.r.IntN(2) == 0 {
			return fmt.Sprintf("(i64.extend32_s %s)", g.expr(ty, d))
		}
		return fmt.Sprintf("(i64.extend_i32_%s %s)", s, g.expr(other, d))
	case 8:
		return fmt.Sprintf("(select %s %s %s)", g.expr(ty, d), g.expr(ty, d), g.expr("i32", d))
	case 9:
		// if/else on a comparison: the compare-and-branch forms.
		t := []string{"i32", "i64"}[g.r.IntN(2)]
		rhs := g.expr(t, d)
		if g.r.IntN(2) == 0 {
			rhs = g.constant(t)
		}
		return fmt.Sprintf("(if (result %s) (%s.%s %s %s) (then %s) (else %s))", ty, t, cmpOps[g.r.IntN(len(cmpOps))], g.expr(t, d), rhs, g.expr(ty, d), g.expr(ty, d))
	case 10:
		// A load near the end of memory: in bounds or a trap.
		w := map[string][]string{"i32": {"load", "load8_s", "load8_u", "load16_s", "load16_u"}, "i64": {"load", "load8_s", "load16_u", "load32_s", "load32_u"}}[ty]
		return fmt.Sprintf("(%s.%s offset=%d %s)", ty, w[g.r.IntN(len(w))], g.r.IntN(8), g.address(d))
	case 11:
		// A store, then the stored value read back.
		return fmt.Sprintf("(block (result %s) (%s.store offset=%d %s %s) (%s.load %s))", ty, ty, g.r.IntN(4), g.address(d), g.expr(ty, d), ty, g.address(0))
	case 12:
		// A small loop: a counter from an edge value, masked to stay short.
		return fmt.Sprintf("(block (result %s) (local.set 1 (i32.and %s (i32.const 15))) (loop $l (local.set 0 (i32.add (local.get 0) (i32.const 3))) (br_if $l (i32.gt_s (local.tee 1 (i32.sub (local.get 1) (i32.const 1))) (i32.const 0)))) %s)", ty, g.expr("i32", d), g.leaf(ty))
	default:
		return fmt.Sprintf("(%s.%s %s %s)", ty, binOps[g.r.IntN(len(binOps))], g.expr(ty, d), g.expr(ty, d))
	}
}

// address is an address expression near the end of the 64 KiB memory or
// near 0.
func (g *exprGen) address(d int) string {
	switch g.r.IntN(3) {
	case 0:
		return fmt.Sprintf("(i32.const %d)", 65536-g.r.IntN(16))
	case 1:
		return fmt.Sprintf("(i32.and %s (i32.const 0xffff))", g.expr("i32", d))
	}
	return fmt.Sprintf("(i32.const %d)", g.r.IntN(64))
}

func (g *exprGen) widen(ty, i32expr string) string {
	if ty == "i64" {
		return fmt.Sprintf("(i64.extend_i32_u %s)", i32expr)
	}
	return i32expr
}

func (g *exprGen) constant(ty string) string {
	if ty == "i32" {
		return fmt.Sprintf("(i32.const %d)", g.edge32())
	}
	return fmt.Sprintf("(i64.const %d)", g.edge64())
}

func (g *exprGen) leaf(ty string) string {
	if g.r.IntN(3) == 0 {
		return g.constant(ty)
	}
	if ty == "i32" {
		return fmt.Sprintf("(local.get %d)", g.r.IntN(2))
	}
	return fmt.Sprintf("(local.get %d)", 2+g.r.IntN(2))
}

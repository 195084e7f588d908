package amd64asm

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/cpu"
	"golang.org/x/arch/x86/x86asm"
)

// canon reduces AT&T text to a form both llvm-mc's input syntax and
// x86asm's GNU syntax print the same way: no spaces, and the operand-size
// suffixes and spellings that differ between the two tools removed.
func canon(s string) (op, args string) {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	op, args, _ = strings.Cut(s, " ")
	if op == "rep" {
		var str string
		str, args, _ = strings.Cut(args, " ")
		op += " " + str
	}
	args = strings.ReplaceAll(args, " ", "")
	args = strings.ReplaceAll(args, "%ds:", "")
	args = decimalImm.ReplaceAllStringFunc(args, func(d string) string {
		v, _ := strconv.ParseInt(d[1:], 10, 64)
		return "$" + hexs(v)
	})
	// x86asm spells RSP-and-R12-based SIB bytes with an explicit "no
	// index" register and writes out scale 1; the shift-by-one form has no
	// immediate operand.
	args = strings.ReplaceAll(args, ",%riz", "")
	args = strings.ReplaceAll(args, ",1)", ")")
	if r, ok := mnemonicAlias[op]; ok {
		op = r
	}
	// x86asm names CMPSS/CMPSD by predicate (cmpltss); put it back as the
	// immediate llvm-mc was given.
	if m := cmpAlias.FindStringSubmatch(op); m != nil {
		op = "cmp" + m[2]
		args = "$" + hexs(int64(cmpPreds[m[1]])) + "," + args
	}
	if shiftOps[op] || len(op) > 1 && shiftOps[op[:len(op)-1]] {
		args = strings.TrimPrefix(args, "$0x1,")
	}
	return op, args
}

var cmpAlias = regexp.MustCompile(`^cmp(eq|lt|le|unord|neq|nlt|nle|ord)(ss|sd)$`)

var cmpPreds = map[string]CmpPred{"eq": CmpEQ, "lt": CmpLT, "le": CmpLE, "unord": CmpUNORD,
	"neq": CmpNEQ, "nlt": CmpNLT, "nle": CmpNLE, "ord": CmpORD}

var decimalImm = regexp.MustCompile(`\$-?[0-9]+\b`)

var mnemonicAlias = map[string]string{"movslq": "movsxd", "movabsq": "movq"}

var shiftOps = map[string]bool{"rol": true, "ror": true, "shl": true, "shr": true, "sar": true}

// sameMnemonic accepts the AT&T operand-size suffix llvm-mc needs and
// x86asm leaves out when the operands already say the size.
func sameMnemonic(att, gnu string) bool {
	if att == gnu {
		return true
	}
	for _, s := range []string{"b", "w", "l", "q"} {
		if att == gnu+s || gnu == att+s {
			return true
		}
	}
	return false
}

// TestRoundTrip decodes every encoded form with golang.org/x/arch's
// x86asm, an independent decoder, and checks that it consumes exactly the
// encoded bytes and prints the same mnemonic and operands.
func TestRoundTrip(t *testing.T) {
	var a Asm
	bad := 0
	cases := allCases()
	for _, c := range cases {
		a.Reset()
		c.emit(&a)
		code, err := a.Finish()
		if err != nil {
			t.Fatalf("%s: %v", c.att, err)
		}
		if inst, err := x86asm.Decode(code, 64); err == nil {
			want := cpu.Set{}
			if f := decodedFeature(inst); f != 0 {
				want = cpu.NewSet(f)
			}
			if a.Features() != want {
				t.Errorf("%s: x86asm's %v needs %v, the encoder records %v", c.att, inst.Op, want, a.Features())
			}
		}
		if msg := roundTrip(code, c.att); msg != "" {
			t.Errorf("%s", msg)
			if bad++; bad > 40 {
				t.Fatal("too many failures")
			}
		}
	}
	t.Logf("%d forms decoded back", len(cases))
}

// roundTrip returns "" when code is one instruction that x86asm decodes
// to att, and what differs otherwise.
func roundTrip(code []byte, att string) string {
	inst, err := x86asm.Decode(code, 64)
	if err != nil {
		return fmt.Sprintf("%s (% x): x86asm: %v", att, code, err)
	}
	if inst.Len != len(code) {
		return fmt.Sprintf("%s (% x): x86asm decoded %d of %d bytes", att, code, inst.Len, len(code))
	}
	gnu := x86asm.GNUSyntax(inst, 0, nil)
	o1, a1 := canon(att)
	o2, a2 := canon(gnu)
	if a1 != a2 || !sameMnemonic(o1, o2) {
		return fmt.Sprintf("%s (% x): x86asm reads %s", att, code, gnu)
	}
	return ""
}

// decodedFeature classifies a decoded instruction independently of the
// encoder's tags: the extension instructions by opcode, anything touching
// an XMM register as sse2, the rest as baseline.
func decodedFeature(inst x86asm.Inst) cpu.Feature {
	switch inst.Op {
	case x86asm.LZCNT:
		return cpu.X86LZCNT
	case x86asm.TZCNT, x86asm.ANDN:
		return cpu.X86BMI1
	case x86asm.SHLX, x86asm.SHRX, x86asm.SARX, x86asm.RORX:
		return cpu.X86BMI2
	case x86asm.POPCNT:
		return cpu.X86POPCNT
	case x86asm.ROUNDSS, x86asm.ROUNDSD:
		return cpu.X86SSE41
	}
	for _, arg := range inst.Args {
		if r, ok := arg.(x86asm.Reg); ok && r >= x86asm.X0 && r <= x86asm.X15 {
			return cpu.X86SSE2
		}
	}
	return 0
}

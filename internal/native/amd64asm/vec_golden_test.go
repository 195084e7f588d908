package amd64asm

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/cpu"
	"golang.org/x/arch/x86/x86asm"
)

// TestWriteVecCases writes the AT&T text of every vector case for
// testdata/gen_vec.sh. It runs only when the script asks for it.
func TestWriteVecCases(t *testing.T) {
	out := os.Getenv("AMD64ASM_WRITE_VEC_CASES")
	if out == "" {
		t.Skip("run by testdata/gen_vec.sh")
	}
	var b strings.Builder
	for _, c := range allVecCases() {
		b.WriteString(c.att + "\n")
	}
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readGoldenFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		att, enc, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("bad golden line %q", line)
		}
		g[att] = enc
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGoldenVec compares every vector form (legacy SSE, VEX and EVEX)
// over its register and addressing sweep with the bytes llvm-mc produced
// for the same AT&T text, and checks the features each records.
func TestGoldenVec(t *testing.T) {
	golden := readGoldenFile(t, "testdata/golden_vec.txt")
	cases := allVecCases()
	if len(golden) < len(cases)*9/10 {
		t.Fatalf("golden file has %d entries for %d cases; rerun testdata/gen_vec.sh", len(golden), len(cases))
	}
	var a Asm
	bad := 0
	for _, c := range cases {
		want, ok := golden[c.att]
		if !ok {
			t.Errorf("%s: no golden encoding; rerun testdata/gen_vec.sh", c.att)
			bad++
			continue
		}
		a.Reset()
		c.emit(&a)
		code, err := a.Finish()
		if err != nil {
			t.Errorf("%s: %v", c.att, err)
			bad++
		} else if got := hex.EncodeToString(code); got != want {
			t.Errorf("%s: got %s, llvm-mc %s", c.att, got, want)
			bad++
		} else if a.Features() != c.feat {
			t.Errorf("%s: features %v, want %v", c.att, a.Features(), c.feat)
			bad++
		}
		if bad > 40 {
			t.Fatal("too many failures")
		}
	}
	t.Logf("%d vector forms checked against llvm-mc", len(cases))
}

// TestRoundTripVec decodes every legacy SSE vector case with x86asm and
// checks it reads back the same instruction. x86asm decodes no VEX vector
// form and no EVEX at all, so those rest on llvm-mc alone (TestGoldenVec)
// and on the prefix decoder of TestVEXAndEVEXFieldsDecodeBack.
func TestRoundTripVec(t *testing.T) {
	var a Asm
	bad, n := 0, 0
	for _, c := range allVecCases() {
		if !c.legacy {
			continue
		}
		a.Reset()
		c.emit(&a)
		code, err := a.Finish()
		if err != nil {
			t.Fatalf("%s: %v", c.att, err)
		}
		n++
		if inst, err := x86asm.Decode(code, 64); err == nil {
			if want := fs(decodedVecFeature(inst, code)); want != c.feat || a.Features() != want {
				t.Errorf("%s: x86asm's %v needs %v, the case says %v, the encoder records %v", c.att, inst.Op, want, c.feat, a.Features())
			}
		}
		if msg := roundTripVec(code, c.att); msg != "" {
			t.Errorf("%s", msg)
			if bad++; bad > 40 {
				t.Fatal("too many failures")
			}
		}
	}
	t.Logf("%d legacy vector forms decoded back", n)
}

// roundTripVec is roundTrip with x86asm's predicate-named CMPPS/CMPPD
// (cmpltps) put back as the immediate llvm-mc was given.
func roundTripVec(code []byte, att string) string {
	inst, err := x86asm.Decode(code, 64)
	if err != nil {
		return fmt.Sprintf("%s (% x): x86asm: %v", att, code, err)
	}
	if inst.Len != len(code) {
		return fmt.Sprintf("%s (% x): x86asm decoded %d of %d bytes", att, code, inst.Len, len(code))
	}
	gnu := x86asm.GNUSyntax(inst, 0, nil)
	o2, a2 := canon(gnu)
	if m := cmpPackedAlias.FindStringSubmatch(o2); m != nil {
		o2 = "cmp" + m[2]
		a2 = "$" + hexs(int64(cmpPreds[m[1]])) + "," + a2
	}
	o1, a1 := canon(att)
	if a1 != a2 || !sameMnemonic(o1, o2) {
		return fmt.Sprintf("%s (% x): x86asm reads %s", att, code, gnu)
	}
	return ""
}

var cmpPackedAlias = regexp.MustCompile(`^cmp(eq|lt|le|unord|neq|nlt|nle|ord)(ps|pd)$`)

// decodedVecFeature classifies a decoded legacy vector instruction by
// the ISA extension that introduced its opcode (SDM volume 2), which
// checks the encoder's tags independently of its tables.
func decodedVecFeature(inst x86asm.Inst, code []byte) cpu.Feature {
	switch inst.Op {
	case x86asm.MOVDDUP, x86asm.MOVSLDUP, x86asm.MOVSHDUP:
		return cpu.X86SSE3
	case x86asm.PSHUFB, x86asm.PABSB, x86asm.PABSW, x86asm.PABSD, x86asm.PMULHRSW, x86asm.PMADDUBSW, x86asm.PALIGNR:
		return cpu.X86SSSE3
	case x86asm.PMULLD, x86asm.PMULDQ, x86asm.PMINSB, x86asm.PMINSD, x86asm.PMINUW, x86asm.PMINUD,
		x86asm.PMAXSB, x86asm.PMAXSD, x86asm.PMAXUW, x86asm.PMAXUD, x86asm.PCMPEQQ, x86asm.PACKUSDW, x86asm.PTEST,
		x86asm.PMOVSXBW, x86asm.PMOVSXBD, x86asm.PMOVSXBQ, x86asm.PMOVSXWD, x86asm.PMOVSXWQ, x86asm.PMOVSXDQ,
		x86asm.PMOVZXBW, x86asm.PMOVZXBD, x86asm.PMOVZXBQ, x86asm.PMOVZXWD, x86asm.PMOVZXWQ, x86asm.PMOVZXDQ,
		x86asm.ROUNDPS, x86asm.ROUNDPD, x86asm.PBLENDW, x86asm.BLENDPS, x86asm.BLENDPD, x86asm.INSERTPS,
		x86asm.PBLENDVB, x86asm.BLENDVPS, x86asm.BLENDVPD,
		x86asm.PEXTRB, x86asm.PEXTRD, x86asm.PEXTRQ, x86asm.PINSRB, x86asm.PINSRD, x86asm.PINSRQ:
		return cpu.X86SSE41
	case x86asm.PEXTRW:
		// SSE2's PEXTRW is 0F C5; SSE4.1 added 0F 3A 15, which can store.
		if bytes.Contains(code, []byte{0x0F, 0x3A, 0x15}) {
			return cpu.X86SSE41
		}
	case x86asm.PCMPGTQ:
		return cpu.X86SSE42
	}
	return cpu.X86SSE2
}

// TestVecEncodingAllocatesNothing: once an Asm's buffers have grown,
// encoding the whole vector corpus again allocates nothing.
func TestVecEncodingAllocatesNothing(t *testing.T) {
	cases := allVecCases()
	var a Asm
	run := func() {
		a.Reset()
		for _, c := range cases {
			c.emit(&a)
		}
		if _, err := a.Finish(); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if n := testing.AllocsPerRun(5, run); n != 0 {
		t.Fatalf("%v allocations per run of %d instructions", n, len(cases))
	}
}

func BenchmarkEncodeVec(b *testing.B) {
	cases := allVecCases()
	var a Asm
	b.ReportAllocs()
	for b.Loop() {
		a.Reset()
		for _, c := range cases {
			c.emit(&a)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(cases)), "ns/instr")
	b.ReportMetric(float64(len(a.Bytes()))/float64(len(cases)), "bytes/instr")
}

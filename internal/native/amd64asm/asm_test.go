package amd64asm

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/cpu"
	"golang.org/x/arch/x86/x86asm"
)

// branchTarget decodes the branch at off and returns its op and target.
func branchTarget(t *testing.T, code []byte, off int) (x86asm.Op, int, int) {
	t.Helper()
	inst, err := x86asm.Decode(code[off:], 64)
	if err != nil {
		t.Fatalf("decode at %d (% x): %v", off, code[off:], err)
	}
	rel, ok := inst.Args[0].(x86asm.Rel)
	if !ok {
		t.Fatalf("at %d: %v has no relative target", off, inst)
	}
	return inst.Op, off + inst.Len + int(rel), inst.Len
}

func TestBranchesReachTheirLabels(t *testing.T) {
	var a Asm
	top, far, fwd, fn := a.NewLabel(), a.NewLabel(), a.NewLabel(), a.NewLabel()
	a.Bind(far)
	for i := 0; i < 70; i++ { // 140 bytes: beyond rel8 from the branches
		a.ALU(ADD, W32, RAX, RCX)
	}
	a.Bind(top)
	a.ALU(SUB, W64, R12, R13)
	type br struct {
		off  int
		op   x86asm.Op
		to   Label
		size int
	}
	var brs []br
	mark := func(op x86asm.Op, to Label, size int) { brs = append(brs, br{a.Offset(), op, to, size}) }
	mark(x86asm.JMP, top, 2)
	a.Jmp(top)
	mark(x86asm.JNE, top, 2)
	a.Jcc(CondNE, top)
	mark(x86asm.JMP, far, 5)
	a.Jmp(far)
	mark(x86asm.JL, far, 6)
	a.Jcc(CondL, far)
	mark(x86asm.JE, fwd, 6)
	a.Jcc(CondE, fwd)
	mark(x86asm.JMP, fwd, 5)
	a.Jmp(fwd)
	mark(x86asm.CALL, fn, 5)
	a.Call(fn)
	mark(x86asm.CALL, top, 5)
	a.Call(top)
	a.Ud2()
	a.Bind(fwd)
	a.Ret()
	a.Bind(fn)
	a.Ret()
	code, err := a.Finish()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range brs {
		op, to, n := branchTarget(t, code, b.off)
		if op != b.op || to != a.LabelOffset(b.to) || n != b.size {
			t.Errorf("branch at %d: %v to %d, %d bytes; want %v to %d, %d bytes", b.off, op, to, n, b.op, a.LabelOffset(b.to), b.size)
		}
	}
}

func TestLeaLabelAndJumpTable(t *testing.T) {
	for _, dst := range []Reg{RAX, R11, RSP, R13} {
		var a Asm
		table, c0, c1 := a.NewLabel(), a.NewLabel(), a.NewLabel()
		a.LeaLabel(dst, table)
		a.MovsxLoad(W64, W32, RAX, MI(dst, RCX, 4, 0))
		a.ALU(ADD, W64, RAX, dst)
		a.JmpReg(RAX)
		a.Align(4)
		a.Bind(table)
		a.TableEntry(c1, table)
		a.TableEntry(c0, table)
		a.Bind(c0)
		a.Ret()
		a.Bind(c1)
		a.Ud2()
		code, err := a.Finish()
		if err != nil {
			t.Fatal(err)
		}
		inst, err := x86asm.Decode(code, 64)
		if err != nil || inst.Op != x86asm.LEA {
			t.Fatalf("% x: %v, %v", code, inst, err)
		}
		m, ok := inst.Args[1].(x86asm.Mem)
		if !ok || m.Base != x86asm.RIP || inst.Args[0] != x86asm.RAX+x86asm.Reg(dst) {
			t.Fatalf("LEA decodes as %v", inst)
		}
		if got := inst.Len + int(m.Disp); got != a.LabelOffset(table) {
			t.Errorf("%v: LEA points at %d, table at %d", dst, got, a.LabelOffset(table))
		}
		tab := a.LabelOffset(table)
		for i, l := range []Label{c1, c0} {
			e := int(int32(binary.LittleEndian.Uint32(code[tab+4*i:])))
			if tab+e != a.LabelOffset(l) {
				t.Errorf("%v: entry %d leads to %d, want %d", dst, i, tab+e, a.LabelOffset(l))
			}
		}
	}
}

func TestJccEveryCondition(t *testing.T) {
	want := [16]x86asm.Op{x86asm.JO, x86asm.JNO, x86asm.JB, x86asm.JAE, x86asm.JE, x86asm.JNE, x86asm.JBE, x86asm.JA,
		x86asm.JS, x86asm.JNS, x86asm.JP, x86asm.JNP, x86asm.JL, x86asm.JGE, x86asm.JLE, x86asm.JG}
	for cc := CondO; cc <= CondG; cc++ {
		for _, back := range []bool{true, false} {
			var a Asm
			l := a.NewLabel()
			if back {
				a.Bind(l)
			}
			a.Jcc(cc, l)
			if !back {
				a.Bind(l)
			}
			code, err := a.Finish()
			if err != nil {
				t.Fatal(err)
			}
			op, to, _ := branchTarget(t, code, 0)
			if op != want[cc] || to != a.LabelOffset(l) {
				t.Errorf("cc %d back=%v: %v to %d", cc, back, op, to)
			}
		}
	}
}

// TestInvalidOperandsAreErrors: every operand the CPU cannot encode (or
// that would silently mean something else) is an ErrInvalid from Finish,
// never a panic and never wrong bytes.
func TestInvalidOperandsAreErrors(t *testing.T) {
	bad := map[string]func(a *Asm){
		"register 16":        func(a *Asm) { a.Mov(W64, 16, RAX) },
		"xmm 16":             func(a *Asm) { a.SSE(ADDSD, X0, 16) },
		"scale 3":            func(a *Asm) { a.Load(W64, RAX, MI(RBX, RCX, 3, 0)) },
		"RSP index":          func(a *Asm) { a.Load(W64, RAX, MI(RBX, RSP, 4, 0)) },
		"base 200":           func(a *Asm) { a.Load(W32, RAX, M(200, 0)) },
		"ALU width 16":       func(a *Asm) { a.ALU(ADD, W16, RAX, RCX) },
		"ALU op 8":           func(a *Asm) { a.ALUImm(8, W32, RAX, 1) },
		"shift 32 of W32":    func(a *Asm) { a.ShiftImm(SHL, W32, RAX, 32) },
		"shift op 2":         func(a *Asm) { a.ShiftCL(2, W32, RAX) },
		"rorx 64":            func(a *Asm) { a.Rorx(W64, RAX, RCX, 64) },
		"movzx from W32":     func(a *Asm) { a.Movzx(W64, W32, RAX, RCX) },
		"movsx W32 into W32": func(a *Asm) { a.Movsx(W32, W32, RAX, RCX) },
		"store width 3":      func(a *Asm) { a.Store(3, M(RAX, 0), RCX) },
		"store8 of 300":      func(a *Asm) { a.StoreImm(W8, M(RAX, 0), 300) },
		"store16 of 70000":   func(a *Asm) { a.StoreImm(W16, M(RAX, 0), 70000) },
		"condition 16":       func(a *Asm) { a.Setcc(16, RAX) },
		"SSE op past end":    func(a *Asm) { a.SSE(sseEnd, X0, X1) },
		"predicate 8":        func(a *Asm) { a.Cmpsd(X0, X1, 8) },
		"rounding mode 0x10": func(a *Asm) { a.Roundsd(X0, X1, 0x10) },
		"label -1":           func(a *Asm) { a.Jmp(-1) },
		"label never made":   func(a *Asm) { a.Bind(3) },
		"label bound twice":  func(a *Asm) { l := a.NewLabel(); a.Bind(l); a.Bind(l) },
		"label never bound":  func(a *Asm) { a.Jmp(a.NewLabel()) },
		"table base unbound": func(a *Asm) { l := a.NewLabel(); a.Bind(l); a.TableEntry(l, a.NewLabel()) },
		"lea of no label":    func(a *Asm) { a.LeaLabel(RAX, 7) },
		"negative padding":   func(a *Asm) { a.Nop(-1) },
		"padding of 1 GiB":   func(a *Asm) { a.Nop(1 << 30) },
		"alignment 24":       func(a *Asm) { a.Align(24) },
	}
	for name, emit := range bad {
		var a Asm
		emit(&a)
		before := len(a.Bytes())
		a.Mov(W64, RAX, RCX) // ignored after an error
		code, err := a.Finish()
		if !errors.Is(err, ErrInvalid) || code != nil {
			t.Errorf("%s: Finish = % x, %v; want ErrInvalid", name, code, err)
		}
		if !strings.Contains(name, "unbound") && name != "label never bound" && len(a.Bytes()) != before {
			t.Errorf("%s: encoding went on after the error", name)
		}
	}
}

func TestNopAndAlignPadWithNops(t *testing.T) {
	for n := 0; n <= 40; n++ {
		var a Asm
		a.Nop(n)
		code, err := a.Finish()
		if err != nil || len(code) != n {
			t.Fatalf("Nop(%d): %d bytes, %v", n, len(code), err)
		}
		for off := 0; off < n; {
			inst, err := x86asm.Decode(code[off:], 64)
			if err != nil || inst.Op != x86asm.NOP {
				t.Fatalf("Nop(%d) at %d: %v, %v", n, off, inst, err)
			}
			if n >= 9 && off+9 <= n && inst.Len != 9 {
				t.Fatalf("Nop(%d) at %d: %d-byte NOP where a 9-byte one fits", n, off, inst.Len)
			}
			off += inst.Len
		}
	}
	var a Asm
	a.ALU(ADD, W64, RAX, RCX)
	a.Align(16)
	l := a.NewLabel()
	a.Bind(l)
	if a.LabelOffset(l) != 16 {
		t.Fatalf("label after Align(16) at %d", a.LabelOffset(l))
	}
	a.Align(16)
	if a.Offset() != 16 {
		t.Fatalf("Align on an aligned offset padded to %d", a.Offset())
	}
}

func TestCodeLargerThanTheLimitIsAnError(t *testing.T) {
	defer func(n int) { maxCodeSize = n }(maxCodeSize)
	maxCodeSize = 64
	var a Asm
	l := a.NewLabel()
	a.Bind(l)
	a.Nop(64)
	if _, err := a.Finish(); err != nil {
		t.Fatalf("64 bytes: %v", err)
	}
	a.Jmp(l)
	if code, err := a.Finish(); !errors.Is(err, ErrInvalid) || code != nil {
		t.Fatalf("66 bytes: % x, %v; want ErrInvalid", code, err)
	}
}

func TestFeaturesAreTheUnionOfWhatWasEmitted(t *testing.T) {
	var a Asm
	a.ALU(ADD, W64, RAX, RCX)
	if !a.Features().IsEmpty() {
		t.Fatalf("plain ALU recorded %v", a.Features())
	}
	a.Lzcnt(W32, RAX, RCX)
	a.Shlx(W64, RAX, RCX, RDX)
	a.Roundsd(X1, X2, RoundFloor)
	a.SSE(ADDSD, X1, X2)
	want := cpu.NewSet(cpu.X86LZCNT, cpu.X86BMI2, cpu.X86SSE41, cpu.X86SSE2)
	if a.Features() != want {
		t.Fatalf("features %v, want %v", a.Features(), want)
	}
	a.Reset()
	if !a.Features().IsEmpty() || a.Offset() != 0 {
		t.Fatalf("Reset kept %v, offset %d", a.Features(), a.Offset())
	}
}

// TestEncodingAllocatesNothing: once an Asm's buffers have grown, encoding
// the whole corpus again allocates nothing.
func TestEncodingAllocatesNothing(t *testing.T) {
	cases := allCases()
	var a Asm
	run := func() {
		a.Reset()
		l := a.NewLabel()
		a.Bind(l)
		for _, c := range cases {
			c.emit(&a)
			a.Jcc(CondNE, l)
		}
		if _, err := a.Finish(); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if n := testing.AllocsPerRun(5, run); n != 0 {
		t.Fatalf("%v allocations per run of %d instructions", n, 2*len(cases))
	}
}

// TestSeparateAsmsAreIndependent: compile goroutines each own an Asm and
// share only the package's read-only tables (run it under -race).
func TestSeparateAsmsAreIndependent(t *testing.T) {
	cases := allCases()
	encode := func() []byte {
		var a Asm
		for _, c := range cases {
			c.emit(&a)
		}
		code, err := a.Finish()
		if err != nil {
			t.Error(err)
		}
		return code
	}
	want := encode()
	done := make(chan []byte)
	for range 4 {
		go func() { done <- encode() }()
	}
	for range 4 {
		if got := <-done; string(got) != string(want) {
			t.Fatal("concurrent encodings differ")
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	cases := allCases()
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

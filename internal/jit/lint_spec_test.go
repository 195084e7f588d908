package jit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"

	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/ir"
	"github.com/ferryvm/ferry/internal/spectest"
)

// The feature lint over the whole corpus (issue 11's acceptance): every
// function of every module of the spec suite (all of its scripts, not the
// differential test's subset) and of the bench programs and kernels is
// compiled for each mask, and every emitted instruction is decoded with
// x86asm and classified by its mnemonic in the table below, written
// apart from the encoder's tags and from lint_test.go's classifier, so
// that a wrong tag in either is caught by the other. The encoder's own
// record, Features(), must be within the mask too.

// mnemonicFeature maps a decoded mnemonic to the CPU feature it needs
// (from the Intel SDM's CPUID columns); a mnemonic not listed is baseline
// x86-64 (SSE2 included) or one the compiler has no reason to emit,
// which the V-prefix and FMA checks catch for the vector extensions.
var mnemonicFeature = map[string]cpu.Feature{
	"LZCNT":  cpu.X86LZCNT,
	"POPCNT": cpu.X86POPCNT,
	"MOVBE":  cpu.X86MOVBE,

	"TZCNT": cpu.X86BMI1, "ANDN": cpu.X86BMI1, "BEXTR": cpu.X86BMI1,
	"BLSI": cpu.X86BMI1, "BLSMSK": cpu.X86BMI1, "BLSR": cpu.X86BMI1,

	"BZHI": cpu.X86BMI2, "MULX": cpu.X86BMI2, "PDEP": cpu.X86BMI2, "PEXT": cpu.X86BMI2,
	"RORX": cpu.X86BMI2, "SARX": cpu.X86BMI2, "SHLX": cpu.X86BMI2, "SHRX": cpu.X86BMI2,

	"ADCX": cpu.X86ADX, "ADOX": cpu.X86ADX,
	"CMPXCHG16B": cpu.X86CX16,
	"LAHF":       cpu.X86LAHF, "SAHF": cpu.X86LAHF,

	"MOVDDUP": cpu.X86SSE3, "MOVSHDUP": cpu.X86SSE3, "MOVSLDUP": cpu.X86SSE3, "LDDQU": cpu.X86SSE3,
	"HADDPS": cpu.X86SSE3, "HADDPD": cpu.X86SSE3, "HSUBPS": cpu.X86SSE3, "HSUBPD": cpu.X86SSE3,
	"ADDSUBPS": cpu.X86SSE3, "ADDSUBPD": cpu.X86SSE3, "FISTTP": cpu.X86SSE3,

	"PSHUFB": cpu.X86SSSE3, "PALIGNR": cpu.X86SSSE3, "PABSB": cpu.X86SSSE3, "PABSW": cpu.X86SSSE3,
	"PABSD": cpu.X86SSSE3, "PHADDW": cpu.X86SSSE3, "PHADDD": cpu.X86SSSE3, "PHADDSW": cpu.X86SSSE3,
	"PHSUBW": cpu.X86SSSE3, "PHSUBD": cpu.X86SSSE3, "PHSUBSW": cpu.X86SSSE3, "PMADDUBSW": cpu.X86SSSE3,
	"PMULHRSW": cpu.X86SSSE3, "PSIGNB": cpu.X86SSSE3, "PSIGNW": cpu.X86SSSE3, "PSIGND": cpu.X86SSSE3,

	"ROUNDSS": cpu.X86SSE41, "ROUNDSD": cpu.X86SSE41, "ROUNDPS": cpu.X86SSE41, "ROUNDPD": cpu.X86SSE41,
	"PINSRB": cpu.X86SSE41, "PINSRD": cpu.X86SSE41, "PINSRQ": cpu.X86SSE41,
	"PEXTRB": cpu.X86SSE41, "PEXTRD": cpu.X86SSE41, "PEXTRQ": cpu.X86SSE41,
	"PTEST": cpu.X86SSE41, "BLENDPS": cpu.X86SSE41, "BLENDPD": cpu.X86SSE41, "BLENDVPS": cpu.X86SSE41,
	"BLENDVPD": cpu.X86SSE41, "PBLENDW": cpu.X86SSE41, "PBLENDVB": cpu.X86SSE41,
	"PMINSB": cpu.X86SSE41, "PMINSD": cpu.X86SSE41, "PMINUW": cpu.X86SSE41, "PMINUD": cpu.X86SSE41,
	"PMAXSB": cpu.X86SSE41, "PMAXSD": cpu.X86SSE41, "PMAXUW": cpu.X86SSE41, "PMAXUD": cpu.X86SSE41,
	"PMULLD": cpu.X86SSE41, "PMULDQ": cpu.X86SSE41, "PCMPEQQ": cpu.X86SSE41, "PACKUSDW": cpu.X86SSE41,
	"INSERTPS": cpu.X86SSE41, "EXTRACTPS": cpu.X86SSE41, "DPPS": cpu.X86SSE41, "DPPD": cpu.X86SSE41,
	"MPSADBW": cpu.X86SSE41, "PHMINPOSUW": cpu.X86SSE41, "MOVNTDQA": cpu.X86SSE41,

	"CRC32": cpu.X86SSE42, "PCMPGTQ": cpu.X86SSE42, "PCMPESTRI": cpu.X86SSE42, "PCMPESTRM": cpu.X86SSE42,
	"PCMPISTRI": cpu.X86SSE42, "PCMPISTRM": cpu.X86SSE42,
}

// instFeature classifies a decoded instruction: the feature it needs and
// whether it needs one beyond baseline x86-64.
func instFeature(inst x86asm.Inst) (cpu.Feature, bool) {
	op := inst.Op.String()
	if strings.HasPrefix(op, "PMOVSX") || strings.HasPrefix(op, "PMOVZX") {
		return cpu.X86SSE41, true
	}
	if strings.HasPrefix(op, "VFMADD") || strings.HasPrefix(op, "VFMSUB") || strings.HasPrefix(op, "VFNMADD") || strings.HasPrefix(op, "VFNMSUB") {
		return cpu.X86FMA, true
	}
	if f, ok := mnemonicFeature[op]; ok {
		return f, true
	}
	// VEX-encoded forms of SSE instructions (VADDSD...) need AVX; the
	// BMI ones (also VEX) are in the table above.
	if strings.HasPrefix(op, "V") && op != "VERR" && op != "VERW" {
		return cpu.X86AVX, true
	}
	return 0, false
}

// lintSpecCorpus is every function the suite's modules, the bench
// programs and the bench kernels define, by origin.
func lintSpecCorpus(t *testing.T) (funcs []*ir.Func, modules, invalid int) {
	t.Helper()
	add := func(bin []byte) {
		m, err := lowerBinary(bin)
		if err != nil {
			// The suite's assert_invalid and assert_malformed modules:
			// nothing to compile.
			invalid++
			return
		}
		modules++
		funcs = append(funcs, m.comp.IRFuncs()...)
	}
	for _, bin := range spectest.Modules(t) {
		add(bin)
	}
	root := "../.." // the test runs in internal/jit
	var bench []string
	for _, pattern := range []string{"bench/programs/*.wasm", "bench/kernels/*.wasm"} {
		m, _ := filepath.Glob(filepath.Join(root, pattern))
		bench = append(bench, m...)
	}
	if len(bench) < 4 {
		t.Fatalf("bench programs and kernels not found under %s: %v", root, bench)
	}
	for _, path := range bench {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lowerBinary(b); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		add(b)
	}
	return funcs, modules, invalid
}

func TestFeatureLintSpecSuiteAndBench(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the whole spec suite and the bench programs five times")
	}
	corpus, modules, invalid := lintSpecCorpus(t)
	t.Logf("corpus: %d functions in %d modules (%d invalid or malformed modules of the suite skipped)", len(corpus), modules, invalid)
	for _, name := range []string{"x86-64-v1", "x86-64-v2", "x86-64-v3", "x86-64-v4", "native"} {
		mask := cpu.Host().Set()
		if name != "native" {
			l, ok := cpu.LookupLevel("amd64", name)
			if !ok {
				t.Fatalf("no level %s", name)
			}
			mask = l.Set
		}
		t.Run(name, func(t *testing.T) {
			compiled, interpreted, insts := 0, 0, 0
			reasons := map[string]int{}
			used := cpu.Set{}
			for _, f := range corpus {
				as, err := assemble(f, Options{}.WithFeatures(mask))
				if errors.Is(err, ErrUnsupported) {
					interpreted++
					reasons[unsupportedReason(err)]++
					continue
				}
				if err != nil {
					t.Fatalf("function %d: %v", f.Index, err)
				}
				compiled++
				// SSE2 is in every amd64 CPU: the encoder may record it
				// whatever the mask says.
				if !as.feats.SubsetOf(mask.With(cpu.X86SSE2)) {
					t.Errorf("function %d: the encoder records %v outside %s", f.Index, as.feats.Subtract(mask), name)
				}
				for off := 0; off < as.textEnd; {
					inst, err := x86asm.Decode(as.code[off:as.textEnd], 64)
					if err != nil {
						t.Fatalf("function %d: undecodable code at %#x: % x", f.Index, off, as.code[off:min(off+16, as.textEnd)])
					}
					insts++
					if ft, ok := instFeature(inst); ok {
						used = used.With(ft)
						if !mask.Has(ft) {
							t.Errorf("function %d at %#x: %v needs %v, not in %s", f.Index, off, inst, ft, name)
						}
						// Fused multiply-add rounds once: a scalar float op
						// compiled to it would change results.
						if ft == cpu.X86FMA {
							t.Errorf("function %d at %#x: %v: FMA is never emitted for scalar floats", f.Index, off, inst)
						}
					}
					off += inst.Len
				}
			}
			t.Logf("%s: %d functions compiled, %d left interpreted (%v); %d instructions decoded; features used: %v",
				name, compiled, interpreted, reasons, insts, used)
			if compiled == 0 || compiled < len(corpus)/2 {
				t.Fatalf("only %d of %d functions compiled: the lint covers too little", compiled, len(corpus))
			}
		})
	}
}

// unsupportedReason is the kind of construct that kept a function
// interpreted, from ErrUnsupported's message without the function's
// particulars, for the counts.
func unsupportedReason(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	if len(msg) > 40 {
		msg = msg[:40]
	}
	return msg
}

package cpu

import (
	"fmt"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sys/cpu"
)

// Features is what a CPU offers, or what Ferry is allowed to use of it: an
// architecture (GOARCH) and a set of that architecture's features. It is
// an immutable value; the zero value has no architecture and no features.
type Features struct {
	arch string
	set  Set
}

// New returns the Features of arch holding set's features of that arch.
func New(arch string, set Set) Features {
	var own Set
	for _, f := range All(arch) {
		own = own.With(f)
	}
	return Features{arch: arch, set: set.Intersect(own)}
}

// FromNames builds Features from an architecture and feature names, as a
// checkpoint stores them. Names Ferry does not know are returned in
// unknown (a newer Ferry may track more); they are not an error.
func FromNames(arch string, names []string) (f Features, unknown []string) {
	var s Set
	for _, n := range names {
		if ft, ok := Lookup(arch, n); ok {
			s = s.With(ft)
		} else {
			unknown = append(unknown, n)
		}
	}
	return Features{arch: arch, set: s}, unknown
}

// Arch is the architecture, as GOARCH spells it.
func (f Features) Arch() string { return f.arch }

// Set is the feature set.
func (f Features) Set() Set { return f.set }

// Has reports whether feature ft is present.
func (f Features) Has(ft Feature) bool { return f.set.Has(ft) }

// Names returns the canonical feature names, sorted.
func (f Features) Names() []string { return f.set.Names() }

// String is "ARCH: name name …" (the level, when the set is exactly one).
func (f Features) String() string {
	return f.arch + ": " + strings.Join(f.Names(), " ")
}

// Equal reports whether f and g are the same architecture and set.
func (f Features) Equal(g Features) bool { return f.arch == g.arch && f.set == g.set }

// Levels returns the levels of f's architecture that f satisfies, lowest
// first.
func (f Features) Levels() []Level {
	var out []Level
	for _, l := range Levels(f.arch) {
		if l.Set.SubsetOf(f.set) {
			out = append(out, l)
		}
	}
	return out
}

// Level is the name of the highest level f satisfies ("" for none).
func (f Features) Level() string {
	ls := f.Levels()
	if len(ls) == 0 {
		return ""
	}
	return ls[len(ls)-1].Name
}

// Require returns nil when f holds every feature of need, and a
// *MissingFeaturesError naming the others otherwise.
func (f Features) Require(need Features) error {
	if need.arch != f.arch {
		return &MissingFeaturesError{Arch: f.arch, WantArch: need.arch, Missing: need.set.Slice()}
	}
	if m := need.set.Subtract(f.set); !m.IsEmpty() {
		return &MissingFeaturesError{Arch: f.arch, WantArch: need.arch, Missing: m.Slice()}
	}
	return nil
}

// MissingFeaturesError says which requested features a CPU lacks.
type MissingFeaturesError struct {
	Arch     string    // the CPU's architecture
	WantArch string    // the architecture the features were asked for
	Missing  []Feature // features of WantArch not present
	Spec     string    // the mask spec that asked for them, if any
}

func (e *MissingFeaturesError) Error() string {
	var b strings.Builder
	if e.WantArch != e.Arch {
		fmt.Fprintf(&b, "cpu: features of %s requested on an %s CPU", e.WantArch, e.Arch)
	} else {
		b.WriteString("cpu: this CPU lacks")
	}
	if len(e.Missing) > 0 {
		names := make([]string, len(e.Missing))
		for i, f := range e.Missing {
			names[i] = f.String()
		}
		if e.WantArch != e.Arch {
			b.WriteString(":")
		}
		b.WriteString(" " + strings.Join(names, ", "))
	}
	if e.Spec != "" {
		fmt.Fprintf(&b, " (asked for by %q)", e.Spec)
	}
	return b.String()
}

// Host returns the features of the CPU this process runs on, detected once.
func Host() Features { return host() }

var host = sync.OnceValue(func() Features {
	return detect(runtime.GOARCH)
})

// detection maps each feature to golang.org/x/sys/cpu's flag for it.
var detection = map[Feature]*bool{
	X86SSE2: &cpu.X86.HasSSE2, X86SSE3: &cpu.X86.HasSSE3, X86SSSE3: &cpu.X86.HasSSSE3,
	X86SSE41: &cpu.X86.HasSSE41, X86SSE42: &cpu.X86.HasSSE42, X86POPCNT: &cpu.X86.HasPOPCNT,
	X86CX16: &cpu.X86.HasCX16, X86LAHF: &cpu.X86.HasLAHF, X86LZCNT: &cpu.X86.HasLZCNT,
	X86BMI1: &cpu.X86.HasBMI1, X86BMI2: &cpu.X86.HasBMI2, X86AVX: &cpu.X86.HasAVX,
	X86AVX2: &cpu.X86.HasAVX2, X86FMA: &cpu.X86.HasFMA, X86F16C: &cpu.X86.HasF16C,
	X86MOVBE: &cpu.X86.HasMOVBE, X86OSXSAVE: &cpu.X86.HasOSXSAVE, X86ERMS: &cpu.X86.HasERMS,
	X86AES: &cpu.X86.HasAES, X86PCLMULQDQ: &cpu.X86.HasPCLMULQDQ, X86ADX: &cpu.X86.HasADX,
	X86AVX512F: &cpu.X86.HasAVX512F, X86AVX512CD: &cpu.X86.HasAVX512CD,
	X86AVX512BW: &cpu.X86.HasAVX512BW, X86AVX512DQ: &cpu.X86.HasAVX512DQ,
	X86AVX512VL: &cpu.X86.HasAVX512VL, X86AVX512VBMI: &cpu.X86.HasAVX512VBMI,
	X86AVX512VBMI2: &cpu.X86.HasAVX512VBMI2, X86AVX512VNNI: &cpu.X86.HasAVX512VNNI,
	X86AVX512BITALG: &cpu.X86.HasAVX512BITALG, X86AVX512VPOPCNTDQ: &cpu.X86.HasAVX512VPOPCNTDQ,
	X86AVXVNNI: &cpu.X86.HasAVXVNNI,

	ARM64FP: &cpu.ARM64.HasFP, ARM64ASIMD: &cpu.ARM64.HasASIMD, ARM64AES: &cpu.ARM64.HasAES,
	ARM64PMULL: &cpu.ARM64.HasPMULL, ARM64SHA1: &cpu.ARM64.HasSHA1, ARM64SHA2: &cpu.ARM64.HasSHA2,
	ARM64SHA3: &cpu.ARM64.HasSHA3, ARM64SHA512: &cpu.ARM64.HasSHA512, ARM64CRC32: &cpu.ARM64.HasCRC32,
	ARM64ATOMICS: &cpu.ARM64.HasATOMICS, ARM64FPHP: &cpu.ARM64.HasFPHP, ARM64ASIMDHP: &cpu.ARM64.HasASIMDHP,
	ARM64ASIMDRDM: &cpu.ARM64.HasASIMDRDM, ARM64JSCVT: &cpu.ARM64.HasJSCVT, ARM64FCMA: &cpu.ARM64.HasFCMA,
	ARM64LRCPC: &cpu.ARM64.HasLRCPC, ARM64DCPOP: &cpu.ARM64.HasDCPOP, ARM64ASIMDDP: &cpu.ARM64.HasASIMDDP,
	ARM64ASIMDFHM: &cpu.ARM64.HasASIMDFHM, ARM64I8MM: &cpu.ARM64.HasI8MM, ARM64SVE: &cpu.ARM64.HasSVE,
	ARM64SVE2: &cpu.ARM64.HasSVE2,
}

// detect reads golang.org/x/sys/cpu's flags for arch. The baseline is
// always present (Go would not run without it), whatever the flags say.
func detect(arch string) Features {
	s := Baseline(arch)
	for _, f := range All(arch) {
		if p := detection[f]; p != nil && *p {
			s = s.With(f)
		}
	}
	return Features{arch: arch, set: s}
}

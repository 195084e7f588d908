package cpu

// Level is a named, cumulative set of features: a microarchitecture level
// of the x86-64 psABI or an Arm architecture version, restricted to the
// features Ferry tracks.
type Level struct {
	Name string
	Arch string
	Set  Set
}

var (
	x86v1 = NewSet(X86SSE2) // with CMOV, CX8, FPU, FXSR, MMX, SSE: always there on amd64
	x86v2 = x86v1.With(X86CX16, X86LAHF, X86POPCNT, X86SSE3, X86SSE41, X86SSE42, X86SSSE3)
	x86v3 = x86v2.With(X86AVX, X86AVX2, X86BMI1, X86BMI2, X86F16C, X86FMA, X86LZCNT, X86MOVBE, X86OSXSAVE)
	x86v4 = x86v3.With(X86AVX512F, X86AVX512BW, X86AVX512CD, X86AVX512DQ, X86AVX512VL)

	armv80 = NewSet(ARM64FP, ARM64ASIMD)
	// Armv8.1 makes CRC32, LSE atomics and RDM mandatory.
	armv81 = armv80.With(ARM64CRC32, ARM64ATOMICS, ARM64ASIMDRDM)
	// Armv8.2 adds DC CVAP (dcpop); Armv8.3 JSCVT, FCMA and LRCPC.
	armv82 = armv81.With(ARM64DCPOP)
	armv83 = armv82.With(ARM64JSCVT, ARM64FCMA, ARM64LRCPC)
)

var levels = []Level{
	{"x86-64-v1", "amd64", x86v1},
	{"x86-64-v2", "amd64", x86v2},
	{"x86-64-v3", "amd64", x86v3},
	{"x86-64-v4", "amd64", x86v4},
	{"armv8.0", "arm64", armv80},
	{"armv8.1", "arm64", armv81},
	{"armv8.2", "arm64", armv82},
	{"armv8.3", "arm64", armv83},
}

// levelAliases are other accepted spellings of level names.
var levelAliases = map[string]string{
	"x86-64": "x86-64-v1", "baseline": "", // "" = the arch's first level
	"armv8-a": "armv8.0", "armv8": "armv8.0", "armv8.1-a": "armv8.1",
	"armv8.2-a": "armv8.2", "armv8.3-a": "armv8.3",
}

// Levels returns the levels of arch, lowest first.
func Levels(arch string) []Level {
	var out []Level
	for _, l := range levels {
		if l.Arch == arch {
			out = append(out, l)
		}
	}
	return out
}

// LookupLevel finds a level by name (or alias) on any architecture.
// "baseline" names the lowest level of arch.
func LookupLevel(arch, name string) (Level, bool) {
	if a, ok := levelAliases[name]; ok {
		if a == "" {
			ls := Levels(arch)
			if len(ls) == 0 {
				return Level{Name: "baseline", Arch: arch}, true
			}
			return ls[0], true
		}
		name = a
	}
	for _, l := range levels {
		if l.Name == name {
			return l, true
		}
	}
	return Level{}, false
}

// Baseline is what Go itself requires of arch (GOAMD64=v1, GOARM64=v8.0):
// a mask can never remove it.
func Baseline(arch string) Set {
	switch arch {
	case "amd64":
		return x86v1
	case "arm64":
		return armv80
	}
	return Set{}
}

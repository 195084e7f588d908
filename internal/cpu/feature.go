// Package cpu describes the CPU features Ferry's builtins may rely on, as
// data: one immutable Features value (an architecture and a set of named
// features) detected once, named levels (x86-64-v1…v4, armv8.0…), set
// operations, masks parsed from a spec such as "x86-64-v3,-avx2", and a
// typed error naming missing features. See docs/cpu-features.md.
package cpu

import (
	"math/bits"
	"sort"
	"strings"
)

// Feature is one named CPU feature of one architecture. The same name on
// two architectures ("aes") is two distinct Features.
type Feature uint8

// Features of amd64. Names are golang.org/x/sys/cpu's field names without
// "Has", lower-cased, which is also how a checkpoint lists them.
const (
	featNone Feature = iota
	X86SSE2
	X86SSE3
	X86SSSE3
	X86SSE41
	X86SSE42
	X86POPCNT
	X86CX16
	X86LAHF
	X86LZCNT
	X86BMI1
	X86BMI2
	X86AVX
	X86AVX2
	X86FMA
	X86F16C
	X86MOVBE
	X86OSXSAVE
	X86ERMS
	X86AES
	X86PCLMULQDQ
	X86ADX
	X86AVX512F
	X86AVX512CD
	X86AVX512BW
	X86AVX512DQ
	X86AVX512VL
	X86AVX512VBMI
	X86AVX512VBMI2
	X86AVX512VNNI
	X86AVX512BITALG
	X86AVX512VPOPCNTDQ
	X86AVXVNNI
	x86End
)

// Features of arm64, named as in golang.org/x/sys/cpu (and Linux HWCAP).
const (
	ARM64FP Feature = iota + x86End
	ARM64ASIMD
	ARM64AES
	ARM64PMULL
	ARM64SHA1
	ARM64SHA2
	ARM64SHA3
	ARM64SHA512
	ARM64CRC32
	ARM64ATOMICS
	ARM64FPHP
	ARM64ASIMDHP
	ARM64ASIMDRDM
	ARM64JSCVT
	ARM64FCMA
	ARM64LRCPC
	ARM64DCPOP
	ARM64ASIMDDP
	ARM64ASIMDFHM
	ARM64I8MM
	ARM64SVE
	ARM64SVE2
	arm64End
)

// info describes one feature.
type info struct {
	arch string
	name string
	// requires are the features this one cannot be used without: masking
	// one of them out masks this one out too.
	requires []Feature
}

var infos = [...]info{
	X86SSE2:            {"amd64", "sse2", nil},
	X86SSE3:            {"amd64", "sse3", []Feature{X86SSE2}},
	X86SSSE3:           {"amd64", "ssse3", []Feature{X86SSE3}},
	X86SSE41:           {"amd64", "sse41", []Feature{X86SSSE3}},
	X86SSE42:           {"amd64", "sse42", []Feature{X86SSE41}},
	X86POPCNT:          {"amd64", "popcnt", nil},
	X86CX16:            {"amd64", "cx16", nil},
	X86LAHF:            {"amd64", "lahf", nil},
	X86LZCNT:           {"amd64", "lzcnt", nil},
	X86BMI1:            {"amd64", "bmi1", nil},
	X86BMI2:            {"amd64", "bmi2", nil},
	X86AVX:             {"amd64", "avx", []Feature{X86SSE42, X86OSXSAVE}},
	X86AVX2:            {"amd64", "avx2", []Feature{X86AVX}},
	X86FMA:             {"amd64", "fma", []Feature{X86AVX}},
	X86F16C:            {"amd64", "f16c", []Feature{X86AVX}},
	X86MOVBE:           {"amd64", "movbe", nil},
	X86OSXSAVE:         {"amd64", "osxsave", nil},
	X86ERMS:            {"amd64", "erms", nil},
	X86AES:             {"amd64", "aes", []Feature{X86SSE2}},
	X86PCLMULQDQ:       {"amd64", "pclmulqdq", []Feature{X86SSE2}},
	X86ADX:             {"amd64", "adx", nil},
	X86AVX512F:         {"amd64", "avx512f", []Feature{X86AVX2, X86FMA, X86F16C}},
	X86AVX512CD:        {"amd64", "avx512cd", []Feature{X86AVX512F}},
	X86AVX512BW:        {"amd64", "avx512bw", []Feature{X86AVX512F}},
	X86AVX512DQ:        {"amd64", "avx512dq", []Feature{X86AVX512F}},
	X86AVX512VL:        {"amd64", "avx512vl", []Feature{X86AVX512F}},
	X86AVX512VBMI:      {"amd64", "avx512vbmi", []Feature{X86AVX512BW}},
	X86AVX512VBMI2:     {"amd64", "avx512vbmi2", []Feature{X86AVX512BW}},
	X86AVX512VNNI:      {"amd64", "avx512vnni", []Feature{X86AVX512F}},
	X86AVX512BITALG:    {"amd64", "avx512bitalg", []Feature{X86AVX512BW}},
	X86AVX512VPOPCNTDQ: {"amd64", "avx512vpopcntdq", []Feature{X86AVX512F}},
	X86AVXVNNI:         {"amd64", "avxvnni", []Feature{X86AVX2}},

	ARM64FP:       {"arm64", "fp", nil},
	ARM64ASIMD:    {"arm64", "asimd", []Feature{ARM64FP}},
	ARM64AES:      {"arm64", "aes", []Feature{ARM64ASIMD}},
	ARM64PMULL:    {"arm64", "pmull", []Feature{ARM64ASIMD}},
	ARM64SHA1:     {"arm64", "sha1", []Feature{ARM64ASIMD}},
	ARM64SHA2:     {"arm64", "sha2", []Feature{ARM64ASIMD}},
	ARM64SHA3:     {"arm64", "sha3", []Feature{ARM64ASIMD}},
	ARM64SHA512:   {"arm64", "sha512", []Feature{ARM64SHA2}},
	ARM64CRC32:    {"arm64", "crc32", nil},
	ARM64ATOMICS:  {"arm64", "atomics", nil},
	ARM64FPHP:     {"arm64", "fphp", []Feature{ARM64FP}},
	ARM64ASIMDHP:  {"arm64", "asimdhp", []Feature{ARM64ASIMD, ARM64FPHP}},
	ARM64ASIMDRDM: {"arm64", "asimdrdm", []Feature{ARM64ASIMD}},
	ARM64JSCVT:    {"arm64", "jscvt", []Feature{ARM64FP}},
	ARM64FCMA:     {"arm64", "fcma", []Feature{ARM64ASIMD}},
	ARM64LRCPC:    {"arm64", "lrcpc", nil},
	ARM64DCPOP:    {"arm64", "dcpop", nil},
	ARM64ASIMDDP:  {"arm64", "asimddp", []Feature{ARM64ASIMD}},
	ARM64ASIMDFHM: {"arm64", "asimdfhm", []Feature{ARM64ASIMDHP}},
	ARM64I8MM:     {"arm64", "i8mm", []Feature{ARM64ASIMD}},
	ARM64SVE:      {"arm64", "sve", []Feature{ARM64ASIMD}},
	ARM64SVE2:     {"arm64", "sve2", []Feature{ARM64SVE}},
}

// aliases are other spellings accepted when parsing: the names used by
// /proc/cpuinfo, compilers' -m flags and the Arm architecture manual.
var aliases = map[string]map[string]string{
	"amd64": {
		"sse4.1": "sse41", "sse4_1": "sse41", "sse4.2": "sse42", "sse4_2": "sse42",
		"abm": "lzcnt", "pclmul": "pclmulqdq", "lahf_lm": "lahf", "cmpxchg16b": "cx16",
		"pni": "sse3", "avx_vnni": "avxvnni",
	},
	"arm64": {
		"neon": "asimd", "lse": "atomics", "rdm": "asimdrdm", "dotprod": "asimddp",
		"crc": "crc32", "fp16": "fphp", "rcpc": "lrcpc",
	},
}

// String is the feature's canonical name ("sse41", "atomics").
func (f Feature) String() string {
	if f == featNone || int(f) >= len(infos) {
		return "unknown"
	}
	return infos[f].name
}

// Arch is the architecture (GOARCH) the feature belongs to.
func (f Feature) Arch() string {
	if int(f) >= len(infos) {
		return ""
	}
	return infos[f].arch
}

// Lookup finds the feature of arch called name (canonical name or alias,
// case-insensitive).
func Lookup(arch, name string) (Feature, bool) {
	name = strings.ToLower(name)
	if a, ok := aliases[arch][name]; ok {
		name = a
	}
	for f := X86SSE2; f < arm64End; f++ {
		if infos[f].arch == arch && infos[f].name == name {
			return f, true
		}
	}
	return featNone, false
}

// All returns every feature Ferry knows of arch, in declaration order.
func All(arch string) []Feature {
	var out []Feature
	for f := X86SSE2; f < arm64End; f++ {
		if infos[f].arch == arch {
			out = append(out, f)
		}
	}
	return out
}

// Set is an immutable set of features; the zero value is empty. Sets are
// values: every operation returns a new one.
type Set struct{ w [2]uint64 }

// NewSet returns the set holding fs.
func NewSet(fs ...Feature) Set {
	var s Set
	for _, f := range fs {
		s.w[f/64] |= 1 << (f % 64)
	}
	return s
}

// Has reports whether f is in s.
func (s Set) Has(f Feature) bool { return s.w[f/64]&(1<<(f%64)) != 0 }

// With returns s plus fs.
func (s Set) With(fs ...Feature) Set { return s.Union(NewSet(fs...)) }

// Without returns s minus fs.
func (s Set) Without(fs ...Feature) Set { return s.Subtract(NewSet(fs...)) }

// Union returns s ∪ t.
func (s Set) Union(t Set) Set { return Set{[2]uint64{s.w[0] | t.w[0], s.w[1] | t.w[1]}} }

// Intersect returns s ∩ t.
func (s Set) Intersect(t Set) Set { return Set{[2]uint64{s.w[0] & t.w[0], s.w[1] & t.w[1]}} }

// Subtract returns s \ t.
func (s Set) Subtract(t Set) Set { return Set{[2]uint64{s.w[0] &^ t.w[0], s.w[1] &^ t.w[1]}} }

// SubsetOf reports whether every feature of s is in t.
func (s Set) SubsetOf(t Set) bool { return s.Subtract(t).IsEmpty() }

// IsEmpty reports whether s has no feature.
func (s Set) IsEmpty() bool { return s.w == [2]uint64{} }

// Len is the number of features in s.
func (s Set) Len() int { return bits.OnesCount64(s.w[0]) + bits.OnesCount64(s.w[1]) }

// Slice returns the features of s in declaration order.
func (s Set) Slice() []Feature {
	var out []Feature
	for f := X86SSE2; f < arm64End; f++ {
		if s.Has(f) {
			out = append(out, f)
		}
	}
	return out
}

// Names returns the canonical names of s, sorted.
func (s Set) Names() []string {
	var out []string
	for _, f := range s.Slice() {
		out = append(out, f.String())
	}
	sort.Strings(out)
	return out
}

// String lists the names of s, sorted, comma-separated ("" when empty).
func (s Set) String() string { return strings.Join(s.Names(), ",") }

// dependents returns s plus every feature that requires (transitively) a
// feature of s.
func dependents(s Set) Set {
	for {
		grown := s
		for f := X86SSE2; f < arm64End; f++ {
			for _, r := range infos[f].requires {
				if grown.Has(r) {
					grown = grown.With(f)
				}
			}
		}
		if grown == s {
			return s
		}
		s = grown
	}
}

// requirements returns s plus every feature a feature of s requires
// (transitively).
func requirements(s Set) Set {
	for {
		grown := s
		for _, f := range s.Slice() {
			grown = grown.With(infos[f].requires...)
		}
		if grown == s {
			return s
		}
		s = grown
	}
}

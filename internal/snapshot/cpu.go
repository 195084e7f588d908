package snapshot

import (
	"reflect"
	"runtime"
	"sort"
	"strings"

	"golang.org/x/sys/cpu"
)

// HostCPU returns this machine's architecture (GOARCH) and CPU feature
// names, as written first in a checkpoint's meta section. Names are
// golang.org/x/sys/cpu's field names without "Has", lower-cased
// ("avx2", "popcnt", "atomics"), sorted. The CPU-features work will
// replace this with a proper feature set; the encoding (a list of names)
// stays.
func HostCPU() (arch string, features []string) {
	var v reflect.Value
	switch runtime.GOARCH {
	case "amd64", "386":
		v = reflect.ValueOf(cpu.X86)
	case "arm64":
		v = reflect.ValueOf(cpu.ARM64)
	case "arm":
		v = reflect.ValueOf(cpu.ARM)
	case "ppc64", "ppc64le":
		v = reflect.ValueOf(cpu.PPC64)
	case "s390x":
		v = reflect.ValueOf(cpu.S390X)
	case "riscv64":
		v = reflect.ValueOf(cpu.RISCV64)
	case "loong64":
		v = reflect.ValueOf(cpu.Loong64)
	default:
		return runtime.GOARCH, nil
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, ok := strings.CutPrefix(f.Name, "Has")
		if !ok || f.Type.Kind() != reflect.Bool || !v.Field(i).Bool() {
			continue
		}
		features = append(features, strings.ToLower(name))
	}
	sort.Strings(features)
	return runtime.GOARCH, features
}

package builtins

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/v128"
)

// TestSelectionsMatchFeatures resolves every builtin in a table for the
// effective features (the host's, masked by $FERRY_CPU_FEATURES), calls
// each through its slot — a selection the CPU cannot run dies of SIGILL
// under a qemu model — and checks each recorded decision: it relies only
// on effective features, and it is the best implementation they allow.
// TestOtherCPUs runs it under qemu with expectations in
// $FERRY_EXPECT ("builtin=impl,...") and $FERRY_EXPECT_LACKS ("feature,...").
func TestSelectionsMatchFeatures(t *testing.T) {
	eff, err := cpu.Host().Mask(os.Getenv("FERRY_CPU_FEATURES"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("effective %v (level %s)", eff, eff.Level())
	for _, name := range strings.FieldsFunc(os.Getenv("FERRY_EXPECT_LACKS"), func(r rune) bool { return r == ',' }) {
		if f, ok := cpu.Lookup(eff.Arch(), name); !ok || eff.Has(f) {
			t.Errorf("effective features include %s (or it is unknown), expected lacking", name)
		}
	}
	tab := NewCallsiteTable(eff)
	page := make([]byte, 2*PageSize+5)
	data := []byte("123456789 Ferry checkpoints anywhere 0123456789abcdef0123456789abcdef")
	x, y := v128.V128{Lo: 0x3fc00000bf800001, Hi: 0x7fc0000140490fdb}, v128.V128{Lo: 0x1f0e1d0c1b0a1908, Hi: 0x1211100302010017}
	fill := Bind(tab, MemoryFill)
	fill.Func()(page[3:3+PageSize+1], 0x7e)
	if page[3] != 0x7e || page[3+PageSize] != 0x7e || page[2] != 0 || page[4+PageSize] != 0 {
		t.Error("memory.fill wrong")
	}
	Bind(tab, MemoryCopy).Func()(page[10:300], page[0:290])
	clear(page)
	if !Bind(tab, PageIsZero).Func()(page) {
		t.Error("page.iszero wrong")
	}
	if got := Bind(tab, CRC32C).Func()(0, data[:9]); got != 0xe3069283 {
		t.Errorf("crc32c check value %#x", got)
	}
	for _, op := range V128 {
		switch {
		case op.Unary != nil:
			if Bind(tab, op.Unary).Func()(x) != portable(op.Unary)(x) {
				t.Errorf("%s wrong", op.Unary.Name)
			}
		case op.Binary != nil:
			if Bind(tab, op.Binary).Func()(x, y) != portable(op.Binary)(x, y) {
				t.Errorf("%s wrong", op.Binary.Name)
			}
		case op.Ternary != nil:
			if Bind(tab, op.Ternary).Func()(x, y, y) != portable(op.Ternary)(x, y, y) {
				t.Errorf("%s wrong", op.Ternary.Name)
			}
		case op.Test != nil:
			if Bind(tab, op.Test).Func()(x) != portable(op.Test)(x) {
				t.Errorf("%s wrong", op.Test.Name)
			}
		}
	}
	callRelaxed(tab, x, y)
	decisions := tab.Decisions()
	if len(decisions) != len(All()) {
		t.Errorf("%d decisions recorded for %d builtins", len(decisions), len(All()))
	}
	expect := map[string]string{}
	for _, kv := range strings.FieldsFunc(os.Getenv("FERRY_EXPECT"), func(r rune) bool { return r == ',' }) {
		k, v, _ := strings.Cut(kv, "=")
		expect[k] = v
	}
	for _, d := range decisions {
		t.Logf("%-16s %-10s %s", d.Builtin, d.Impl, strings.Join(d.Features, ","))
		for _, name := range d.Features {
			if f, ok := cpu.Lookup(eff.Arch(), name); !ok || !eff.Has(f) {
				t.Errorf("%s: %s relies on %s, not an effective feature", d.Builtin, d.Impl, name)
			}
		}
		for _, b := range All() {
			if b.BuiltinName() == d.Builtin && !b.Decide(eff).Same(d) {
				t.Errorf("%s: recorded %s, best for these features is %s", d.Builtin, d.Impl, b.Decide(eff).Impl)
			}
		}
		if want, ok := expect[d.Builtin]; ok && want != d.Impl {
			t.Errorf("%s: selected %s, want %s", d.Builtin, d.Impl, want)
		}
		delete(expect, d.Builtin)
	}
	for b := range expect {
		t.Errorf("expected builtin %s not recorded", b)
	}
}

// TestOtherCPUs builds this package's tests for amd64 and arm64 and runs
// the differential and selection tests under qemu-user CPU models (qemu
// raises SIGILL for most instructions a model lacks), and natively under
// the x86-64-v1 mask.
func TestOtherCPUs(t *testing.T) {
	if os.Getenv("FERRY_IN_QEMU") != "" {
		t.Skip("already under qemu")
	}
	if testing.Short() {
		t.Skip("builds two test binaries and runs them under qemu (-short)")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		if goTool, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command to build the test binaries")
		}
	}
	const run = "^(TestSelectionsMatchFeatures|TestMemoryFill|TestMemoryCopy|TestPageIsZero|TestCRC32C|TestV128|FuzzV128|FuzzMemory)$"
	x86 := func(more string) string {
		return "page.iszero=sse2,i8x16.bitmask=sse2,memory.copy=go" + more
	}
	cases := []struct {
		name, arch, emulator, model string
		mask, expect, lacks         string
	}{
		{"qemu64", "amd64", "qemu-x86_64", "qemu64", "",
			x86(",crc32c=portable,i8x16.swizzle=portable,i8x16.shuffle=portable,f32x4.ceil=portable,f64x2.nearest=portable,i8x16.popcnt=portable,memory.fill=portable"),
			"ssse3,sse41,sse42,popcnt,avx,avx2"},
		{"Nehalem", "amd64", "qemu-x86_64", "Nehalem", "",
			x86(",crc32c=sse42,i8x16.swizzle=ssse3,i8x16.shuffle=ssse3,f32x4.floor=sse41,f64x2.trunc=sse41,i8x16.popcnt=ssse3,memory.fill=portable"),
			"avx,avx2,bmi1,lzcnt,movbe,erms"},
		{"Haswell", "amd64", "qemu-x86_64", "Haswell", "",
			"page.iszero=avx2,memory.fill=avx2,crc32c=sse42,f32x4.nearest=sse41", "avx512f"},
		{"Haswell-masked-v2", "amd64", "qemu-x86_64", "Haswell", "x86-64-v2",
			x86(",memory.fill=portable,crc32c=sse42"), "avx,avx2,erms"},
		{"cortex-a53", "arm64", "qemu-aarch64", "cortex-a53", "",
			"crc32c=crc32,page.iszero=neon,i8x16.swizzle=neon,i8x16.shuffle=neon,f32x4.ceil=neon,f64x2.nearest=neon,i8x16.popcnt=neon,i8x16.bitmask=portable,memory.fill=go,memory.copy=portable",
			"atomics,asimdrdm"},
		{"cortex-a53-armv8.0", "arm64", "qemu-aarch64", "cortex-a53", "armv8.0",
			"crc32c=portable,i8x16.swizzle=neon", "crc32,atomics"},
	}
	if runtime.GOARCH == "amd64" {
		cases = append(cases, struct {
			name, arch, emulator, model string
			mask, expect, lacks         string
		}{"native-x86-64-v1", "amd64", "", "", "x86-64-v1",
			x86(",crc32c=portable,i8x16.swizzle=portable,f32x4.ceil=portable,memory.fill=portable"), "ssse3,sse41,sse42,avx2,erms"})
	}
	dir := t.TempDir()
	built := map[string]string{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var argv []string
			if c.emulator != "" {
				emu, err := exec.LookPath(c.emulator)
				if err != nil {
					t.Skipf("%s not installed (Debian package qemu-user): cannot test %s", c.emulator, c.model)
				}
				argv = []string{emu, "-cpu", c.model}
			} else if c.arch != runtime.GOARCH {
				t.Skip("native case for another architecture")
			}
			bin, ok := built[c.arch]
			if !ok {
				bin = filepath.Join(dir, "builtins-"+c.arch+".test")
				cmd := exec.Command(goTool, "test", "-c", "-o", bin, ".")
				cmd.Env = append(os.Environ(), "GOARCH="+c.arch, "CGO_ENABLED=0")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("building for %s: %v\n%s", c.arch, err, out)
				}
				built[c.arch] = bin
			}
			argv = append(argv, bin, "-test.run", run, "-test.v")
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Env = append(os.Environ(), "FERRY_IN_QEMU=1", "FERRY_CPU_FEATURES="+c.mask,
				"FERRY_EXPECT="+c.expect, "FERRY_EXPECT_LACKS="+c.lacks)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.ExitCode() < 0 || strings.Contains(string(out), "SIGILL") {
				t.Fatalf("%s: killed (a selection the CPU lacks?): %v\n%s", c.name, err, out)
			}
			if err != nil || !strings.Contains(string(out), "\nPASS") {
				t.Fatalf("%s: %v\n%s", c.name, err, out)
			}
			for _, line := range strings.Split(string(out), "\n") {
				if strings.Contains(line, "othercpu_test.go") && !strings.Contains(line, "wrong") {
					t.Log(strings.TrimSpace(line))
				}
			}
		})
	}
}

package amd64asm

import (
	"bufio"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/cpu"
)

// TestWriteCases writes the AT&T text of every case for testdata/gen.sh,
// which assembles it with llvm-mc into testdata/golden.txt. It runs only
// when the script asks for it.
func TestWriteCases(t *testing.T) {
	out := os.Getenv("AMD64ASM_WRITE_CASES")
	if out == "" {
		t.Skip("run by testdata/gen.sh")
	}
	var b strings.Builder
	for _, c := range allCases() {
		b.WriteString(c.att + "\n")
	}
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readGolden(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("testdata/golden.txt")
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

// TestGolden compares every form over the register and addressing matrix
// with the bytes llvm-mc produced for the same AT&T text, and checks the
// feature each records.
func TestGolden(t *testing.T) {
	golden := readGolden(t)
	cases := allCases()
	if len(golden) < len(cases)*9/10 {
		t.Fatalf("golden file has %d entries for %d cases; rerun testdata/gen.sh", len(golden), len(cases))
	}
	var a Asm
	bad := 0
	for _, c := range cases {
		want, ok := golden[c.att]
		if !ok {
			t.Errorf("%s: no golden encoding; rerun testdata/gen.sh", c.att)
			bad++
			continue
		}
		a.Reset()
		c.emit(&a)
		code, err := a.Finish()
		if err != nil {
			t.Errorf("%s: %v", c.att, err)
			bad++
			continue
		}
		if got := hex.EncodeToString(code); got != want {
			t.Errorf("%s: got %s, llvm-mc %s", c.att, got, want)
			bad++
		}
		wantFeat := cpu.Set{}
		if c.feat != 0 {
			wantFeat = cpu.NewSet(c.feat)
		}
		if a.Features() != wantFeat {
			t.Errorf("%s: features %v, want %v", c.att, a.Features(), wantFeat)
			bad++
		}
		if bad > 40 {
			t.Fatal("too many failures")
		}
	}
	t.Logf("%d forms checked against llvm-mc", len(cases))
}
